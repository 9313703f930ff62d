//! Options and helpers shared by the commands.

use anyhow::Context;
use lexpro::Engine;
use std::io::Read;
use std::path::PathBuf;

/// Where the engine's knowledge comes from.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KbOpts {
    /// Knowledge directory of `.law` files (default: $LEXPRO_KB, ./knowledge, or the source tree's).
    #[arg(long, global = true)]
    pub kb: Option<PathBuf>,
    /// A store built by `lexpro kb build` (faster to open than compiling the directory).
    #[arg(long, global = true, conflicts_with = "kb")]
    pub store: Option<PathBuf>,
    /// A similar-case index built by `lexpro cases index` (类案): its cases' charges join the evidence.
    #[arg(long, global = true)]
    pub cases: Option<PathBuf>,
}

impl KbOpts {
    /// The knowledge directory to use.
    pub fn dir(&self) -> PathBuf {
        self.kb.clone().unwrap_or_else(lexpro::engine::default_knowledge_dir)
    }

    /// Opens the engine from the store or the directory.
    pub fn engine(&self) -> anyhow::Result<Engine> {
        let engine = self.rules_engine()?;
        match &self.cases {
            Some(c) => engine.with_cases(c).with_context(|| format!("opening similar-case index {}", c.display())),
            None => Ok(engine),
        }
    }

    fn rules_engine(&self) -> anyhow::Result<Engine> {
        match &self.store {
            Some(s) => Engine::open(s).with_context(|| format!("opening store {}", s.display())),
            None => {
                let d = self.dir();
                Engine::from_dir(&d).with_context(|| format!("loading knowledge from {}", d.display()))
            }
        }
    }
}

/// Reads a file, or standard input for `-`, as UTF-8 text.
pub fn read_input(path: &str) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    }
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("{path}: not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}
