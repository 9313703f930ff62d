//! `lexpro extract`.

/// Arguments of `lexpro extract`.
#[derive(clap::Args)]
pub struct ExtractArgs {
    /// Input file, or `-` for standard input.
    pub input: String,
}

/// Runs the command.
pub fn run(_args: ExtractArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet available")
}
