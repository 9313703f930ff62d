//! `lexpro eval judgments --gold FILE.jsonl` — charge and article metrics on judged cases (CAIL format or
//! the input format with `charges` / `articles` labels).
//!
//! Precedents never leak: with `--loo` the gold file itself is indexed and each case is decided with the
//! other cases only (a case never retrieves itself, nor a case with the identical fact); with `--cases DIR`
//! an existing index is used under the same exclusion.

use anyhow::Context;
use lexpro::decide::metrics::Metrics;
use lexpro::decide::{decide_with, DecideConfig, Decision};
use lexpro::extract::Extractor;
use lexpro::kb::model::KnowledgeBase;
use lexpro::retrieve::cases::{parse_case, CaseIndex, LabelledCase, SearchOpts};
use lexpro::retrieve::{Precedent, Retriever};
use rayon::prelude::*;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Arguments of `lexpro eval judgments`.
#[derive(clap::Args)]
pub struct EvalJudgmentsArgs {
    /// Judged cases (JSONL).
    #[arg(long)]
    pub gold: PathBuf,
    /// Knowledge directory (the same as the global `--kb`, kept for earlier scripts).
    #[arg(long, hide = true)]
    pub knowledge: Option<PathBuf>,
    /// Leave-one-out precedents: index the gold file itself, each case excluded from its own search.
    #[arg(long)]
    pub loo: bool,
    /// With precedents: also exclude every indexed case that shares a gold charge with the case being decided, as
    /// if its charge had never been indexed (how the index treats the long tail of charges)
    #[arg(long)]
    pub unseen_charge: bool,
    /// Override the weight of the precedent share in the retrieval score
    #[arg(long)]
    pub precedent_weight: Option<f64>,
    /// Precedents only confirm charges the fact itself supports (see `Weights::precedent_gated`)
    #[arg(long)]
    pub precedent_gated: bool,
    /// Similar cases consulted per decision.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Evaluate the first N cases only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Confusion pairs to print.
    #[arg(long, default_value_t = 20)]
    pub confusions: usize,
    /// Write one JSON line per case (gold, predicted, reasons) here.
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// Override the precedent share that makes a further charge (数罪) on its own.
    #[arg(long)]
    pub secondary_precedent: Option<f64>,
    /// Override the cue weight that makes a further charge on its own.
    #[arg(long)]
    pub secondary_cue: Option<f64>,
}

fn load_gold(path: &PathBuf, limit: Option<usize>) -> anyhow::Result<Vec<LabelledCase>> {
    let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line?;
        if let Some(c) = parse_case(&line, i + 1).with_context(|| format!("{}", path.display()))? {
            out.push(c);
        }
        if limit.is_some_and(|n| out.len() >= n) {
            break;
        }
    }
    Ok(out)
}

/// Decides one case with the rules path and optional precedents.
fn judge(
    kb: &KnowledgeBase,
    ex: &Extractor,
    r: &Retriever,
    idx: Option<&CaseIndex>,
    k: usize,
    cfg: &DecideConfig,
    fact: &str,
    exclude_charges: &[String],
) -> anyhow::Result<Decision> {
    let e = ex.extract(fact, None);
    let precedents: Vec<Precedent> = match idx {
        Some(i) => i
            .search(
                fact,
                k,
                &SearchOpts {
                    exclude_same_fact: true,
                    exclude_charges: exclude_charges.to_vec(),
                    ..Default::default()
                },
            )?
            .iter()
            .map(|s| s.to_precedent())
            .collect(),
        None => Vec::new(),
    };
    let cands = r.retrieve_with(fact, &e, 20, &precedents);
    Ok(decide_with(kb, fact, &e, &cands, cfg))
}

