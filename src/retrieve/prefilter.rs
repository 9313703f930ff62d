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

/// Several sets of literal atoms, each of which has a member in every match of `pattern` (a conjunction
/// of disjunctions: `(殴打|打伤)…(轻伤|重伤)` needs one of each). Empty when none can be derived. Testing
/// every set rejects far more facts than one set: the first group of a cue is often common wording.
pub fn required_atom_sets(pattern: &str) -> Vec<Vec<String>> {
    let c: Vec<char> = pattern.chars().collect();
    let Ok((union, end)) = alts(&c, 0) else { return Vec::new() };
    if end != c.len() {
        return Vec::new();
    }
    // A single top-level branch: every literal run and group it requires is a set of its own.
    if !c.iter().enumerate().any(|(i, &ch)| ch == '|' && depth_at(&c, i) == 0) {
        let mut all = Vec::new();
        if branch_sets(&c, 0, &mut all).is_ok() && !all.is_empty() {
            return all;
        }
    }
    union.map(|u| vec![u]).unwrap_or_default()
}

/// Group nesting depth at `i` (escapes and character classes skipped).
fn depth_at(c: &[char], i: usize) -> usize {
    let (mut d, mut j, mut in_class) = (0usize, 0usize, false);
    while j < i {
        match c[j] {
            '\\' => j += 1,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => d += 1,
            ')' if !in_class => d = d.saturating_sub(1),
            _ => {}
        }
        j += 1;
    }
    d
}

/// Every necessary set of the branch starting at `i` (see [`branch`]).
fn branch_sets(c: &[char], i: usize, all: &mut Vec<Vec<String>>) -> Result<usize, Unsupported> {
    let mut sink = Some(all);
    branch_inner(c, i, &mut sink).map(|(_, j)| j)
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

fn offer_to(set: Vec<String>, best: &mut Option<Vec<String>>, all: &mut Option<&mut Vec<Vec<String>>>) {
    if set.is_empty() || set.iter().any(|s| s.is_empty()) {
        return;
    }
    if let Some(all) = all.as_mut() {
        all.push(set.clone());
    }
    if best.as_ref().is_none_or(|b| better(&set, b)) {
        *best = Some(set);
    }
}

fn branch(c: &[char], i: usize) -> Result<(Option<Vec<String>>, usize), Unsupported> {
    branch_inner(c, i, &mut None)
}

fn branch_inner(
    c: &[char],
    mut i: usize,
    all: &mut Option<&mut Vec<Vec<String>>>,
) -> Result<(Option<Vec<String>>, usize), Unsupported> {
    let mut best: Option<Vec<String>> = None;
    let offer = |set: Vec<String>, best: &mut Option<Vec<String>>, all: &mut Option<&mut Vec<Vec<String>>>| {
        offer_to(set, best, all)
    };
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
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best, all);
                if let (Some(s), false) = (set, opt) {
                    offer(s, &mut best, all);
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
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best, all);
                i = quantifier(c, j + 1)?.2;
            }
            '\\' => {
                let mut j = i + 2;
                if matches!(c.get(i + 1), Some('p') | Some('P')) && c.get(i + 2) == Some(&'{') {
                    j = c[i..].iter().position(|&x| x == '}').ok_or(Unsupported)? + i + 1;
                }
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best, all);
                i = quantifier(c, j)?.2;
            }
            '.' | '^' | '$' => {
                offer(std::mem::take(&mut run).into_iter_vec(), &mut best, all);
                i = quantifier(c, i + 1)?.2;
            }
            '*' | '+' | '?' | '{' => return Err(Unsupported),
            ch => {
                let (opt, rep, k) = quantifier(c, i + 1)?;
                if opt {
                    offer(std::mem::take(&mut run).into_iter_vec(), &mut best, all);
                } else {
                    run.push(ch);
                    if rep {
                        offer(std::mem::take(&mut run).into_iter_vec(), &mut best, all);
                    }
                }
                i = k;
            }
        }
    }
    offer(run.into_iter_vec(), &mut best, all);
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

/// The most characters a match of `pattern` can span, or `None` when unbounded (`*`, `+`, `{n,}`), anchored
/// or not understood. A match containing a literal at position p then lies within p ± that many
/// characters, so only windows around the literal need searching: bounded gaps like `[^。；]{0,60}` make
/// the lazy DFA slow on long facts.
pub fn max_match_chars(pattern: &str) -> Option<usize> {
    let c: Vec<char> = pattern.chars().collect();
    let (n, end) = max_alts(&c, 0)?;
    (end == c.len()).then_some(n)
}

