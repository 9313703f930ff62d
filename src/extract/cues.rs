//! Matching the cue and negate patterns the knowledge base declares for each element.
//!
//! A cue hit counts unless a negate pattern of the same element matches in the same clause or overlaps the hit
//! (a negate may reach across commas: `投案[^。]{0,30}不(能|应)认定[^。]{0,4}自首`), the sentence reports a claim
//! the court did not accept, or — for circumstances personal to the defendant — another party is its subject.
//!
//! Speed: all patterns are compiled once. Each cue runs as its own regex (its own literal prefilter and lazy DFA;
//! one `RegexSet` over hundreds of patterns with long bounded gaps was measured 10× slower), and only on texts that
//! contain its required literals: [`required_groups`] reads them from the pattern, and a bit set of the text's
//! characters and character pairs rules most cues out before any regex runs. Negates run only in the sentences
//! where a cue of their element matched.

use super::numbers::parse_group;
use super::spans::Doc;
use super::ExtractError;
use crate::kb::model::{ElementKind, KnowledgeBase};
use regex::Regex;


fn numeral_char(c: char) -> bool {
    c.is_ascii_digit()
        || matches!(
            c,
            '.' | '零'
                | '〇'
                | '一'
                | '二'
                | '两'
                | '三'
                | '四'
                | '五'
                | '六'
                | '七'
                | '八'
                | '九'
                | '十'
                | '百'
                | '千'
                | '万'
                | '亿'
        )
}

/// Moves a group start left over the numeral characters right before it.
fn extend_number_start(text: &str, mut start: usize) -> usize {
    if !text[start..].chars().next().is_some_and(numeral_char) {
        return start;
    }
    while let Some(c) = text[..start].chars().next_back() {
        if !numeral_char(c) {
            break;
        }
        start -= c.len_utf8();
    }
    start
}

const META: &[char] = &['\\', '.', '[', ']', '(', ')', '{', '}', '|', '?', '*', '+', '^', '$'];

fn is_quantifier_at(chars: &[char], i: usize) -> bool {
    matches!(chars.get(i), Some('?' | '*' | '{' | '+'))
}

/// Index past a quantifier (`?`, `*`, `+`, `{m,n}`, each possibly lazy) starting at `i`, or `i`.
fn skip_quantifier(chars: &[char], mut i: usize) -> usize {
    match chars.get(i) {
        Some('?' | '*' | '+') => i += 1,
        Some('{') => i = chars[i..].iter().position(|&c| c == '}').map_or(chars.len(), |p| i + p + 1),
        _ => return i,
    }
    if chars.get(i) == Some(&'?') {
        i += 1;
    }
    i
}

/// Index just past the group or class opening at `i` (`(` … `)` or `[` … `]`), honouring escapes and nesting.
fn close_of(chars: &[char], i: usize) -> Option<usize> {
    let (open, close) = if chars[i] == '[' { ('[', ']') } else { ('(', ')') };
    let mut depth = 0usize;
    let mut j = i;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '[' if open == '(' => j = close_of(chars, j)? - 1,
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The literal characters an alternative starts with, stopping before a metacharacter or a quantified character.
fn literal_prefix(a: &[char]) -> String {
    let mut out = String::new();
    for (i, &c) in a.iter().enumerate() {
        if META.contains(&c) || is_quantifier_at(a, i + 1) {
            break;
        }
        out.push(c);
    }
    out
}

/// Splits `chars` at the `|` of nesting depth 0.
fn top_alternatives(chars: &[char]) -> Option<Vec<Vec<char>>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let last = out.last_mut()?;
                last.extend(chars.get(i..(i + 2).min(chars.len()))?);
                i += 2;
                continue;
            }
            '(' | '[' => {
                let j = close_of(chars, i)?;
                out.last_mut()?.extend(&chars[i..j]);
                i = j;
                continue;
            }
            '|' => out.push(Vec::new()),
            c => out.last_mut()?.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Literals of which at least one must occur for `pattern` to match (the first of [`required_groups`]);
/// `None` when none is found.
pub fn required_literals(pattern: &str) -> Option<Vec<String>> {
    required_groups(pattern).into_iter().next()
}

/// Groups of literals that must all be satisfied for `pattern` to match: from each group at least one literal
/// occurs. A conservative reading of the pattern — required literal runs and required groups of plain literal
/// alternatives at the top level; anything it does not understand adds no group.
pub fn required_groups(pattern: &str) -> Vec<Vec<String>> {
    required_groups_inner(pattern).unwrap_or_default()
}

