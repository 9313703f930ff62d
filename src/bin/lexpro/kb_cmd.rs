//! `lexpro kb …`: check, build, test, show, stats.

use crate::common::KbOpts;
use anyhow::Context;
use lexpro::kb::model::{KnowledgeBase, Part, Requirement};
use lexpro::kb::{self, provinces};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `lexpro kb` subcommands.
#[derive(clap::Subcommand)]
pub enum KbCommand {
    /// Check a knowledge directory: every error at once, with file:line:col and a caret.
    Check {
        /// Directory (default: the shipped knowledge/).
        dir: Option<PathBuf>,
        /// Diagnostics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compile the knowledge directory into a store (atomic replace).
    Build {
        /// Directory (default: the shipped knowledge/).
        dir: Option<PathBuf>,
        /// Store path.
        #[arg(long, short, default_value = "target/lexpro-kb.sled")]
        out: PathBuf,
    },
    /// Run the tests embedded in the knowledge files.
    Test {
        /// Only tests whose charge or name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Only tests that run without a fact (band / term tests).
        #[arg(long)]
        given_only: bool,
        /// Results as JSON.
        #[arg(long)]
        json: bool,
        /// Print passing tests too.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Show an article (`264`, `133-1`) or a charge (`盗窃罪`, `盗窃`): text, bands, thresholds, sources.
    Show {
        /// Article number or charge name / alias.
        what: String,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Coverage: articles, charges, bands, thresholds, provinces, CAIL names resolved.
    Stats {
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// CAIL label folder with accu.txt and law.txt (default: ../shared/data/cail2018 when present).
        #[arg(long)]
        cail: Option<PathBuf>,
    },
}

/// Runs a `kb` subcommand.
pub fn run(cmd: KbCommand, opts: &KbOpts) -> anyhow::Result<()> {
    match cmd {
        KbCommand::Check { dir, json } => check(&dir.unwrap_or_else(|| opts.dir()), json),
        KbCommand::Build { dir, out } => build(&dir.unwrap_or_else(|| opts.dir()), &out),
        KbCommand::Test { filter, given_only, json, verbose } => test(opts, filter.as_deref(), given_only, json, verbose),
        KbCommand::Show { what, json } => show(opts, &what, json),
        KbCommand::Stats { json, cail } => stats(opts, json, cail),
    }
}

fn check(dir: &Path, json: bool) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let checked = kb::check_dir(dir)?;
    let errors = checked.error_count();
    if json {
        let diags: Vec<_> = checked
            .diagnostics
            .iter()
            .map(|d| {
                let (line, col) = checked.sources.line_col(d.file_id, d.start);
                json!({"severity": d.severity, "code": d.code, "message": d.message, "file": checked.sources.path(d.file_id),
                       "line": line, "col": col, "label": d.label, "notes": d.notes})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json!({"errors": errors, "diagnostics": diags}))?);
    } else {
        if !checked.diagnostics.is_empty() {
            eprintln!("{}", checked.render());
        }
        let k = &checked.kb;
        eprintln!(
            "{}: {} files, {} articles, {} charges, {} bands, {} elements, {} thresholds, {} circumstances, {} tests — {} error(s), {} warning(s) in {:.0?}",
            dir.display(),
            checked.sources.len(),
            k.articles.len(),
            k.charges.len(),
            k.charges.iter().map(|c| c.bands.len()).sum::<usize>(),
            k.elements.len(),
            k.thresholds.len(),
            k.circumstances.len(),
            k.tests.len(),
            errors,
            checked.diagnostics.len() - errors,
            t.elapsed()
        );
    }
    if errors > 0 {
        anyhow::bail!("{errors} error(s)");
    }
    Ok(())
}

fn build(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let checked = kb::check_dir(dir)?;
    let files = checked.sources.len();
    let kb = checked.into_result()?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let meta = lexpro::store::build(out, &kb, files)?;
    eprintln!("built {} (format {}, {} articles, {} charges, {} files)", out.display(), meta.format_version, meta.articles, meta.charges, meta.files);
    Ok(())
}

fn test(opts: &KbOpts, filter: Option<&str>, given_only: bool, json: bool, verbose: bool) -> anyhow::Result<()> {
    let engine = opts.engine()?;
    let tests: Vec<_> = engine
        .kb()
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f) || t.charge.as_deref().is_some_and(|c| c.contains(f))))
        .filter(|t| !given_only || t.fact.is_none())
        .collect();
    use rayon::prelude::*;
    let outcomes: Vec<_> = tests.par_iter().map(|t| lexpro::kbtest::run_one(&engine, t)).collect();
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        for o in &outcomes {
            if !o.passed || verbose {
                println!("{} {} [{}] {}", if o.passed { "ok  " } else { "FAIL" }, o.location, o.charge.as_deref().unwrap_or("-"), o.name);
                for f in &o.failures {
                    println!("       {f}");
                }
            }
        }
        println!("{} passed, {} failed", outcomes.len() - failed, failed);
    }
    if failed > 0 {
        anyhow::bail!("{failed} embedded test(s) failed");
    }
    Ok(())
}

