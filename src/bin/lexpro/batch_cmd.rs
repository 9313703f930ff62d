//! `lexpro batch`: JSONL in, one contract object per line out, in input order, in parallel.

use crate::common::KbOpts;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use lexpro::contract::{CaseInput, ErrorRecord};
use lexpro::Engine;
use rayon::prelude::*;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

/// Arguments of `lexpro batch`.
#[derive(clap::Args)]
pub struct BatchArgs {
    /// Input JSONL (`{"id", "fact", "province"?, "date"?}` per line); standard input when omitted.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Output JSONL; standard output when omitted.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Lines processed together (memory bound for huge files).
    #[arg(long, default_value_t = 4096)]
    pub chunk: usize,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Turns one input line into its output line: a judgment (`true`) or an error record (`false`). Never fails.
pub fn process_line(engine: &Engine, line_no: usize, line: &str) -> (String, bool) {
    let record = |id: Option<String>, error: String| {
        let text = serde_json::to_string(&ErrorRecord { id, line: line_no, error })
            .unwrap_or_else(|_| format!("{{\"line\":{line_no},\"error\":\"unserialisable error\"}}"));
        (text, false)
    };
    let value: serde_json::Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return record(None, format!("invalid JSON: {e}")),
    };
    let id = value.get("id").map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let mut case: CaseInput = match serde_json::from_value(value.clone()) {
        Ok(c) => c,
        Err(e) => return record(id, format!("invalid case: {e}")),
    };
    if let Some(i) = &id {
        case.id = i.clone();
    }
    match engine.analyze(&case) {
        Ok(j) => match serde_json::to_string(&j) {
            Ok(t) => (t, true),
            Err(e) => record(id, format!("cannot serialise: {e}")),
        },
        Err(e) => record(id, e.to_string()),
    }
}

/// Runs the command.
pub fn run(args: BatchArgs, opts: &KbOpts) -> anyhow::Result<()> {
    let engine = opts.engine()?;
    let reader: Box<dyn BufRead> = match &args.input {
        Some(p) => Box::new(BufReader::new(std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?)),
        None => Box::new(BufReader::new(std::io::stdin())),
    };
    let total = args.input.as_ref().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len());
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(total.unwrap_or(0)) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let chunk = args.chunk.max(1);
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(chunk);
    let mut line_no = 0usize;
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut flush = |lines: &mut Vec<(usize, String)>, out: &mut Box<dyn Write>| -> anyhow::Result<()> {
        let results: Vec<(String, bool)> = lines.par_iter().map(|(n, l)| process_line(&engine, *n, l)).collect();
        for (r, good) in results {
            if good {
                ok += 1;
            } else {
                failed += 1;
            }
            out.write_all(r.as_bytes())?;
            out.write_all(b"\n")?;
        }
        lines.clear();
        Ok(())
    };
    for raw in reader.split(b'\n') {
        let raw = raw.context("reading input")?;
        line_no += 1;
        bar.inc(raw.len() as u64 + 1);
        let line = String::from_utf8_lossy(&raw).trim().to_string();
        if line.is_empty() {
            continue;
        }
        lines.push((line_no, line));
        if lines.len() >= chunk {
            flush(&mut lines, &mut out)?;
        }
    }
    flush(&mut lines, &mut out)?;
    out.flush()?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!("{} case(s) analysed, {} error record(s)", ok, failed);
    }
    Ok(())
}
