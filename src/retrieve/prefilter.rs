//! A literal prefilter for cue patterns: thousands of regexes run over every fact would cost milliseconds,
//! but almost every cue needs some literal text (`窃取`, `醉酒`) that a fact usually lacks. For each
//! pattern we derive a set of literal atoms one of which must occur in any match (a necessary condition,
//! derived conservatively: when in doubt, no atoms, and the pattern always runs).

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

/// A required literal with its first and last character pairs, precomputed for [`TextGrams`].
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// The literal.
    pub text: String,
    single: Option<char>,
    first: Option<(char, char)>,
    last: Option<(char, char)>,
}

impl Atom {
    /// Precomputes the grams of `text`.
    pub fn new(text: &str) -> Atom {
        let v: Vec<char> = text.chars().collect();
        let n = v.len();
        Atom {
            text: text.to_string(),
            single: (n == 1).then(|| v[0]),
            first: (n >= 2).then(|| (v[0], v[1])),
            last: (n >= 3).then(|| (v[n - 2], v[n - 1])),
        }
    }
}

/// The characters and character pairs of a text as a 64-kbit Bloom table: testing an atom costs a few
/// nanoseconds, a false positive only costs the exact search that follows.
pub struct TextGrams {
    bits: Vec<u64>,
}

const TABLE_BITS: u32 = 16;

fn slot1(c: char) -> usize {
    ((c as u32).wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

fn slot2(a: char, b: char) -> usize {
    (((a as u32).wrapping_mul(0x85EB_CA6B) ^ (b as u32).wrapping_mul(0xC2B2_AE35)).wrapping_mul(0x27D4_EB2F)
        >> (32 - TABLE_BITS)) as usize
}

impl TextGrams {
    /// Collects the grams of `text`.
    pub fn new(text: &str) -> TextGrams {
        let mut g = TextGrams { bits: vec![0u64; 1 << (TABLE_BITS - 6)] };
        let mut prev: Option<char> = None;
        for ch in text.chars() {
            g.set(slot1(ch));
            if let Some(p) = prev {
                g.set(slot2(p, ch));
            }
            prev = Some(ch);
        }
        g
    }

    fn set(&mut self, i: usize) {
        self.bits[i >> 6] |= 1 << (i & 63);
    }

    fn get(&self, i: usize) -> bool {
        self.bits[i >> 6] & (1 << (i & 63)) != 0
    }

    /// True when the precompiled `atom` may occur in the text (a necessary condition; the caller confirms
    /// with an exact search).
    pub fn may_contain_atom(&self, atom: &Atom) -> bool {
        match (atom.single, atom.first, atom.last) {
            (Some(c), _, _) => self.get(slot1(c)),
            (None, Some(f), Some(l)) => self.get(slot2(f.0, f.1)) && self.get(slot2(l.0, l.1)),
            (None, Some(f), None) => self.get(slot2(f.0, f.1)),
            _ => true,
        }
    }

    /// True when `atom` may occur in the text (see [`TextGrams::may_contain_atom`]).
    pub fn may_contain(&self, atom: &str) -> bool {
        self.may_contain_atom(&Atom::new(atom))
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
        assert_eq!(atoms("当场.{0,6}(使用暴力|以暴力相威胁)"), Some(vec!["以暴力相威胁".into(), "使用暴力".into()]));
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