fn required_groups_inner(pattern: &str) -> Option<Vec<Vec<String>>> {
    let chars: Vec<char> = pattern.chars().collect();
    if pattern.starts_with("(?i") || pattern.contains("(?i") || pattern.contains("(?x") {
        return None;
    }
    let alts = top_alternatives(&chars)?;
    if alts.len() > 1 {
        let mut all = Vec::new();
        for a in alts {
            all.extend(required_literals(&a.iter().collect::<String>())?);
        }
        return Some(vec![all]);
    }
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                i = skip_quantifier(&chars, i + 2);
            }
            '[' => {
                i = skip_quantifier(&chars, close_of(&chars, i)?);
            }
            '{' => {
                i = chars[i..].iter().position(|&c| c == '}').map_or(chars.len(), |p| i + p + 1);
            }
            '(' => {
                let j = close_of(&chars, i)?;
                if !is_quantifier_at(&chars, j) {
                    let mut inner: &[char] = &chars[i + 1..j - 1];
                    if inner.first() == Some(&'?') {
                        // (?:…) or (?P<name>…)
                        let skip = match inner.get(1) {
                            Some(':') => 2,
                            Some('P') => inner.iter().position(|&c| c == '>').map_or(inner.len(), |p| p + 1),
                            _ => inner.len(),
                        };
                        inner = &inner[skip.min(inner.len())..];
                    }
                    if let Some(alts) = top_alternatives(inner) {
                        // Each alternative contributes its leading literal run (谎称是? → 谎称); an alternative
                        // without one makes the group unusable.
                        let prefixes: Vec<String> = alts.iter().map(|a| literal_prefix(a)).collect();
                        if prefixes.iter().all(|p| !p.is_empty()) {
                            groups.push(prefixes);
                        }
                    }
                }
                i = skip_quantifier(&chars, j);
            }
            _ if META.contains(&c) => i += 1,
            _ => {
                let mut run = String::new();
                while i < chars.len() && !META.contains(&chars[i]) && !is_quantifier_at(&chars, i + 1) {
                    run.push(chars[i]);
                    i += 1;
                }
                if run.is_empty() {
                    // A single character under a quantifier: skip it and its quantifier.
                    i = skip_quantifier(&chars, i + 1);
                } else {
                    groups.push(vec![run]);
                }
            }
        }
    }
    Some(groups)
}

/// What must appear in a text for a cue to possibly match: for every required group, one of its literals —
/// checked as the set of its character pairs (a literal of one character: the character).
#[derive(Debug, Clone)]
struct Trigger(Vec<Vec<Vec<u32>>>);

const KEY_BITS: usize = 1 << 16;

fn key_char(c: char) -> u32 {
    (c as u32).wrapping_mul(0x9E37_79B1) >> 16
}

fn key_pair(a: char, b: char) -> u32 {
    ((a as u32).wrapping_mul(0x85EB_CA6B) ^ (b as u32).wrapping_mul(0xC2B2_AE35)).wrapping_mul(0x27D4_EB2F) >> 16
}

fn literal_keys(l: &str) -> Vec<u32> {
    let cs: Vec<char> = l.chars().collect();
    match cs.len() {
        0 => Vec::new(),
        1 => vec![key_char(cs[0])],
        _ => cs.windows(2).map(|w| key_pair(w[0], w[1])).collect(),
    }
}

impl Trigger {
    fn of(pattern: &str) -> Option<Trigger> {
        let groups: Vec<Vec<Vec<u32>>> = required_groups(pattern)
            .into_iter()
            .map(|g| g.iter().map(|l| literal_keys(l)).filter(|k| !k.is_empty()).collect::<Vec<_>>())
            .filter(|g: &Vec<Vec<u32>>| !g.is_empty())
            .collect();
        (!groups.is_empty()).then_some(Trigger(groups))
    }

    fn may_match(&self, text: &TextKeys) -> bool {
        self.0.iter().all(|g| g.iter().any(|lit| lit.iter().all(|&k| text.has(k))))
    }
}

/// A bit set of the hashed characters and character pairs of a text (false positives only make a regex run).
struct TextKeys {
    bits: Vec<u64>,
}

impl TextKeys {
    fn new(text: &str) -> TextKeys {
        let mut bits = vec![0u64; KEY_BITS / 64];
        let mut set = |k: u32| bits[(k as usize) >> 6] |= 1u64 << (k & 63);
        let mut prev: Option<char> = None;
        for c in text.chars() {
            set(key_char(c));
            if let Some(p) = prev {
                set(key_pair(p, c));
            }
            prev = Some(c);
        }
        TextKeys { bits }
    }

