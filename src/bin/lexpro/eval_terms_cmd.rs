//! `lexpro eval terms --gold cail2018.jsonl` — the CAIL term score and the mean log distance, overall
//! and per charge for the most frequent charges, running the whole engine on every case.
//!
//! `--gold-charges` sentences each case on its gold charges (isolating sentencing from the decision);
//! `--calibrate` refits the calibrated values on the gold charges (docs/CALIBRATION.md) and prints them;
//! `--holdout` then fits on the even-numbered cases and scores the odd-numbered ones, so the printed
//! numbers are out of sample — on the gold charges, and through the whole engine (its decided charges,
//! sentenced with the values fitted on the even half).

use anyhow::Context;
use lexpro::contract::CaseInput;
use lexpro::extract::Extractor;
use lexpro::kb::model::KnowledgeBase;
use lexpro::sentence::calibrate::{fit_increments, fit_params, fit_start_positions, report, DevCase, INCREMENT_GRID, START_GRID};
use lexpro::sentence::eval::{parse_cail, predicted_months, CailCase, TermReport};
use lexpro::sentence::guideline::Params;
use lexpro::sentence::{band, combine, predicted, province, sentence_with};
use lexpro::Engine;
use rayon::prelude::*;
use std::path::PathBuf;

/// Arguments of `lexpro eval terms`.
#[derive(clap::Args)]
pub struct EvalTermsArgs {
    /// Judged cases in CAIL format (JSONL).
    #[arg(long)]
    pub gold: PathBuf,
    /// Knowledge directory (the same as the global `--kb`, kept for earlier scripts).
    #[arg(long, hide = true)]
    pub knowledge: Option<PathBuf>,
    /// Evaluate the first N cases only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Charges listed per charge (most frequent first).
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Sentence on the gold charges instead of the decided ones.
    #[arg(long)]
    pub gold_charges: bool,
    /// Refit the calibrated values on the gold charges and print them.
    #[arg(long)]
    pub calibrate: bool,
    /// With --calibrate: fit on even-numbered cases, score the odd-numbered ones.
    #[arg(long)]
    pub holdout: bool,
}

/// Facts and gold charges of each case, for sentencing on the gold charges.
fn dev_cases(kb: &KnowledgeBase, ex: &Extractor, gold: &[CailCase]) -> Vec<DevCase> {
    gold.par_iter()
        .map(|c| {
            let mut facts = ex.extract(&c.fact, None).facts;
            if facts.province.is_none() {
                facts.province = province::detect(&c.fact).map(|(p, _)| p.to_string());
            }
            let charges = c.meta.accusation.iter().filter(|a| band::find_charge(kb, a).is_some()).cloned().collect();
            DevCase { facts, charges, gold: c.gold_months(), key: c.charge_key() }
        })
        .collect()
}

/// Scores the odd-numbered cases through the engine's decision, sentencing its decided charges with
/// `kb` / `params` / `portion` (the values fitted on the even-numbered cases), as the engine does.
fn engine_report(engine: &Engine, kb: &KnowledgeBase, gold: &[CailCase], params: &Params, portion: f64) -> TermReport {
    let preds: Vec<(usize, Option<f64>)> = gold
        .par_iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(i, c)| {
            let input = CaseInput { id: format!("c{i}"), fact: c.fact.clone(), province: None, date: None };
            let p = engine.analyze_detailed(&input).ok().and_then(|a| {
                let names: Vec<String> = a.decision.charges.iter().map(|c| c.name.clone()).collect();
                let mut facts = a.extraction.facts.clone();
                for n in &names {
                    if let Some(ch) = band::find_charge(kb, n) {
                        for e in &ch.implies {
                            facts.set_bool(e, true);
                        }
                    }
                }
                predicted(&sentence_with(kb, &facts, &names, params, portion))
            });
            (i, p)
        })
        .collect();
    let mut r = TermReport::default();
    for (i, p) in preds {
        r.add(&gold[i].charge_key(), gold[i].gold_months(), p);
    }
    r
}

