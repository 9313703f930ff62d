//! `lexpro analyze FILE|-`: a readable analysis of one case, or the contract with `--json`.

use crate::common::{read_input, KbOpts};
use lexpro::contract::{CaseInput, TermKind};
use lexpro::Engine;

/// Arguments of `lexpro analyze`.
#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// File with the fact text (or a JSON case `{"id","fact",…}`), or `-` for standard input.
    pub input: String,
    /// Print the contract JSON instead of the readable analysis.
    #[arg(long)]
    pub json: bool,
    /// Province of the court (北京, 广东 …) when the fact does not say.
    #[arg(long)]
    pub province: Option<String>,
    /// Offence date YYYY-MM-DD (selects the article text in force).
    #[arg(long)]
    pub date: Option<String>,
}

/// Parses the input as a JSON case when it is one, else as a plain fact.
pub fn case_from_text(text: &str, province: Option<String>, date: Option<String>) -> CaseInput {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        if let Ok(mut c) = serde_json::from_str::<CaseInput>(trimmed) {
            c.province = province.or(c.province);
            c.date = date.or(c.date);
            return c;
        }
    }
    CaseInput { id: "case".into(), fact: trimmed.to_string(), province, date }
}

/// Renders an analysis for people.
pub fn render(engine: &Engine, a: &lexpro::Analysis) -> String {
    let j = &a.judgment;
    let mut s = String::new();
    s.push_str("== 要素 Elements ==\n");
    let el = serde_json::to_value(&j.elements).unwrap_or_default();
    if let Some(map) = el.as_object() {
        for (k, v) in map {
            let shown = match v {
                serde_json::Value::Bool(false) | serde_json::Value::Null => continue,
                serde_json::Value::Array(x) if x.is_empty() => continue,
                serde_json::Value::String(x) if x == "none" => continue,
                serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => continue,
                other => other.to_string(),
            };
            let ev = j.evidence.get(k).map(|v| v.iter().map(|sp| format!("「{}」@{}", sp.text, sp.start)).collect::<Vec<_>>().join(" ")).unwrap_or_default();
            s.push_str(&format!("  {k:<22} {shown}  {ev}\n"));
        }
    }
    s.push_str("\n== 候选罪名 Candidates ==\n");
    for c in a.candidates.iter().take(6) {
        s.push_str(&format!("  {:<24} {:>6.2}  {}\n", c.charge, c.score, c.reasons.join("; ")));
    }
    s.push_str("\n== 认定 Decision ==\n");
    if j.charges.is_empty() {
        s.push_str("  (no charge decided)\n");
    }
    for c in &j.charges {
        s.push_str(&format!("  {}  刑法第{}条  confidence {:.2}\n", c.name, c.article, c.score));
        if let Some(art) = engine.kb().articles.get(&c.article) {
            s.push_str(&format!("    第{}条：{}\n", c.article, art.text.replace('\n', " ")));
        }
    }
    if !j.general_articles.is_empty() {
        s.push_str(&format!("  总则条文: {}\n", j.general_articles.join(", ")));
    }
    s.push_str("\n== 量刑 Sentence ==\n");
    match &j.term {
        Some(t) => {
            let kind = match t.kind {
                TermKind::FixedTerm => "有期徒刑",
                TermKind::CriminalDetention => "拘役",
                TermKind::PublicSurveillance => "管制",
                TermKind::Life => "无期徒刑",
                TermKind::Death => "死刑",
                TermKind::Exempt => "免予刑事处罚",
                TermKind::FineOnly => "单处罚金",
            };
            s.push_str(&format!("  {kind} {}", t.months.map(|m| format!("{m:.0} 个月")).unwrap_or_default()));
            if let Some(r) = t.range_months {
                s.push_str(&format!("  (法定幅度 {}–{} 个月)", r[0], r[1]));
            }
            if let Some(p) = t.probation_months {
                s.push_str(&format!("，缓刑 {p:.0} 个月"));
            }
            s.push('\n');
        }
        None => s.push_str("  (no sentence computed)\n"),
    }
    if let Some(f) = j.fine_yuan {
        s.push_str(&format!("  罚金 {f:.0} 元\n"));
    }
    s.push_str("\n== 推理 Trace ==\n");
    for (i, t) in j.trace.iter().enumerate() {
        s.push_str(&format!("  {:>2}. [{}] {}", i + 1, t.stage, t.message));
        if let Some(v) = t.value {
            s.push_str(&format!(" = {v:.2}"));
        }
        if let Some(c) = &t.cite {
            s.push_str(&format!("  〔{c}〕"));
        }
        s.push('\n');
    }
    if !j.warnings.is_empty() {
        s.push_str("\n== 提示 Warnings ==\n");
        for w in &j.warnings {
            s.push_str(&format!("  - {w}\n"));
        }
    }
    s
}

/// Runs the command.
pub fn run(args: AnalyzeArgs, opts: &KbOpts) -> anyhow::Result<()> {
    let text = read_input(&args.input)?;
    let case = case_from_text(&text, args.province, args.date);
    let engine = opts.engine()?;
    let a = engine.analyze_detailed(&case)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&a.judgment)?);
    } else {
        print!("{}", render(&engine, &a));
    }
    Ok(())
}