    fn has(&self, k: u32) -> bool {
        self.bits[(k as usize) >> 6] & (1u64 << (k & 63)) != 0
    }
}

/// One element's compiled patterns.
#[derive(Debug)]
pub struct CompiledElement {
    /// Element name.
    pub name: String,
    /// Its type.
    pub kind: ElementKind,
    /// Cue regexes, weights, and whether the cue has an `n` group.
    pub cues: Vec<(Regex, f64, bool)>,
    /// Per cue, the literals one of which must occur (skips the regex on most texts).
    triggers: Vec<Option<Trigger>>,
    /// Negate regexes.
    pub negates: Vec<Regex>,
    /// Personal circumstance (attribution check applies).
    pub personal: bool,
}

/// A cue match that survived negation and scope checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CueHit {
    /// Index into [`CueSet::elements`].
    pub element: usize,
    /// Weight of the cue that matched.
    pub weight: f64,
    /// Byte range of the match in the normalised text.
    pub start: usize,
    /// End of the match.
    pub end: usize,
    /// Byte range and parsed value of the `n` group, if any.
    pub n: Option<(usize, usize, Option<f64>)>,
}

/// All cue patterns of a knowledge base.
#[derive(Debug)]
pub struct CueSet {
    /// Elements in name order.
    pub elements: Vec<CompiledElement>,
}

fn compile(element: &str, pattern: &str) -> Result<Regex, ExtractError> {
    Regex::new(pattern).map_err(|e| ExtractError::BadPattern {
        element: element.to_string(),
        pattern: pattern.to_string(),
        message: e.to_string(),
    })
}

impl CueSet {
    /// Compiles every cue and negate of `kb`.
    pub fn new(kb: &KnowledgeBase) -> Result<CueSet, ExtractError> {
        let mut elements = Vec::new();
        for (name, el) in &kb.elements {
            let mut cues = Vec::new();
            let mut triggers = Vec::new();
            for cue in &el.cues {
                let re = compile(name, &cue.pattern)?;
                let has_n = re.capture_names().any(|n| n == Some("n"));
                cues.push((re, cue.weight, has_n));
                triggers.push(Trigger::of(&cue.pattern));
            }
            let negates = el.negates.iter().map(|p| compile(name, p)).collect::<Result<Vec<_>, _>>()?;
            elements.push(CompiledElement {
                name: name.clone(),
                kind: el.kind.clone(),
                cues,
                triggers,
                negates,
                personal: el.personal,
            });
        }
        Ok(CueSet { elements })
    }

    /// Index of an element by name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }

    /// Every surviving cue hit in `doc`, grouped by element (in element order, then text order).
    pub fn hits(&self, doc: &Doc) -> Vec<Vec<CueHit>> {
        let mut out: Vec<Vec<CueHit>> = vec![Vec::new(); self.elements.len()];
        let text = doc.norm.as_str();
        // One search per cue: each regex keeps its own literal prefilter and DFA, which is far faster than one
        // RegexSet over hundreds of patterns with long bounded gaps. Capture groups are resolved only inside a
        // match that survived.
        let keys = TextKeys::new(text);
        for (ei, el) in self.elements.iter().enumerate() {
            let mut raw: Vec<(usize, usize, usize)> = Vec::new();
            for (ci, (re, trigger)) in el.cues.iter().map(|c| &c.0).zip(&el.triggers).enumerate() {
                if trigger.as_ref().is_some_and(|t| !t.may_match(&keys)) {
                    continue;
                }
                raw.extend(re.find_iter(text).filter(|m| m.start() < m.end()).map(|m| (ci, m.start(), m.end())));
            }
            if raw.is_empty() {
                continue;
            }
            // Negates are searched only in the sentences where a cue matched.
            let mut negs: Vec<(usize, usize)> = Vec::new();
            if !el.negates.is_empty() {
                let mut sents: Vec<usize> = raw.iter().map(|&(_, s, _)| doc.sentence_of(doc.char_of(s))).collect();
                sents.sort_unstable();
                sents.dedup();
                for si in sents {
                    let Some(&(ss, se)) = doc.sentences.get(si) else { continue };
                    let (sb, eb) = (doc.byte_of(ss), doc.byte_of(se));
                    for n in &el.negates {
                        negs.extend(n.find_iter(&text[sb..eb]).map(|x| (x.start() + sb, x.end() + sb)));
                    }
                }
            }
            for (ci, start, end) in raw {
                if !self.survives_with(doc, el, start, end, &negs) {
                    continue;
                }
                let (re, weight, has_n) = &el.cues[ci];
                let n = if *has_n {
                    re.captures_at(&text[..end], start).and_then(|caps| caps.name("n")).map(|g| {
                        // A greedy gap before the group may have eaten the number's first digits.
                        let gs = extend_number_start(text, g.start());
                        (gs, g.end(), parse_group(&text[gs..g.end()]))
                    })
                } else {
                    None
                };
                out[ei].push(CueHit { element: ei, weight: *weight, start, end, n });
            }
        }
        for hits in &mut out {
            hits.sort_by_key(|h| (h.start, h.end));
            hits.dedup_by(|a, b| a.start == b.start && a.end == b.end);
        }
        out
    }

