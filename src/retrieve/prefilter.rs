//! A literal prefilter for cue patterns: thousands of regexes run over every fact would cost milliseconds,
//! but almost every cue needs some literal text (`窃取`, `醉酒`) that a fact usually lacks. For each
//! pattern we derive a set of literal atoms one of which must occur in any match (a necessary condition,
//! derived conservatively: when in doubt, no atoms, and the pattern always runs).

use std::collections::HashSet;

/// Literal atoms one of which occurs in every match of `pattern`, or `None` when none can be derived.
pub fn required_atoms(pattern: &str) -> Option<Vec<String>> {
    let c: Vec<char> = pattern.chars().collect();
    let (atoms, end) = alts(&c, 0).ok()?;
    if end != c.len() {
        return None;
    }
    atoms
}

struct Unsupported;

/// Parses alternatives from `i` to the closing `)` or the end; returns the union of the branches' atoms
/// (None when a branch has none) and the index where parsing stopped.
fn alts(c: &[char], mut i: usize) -> Result<(Option<Vec<String>>, usize), Unsupported> {
    let mut union: Option<Vec<String>> = Some(Vec::new());
    loop {
        let (b, j) = branch(c, i)?;
        union = match (union, b) {
            (Some(mut u), Some(b)) => {
                u.extend(b);
                Some(u)
            }
            _ => None,
        };
        i = j;
        if i < c.len() && c[i] == '|' {
            i += 1;
            continue;
        }
        return Ok((union, i));
    }
}

/// Quantifier at `i`: (item may be absent, item may repeat, index after the quantifier).
fn quantifier(c: &[char], i: usize) -> Result<(bool, bool, usize), Unsupported> {
    let (opt, rep, mut j) = match c.get(i) {
        Some('?') => (true, false, i + 1),
        Some('*') => (true, true, i + 1),
        Some('+') => (false, true, i + 1),
        Some('{') => {
            let close = c[i..].iter().position(|&x| x == '}').ok_or(Unsupported)? + i;
            let inner: String = c[i + 1..close].iter().collect();
            let min: u32 = inner.split(',').next().unwrap_or("").trim().parse().map_err(|_| Unsupported)?;
            (min == 0, true, close + 1)
        }
        _ => return Ok((false, false, i)),
    };
    if c.get(j) == Some(&'?') {
        j += 1; // lazy
    }
    Ok((opt, rep, j))
}

fn better(a: &[String], b: &[String]) -> bool {
    let min = |v: &[String]| v.iter().map(|s| s.chars().count()).min().unwrap_or(0);
    (min(a), std::cmp::Reverse(a.len())) > (min(b), std::cmp::Reverse(b.len()))
}

fn offer(set: Vec<String>, best: &mut Option<Vec<String>>) {
    if !set.is_empty() && set.iter().all(|s| !s.is_empty()) && best.as_ref().is_none_or(|b| better(&set, b)) {
        *best = Some(set);
    }
}

fn branch(c: &[char], mut i: usize) -> Result<(Option<Vec<String>>, usize), Unsupported> {
    let mut best: Option<Vec<String>> = None;
    let mut run = String::new();
    while i < c.len() {
        match c[i] {
            '|' | ')' => break,
            '(' => {
                let mut j = i + 1;
                if c.get(j) == Some(&'?') {
                    match (c.get(j + 1), c.get(j + 2)) {
                        (Some(':'), _) => j += 2,
                        (Some('P'), Some('<')) => {
                            j = c[j..].iter().position(|&x| x == '>').ok_or(Unsupported)? + j + 1;
                        }
                        _ => return Err(Unsupported),
                    }
                }
                let (set, end) = alts(c, j)?;
                if c.get(end) != Some(&')') {
                    return Err(Unsupported);
                }
                let (opt, _, k) = quantifier(c, end + 1)?;
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best);
                if let (Some(s), false) = (set, opt) {
                    offer(s, &mut best);
                }
                i = k;
            }
            '[' => {
                let mut j = i + 1;
                if c.get(j) == Some(&'^') {
                    j += 1;
                }
                if c.get(j) == Some(&']') {
                    j += 1;
                }
                while j < c.len() && c[j] != ']' {
                    j += if c[j] == '\\' { 2 } else { 1 };
                }
                if j >= c.len() {
                    return Err(Unsupported);
                }
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best);
                i = quantifier(c, j + 1)?.2;
            }
            '\\' => {
                let mut j = i + 2;
                if matches!(c.get(i + 1), Some('p') | Some('P')) && c.get(i + 2) == Some(&'{') {
                    j = c[i..].iter().position(|&x| x == '}').ok_or(Unsupported)? + i + 1;
                }
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best);
                i = quantifier(c, j)?.2;
            }
            '.' | '^' | '$' => {
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best);
                i = quantifier(c, i + 1)?.2;
            }
            '*' | '+' | '?' | '{' => return Err(Unsupported),
            ch => {
                let (opt, rep, k) = quantifier(c, i + 1)?;
                if opt {
                    offer(std::mem::take(&mut run).into_iter_vec(), &mut best);
                } else {
                    run.push(ch);
                    if rep {
                        offer(std::mem::take(&mut run).into_iter_vec(), &mut best);
                    }
                }
                i = k;
            }
        }
    }
    offer(run.into_iter_vec(), &mut best);
    Ok((best, i))
}

