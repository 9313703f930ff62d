//! Where `kb check` spends its time: parse vs compile of the shipped knowledge base.
//! Run with `cargo run --release --example kb_timing`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = lexpro::engine::default_knowledge_dir();
    let files: Vec<(String, String)> = lexpro::kb::law_files(&dir)?
        .into_iter()
        .map(|p| Ok((p.display().to_string(), std::fs::read_to_string(&p)?)))
        .collect::<Result<_, std::io::Error>>()?;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let checked = lexpro::kb::check_sources(&files);
        println!("check_sources {:?}: {} charges, {} errors", t.elapsed(), checked.kb.charges.len(), checked.error_count());
    }
    Ok(())
}