/// Runs the command.
pub fn run(args: EvalJudgmentsArgs, kb_opts: &crate::common::KbOpts) -> anyhow::Result<()> {
    if kb_opts.store.is_some() {
        anyhow::bail!("eval judgments reads a knowledge directory (--kb DIR), not a store");
    }
    let dir = args.knowledge.clone().unwrap_or_else(|| kb_opts.dir());
    let checked = lexpro::kb::check_dir(&dir).with_context(|| format!("loading {}", dir.display()))?;
    if checked.error_count() > 0 {
        // Evaluation still runs on what compiled; the errors are for `lexpro kb check`.
        eprintln!(
            "warning: {} error(s) in the knowledge base; evaluating what compiled",
            checked.error_count()
        );
    }
    let kb = checked.kb;
    let extractor = Extractor::new(&kb)?;
    let mut weights = lexpro::retrieve::Weights::default();
    if let Some(w) = args.precedent_weight {
        weights.precedent = w;
    }
    weights.precedent_gated = args.precedent_gated;
    let retriever = Retriever::with_weights(&kb, weights)?;
    let gold = load_gold(&args.gold, args.limit)?;
    let idx = if args.loo {
        let i = CaseIndex::temporary()?;
        i.add(&gold)?;
        Some(i)
    } else {
        match &kb_opts.cases {
            Some(p) => {
                Some(CaseIndex::open(p).with_context(|| format!("opening {}", p.display()))?)
            }
            None => None,
        }
    };
    let mut cfg = DecideConfig::default();
    if let Some(x) = args.secondary_precedent {
        cfg.secondary_precedent = x;
    }
    if let Some(x) = args.secondary_cue {
        cfg.secondary_cue = x;
    }
    let t = std::time::Instant::now();
    let decisions: Vec<anyhow::Result<Decision>> = gold
        .par_iter()
        .map(|c| {
            let excluded = if args.unseen_charge {
                c.charges.clone()
            } else {
                Vec::new()
            };
            judge(
                &kb,
                &extractor,
                &retriever,
                idx.as_ref(),
                args.k,
                &cfg,
                &c.fact,
                &excluded,
            )
        })
        .collect();
    let dt = t.elapsed().as_secs_f64();
    let mut m = Metrics::default();
    let mut dump = match &args.dump {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?,
        )),
        None => None,
    };
    let mut unmapped = std::collections::BTreeMap::<String, usize>::new();
    for (c, d) in gold.iter().zip(decisions) {
        let d = d?;
        let pred: Vec<String> = d.charges.iter().map(|x| x.name.clone()).collect();
        // Gold labels in CAIL notation are mapped through the knowledge base's names and aliases.
        let gold_c: Vec<String> = c
            .charges
            .iter()
            .map(|g| {
                // A composite label counts as the charge predicted when that charge is one it denotes.
                let all = retriever.resolve_all(g);
                all.iter()
                    .find(|n| pred.iter().any(|p| p == *n))
                    .or(all.first())
                    .map(|s| s.to_string())
            })
            .zip(c.charges.iter())
            .map(|(r, g)| match r {
                Some(n) => n,
                None => {
                    *unmapped.entry(g.clone()).or_insert(0) += 1;
                    g.clone()
                }
            })
            .collect();
        m.add(&gold_c, &pred, &c.articles, &d.articles);
        if let Some(w) = dump.as_mut() {
            let line = serde_json::json!({
                "id": c.id, "gold": gold_c, "pred": pred, "gold_articles": c.articles,
                "pred_articles": d.articles, "general_articles": d.general_articles,
                "trace": d.trace.iter().map(|s| s.message.clone()).collect::<Vec<_>>(),
            });
            writeln!(w, "{line}")?;
        }
    }
    // Flushed before anything is printed: a closed stdout ends the process quietly, and must not lose the dump.
    if let Some(w) = dump.as_mut() {
        w.flush()?;
    }
    print!("{}", m.report(args.confusions));
    if !unmapped.is_empty() {
        println!("gold labels with no charge in the knowledge base: {unmapped:?}");
    }
    println!(
        "{} cases in {:.2}s ({:.0} cases/s on {} threads, precedents: {})",
        gold.len(),
        dt,
        gold.len() as f64 / dt.max(1e-9),
        rayon::current_num_threads(),
        if idx.is_some() { "yes" } else { "no" }
    );
    Ok(())
}