fn req(r: Requirement) -> &'static str {
    match r {
        Requirement::None => "none",
        Requirement::Optional => "optional",
        Requirement::Required => "required",
    }
}

fn show(opts: &KbOpts, what: &str, json: bool) -> anyhow::Result<()> {
    let engine = opts.engine()?;
    let kb = engine.kb();
    let key = what.trim().replace("之一", "-1").replace("之二", "-2").replace("之三", "-3").replace("之四", "-4").replace("之五", "-5");
    let key = key.trim_start_matches('第').trim_end_matches('条').to_string();
    if let Some(a) = kb.articles.get(&key) {
        let charges: Vec<&str> = engine.graph().charges_of_article(&a.number).iter().map(|&i| kb.charges[i].name.as_str()).collect();
        if json {
            println!("{}", serde_json::to_string_pretty(&json!({"article": a, "charges": charges}))?);
            return Ok(());
        }
        println!("刑法第{}条  ({})", a.number, a.chapter.as_deref().unwrap_or(""));
        println!("{}", a.text);
        if let Some(f) = a.in_force {
            println!("in force since {f}");
        }
        for v in &a.versions {
            println!("earlier text {}..{} ({}): {}", v.from, v.to.map(|d| d.to_string()).unwrap_or_default(), v.source, v.text);
        }
        if !charges.is_empty() {
            println!("charges: {}", charges.join("、"));
        }
        println!("defined at {}", a.loc);
        return Ok(());
    }
    let Some(ci) = engine.graph().charge_index(what).or_else(|| engine.graph().charge_index(&format!("{what}罪"))) else {
        anyhow::bail!("no article or charge `{what}` in the knowledge base");
    };
    let c = &kb.charges[ci];
    if json {
        println!("{}", serde_json::to_string_pretty(c)?);
        return Ok(());
    }
    println!("{}  (刑法第{}条)  {}", c.name, c.articles.join("、"), c.group.as_deref().unwrap_or(""));
    if !c.aliases.is_empty() {
        println!("aliases: {}", c.aliases.join("；"));
    }
    println!("cues ({}): {}", if c.curated { "curated" } else { "derived from the article text" }, c.cues.iter().map(|x| x.pattern.as_str()).collect::<Vec<_>>().join("  |  "));
    for r in &c.requires {
        println!("requires: {:?}  ({})", r.when, r.source.cite);
    }
    for y in &c.yields {
        println!("yields to {} when both apply ({})", y.to, y.source.cite);
    }
    for k in &c.cumulative {
        match &k.when {
            Some(w) => println!("punished together with {} (数罪并罚) when {:?}  ({})", k.with, w, k.source.cite),
            None => println!("punished together with {} (数罪并罚)  ({})", k.with, k.source.cite),
        }
    }
    for cv in &c.converts {
        println!("converts to {} when {:?}  ({})", cv.to, cv.when, cv.source.cite);
    }
    if let Some(g) = &c.guideline {
        println!("guideline: {g}");
    }
    for b in &c.bands {
        println!("\nband {}: {}", b.number, b.text.as_deref().unwrap_or(""));
        if let Some(w) = &b.when {
            println!("  when   {w:?}");
        }
        let p = &b.penalty;
        let mut ps = Vec::new();
        if let Some(r) = p.imprisonment {
            ps.push(format!("有期徒刑 {}–{} 个月", r.lo, r.hi));
        }
        for (on, name) in [(p.detention, "拘役"), (p.surveillance, "管制"), (p.life, "无期徒刑"), (p.death, "死刑"), (p.fine_only, "单处罚金")] {
            if on {
                ps.push(name.to_string());
            }
        }
        println!("  penalty {}; fine {}, confiscation {}, deprivation {}", ps.join("、"), req(b.fine), req(b.confiscation), req(b.deprivation));
        if let Some((r, s)) = &b.start {
            println!("  start  {}–{} months ({s})", r.lo, r.hi);
        }
        for i in &b.increments {
            println!("  increment {} month(s) per {} {} of {} ({})", i.months, i.per.value, i.per.unit.name(), i.element, i.source);
        }
        println!("  source {}", b.source);
    }
    let mut ths = BTreeSet::new();
    for b in &c.bands {
        if let Some(w) = &b.when {
            collect_thresholds(w, &mut ths);
        }
    }
    for t in ths {
        if let Some(th) = kb.thresholds.get(&t) {
            println!("\nthreshold {}: national {}..{} {} ({}); {} province value(s)", th.name, th.national.0, th.national.1, th.unit.name(), th.national_source, th.provinces.len());
            for p in &th.provinces {
                println!("  {} {} ({})", p.province, p.value, p.source);
            }
        }
    }
    for a in &c.articles {
        if let Some(art) = kb.articles.get(a) {
            println!("\n刑法第{}条：{}", a, art.text);
        }
    }
    Ok(())
}

