//! Character offsets, clauses and the scope of statements (negation, attribution).
//!
//! Regexes run over a normalised copy of the fact (full-width ASCII folded to half-width, one character for one
//! character), so character offsets are identical in both texts and evidence is quoted from the original.

use crate::contract::Span;
use regex::Regex;
use std::sync::OnceLock;

/// A fact text prepared for matching.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The normalised text regexes run on.
    pub norm: String,
    /// Original characters, for evidence quotes.
    orig: Vec<char>,
    /// Byte offset in `norm` of every character, plus the total length.
    starts: Vec<usize>,
    /// Sentences: character ranges ending after `。！？；` or a line break.
    pub sentences: Vec<(usize, usize)>,
    /// Clauses: character ranges split further at commas and colons (not inside numbers).
    pub clauses: Vec<(usize, usize)>,
    /// Per sentence: true when it reports a defence claim or the defendant's plea that the court did not accept.
    pub unaccepted: Vec<bool>,
    /// Per sentence: character offsets where another person (co-defendant, accomplice) is the subject.
    other_marks: Vec<usize>,
    /// Character offsets of mentions of the defendant (被告人 / 上诉人 / 犯罪嫌疑人 …).
    defendant_marks: Vec<usize>,
}

/// Folds full-width digits, Latin letters and the number signs `．／％＋－` to half-width and the ideographic space
/// to a space; keeps one character per character. Chinese punctuation (，。；：（）) is kept as written, because
/// the knowledge base's patterns are written against it.
pub fn normalise_char(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}'
        | '\u{FF21}'..='\u{FF3A}'
        | '\u{FF41}'..='\u{FF5A}'
        | '．'
        | '／'
        | '％'
        | '＋'
        | '－' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn sentence_end(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | ';' | '；' | '!' | '?' | '\n' | '\r')
}

/// A Latin full stop (or a full-width one, folded to it) used as a Chinese sentence end: after a Han character or
/// a closing bracket or quote, and not before a Latin letter. Some judgments are typed with `.` for `。`; without
/// this the whole text is one sentence and a statement's scope (a defence claim, a negation) covers all of it.
/// Decimal points (`3.5`) never qualify: they follow a digit.
fn latin_full_stop_ends_sentence(prev: Option<char>, next: Option<char>) -> bool {
    let after_text = prev.is_some_and(|p| {
        matches!(p, '\u{4E00}'..='\u{9FFF}' | '）' | ')' | '”' | '」' | '』' | '》')
    });
    after_text && !next.is_some_and(|n| n.is_ascii_alphabetic())
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

// Why these lists live here and not in the knowledge base: they describe how a judgment reports a party's claim
// and the court's answer to it (procedural wording), not which facts signal a legal element.
fn claim_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(辩护人|辩护律师|辩护意见|被告人[^，。；]{0,8}(辩称|辩解|提出)|上诉人[^，。；]{0,8}(辩称|提出)|上诉理由|辩称)")
            .expect("static regex")
    })
}

/// True when the claim match `text[start..end]` is the evidence-list item 供述与辩解 (供述和辩解, 供述及辩解,
/// 供述、辩解).
fn is_evidence_item(text: &str, start: usize, end: usize) -> bool {
    let m = &text[start..end];
    ["供述与辩解", "供述和辩解", "供述及辩解", "供述、辩解"].iter().any(|p| m.ends_with(p))
}

fn reject_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(不予(采纳|支持|认定|采信|确认)|不能成立|不应(认定|采纳)|于法无据|没有事实(和法律)?依据|理由不(能)?成立|不足以认定|本院不(予)?(认可|认定))")
            .expect("static regex")
    })
}

fn accept_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(予以(采纳|确认|支持|认定|采信)|本院(亦|均)?(予以)?(采纳|确认|认可|支持)|经查属实|属实|成立[，。；]|酌情(从轻|予以)|依法(可以)?从轻|可以从轻|依法从轻)")
            .expect("static regex")
    })
}

fn other_party_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(同案人|同案犯|同案被告人|同伙|共犯|其他被告人|另一被告人)").expect("static regex"))
}

fn separate_case_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(\p{Han}[0-9]?[某×xX*][某甲乙丙丁0-9xX×*]{0,2})[（(](均)?(另案处理|另案|已判刑|已判决|另行处理|已作治安处罚)")
            .expect("static regex")
    })
}

fn defendant_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(被告人|上诉人|原审被告人|犯罪嫌疑人|被告单位|其(?:[^他余]|$))").expect("static regex")
    })
}

