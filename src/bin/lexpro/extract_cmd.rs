//! `lexpro extract FILE|-` (elements with evidence, human or `--json`) and `lexpro eval elements --gold FILE.jsonl`
//! (per-key precision / recall / F1 and value accuracy against GUIDE.md labels, plus span F1 on the CAIL
//! information-extraction sets).

use crate::common::read_input;
use anyhow::Context;
use lexpro::extract::eval::{evaluate_gold, span_f1_drug_weights, span_f1_money};
use lexpro::extract::{Extraction, Extractor};
use lexpro::kb::model::{Date, KnowledgeBase};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `lexpro extract`.
#[derive(clap::Args)]
pub struct ExtractArgs {
    /// Input file (a fact text, or JSONL lines with a `fact` field), or `-` for standard input.
    pub input: String,
    /// Print JSON (one object per fact) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Offence date `YYYY-MM-DD` (for ages); otherwise the first date of the fact.
    #[arg(long)]
    pub date: Option<String>,
    /// Knowledge directory (default: $LEXPRO_KB, ./knowledge, or the source tree's).
    #[arg(long)]
    pub knowledge: Option<PathBuf>,
}

/// Arguments of `lexpro eval elements`.
#[derive(clap::Args)]
pub struct EvalElementsArgs {
    /// Gold file in the format of ../shared/data/elements/GUIDE.md (JSONL).
    #[arg(long)]
    pub gold: PathBuf,
    /// Knowledge directory (default: $LEXPRO_KB, ./knowledge, or the source tree's).
    #[arg(long)]
    pub knowledge: Option<PathBuf>,
    /// Also score money / value spans on a CAIL2021 信息抽取 file (NCSM, NCGV).
    #[arg(long)]
    pub money_spans: Option<PathBuf>,
    /// Also score drug-weight spans on a CAIL2022 信息抽取 file (NW).
    #[arg(long)]
    pub drug_spans: Option<PathBuf>,
    /// Print every disagreement (id, key, gold, predicted).
    #[arg(long)]
    pub errors: bool,
}

/// Loads the knowledge base and compiles the extractor. Diagnostics in files that do not concern extraction
/// do not stop it: the partial knowledge base still holds every element that compiled, and the count is reported.
fn extractor(dir: Option<&Path>) -> anyhow::Result<Extractor> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(lexpro::engine::default_knowledge_dir);
    let checked = lexpro::kb::check_dir(&dir).with_context(|| format!("reading knowledge from {}", dir.display()))?;
    let errors = checked.error_count();
    if errors > 0 {
        eprintln!(
            "warning: {errors} error(s) in {} (run `lexpro kb check`); extracting with what compiled",
            dir.display()
        );
    }
    let kb: KnowledgeBase = checked.kb;
    Ok(Extractor::new(&kb)?)
}

fn facts_of(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let jsonl = !lines.is_empty() && lines.iter().all(|l| l.trim_start().starts_with('{'));
    if !jsonl {
        return vec![(String::new(), text.trim().to_string())];
    }
    lines
        .iter()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let fact = v.get("fact")?.as_str()?.to_string();
            let id = v.get("id").and_then(|x| x.as_str()).unwrap_or("").to_string();
            Some((id, fact))
        })
        .collect()
}

fn human(id: &str, e: &Extraction) -> String {
    let mut out = String::new();
    if !id.is_empty() {
        out.push_str(&format!("== {id}\n"));
    }
    let el = &e.elements;
    let mut line = |k: &str, v: String| {
        let ev = e
            .evidence
            .get(k)
            .map(|spans| {
                spans.iter().map(|s| format!("[{}..{}] {}", s.start, s.end, s.text)).collect::<Vec<_>>().join("; ")
            })
            .unwrap_or_default();
        out.push_str(&format!("{k:<18} {v:<24} {ev}\n"));
    };
    if let Some(a) = el.amount_yuan {
        line("amount_yuan", format!("{a} 元"));
    }
    for d in &el.drugs {
        line(
            "drugs",
            format!("{} {}", d.kind, d.grams.map_or("(weight not stated)".to_string(), |g| format!("{g} 克"))),
        );
    }
    if let Some(b) = el.bac_mg_per_100ml {
        line("bac_mg_per_100ml", format!("{b} mg/100ml"));
    }
    if el.injury_max != "none" {
        line("injury_max", el.injury_max.clone());
    }
    if el.deaths > 0 {
        line("deaths", el.deaths.to_string());
    }
    if let Some(m) = el.minor_defendant {
        line("minor_defendant", m.to_string());
    }
    for (k, v) in [
        ("minor_victim", el.minor_victim),
        ("surrender", el.surrender),
        ("confession", el.confession),
        ("guilty_plea", el.guilty_plea),
        ("recidivist", el.recidivist),
        ("restitution", el.restitution),
        ("forgiveness", el.forgiveness),
        ("attempted", el.attempted),
        ("accessory", el.accessory),
        ("meritorious", el.meritorious),
    ] {
        if v {
            line(k, "true".to_string());
        }
    }
    for (k, v) in &el.extra {
        line(k, v.as_str().map_or_else(|| v.to_string(), str::to_string));
    }
    if let Some(p) = &e.facts.province {
        out.push_str(&format!("{:<18} {p}\n", "province"));
    }
    for w in &e.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

/// Runs `lexpro extract`.
pub fn run(args: ExtractArgs) -> anyhow::Result<()> {
    let date = match &args.date {
        Some(d) => Some(Date::parse(d).ok_or_else(|| anyhow::anyhow!("--date {d}: expected YYYY-MM-DD"))?),
        None => None,
    };
    let ex = extractor(args.knowledge.as_deref())?;
    let text = read_input(&args.input)?;
    for (id, fact) in facts_of(&text) {
        let e = ex.extract(&fact, date);
        if args.json {
            let v = serde_json::json!({
                "id": id,
                "elements": e.elements,
                "facts": e.facts,
                "evidence": e.evidence,
                "warnings": e.warnings,
            });
            println!("{}", serde_json::to_string(&v)?);
        } else {
            print!("{}", human(&id, &e));
        }
    }
    Ok(())
}

/// Runs `lexpro eval elements`.
pub fn run_eval(args: EvalElementsArgs) -> anyhow::Result<()> {
    let ex = extractor(args.knowledge.as_deref())?;
    let gold = std::fs::read_to_string(&args.gold).with_context(|| format!("reading {}", args.gold.display()))?;
    let t = Instant::now();
    let rep = evaluate_gold(&ex, &gold)?;
    let secs = t.elapsed().as_secs_f64();
    println!("{rep}");
    println!(
        "time: {:.3}s for {} cases ({:.0} facts/s, one thread, debug or release as built)",
        secs,
        rep.cases,
        f64::from(rep.cases) / secs.max(1e-9)
    );
    if args.errors {
        for m in &rep.mismatches {
            println!("{}\t{}\tgold={}\tpredicted={}", m.id, m.key, m.gold, m.predicted);
        }
    }
    if let Some(p) = &args.money_spans {
        let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        println!("{}", span_f1_money(&ex, &text)?.summary("money/value spans (NCSM+NCGV)"));
    }
    if let Some(p) = &args.drug_spans {
        let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        println!("{}", span_f1_drug_weights(&text)?.summary("drug weight spans (NW)"));
    }
    Ok(())
}