fn max_alts(c: &[char], mut i: usize) -> Option<(usize, usize)> {
    let mut best = 0usize;
    loop {
        let (n, j) = max_branch(c, i)?;
        best = best.max(n);
        i = j;
        if i < c.len() && c[i] == '|' {
            i += 1;
            continue;
        }
        return Some((best, i));
    }
}

/// Maximum repetition of a quantifier at `i` (1 when none) and the index after it.
fn max_rep(c: &[char], i: usize) -> Option<(usize, usize)> {
    let (rep, mut j) = match c.get(i) {
        Some('?') => (1, i + 1),
        Some('*') | Some('+') => return None,
        Some('{') => {
            let close = c[i..].iter().position(|&x| x == '}')? + i;
            let inner: String = c[i + 1..close].iter().collect();
            let max = match inner.split_once(',') {
                Some((_, hi)) => hi.trim().parse().ok()?,
                None => inner.trim().parse().ok()?,
            };
            (max, close + 1)
        }
        _ => return Some((1, i)),
    };
    if c.get(j) == Some(&'?') {
        j += 1;
    }
    Some((rep, j))
}

fn max_branch(c: &[char], mut i: usize) -> Option<(usize, usize)> {
    let mut total = 0usize;
    while i < c.len() {
        let (unit, next) = match c[i] {
            '|' | ')' => break,
            '^' | '$' => return None,
            '(' => {
                let mut j = i + 1;
                if c.get(j) == Some(&'?') {
                    match (c.get(j + 1), c.get(j + 2)) {
                        (Some(':'), _) => j += 2,
                        (Some('P'), Some('<')) => j = c[j..].iter().position(|&x| x == '>')? + j + 1,
                        _ => return None,
                    }
                }
                let (n, end) = max_alts(c, j)?;
                if c.get(end) != Some(&')') {
                    return None;
                }
                (n, end + 1)
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
                    if c[j] == '[' {
                        return None;
                    }
                    j += if c[j] == '\\' { 2 } else { 1 };
                }
                if j >= c.len() {
                    return None;
                }
                (1, j + 1)
            }
            '\\' => match c.get(i + 1)? {
                'b' | 'B' | 'A' | 'z' => return None,
                'p' | 'P' if c.get(i + 2) == Some(&'{') => (1, c[i..].iter().position(|&x| x == '}')? + i + 1),
                _ => (1, i + 2),
            },
            '*' | '+' | '?' | '{' => return None,
            _ => (1, i + 1),
        };
        let (rep, k) = max_rep(c, next)?;
        total += unit * rep;
        i = k;
    }
    Some((total, i))
}

/// Every distinct required literal of every cue, indexed by its first character (one-character atoms) or
/// first character pair: one pass over the fact finds all atoms present, instead of testing each cue's
/// atoms against the whole fact (thousands of substring searches per case).
#[derive(Debug, Default, Clone)]
pub struct AtomIndex {
    atoms: Vec<String>,
    ids: std::collections::HashMap<String, u32>,
    /// Gram key (see [`gram_key`]) → atoms starting with that gram.
    starts: std::collections::HashMap<u64, Vec<u32>, BuildGramHasher>,
}

/// Key of a one-character gram or a character pair (chars fit in 21 bits).
fn gram_key(a: char, b: Option<char>) -> u64 {
    match b {
        Some(b) => ((a as u64) << 21) | b as u64,
        None => (1u64 << 42) | a as u64,
    }
}

/// A multiplicative hasher for gram keys: the keys are already well spread integers, and SipHash would
/// dominate the per-character scan.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuildGramHasher;

/// The hasher of [`BuildGramHasher`].
#[derive(Debug, Default, Clone, Copy)]
pub struct GramHasher(u64);

impl std::hash::Hasher for GramHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::BuildHasher for BuildGramHasher {
    type Hasher = GramHasher;
    fn build_hasher(&self) -> GramHasher {
        GramHasher(0)
    }
}

