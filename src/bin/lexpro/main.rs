//! `lexpro` — command-line shell over `lexpro::Engine`. `anyhow` lives only here.

mod analyze_cmd;
mod batch_cmd;
mod cases_cmd;
mod common;
mod eval_judgments_cmd;
mod eval_terms_cmd;
mod extract_cmd;
mod kb_cmd;
mod repl_cmd;

use clap::{Parser, Subcommand};

/// lexpro: rules-plus-model reasoning for Chinese criminal law.
#[derive(Parser)]
#[command(name = "lexpro", version, about)]
struct Cli {
    #[command(flatten)]
    kb: common::KbOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The knowledge base: check, build, test, show, stats.
    #[command(subcommand)]
    Kb(kb_cmd::KbCommand),
    /// Extract legal elements with evidence from a fact description.
    Extract(extract_cmd::ExtractArgs),
    /// Analyse a case: elements, candidates, decision, sentence, reasons.
    Analyze(analyze_cmd::AnalyzeArgs),
    /// Analyse a JSONL file of cases in parallel (the output contract, one object per line).
    Batch(batch_cmd::BatchArgs),
    /// Evaluate against gold files.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Similar-case index.
    Cases(cases_cmd::CasesArgs),
    /// Interactive session: paste a fact, read the analysis.
    Repl(repl_cmd::ReplArgs),
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Charges and articles against CAIL-format gold cases.
    Judgments(eval_judgments_cmd::EvalJudgmentsArgs),
    /// Elements against a GUIDE-format gold file (per-key precision / recall / F1).
    Elements(extract_cmd::EvalElementsArgs),
    /// Sentences against CAIL-format gold cases (CAIL term score per charge).
    Terms(eval_terms_cmd::EvalTermsArgs),
}

/// A closed stdout (`lexpro kb show 264 | head`) makes `println!` panic; end quietly as Unix tools do
/// (exit status 141 = killed by SIGPIPE) instead of printing a panic message. Other panics keep the default report.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() {
    quiet_broken_pipe();
    let cli = Cli::parse();
    let kb = cli.kb;
    let result = match cli.command {
        Command::Kb(c) => kb_cmd::run(c, &kb),
        Command::Extract(a) => extract_cmd::run(a),
        Command::Analyze(a) => analyze_cmd::run(a, &kb),
        Command::Batch(a) => batch_cmd::run(a, &kb),
        Command::Eval(EvalCommand::Judgments(a)) => eval_judgments_cmd::run(a, &kb),
        Command::Eval(EvalCommand::Elements(a)) => extract_cmd::run_eval(a),
        Command::Eval(EvalCommand::Terms(mut a)) => {
            if kb.store.is_some() || kb.cases.is_some() {
                Err(anyhow::anyhow!("eval terms reads a knowledge directory (--kb DIR) and uses no --store or --cases"))
            } else {
                a.knowledge = a.knowledge.or_else(|| Some(kb.dir()));
                eval_terms_cmd::run(a)
            }
        }
        Command::Cases(a) => cases_cmd::run(a),
        Command::Repl(a) => repl_cmd::run(a, &kb),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own consistency checks (unique argument names across global and subcommand arguments …), which
    /// otherwise run only in debug builds and only for the subcommand invoked.
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