fn collect_thresholds(c: &lexpro::kb::model::Cond, out: &mut BTreeSet<String>) {
    use lexpro::kb::model::{Cond, Operand};
    match c {
        Cond::And(v) | Cond::Or(v) => v.iter().for_each(|x| collect_thresholds(x, out)),
        Cond::Not(x) => collect_thresholds(x, out),
        Cond::Cmp(a, _, b) => {
            for o in [a, b] {
                if let Operand::Threshold(t) = o {
                    out.insert(t.clone());
                }
            }
        }
        Cond::Flag(_) => {}
    }
}

/// CAIL charge names resolve when a charge's name or alias matches after removing brackets and 罪.
fn cail_norm(s: &str) -> String {
    let s: String = s.chars().filter(|c| !matches!(c, '[' | ']' | '［' | '］')).collect();
    s.trim().trim_end_matches('罪').to_string()
}

fn stats(opts: &KbOpts, json: bool, cail: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = opts.dir();
    let t = std::time::Instant::now();
    let kb: KnowledgeBase = match &opts.store {
        Some(s) => lexpro::store::open(s)?.0,
        None => kb::load_dir(&dir)?,
    };
    let load = t.elapsed();
    let special: Vec<&str> = kb.articles.values().filter(|a| a.part == Part::Special).map(|a| a.number.as_str()).collect();
    let general = kb.articles.len() - special.len();
    let defined: BTreeSet<&str> = kb.charges.iter().flat_map(|c| c.articles.iter().map(|a| a.as_str())).collect();
    let without_charge: Vec<&str> = special.iter().copied().filter(|a| !defined.contains(a)).collect();
    // An article without a charge is explained when its knowledge file says why in a `note`.
    let unexplained: Vec<&str> =
        without_charge.iter().copied().filter(|a| kb.articles.get(*a).is_none_or(|x| x.notes.is_empty())).collect();
    let bands: usize = kb.charges.iter().map(|c| c.bands.len()).sum();
    let curated = kb.charges.iter().filter(|c| c.curated).count();
    let with_start = kb.charges.iter().filter(|c| c.bands.iter().any(|b| b.start.is_some())).count();
    let tested: BTreeSet<&str> = kb.tests.iter().filter_map(|t| t.charge.as_deref()).collect();
    let untested: Vec<&str> = kb.charges.iter().map(|c| c.name.as_str()).filter(|n| !tested.contains(n)).collect();
    let mut provinces_covered: BTreeSet<&str> = BTreeSet::new();
    for th in kb.thresholds.values() {
        for p in &th.provinces {
            provinces_covered.insert(p.province.as_str());
        }
    }
    let mut names: std::collections::HashMap<String, Vec<&str>> = std::collections::HashMap::new();
    for c in &kb.charges {
        for n in std::iter::once(&c.name).chain(c.aliases.iter()) {
            names.entry(cail_norm(n)).or_default().push(c.name.as_str());
        }
    }
    let cail_dir = cail.or_else(|| {
        let p = PathBuf::from("../shared/data/cail2018");
        p.join("accu.txt").exists().then_some(p)
    });
    let mut cail_json = serde_json::Value::Null;
    let mut cail_line = "CAIL labels: not checked (no ../shared/data/cail2018; pass --cail DIR)".to_string();
    if let Some(d) = &cail_dir {
        let accu = std::fs::read_to_string(d.join("accu.txt")).with_context(|| format!("reading {}", d.join("accu.txt").display()))?;
        let law = std::fs::read_to_string(d.join("law.txt")).with_context(|| format!("reading {}", d.join("law.txt").display()))?;
        let accu: Vec<&str> = accu.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let law: Vec<&str> = law.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let unresolved: Vec<&str> = accu.iter().copied().filter(|n| !names.contains_key(&cail_norm(n))).collect();
        let missing_articles: Vec<&str> = law.iter().copied().filter(|a| !kb.articles.contains_key(*a)).collect();
        cail_line = format!(
            "CAIL charge names resolved {}/{}; CAIL articles present {}/{}",
            accu.len() - unresolved.len(),
            accu.len(),
            law.len() - missing_articles.len(),
            law.len()
        );
        if !unresolved.is_empty() {
            cail_line.push_str(&format!("\n  unresolved names: {}", unresolved.join("、")));
        }
        if !missing_articles.is_empty() {
            cail_line.push_str(&format!("\n  missing articles: {}", missing_articles.join(", ")));
        }
        cail_json = json!({"charge_names": accu.len(), "charge_names_resolved": accu.len() - unresolved.len(), "unresolved": unresolved,
                           "articles": law.len(), "articles_present": law.len() - missing_articles.len(), "missing_articles": missing_articles});
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "articles": kb.articles.len(), "general_articles": general, "special_articles": special.len(),
                "special_articles_without_charge": without_charge, "special_articles_without_charge_unexplained": unexplained,
                "charges": kb.charges.len(), "charges_curated_cues": curated, "charges_derived_cues": kb.charges.len() - curated,
                "charges_with_guideline_start": with_start, "bands": bands, "elements": kb.elements.len(),
                "thresholds": kb.thresholds.len(), "provinces_covered": provinces_covered, "provinces_total": provinces::PROVINCES.len(),
                "circumstances": kb.circumstances.len(), "interpretations": kb.interpretations.len(), "tests": kb.tests.len(),
                "charges_without_test": untested, "cail": cail_json, "load_ms": load.as_secs_f64() * 1000.0,
            }))?
        );
    } else {
        println!(
            "articles        {} ({} general, {} special; {} special without a charge, {} of them unexplained{})",
            kb.articles.len(),
            general,
            special.len(),
            without_charge.len(),
            unexplained.len(),
            if unexplained.is_empty() { String::new() } else { format!(": {}", unexplained.join(", ")) }
        );
        println!("charges         {} ({} with hand-curated cues, {} with cues derived from the text, {} with guideline starting points)", kb.charges.len(), curated, kb.charges.len() - curated, with_start);
        println!("bands           {bands}");
        println!("elements        {}", kb.elements.len());
        println!("thresholds      {} (province values for {} of {} provinces: {})", kb.thresholds.len(), provinces_covered.len(), provinces::PROVINCES.len(), provinces_covered.iter().copied().collect::<Vec<_>>().join("、"));
        println!("circumstances   {}", kb.circumstances.len());
        println!("interpretations {}", kb.interpretations.len());
        println!("tests           {} ({} charges without a test)", kb.tests.len(), untested.len());
        println!("{cail_line}");
        println!("loaded in {load:.0?}");
    }
    Ok(())
}