impl Doc {
    /// Prepares `text`: normalisation, offsets, sentences, clauses and claim scopes.
    pub fn new(text: &str) -> Doc {
        let orig: Vec<char> = text.chars().collect();
        let norm: String = orig.iter().map(|&c| normalise_char(c)).collect();
        let mut starts = Vec::with_capacity(orig.len() + 1);
        for (b, _) in norm.char_indices() {
            starts.push(b);
        }
        starts.push(norm.len());
        let nchars: Vec<char> = norm.chars().collect();

        let mut sentences = Vec::new();
        let mut clauses = Vec::new();
        let mut s0 = 0;
        let mut c0 = 0;
        for (i, &c) in nchars.iter().enumerate() {
            let between_digits = i > 0 && i + 1 < nchars.len() && is_digit(nchars[i - 1]) && is_digit(nchars[i + 1]);
            let clause_end = matches!(c, '：' | ':') || (matches!(c, '，' | ',') && !between_digits);
            let prev = i.checked_sub(1).and_then(|j| nchars.get(j).copied());
            if sentence_end(c) || (c == '.' && latin_full_stop_ends_sentence(prev, nchars.get(i + 1).copied())) {
                clauses.push((c0, i + 1));
                sentences.push((s0, i + 1));
                s0 = i + 1;
                c0 = i + 1;
            } else if clause_end {
                clauses.push((c0, i + 1));
                c0 = i + 1;
            }
        }
        if c0 < nchars.len() {
            clauses.push((c0, nchars.len()));
        }
        if s0 < nchars.len() {
            sentences.push((s0, nchars.len()));
        }
        let mut doc = Doc {
            norm,
            orig,
            starts,
            sentences,
            clauses,
            unaccepted: Vec::new(),
            other_marks: Vec::new(),
            defendant_marks: Vec::new(),
        };
        doc.unaccepted = doc.claim_scopes();
        let mut other: Vec<usize> = other_party_re().find_iter(&doc.norm).map(|m| doc.char_of(m.start())).collect();
        // People dealt with in another case (另案处理, 已判刑) are other parties wherever they are named.
        let names: Vec<String> = separate_case_re()
            .captures_iter(&doc.norm)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str().to_string())
            .collect();
        for name in names {
            for (b, _) in doc.norm.match_indices(name.as_str()) {
                let after = doc.norm[b + name.len()..].chars().next();
                if !after.is_some_and(|c| c == '某' || c.is_ascii_digit() || matches!(c, '甲' | '乙' | '丙' | '丁'))
                {
                    other.push(doc.char_of(b));
                }
            }
        }
        other.sort_unstable();
        doc.other_marks = other;
        doc.defendant_marks = defendant_re().find_iter(&doc.norm).map(|m| doc.char_of(m.start())).collect();
        doc
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.orig.len()
    }

    /// True for an empty text.
    pub fn is_empty(&self) -> bool {
        self.orig.is_empty()
    }

    /// Character index of a byte offset of `norm` (offsets inside a character round down).
    pub fn char_of(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte offset in `norm` of a character index.
    pub fn byte_of(&self, ch: usize) -> usize {
        self.starts[ch.min(self.starts.len() - 1)]
    }

    /// The normalised text of a character range.
    pub fn slice(&self, start: usize, end: usize) -> &str {
        &self.norm[self.byte_of(start)..self.byte_of(end.max(start))]
    }

    /// An evidence span over original characters.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let end = end.min(self.orig.len());
        let start = start.min(end);
        Span { start, end, text: self.orig[start..end].iter().collect() }
    }

    /// An evidence span from byte offsets of `norm`.
    pub fn span_bytes(&self, start: usize, end: usize) -> Span {
        self.span(self.char_of(start), self.char_of(end))
    }

    /// Index of the sentence containing character `ch`.
    pub fn sentence_of(&self, ch: usize) -> usize {
        match self.sentences.binary_search_by(|&(s, e)| {
            if ch < s {
                std::cmp::Ordering::Greater
            } else if ch >= e {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Equal
            }
        }) {
            Ok(i) => i,
            Err(i) => i.min(self.sentences.len().saturating_sub(1)),
        }
    }

    /// The clause (character range) containing character `ch`.
    pub fn clause_of(&self, ch: usize) -> (usize, usize) {
        let i = self.clauses.partition_point(|&(_, e)| e <= ch);
        self.clauses.get(i).copied().unwrap_or((ch, ch))
    }

    /// True when a statement at character `ch` is a claim the court did not accept.
    pub fn is_unaccepted(&self, ch: usize) -> bool {
        if self.sentences.is_empty() {
            return false;
        }
        self.unaccepted.get(self.sentence_of(ch)).copied().unwrap_or(false)
    }

    /// True when the subject of the statement at `ch` is another person than the defendant: within the same
    /// sentence, the nearest preceding party reference names a co-defendant or accomplice.
    pub fn is_other_party(&self, ch: usize) -> bool {
        if self.sentences.is_empty() {
            return false;
        }
        let (s, _) = self.sentences[self.sentence_of(ch)];
        let last = |marks: &[usize]| marks.iter().rev().find(|&&m| m >= s && m < ch).copied();
        match (last(&self.other_marks), last(&self.defendant_marks)) {
            (Some(o), Some(d)) => o > d,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// Marks sentences that report a claim (defence counsel, the defendant's own plea) which the court rejects,
    /// or which the text never accepts: a claim is accepted only when its sentence or one of the next two says so.
    fn claim_scopes(&self) -> Vec<bool> {
        let n = self.sentences.len();
        let mut out = vec![false; n];
        for i in 0..n {
            let (s, e) = self.sentences[i];
            let text = self.slice(s, e);
            // 被告人的供述与辩解 names an item of an evidence list, not a claim made in court.
            let Some(m) = claim_re().find_iter(text).find(|m| !is_evidence_item(text, m.start(), m.end())) else {
                continue;
            };
            let after_claim = &text[m.start()..];
            let mut accepted = false;
            let mut rejected = reject_re().is_match(after_claim);
            if !rejected {
                accepted = accept_re().is_match(after_claim);
            }
            let mut j = i + 1;
            while !accepted && !rejected && j < n && j <= i + 2 {
                let (s2, e2) = self.sentences[j];
                let t2 = self.slice(s2, e2);
                if reject_re().is_match(t2) {
                    rejected = true;
                } else if accept_re().is_match(t2) {
                    accepted = true;
                }
                j += 1;
            }
            if !accepted {
                out[i] = true;
                // The court's rejection of this claim may repeat the claimed circumstance: same scope.
                if rejected {
                    for (k, flag) in out.iter_mut().enumerate().take(j.min(n)).skip(i + 1) {
                        let (s2, e2) = self.sentences[k];
                        if reject_re().is_match(self.slice(s2, e2)) {
                            *flag = true;
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_survive_full_width_folding() {
        let d = Doc::new("人民币１２３４元，被告人（男）");
        assert_eq!(d.norm, "人民币1234元，被告人（男）");
        let b = d.norm.find("1234").unwrap();
        let sp = d.span_bytes(b, b + 4);
        assert_eq!(sp.text, "１２３４");
        assert_eq!((sp.start, sp.end), (3, 7));
    }

    #[test]
    fn clauses_do_not_split_thousands() {
        let d = Doc::new("价税合计人民币129,534元，税额共计18，821.18元。被告人自首");
        assert_eq!(d.sentences.len(), 2);
        let c = d.clause_of(10);
        assert_eq!(d.slice(c.0, c.1), "价税合计人民币129,534元，");
        let c2 = d.clause_of(20);
        assert_eq!(d.slice(c2.0, c2.1), "税额共计18，821.18元。");
    }

    #[test]
    fn rejected_defence_claim_is_unaccepted() {
        let d = Doc::new("辩护人提出被告人有自首情节。经查，被告人系被抓获归案，不符合自首的条件，对该辩护意见不予采纳。被告人取得了谅解。");
        assert!(d.is_unaccepted(5));
        assert!(!d.is_unaccepted(d.len() - 3));
    }

    #[test]
    fn accepted_defence_claim_counts() {
        let d = Doc::new("庭审中，辩护人提出被告人系自首。以上量刑情节经查属实，本院予以确认。");
        assert!(!d.is_unaccepted(6));
    }

    #[test]
    fn unanswered_defence_claim_does_not_count() {
        let d = Doc::new("被告人的辩护人认为，被告人系初犯，认罪态度较好。");
        assert!(d.is_unaccepted(10));
    }

    #[test]
    fn latin_full_stop_after_chinese_ends_a_sentence_but_a_decimal_point_does_not() {
        let d = Doc::new("毁损价值为3520元.双方达成协议．被告人持有3.5克毒品.");
        assert_eq!(d.sentences.len(), 3);
        assert_eq!(d.slice(d.sentences[0].0, d.sentences[0].1), "毁损价值为3520元.");
        assert_eq!(d.slice(d.sentences[2].0, d.sentences[2].1), "被告人持有3.5克毒品.");
        // A Latin abbreviation is not a sentence end.
        assert_eq!(Doc::new("型号为No.5的手机").sentences.len(), 1);
    }

    #[test]
    fn the_defendants_statement_in_an_evidence_list_is_not_a_claim() {
        let d = Doc::new("双方就赔偿达成协议并取得谅解，并有被告人张某甲的供述与辩解，被害人陈述等证据证实。");
        assert!(!d.is_unaccepted(5));
        // A claim later in the same sentence still counts.
        let d2 = Doc::new("有被告人的供述和辩解在卷，被告人辩称其系自首。");
        assert!(d2.is_unaccepted(3));
    }

    #[test]
    fn co_defendant_statement_is_other_party() {
        let text = "同案人李某主动到公安机关投案，被告人张某被抓获。";
        let d = Doc::new(text);
        let pos = text.chars().position(|c| c == '投').unwrap();
        assert!(d.is_other_party(pos));
        let text2 = "被告人张某主动到公安机关投案。";
        let d2 = Doc::new(text2);
        assert!(!d2.is_other_party(8));
    }
}