trait IntoVec {
    fn into_iter_vec(self) -> Vec<String>;
}

impl IntoVec for String {
    fn into_iter_vec(self) -> Vec<String> {
        if self.is_empty() {
            Vec::new()
        } else {
            vec![self]
        }
    }
}

/// The characters and character pairs of a text, to test atoms in constant time before searching.
pub struct TextGrams {
    chars: HashSet<char>,
    pairs: HashSet<(char, char)>,
}

impl TextGrams {
    /// Collects the grams of `text`.
    pub fn new(text: &str) -> TextGrams {
        let mut chars = HashSet::with_capacity(text.len() / 2);
        let mut pairs = HashSet::with_capacity(text.len() / 2);
        let mut prev: Option<char> = None;
        for ch in text.chars() {
            chars.insert(ch);
            if let Some(p) = prev {
                pairs.insert((p, ch));
            }
            prev = Some(ch);
        }
        TextGrams { chars, pairs }
    }

    /// True when `atom` may occur in the text (exact for one or two characters; a necessary condition
    /// checked on the first and last pairs for longer atoms, confirmed by the caller's search).
    pub fn may_contain(&self, atom: &str) -> bool {
        let mut it = atom.chars();
        let Some(a) = it.next() else { return true };
        let Some(b) = it.next() else { return self.chars.contains(&a) };
        if !self.pairs.contains(&(a, b)) {
            return false;
        }
        let v: Vec<char> = atom.chars().collect();
        let n = v.len();
        n < 3 || self.pairs.contains(&(v[n - 2], v[n - 1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoms(p: &str) -> Option<Vec<String>> {
        required_atoms(p).map(|mut v| {
            v.sort();
            v
        })
    }

    #[test]
    fn derives_necessary_literals() {
        assert_eq!(atoms("窃取|盗走"), Some(vec!["盗走".into(), "窃取".into()]));
        assert_eq!(atoms("当场.{0,6}(使用暴力|以暴力相威胁)"), Some(vec!["使用暴力".into(), "以暴力相威胁".into()]));
        assert_eq!(atoms("(轻伤|重伤)(一级|二级)?"), Some(vec!["轻伤".into(), "重伤".into()]));
        assert_eq!(atoms("利用(其)?职务"), Some(vec!["利用".into()]));
        assert_eq!(atoms("(?P<n>\\d+)元"), Some(vec!["元".into()]));
        assert_eq!(atoms("[一二三]次"), Some(vec!["次".into()]));
    }

    #[test]
    fn gives_up_where_it_cannot_be_sure() {
        assert_eq!(atoms("(?i)abc"), None);
        assert_eq!(atoms("(甲)?乙?"), None);
        assert_eq!(atoms("\\d+"), None);
        assert_eq!(atoms("甲|.*"), None);
    }

    #[test]
    fn never_rejects_a_pattern_that_matches() {
        let pats = ["当场.{0,6}(使用暴力|以暴力相威胁)", "(签订|履行)[^。；]{0,10}(合同|协议)", "醉酒驾驶|醉驾", "贩卖毒品+"];
        let texts = ["被告人当场使用暴力抢走财物", "双方签订买卖合同后", "其醉驾被查获", "贩卖毒品品"];
        for p in pats {
            let re = regex::Regex::new(p).unwrap();
            let a = required_atoms(p).unwrap();
            for t in texts {
                let g = TextGrams::new(t);
                if re.is_match(t) {
                    assert!(a.iter().any(|x| g.may_contain(x) && t.contains(x.as_str())), "{p} on {t}");
                }
            }
        }
    }
}
