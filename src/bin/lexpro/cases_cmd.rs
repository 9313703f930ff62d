//! `lexpro cases` — the similar-case index (类案检索): build it, add to it, query it.

use anyhow::Context;
use lexpro::retrieve::cases::{parse_case, CaseIndex, LabelledCase, SearchOpts};
use std::io::{BufRead, Read};
use std::path::PathBuf;

/// Arguments of `lexpro cases`.
#[derive(clap::Args)]
pub struct CasesArgs {
    #[command(subcommand)]
    command: CasesCommand,
}

#[derive(clap::Subcommand)]
enum CasesCommand {
    /// Adds judged cases (CAIL JSONL, or the input format with `charges`/`articles` labels) to the index.
    Index {
        /// JSONL files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Index directory (created when absent; cases are added to an existing index).
        #[arg(long, default_value = "cases.idx")]
        index: PathBuf,
        /// Cases written per batch (one posting chunk per term per batch).
        #[arg(long, default_value_t = 20_000)]
        batch: usize,
    },
    /// Prints the cases most similar to a fact.
    Search {
        /// File holding the fact text, or `-` for standard input.
        input: String,
        /// Index directory.
        #[arg(long, default_value = "cases.idx")]
        index: PathBuf,
        /// How many cases.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
}

/// Runs the command.
pub fn run(args: CasesArgs) -> anyhow::Result<()> {
    match args.command {
        CasesCommand::Index { files, index, batch } => {
            let idx = CaseIndex::open(&index).with_context(|| format!("opening {}", index.display()))?;
            let before = idx.len()?;
            let t = std::time::Instant::now();
            let mut buf: Vec<LabelledCase> = Vec::with_capacity(batch.max(1));
            let mut skipped = 0usize;
            for f in &files {
                let file = std::fs::File::open(f).with_context(|| format!("reading {}", f.display()))?;
                for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
                    let line = line.with_context(|| format!("reading {}", f.display()))?;
                    match parse_case(&line, i + 1) {
                        Ok(Some(c)) => buf.push(c),
                        Ok(None) => {}
                        Err(e) => {
                            skipped += 1;
                            eprintln!("{}: {e}", f.display());
                        }
                    }
                    if buf.len() >= batch.max(1) {
                        idx.add(&buf)?;
                        buf.clear();
                    }
                }
            }
            idx.add(&buf)?;
            idx.flush()?;
            let after = idx.len()?;
            println!(
                "indexed {} cases into {} ({} in total, {} lines skipped) in {:.1}s",
                after - before,
                index.display(),
                after,
                skipped,
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        CasesCommand::Search { input, index, k } => {
            let mut fact = String::new();
            if input == "-" {
                std::io::stdin().read_to_string(&mut fact)?;
            } else {
                fact = std::fs::read_to_string(&input).with_context(|| format!("reading {input}"))?;
            }
            let idx = CaseIndex::open(&index).with_context(|| format!("opening {}", index.display()))?;
            let hits = idx.search(fact.trim(), k, &SearchOpts { exclude_same_fact: true, ..Default::default() })?;
            for (i, h) in hits.iter().enumerate() {
                let term = match h.record.term {
                    Some(t) if t.death => "死刑".to_string(),
                    Some(t) if t.life => "无期徒刑".to_string(),
                    Some(t) => format!("{} 个月", t.months),
                    None => "—".to_string(),
                };
                println!(
                    "{:>2}. {:.2}  [{}]  {}  articles {}  term {}\n    {}",
                    i + 1,
                    h.score,
                    h.record.id,
                    h.record.charges.join("、"),
                    h.record.articles.join(", "),
                    term,
                    h.record.excerpt
                );
            }
            Ok(())
        }
    }
}