impl AtomIndex {
    /// Interns `atom` and returns its id.
    pub fn add(&mut self, atom: &str) -> Option<u32> {
        let mut cs = atom.chars();
        let a = cs.next()?;
        if let Some(&id) = self.ids.get(atom) {
            return Some(id);
        }
        let id = self.atoms.len() as u32;
        self.atoms.push(atom.to_string());
        self.ids.insert(atom.to_string(), id);
        self.starts.entry(gram_key(a, cs.next())).or_default().push(id);
        Some(id)
    }

    /// The literal of atom `id`.
    pub fn text(&self, id: u32) -> &str {
        self.atoms.get(id as usize).map(String::as_str).unwrap_or("")
    }

    /// Number of distinct atoms.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// True when no atom was added.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// Which atoms occur in `text` (indexed by atom id).
    pub fn present(&self, text: &str) -> Vec<bool> {
        let mut seen = vec![false; self.atoms.len()];
        if self.atoms.is_empty() {
            return seen;
        }
        let mut it = text.char_indices().peekable();
        while let Some((b, a)) = it.next() {
            let next = it.peek().map(|&(_, c)| c);
            if let Some(ids) = self.starts.get(&gram_key(a, None)) {
                for &id in ids {
                    seen[id as usize] = true;
                }
            }
            let Some(n) = next else { break };
            if let Some(ids) = self.starts.get(&gram_key(a, Some(n))) {
                let rest = &text[b..];
                for &id in ids {
                    if !seen[id as usize] && rest.starts_with(self.atoms[id as usize].as_str()) {
                        seen[id as usize] = true;
                    }
                }
            }
        }
        seen
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
    fn derives_every_necessary_set_of_a_single_branch() {
        let mut sets = required_atom_sets("(经[^。；]{0,20}鉴定|法医鉴定)[^。；]{0,30}(轻伤|重伤)");
        sets.iter_mut().for_each(|s| s.sort());
        assert_eq!(sets, vec![vec!["法医鉴定".to_string(), "鉴定".into()], vec!["轻伤".into(), "重伤".into()]]);
        // Alternatives at the top level: one union set.
        assert_eq!(required_atom_sets("窃取|盗走").len(), 1);
        assert!(required_atom_sets("(?i)abc").is_empty());
        assert!(required_atom_sets("(甲)?乙?").is_empty());
        let p = "当场[^。]{0,6}(使用暴力|以暴力相威胁)";
        let re = regex::Regex::new(p).unwrap();
        for t in ["其当场使用暴力抗拒", "当场以暴力相威胁"] {
            assert!(re.is_match(t));
            assert!(required_atom_sets(p).iter().all(|s| s.iter().any(|a| t.contains(a.as_str()))), "{t}");
        }
    }

    #[test]
    fn bounds_the_length_of_a_match() {
        assert_eq!(max_match_chars("窃取|盗走"), Some(2));
        assert_eq!(max_match_chars("(经[^。；]{0,20}鉴定|法医鉴定)[^。；]{0,30}(轻伤|重伤)"), Some(23 + 30 + 2));
        assert_eq!(max_match_chars("(?P<n>\\d{1,3})元?"), Some(4));
        assert_eq!(max_match_chars("\\p{Han}{2}"), Some(2));
        assert_eq!(max_match_chars("盗窃.*"), None);
        assert_eq!(max_match_chars("^盗窃"), None);
        assert_eq!(max_match_chars("(?i)ab"), None);
    }

    #[test]
    fn gives_up_where_it_cannot_be_sure() {
        assert_eq!(atoms("(?i)abc"), None);
        assert_eq!(atoms("(甲)?乙?"), None);
        assert_eq!(atoms("\\d+"), None);
        assert_eq!(atoms("甲|.*"), None);
    }

    #[test]
    fn atom_index_finds_exactly_the_atoms_present() {
        let mut idx = AtomIndex::default();
        let ids: Vec<u32> = ["窃取", "盗", "醉酒驾驶", "醉驾", "抢劫"].iter().map(|a| idx.add(a).unwrap()).collect();
        assert_eq!(idx.add("窃取"), Some(ids[0]));
        assert_eq!(idx.add(""), None);
        let p = idx.present("其醉酒驾驶被查获，后窃取财物");
        assert_eq!(ids.iter().map(|&i| p[i as usize]).collect::<Vec<_>>(), vec![true, false, true, false, false]);
        let p = idx.present("盗");
        assert!(p[ids[1] as usize] && !p[ids[0] as usize]);
        assert!(idx.present("").iter().all(|x| !x));
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
