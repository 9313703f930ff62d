//! Library usage: open the engine on the shipped knowledge base and analyse one case.
//! Run with `cargo run --release --example analyze`.

use lexpro::{CaseInput, Engine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::from_dir(&lexpro::engine::default_knowledge_dir())?;
    let case = CaseInput {
        id: "example".into(),
        fact: "经审理查明，被告人张某于2023年3月入户盗窃被害人家中现金人民币3000元，后主动投案并如实供述。".into(),
        province: Some("北京".into()),
        date: Some("2023-03-15".into()),
    };
    let j = engine.analyze(&case)?;
    for c in &j.charges {
        println!("{} (第{}条) confidence {:.2}", c.name, c.article, c.score);
    }
    if let Some(t) = &j.term {
        println!("term: {:?} {:?} months (range {:?})", t.kind, t.months, t.range_months);
    }
    for w in &j.warnings {
        println!("warning: {w}");
    }
    Ok(())
}
