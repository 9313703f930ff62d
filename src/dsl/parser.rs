//! The pest-derived parser, kept in its own module: its generated `Rule` enum would clash with ours.

use super::diagnostic::Diagnostic;
use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/lexpro.pest"]
pub(crate) struct LawParser;

pub(crate) type Pair<'a> = pest::iterators::Pair<'a, Rule>;

/// Parses one top-level chunk.
pub(crate) fn parse_chunk(chunk: &str) -> Result<pest::iterators::Pairs<'_, Rule>, Box<pest::error::Error<Rule>>> {
    LawParser::parse(Rule::file, chunk).map_err(Box::new)
}

/// Turns a pest error into our diagnostic, shifting its position by the chunk's offset in the file.
pub(crate) fn syntax_diagnostic(e: &pest::error::Error<Rule>, file_id: usize, offset: usize, chunk: &str) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let pos = pos.min(chunk.len());
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, negatives } => {
            let mut exp: Vec<String> = positives.iter().map(|r| describe(*r)).collect();
            exp.sort();
            exp.dedup();
            let mut m = if exp.is_empty() {
                "syntax error".to_string()
            } else if exp.len() > 6 {
                format!("syntax error: expected one of {}, …", exp[..6].join(", "))
            } else {
                format!("syntax error: expected {}", exp.join(" or "))
            };
            if !negatives.is_empty() {
                m.push_str(" (unexpected token)");
            }
            m
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let found = chunk[pos..].chars().next().map(|c| format!("found `{c}`")).unwrap_or_else(|| "found end of file".into());
    Diagnostic::error("E0001", message, file_id, offset + pos, offset + pos + chunk[pos..].chars().next().map_or(0, |c| c.len_utf8()))
        .with_label(found)
}

/// Human names of grammar rules for "expected …" messages.
fn describe(r: Rule) -> String {
    let s = match r {
        Rule::ident => "a name",
        Rule::string | Rule::raw_string => "a string",
        Rule::date => "a date YYYY-MM-DD",
        Rule::number | Rule::int => "a number",
        Rule::quantity => "a quantity with unit (e.g. `3000 yuan`, `3y`)",
        Rule::unit => "a unit",
        Rule::article_no => "an article number (e.g. `264`, `133-1`)",
        Rule::source_clause | Rule::src_kind => "`source \"…\"` or `calibrated \"…\"`",
        Rule::cond | Rule::conj | Rule::unary | Rule::comparison | Rule::flag | Rule::operand => "a condition",
        Rule::cmp_op => "a comparison (>=, >, <=, <, ==, !=)",
        Rule::EOI => "a top-level item (article, element, threshold, charge, extend, circumstance, interpretation, test)",
        Rule::requirement => "`required`, `optional` or `none`",
        Rule::penalty_item | Rule::p_word | Rule::p_imprisonment => "a penalty (imprisonment LO..HI, detention, surveillance, life, death, fine_only)",
        Rule::elem_type | Rule::t_simple | Rule::t_quantity => "a type (bool, money, quantity UNIT, grade, count, date, age)",
        other => return format!("`{}`", format!("{other:?}").trim_end_matches("_f").trim_end_matches("_b")),
    };
    s.to_string()
}