    /// [`CueSet::survives`] with the element's negate matches over the whole text already computed (sorted).
    fn survives_with(
        &self,
        doc: &Doc,
        el: &CompiledElement,
        start: usize,
        end: usize,
        negs: &[(usize, usize)],
    ) -> bool {
        let ch = doc.char_of(start);
        if doc.is_unaccepted(ch) || (el.personal && doc.is_other_party(ch)) {
            return false;
        }
        if negs.is_empty() {
            return true;
        }
        let (cs, ce) = doc.clause_of(ch);
        let (cs_b, ce_b) = (doc.byte_of(cs), doc.byte_of(ce));
        let (ss, se) = doc.sentences.get(doc.sentence_of(ch)).copied().unwrap_or((cs, ce));
        let (ss_b, se_b) = (doc.byte_of(ss), doc.byte_of(se));
        !negs.iter().any(|&(ns, ne)| ns >= ss_b && ne <= se_b && ((ns < end && start < ne) || (ns < ce_b && cs_b < ne)))
    }

    /// True when a match at `[start, end)` (bytes) of element `el` is neither negated nor out of scope.
    pub fn survives(&self, doc: &Doc, el: &CompiledElement, start: usize, end: usize) -> bool {
        let ch = doc.char_of(start);
        if doc.is_unaccepted(ch) {
            return false;
        }
        if el.personal && doc.is_other_party(ch) {
            return false;
        }
        if el.negates.is_empty() {
            return true;
        }
        let (cs, ce) = doc.clause_of(ch);
        let (cs_b, ce_b) = (doc.byte_of(cs), doc.byte_of(ce));
        // Negates are searched in the sentence and must overlap the hit or fall in its clause.
        let si = doc.sentence_of(ch);
        let (ss, se) = doc.sentences.get(si).copied().unwrap_or((cs, ce));
        let (ss_b, se_b) = (doc.byte_of(ss), doc.byte_of(se));
        let sentence = &doc.norm[ss_b..se_b];
        for neg in &el.negates {
            for m in neg.find_iter(sentence) {
                let (ns, ne) = (m.start() + ss_b, m.end() + ss_b);
                let overlaps = ns < end && start < ne;
                let in_clause = ns < ce_b && cs_b < ne;
                if overlaps || in_clause {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::model::{Cue, Element, Loc};

    fn bool_el(name: &str, cues: &[&str], negates: &[&str]) -> Element {
        Element {
            name: name.to_string(),
            kind: ElementKind::Bool,
            label: name.to_string(),
            cues: cues.iter().map(|p| Cue { pattern: p.to_string(), weight: 1.0 }).collect(),
            negates: negates.iter().map(|p| p.to_string()).collect(),
            // as core.law declares them: 自首 and the like are personal
            personal: matches!(name, "surrender" | "confession" | "recidivist" | "meritorious"),
            source: None,
            loc: Loc::default(),
        }
    }

    fn kb() -> KnowledgeBase {
        let mut kb = KnowledgeBase::default();
        for el in [
            bool_el(
                "surrender",
                &["自首", "投案"],
                &[
                    "不(构成|成立|认定|能认定为?|应认定为?)[^，。；]{0,6}自首",
                    "投案[^。]{0,30}不(能|应)?认定[^。]{0,4}自首",
                ],
            ),
            bool_el("forgiveness", &["谅解"], &["(未|没有|未能|不予?)[^，。；]{0,8}谅解"]),
        ] {
            kb.elements.insert(el.name.clone(), el);
        }
        kb
    }

    fn found(text: &str, name: &str) -> bool {
        let cs = CueSet::new(&kb()).unwrap();
        let doc = Doc::new(text);
        let i = cs.position(name).unwrap();
        !cs.hits(&doc)[i].is_empty()
    }

    #[test]
    fn plain_cue_matches() {
        assert!(found("被告人主动到公安机关投案，如实供述。", "surrender"));
        assert!(found("被告人取得了被害人的谅解。", "forgiveness"));
    }

    #[test]
    fn negation_in_clause_cancels() {
        assert!(!found("被告人不构成自首。", "surrender"));
        assert!(!found("被告人未取得被害人谅解。", "forgiveness"));
        assert!(!found("被告人虽到派出所投案，但未如实供述，不能认定为自首。", "surrender"));
    }

    #[test]
    fn rejected_claim_and_co_defendant() {
        assert!(!found("辩护人提出被告人有自首情节。经查，该意见与事实不符，本院不予采纳。", "surrender"));
        assert!(!found("同案人李某主动到公安机关投案。", "surrender"));
    }

    #[test]
    fn required_literals_of_patterns() {
        let r = |p: &str| required_literals(p);
        assert_eq!(r("自首"), Some(vec!["自首".to_string()]));
        assert_eq!(r("退赃|退赔"), Some(vec!["退赃".to_string(), "退赔".to_string()]));
        assert_eq!(r("(主动|自动)(投案|归案)"), Some(vec!["主动".to_string(), "自动".to_string()]));
        assert_eq!(r("(?P<n>[0-9]+)(名|人)[^，]{0,4}死亡"), Some(vec!["名".to_string(), "人".to_string()]));
        assert_eq!(r("(被害人)?[^，]{0,8}谅解"), Some(vec!["谅解".to_string()]));
        assert_eq!(r("起(次要|辅助)?作用"), Some(vec!["起".to_string()]));
        assert_eq!(r("[0-9]+克"), Some(vec!["克".to_string()]));
        assert_eq!(r("a|[0-9]+"), None);
        assert_eq!(r("(?i)abc"), None);
        assert_eq!(r("\\d+次"), Some(vec!["次".to_string()]));
        assert_eq!(r("[^，]{0,8}谅解"), Some(vec!["谅解".to_string()]));
        assert_eq!(r("(a|b)+c"), Some(vec!["c".to_string()]));
        assert_eq!(required_groups("(支|把)[^。]{0,12}(气枪|仿真枪)").len(), 2);
    }

    #[test]
    fn triggers_never_hide_a_match() {
        let pats = [
            "自首",
            "(主动|自动)(投案|归案)",
            "(?P<n>[0-9]+)(名|人)[^，]{0,4}死亡",
            "起(次要|辅助)?作用",
            "退赃|退赔",
            "(?P<n>[0-9]+)(支|把)[^。]{0,12}(气枪|仿真枪)",
        ];
        let texts = [
            "被告人主动投案，系自首",
            "致2人死亡",
            "在共同犯罪中起作用",
            "已退赔",
            "无关文字",
            "查获3支气枪",
            "把2支刀",
        ];
        for p in pats {
            let re = Regex::new(p).unwrap();
            let t = Trigger::of(p).unwrap();
            for x in texts {
                if re.is_match(x) {
                    assert!(t.may_match(&TextKeys::new(x)), "{p} on {x}");
                }
            }
        }
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        const PATTERNS: &[&str] = &[
            "(主动|自动|自行)(到|至|向)[^，。；]{0,20}(投案|归案)",
            "(?P<n>[0-9一二三]+)(名|人)(当场)?死亡",
            "(冒充|假冒|谎称是?|自称是?)[^。；]{0,6}(警察|民警|治安(员|人员))",
            "(群体性事件|集体上访|引发[^。；]{0,6}上访)",
            "退赃|退赔|(追回|扣押)[^。；]{0,24}(发还|返还)",
            "起(次要|辅助)?作用",
            "被告单位",
            "\\p{Han}{0,4}谅解",
        ];

        proptest! {
            #[test]
            fn triggers_never_hide_a_match(s in "[主动自行到至向投案归名人当场死亡冒充假谎称是自警察民治安员群体性事件集上访引发退赃赔追回扣押发还返起次要辅助作用被告单位谅解，。；0-9一二三]{0,30}") {
                for p in PATTERNS {
                    let re = Regex::new(p).unwrap();
                    if re.is_match(&s) {
                        let keys = TextKeys::new(&s);
                        prop_assert!(Trigger::of(p).map_or(true, |t| t.may_match(&keys)), "{} hidden on {}", p, s);
                    }
                }
            }
        }
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let mut kb = KnowledgeBase::default();
        let el = bool_el("x", &["(unclosed"], &[]);
        kb.elements.insert("x".into(), el);
        assert!(matches!(CueSet::new(&kb), Err(ExtractError::BadPattern { .. })));
    }
}
