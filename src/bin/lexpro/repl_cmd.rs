//! `lexpro repl`: an interactive session for lawyers, prosecutors and judges' assistants.
//! Type or paste a fact (one paragraph per line) and get the analysis; `:help` lists the commands.

use crate::analyze_cmd::render;
use crate::common::KbOpts;
use lexpro::contract::CaseInput;
use rustyline::error::ReadlineError;

const HELP: &str = "\
输入案件事实（一段一行）即得分析。命令 commands:
  :province 北京     set the province of the following cases (:province - to clear)
  :date 2023-05-01   set the offence date (:date - to clear)
  :json              toggle JSON output (the contract)
  :show 264 | 盗窃罪  show an article or a charge with its bands and sources
  :help              this help
  :quit              leave";

/// Arguments of `lexpro repl`.
#[derive(clap::Args)]
pub struct ReplArgs {}

/// Runs the REPL.
pub fn run(_args: ReplArgs, opts: &KbOpts) -> anyhow::Result<()> {
    let engine = opts.engine()?;
    let mut rl = rustyline::DefaultEditor::new()?;
    let mut province: Option<String> = None;
    let mut date: Option<String> = None;
    let mut json = false;
    let mut n = 0usize;
    println!("lexpro {} — {} charges, {} articles. :help for commands.", env!("CARGO_PKG_VERSION"), engine.kb().charges.len(), engine.kb().articles.len());
    loop {
        let prompt = match &province {
            Some(p) => format!("lexpro[{p}]> "),
            None => "lexpro> ".to_string(),
        };
        let line = match rl.readline(&prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let _ = rl.add_history_entry(line);
        if let Some(cmd) = line.strip_prefix(':') {
            let mut parts = cmd.splitn(2, ' ');
            let head = parts.next().unwrap_or("");
            let arg = parts.next().map(str::trim).unwrap_or("");
            match head {
                "quit" | "q" | "exit" => break,
                "help" | "h" => println!("{HELP}"),
                "json" => {
                    json = !json;
                    println!("JSON output {}", if json { "on" } else { "off" });
                }
                "province" => province = (!arg.is_empty() && arg != "-").then(|| arg.to_string()),
                "date" => date = (!arg.is_empty() && arg != "-").then(|| arg.to_string()),
                "show" => show(&engine, arg),
                other => println!("unknown command :{other} (:help)"),
            }
            continue;
        }
        n += 1;
        let case = CaseInput { id: format!("repl-{n}"), fact: line.to_string(), province: province.clone(), date: date.clone() };
        match engine.analyze_detailed(&case) {
            Ok(a) if json => println!("{}", serde_json::to_string_pretty(&a.judgment).unwrap_or_default()),
            Ok(a) => print!("{}", render(&engine, &a)),
            Err(e) => println!("error: {e}"),
        }
    }
    Ok(())
}

fn show(engine: &lexpro::Engine, what: &str) {
    let kb = engine.kb();
    let key = what.trim_start_matches('第').trim_end_matches('条').replace("之一", "-1").replace("之二", "-2");
    if let Some(a) = kb.articles.get(&key) {
        println!("刑法第{}条：{}", a.number, a.text);
        return;
    }
    match engine.graph().charge_index(what).or_else(|| engine.graph().charge_index(&format!("{what}罪"))) {
        Some(i) => {
            let c = &kb.charges[i];
            println!("{}（刑法第{}条）", c.name, c.articles.join("、"));
            for b in &c.bands {
                println!("  第{}档 {}  〔{}〕", b.number, b.text.as_deref().unwrap_or(""), b.source);
            }
        }
        None => println!("no article or charge `{what}`"),
    }
}
