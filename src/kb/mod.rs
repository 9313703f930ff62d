//! Stage 2 — the knowledge base: checking and compiling `.law` files, the rule graph, and loading.

pub mod compile;
pub mod eval;
pub mod graph;
pub mod model;
pub mod provinces;

use crate::dsl::{self, Diagnostic, SourceMap};
use model::KnowledgeBase;
use std::path::{Path, PathBuf};

/// Errors of the knowledge layer.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    #[error("{path}: not valid UTF-8 text (byte {valid_up_to})")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
        /// Where decoding stopped.
        valid_up_to: usize,
    },
    /// The knowledge base has errors; `rendered` holds every diagnostic, rendered.
    #[error("{count} error(s) in the knowledge base:\n{rendered}")]
    Invalid {
        /// Number of errors.
        count: usize,
        /// All diagnostics rendered with carets.
        rendered: String,
    },
    /// No `.law` file was found.
    #[error("no .law files under {0}")]
    Empty(PathBuf),
}

/// The outcome of checking a knowledge directory: what compiled, and every diagnostic.
#[derive(Debug)]
pub struct Checked {
    /// The compiled knowledge base (partial when there are errors).
    pub kb: KnowledgeBase,
    /// All diagnostics, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The sources, to render diagnostics.
    pub sources: SourceMap,
}

impl Checked {
    /// Number of error diagnostics.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Every diagnostic rendered with its source line and caret.
    pub fn render(&self) -> String {
        self.diagnostics.iter().map(|d| self.sources.render(d)).collect::<Vec<_>>().join("\n")
    }

    /// The knowledge base, or every error.
    pub fn into_result(self) -> Result<KnowledgeBase, KbError> {
        let count = self.error_count();
        if count > 0 {
            return Err(KbError::Invalid { count, rendered: self.render() });
        }
        Ok(self.kb)
    }
}

/// Lists the `.law` files under `dir`, recursively, in sorted order (so compilation is deterministic).
pub fn law_files(dir: &Path) -> Result<Vec<PathBuf>, KbError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|source| KbError::Io { path: d.clone(), source })?;
        for entry in rd {
            let entry = entry.map_err(|source| KbError::Io { path: d.clone(), source })?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "law") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Checks sources given in memory: (display path, text) pairs.
pub fn check_sources(files: &[(String, String)]) -> Checked {
    let mut sources = SourceMap::new();
    let ids: Vec<usize> = files.iter().map(|(p, t)| sources.add(p.clone(), t.clone())).collect();
    // Files parse independently: in parallel, each with its own diagnostics, merged in file order.
    use rayon::prelude::*;
    let parsed: Vec<_> = ids
        .par_iter()
        .map(|&id| {
            let mut d = Vec::new();
            let ast = dsl::parse_file(&sources, id, &mut d);
            (ast, d)
        })
        .collect();
    let mut diagnostics = Vec::new();
    let mut asts = Vec::with_capacity(parsed.len());
    for (ast, mut d) in parsed {
        asts.push(ast);
        diagnostics.append(&mut d);
    }
    let (kb, mut more) = compile::compile(&asts, &sources);
    diagnostics.append(&mut more);
    // Stable order: by file, then position.
    diagnostics.sort_by_key(|d| (d.file_id, d.start));
    Checked { kb, diagnostics, sources }
}

/// Reads and checks every `.law` file under `dir`. I/O problems are errors; language problems are
/// diagnostics in the returned `Checked`.
pub fn check_dir(dir: &Path) -> Result<Checked, KbError> {
    let paths = law_files(dir)?;
    if paths.is_empty() {
        return Err(KbError::Empty(dir.to_path_buf()));
    }
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let bytes = std::fs::read(&p).map_err(|source| KbError::Io { path: p.clone(), source })?;
        let text = String::from_utf8(bytes).map_err(|e| KbError::NotUtf8 { path: p.clone(), valid_up_to: e.utf8_error().valid_up_to() })?;
        let shown = p.strip_prefix(dir.parent().unwrap_or(dir)).unwrap_or(&p).to_string_lossy().into_owned();
        files.push((shown, text));
    }
    Ok(check_sources(&files))
}

/// Loads and compiles a knowledge directory; any error diagnostic makes it fail with all of them.
pub fn load_dir(dir: &Path) -> Result<KnowledgeBase, KbError> {
    check_dir(dir)?.into_result()
}
