//! `lexpro` — command-line shell over `lexpro::Engine`. `anyhow` lives only here.

mod analyze_cmd;
mod extract_cmd;

use clap::{Parser, Subcommand};

/// lexpro: rules-plus-model reasoning for Chinese criminal law.
#[derive(Parser)]
#[command(name = "lexpro", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract legal elements with evidence from a fact description.
    Extract(extract_cmd::ExtractArgs),
    /// Analyse a case: elements, candidates, decision, sentence, reasons.
    Analyze(analyze_cmd::AnalyzeArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(a) => extract_cmd::run(a),
        Command::Analyze(a) => analyze_cmd::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
