//! Stage 1 — the statute language: pest grammar (`grammar/lexpro.pest`) → typed AST with source spans.
//!
//! Parsing never panics and never stops at the first error: a file is cut into top-level items (each starts
//! at column 0 with a keyword), every item is parsed on its own, and each failing item yields one
//! diagnostic while the others still parse.

pub mod ast;
pub mod build;
pub mod diagnostic;
mod parser;

pub use diagnostic::{Diagnostic, Severity, SourceMap};

use ast::{FileAst, Item};

/// Parses one source file (already registered in `sources` as `file_id`) into its items.
/// Syntax errors are appended to `diags`; items that parse are returned.
pub fn parse_file(sources: &SourceMap, file_id: usize, diags: &mut Vec<Diagnostic>) -> FileAst {
    let src = sources.text(file_id);
    let mut items: Vec<Item> = Vec::new();
    for (offset, chunk) in split_items(src) {
        match parser::parse_chunk(chunk) {
            Ok(pairs) => build::build_items(pairs, file_id, offset, &mut items, diags),
            Err(e) => diags.push(parser::syntax_diagnostic(&e, file_id, offset, chunk)),
        }
    }
    FileAst { file_id, items }
}

/// Top-level keywords that start an item at column 0.
const ITEM_KEYWORDS: [&str; 8] =
    ["article", "element", "threshold", "charge", "extend", "circumstance", "interpretation", "test"];

/// Cuts a source into chunks that each start with a top-level keyword at column 0 (byte offset, text).
/// Text before the first item (comments) forms its own chunk. Lines inside raw strings never start with
/// an ASCII keyword in practice (statute text is Chinese), and a wrong cut only yields a syntax error.
fn split_items(src: &str) -> Vec<(usize, &str)> {
    let mut starts = vec![0usize];
    let mut pos = 0usize;
    let mut in_raw = false;
    for line in src.split_inclusive('\n') {
        if !in_raw && pos > 0 {
            let head = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
            if ITEM_KEYWORDS.contains(&head) {
                starts.push(pos);
            }
        }
        // Track raw strings so a line inside statute text is never a cut point.
        if line.matches("\"\"\"").count() % 2 == 1 {
            in_raw = !in_raw;
        }
        pos += line.len();
    }
    starts.push(src.len());
    starts.windows(2).filter(|w| w[0] < w[1]).map(|w| (w[0], &src[w[0]..w[1]])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_raw_strings_whole() {
        let src = "# head\narticle 1 {\n text r\"\"\"a\narticle 2\n\"\"\"\n}\ncharge \"x\" {}\n";
        let parts = split_items(src);
        assert_eq!(parts.len(), 3);
        assert!(parts[1].1.starts_with("article 1"));
        assert!(parts[2].1.starts_with("charge"));
    }
}