/// Runs the command.
/// `args.knowledge` is the directory (the binary fills it from the global `--kb`); None: the default one.
pub fn run(args: EvalTermsArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.gold).with_context(|| format!("reading {}", args.gold.display()))?;
    let mut gold = parse_cail(&text).with_context(|| format!("{}", args.gold.display()))?;
    if let Some(n) = args.limit {
        gold.truncate(n);
    }
    let dir = args.knowledge.clone().unwrap_or_else(lexpro::engine::default_knowledge_dir);
    let checked = lexpro::kb::check_dir(&dir).with_context(|| format!("loading {}", dir.display()))?;
    if checked.error_count() > 0 {
        eprintln!("warning: {} error(s) in the knowledge base; evaluating what compiled", checked.error_count());
    }
    let mut kb = checked.kb;
    let t = std::time::Instant::now();
    if args.calibrate {
        // The engine decides with the knowledge base as loaded; only the sentencing values are refitted.
        let engine = if args.holdout { Some(Engine::from_kb(kb.clone())?) } else { None };
        let ex = Extractor::new(&kb)?;
        let cases = dev_cases(&kb, &ex, &gold);
        let (fit, test): (Vec<DevCase>, Vec<DevCase>) = if args.holdout {
            let (a, b): (Vec<_>, Vec<_>) = cases.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
            (a.into_iter().map(|x| x.1).collect(), b.into_iter().map(|x| x.1).collect())
        } else {
            (cases.clone(), cases)
        };
        let defaults = Params::default();
        println!("before calibration ({} cases):\n{}", test.len(), report(&kb, &test, &defaults, combine::DEFAULT_PORTION).table(args.top));
        // Two rounds: increments under the current points, the points under those increments, again.
        let (mut params, mut portion) = (defaults.clone(), combine::DEFAULT_PORTION);
        for round in 1..=2 {
            let fits = fit_increments(&mut kb, &fit, &params, INCREMENT_GRID);
            println!("round {round}: increments (fitted on {} cases):", fit.len());
            for f in &fits {
                println!("  {} band {} {}: {} → {} months/step  (n={}, score {:.3} → {:.3})", f.charge, f.band, f.element, f.before, f.after, f.n, f.score_before, f.score_after);
            }
            let starts = fit_start_positions(&mut kb, &fit, &params, START_GRID);
            if !starts.is_empty() {
                println!("round {round}: per-band starting positions:");
            }
            for f in &starts {
                println!("  {} band {} start_at: {} → {}  (n={}, score {:.3} → {:.3})", f.charge, f.band, f.before, f.after, f.n, f.score_before, f.score_after);
            }
            let (p, q, pfits) = fit_params(&kb, &fit, &params, portion);
            println!("round {round}: global parameters:");
            for f in &pfits {
                let grid: Vec<String> = f.scores.iter().map(|(v, s)| format!("{v}:{s:.3}")).collect();
                println!("  {} = {}   [{}]", f.name, f.best, grid.join(" "));
            }
            (params, portion) = (p, q);
        }
        println!("after calibration ({} cases{}):\n{}", test.len(), if args.holdout { ", held out" } else { "" }, report(&kb, &test, &params, portion).table(args.top));
        if let Some(engine) = engine {
            let r = engine_report(&engine, &kb, &gold, &params, portion);
            println!("whole engine, values fitted on the even-numbered cases ({} odd-numbered cases, held out):\n{}", r.total.n, r.table(args.top));
        }
    } else if args.gold_charges {
        let ex = Extractor::new(&kb)?;
        let cases = dev_cases(&kb, &ex, &gold);
        print!("{}", report(&kb, &cases, &Params::default(), combine::DEFAULT_PORTION).table(args.top));
    } else {
        let engine = Engine::from_kb(kb)?;
        let preds: Vec<Option<f64>> = gold
            .par_iter()
            .enumerate()
            .map(|(i, c)| {
                let input = CaseInput { id: format!("c{i}"), fact: c.fact.clone(), province: None, date: None };
                engine.analyze(&input).ok().and_then(|j| predicted_months(j.term.as_ref()))
            })
            .collect();
        let mut r = TermReport::default();
        for (c, p) in gold.iter().zip(preds) {
            r.add(&c.charge_key(), c.gold_months(), p);
        }
        print!("{}", r.table(args.top));
    }
    let dt = t.elapsed().as_secs_f64();
    println!("{} cases in {:.2}s ({:.0} cases/s on {} threads)", gold.len(), dt, gold.len() as f64 / dt.max(1e-9), rayon::current_num_threads());
    Ok(())
}
