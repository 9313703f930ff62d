//! `lexpro analyze`.

/// Arguments of `lexpro analyze`.
#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Input file, or `-` for standard input.
    pub input: String,
}

/// Runs the command.
pub fn run(_args: AnalyzeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet available")
}
