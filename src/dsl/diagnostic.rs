//! Diagnostics in the style of rustc / Catala: `file:line:col`, the source line, a caret under the span.

use serde::Serialize;

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The knowledge base cannot be compiled.
    Error,
    /// Suspicious but compiled.
    Warning,
}

/// One problem in a knowledge file, located by byte offsets into the file's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `E0101`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Index into the `SourceMap`.
    pub file_id: usize,
    /// Byte offset of the span start.
    pub start: usize,
    /// Byte offset of the span end (exclusive).
    pub end: usize,
    /// Text under the caret.
    pub label: Option<String>,
    /// Extra lines (`= note: …`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at a byte span.
    pub fn error(code: &'static str, message: impl Into<String>, file_id: usize, start: usize, end: usize) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file_id,
            start,
            end,
            label: None,
            notes: Vec::new(),
        }
    }

    /// A warning at a byte span.
    pub fn warning(code: &'static str, message: impl Into<String>, file_id: usize, start: usize, end: usize) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message, file_id, start, end) }
    }

    /// Sets the caret label.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A source file: its display path, its text and where its lines start.
#[derive(Debug, Clone)]
struct SourceFile {
    path: String,
    text: String,
    line_starts: Vec<usize>,
}

/// All source files of a knowledge base, addressed by index.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        SourceMap::default()
    }

    /// Registers a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> usize {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(SourceFile { path: path.into(), text, line_starts });
        self.files.len() - 1
    }

    /// The text of a file.
    pub fn text(&self, id: usize) -> &str {
        self.files.get(id).map_or("", |f| f.text.as_str())
    }

    /// The display path of a file.
    pub fn path(&self, id: usize) -> &str {
        self.files.get(id).map_or("<unknown>", |f| f.path.as_str())
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, id: usize, offset: usize) -> (u32, u32) {
        let Some(f) = self.files.get(id) else { return (1, 1) };
        let offset = floor_char_boundary(&f.text, offset.min(f.text.len()));
        let line = match f.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = f.line_starts[line];
        let col = f.text[start..offset].chars().count() + 1;
        (line as u32 + 1, col as u32)
    }

    fn line_text(&self, id: usize, line: u32) -> &str {
        let Some(f) = self.files.get(id) else { return "" };
        let i = (line as usize).saturating_sub(1);
        let start = f.line_starts.get(i).copied().unwrap_or(f.text.len());
        let end = f.line_starts.get(i + 1).copied().unwrap_or(f.text.len());
        f.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Renders a diagnostic with the source line and a caret under its span.
    pub fn render(&self, d: &Diagnostic) -> String {
        let (line, col) = self.line_col(d.file_id, d.start);
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let src_line = self.line_text(d.file_id, line);
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        // Caret: display width before the span (CJK counts 2), then the span's width on this line.
        let before: String = src_line.chars().take(col as usize - 1).collect();
        let span_chars: String = {
            let text = self.text(d.file_id);
            let s = floor_char_boundary(text, d.start.min(text.len()));
            let e = floor_char_boundary(text, d.end.max(d.start).min(text.len()));
            text[s..e].split('\n').next().unwrap_or("").to_string()
        };
        let caret_pad = " ".repeat(display_width(&before));
        let carets = "^".repeat(display_width(&span_chars).max(1));
        let mut out = format!("{kind}[{}]: {}\n{pad}--> {}:{line}:{col}\n{pad} |\n{line} | {src_line}\n{pad} | {caret_pad}{carets}",
            d.code, d.message, self.path(d.file_id));
        if let Some(l) = &d.label {
            out.push(' ');
            out.push_str(l);
        }
        out.push('\n');
        for n in &d.notes {
            out.push_str(&format!("{pad} = note: {n}\n"));
        }
        out
    }

    /// `file:line:col` of a diagnostic.
    pub fn location(&self, d: &Diagnostic) -> String {
        let (l, c) = self.line_col(d.file_id, d.start);
        format!("{}:{l}:{c}", self.path(d.file_id))
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Terminal display width: East Asian wide and full-width characters take two columns.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if c == '\t' {
                4
            } else if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
                || (0x20000..=0x3FFFD).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_cjk() {
        let mut sm = SourceMap::new();
        let id = sm.add("k.law", "a\n  when 数额 >= 3\n");
        let start = "a\n  when ".len();
        let d = Diagnostic::error("E0101", "unknown element `数额`", id, start, start + "数额".len());
        let r = sm.render(&d);
        assert!(r.contains("--> k.law:2:8"), "{r}");
        assert!(r.contains("2 |   when 数额 >= 3"), "{r}");
        assert!(r.contains("  |        ^^^^"), "{r}");
    }

    #[test]
    fn offsets_past_end_do_not_panic() {
        let mut sm = SourceMap::new();
        let id = sm.add("k.law", "中文");
        let d = Diagnostic::error("E0001", "x", id, 1, 999);
        let _ = sm.render(&d);
        let _ = sm.line_col(7, 3);
    }
}
