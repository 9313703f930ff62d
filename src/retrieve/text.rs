//! Chinese text machinery shared by retrieval and the similar-case index: jieba segmentation and an
//! in-memory BM25 ranker.

use jieba_rs::Jieba;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The process-wide segmenter: loading jieba's dictionary takes tens of milliseconds, so it is built once.
pub fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(Jieba::new)
}

/// Function words and court boilerplate that carry no signal about the charge.
const STOP: &[&str] = &[
    "的", "了", "在", "是", "和", "与", "及", "并", "等", "将", "对", "其", "于", "为", "以", "后", "向", "从", "由", "被",
    "该", "此", "之", "也", "又", "均", "已", "但", "而", "或", "把", "给", "至", "到", "中", "内", "上", "下", "时",
    "某", "年", "月", "日", "许", "左右", "被告人", "被害人", "公诉机关", "指控", "经审理查明", "人民检察院", "认为",
    "上述", "事实", "证据", "元", "人民币", "×", "x", "X",
];

/// Words of court procedure and of the sentencing clauses: every fact description and most articles share
/// them, so they say nothing about which offence was committed.
const PROCEDURAL: &[&str] = &[
    "证人", "证言", "证明", "出示", "供述", "如实", "鉴定", "鉴定意见", "记录", "笔录", "提起公诉", "公诉", "罪行", "从轻",
    "减轻", "处罚", "判处", "有期徒刑", "拘役", "管制", "罚金", "刑事", "责任", "规定", "依照", "本法", "追究", "提请",
    "以上", "以下", "情节", "可以", "应当", "情况", "关系", "归案", "到案", "抓获", "查获", "案发", "审理", "查明", "认定",
    "辩护人", "辩护", "意见", "材料", "书证", "物证", "身份", "户籍", "证据", "法院", "检察院", "公安局", "公安机关",
    "派出所", "立案", "侦查", "起诉", "当庭", "质证", "属实", "采信", "予以", "本院", "认罪", "悔罪", "自首", "坦白",
    "立功", "累犯", "犯罪", "构成", "行为", "其他", "造成", "他人",
    // Review procedure around the fact (复核, 核准), the sentence (剥夺政治权利, 缓期) and the evidence lists
    // (公安机关出具的…). Words naming courts and judgments stay: the offences against justice (第313条 拒不执行
    // 判决、裁定, 第307条之一 虚假诉讼 …) are described with them.
    "合议庭", "复核", "核准", "依法", "剥夺", "政治权利", "缓期", "出具", "报警",
];

/// True for procedural and sentencing vocabulary (see [`PROCEDURAL`]).
pub fn is_procedural(t: &str) -> bool {
    PROCEDURAL.contains(&t)
}

fn is_stop(t: &str) -> bool {
    STOP.contains(&t)
}

/// Episode number of every character of `fact`. A court sets out each act with its own time (`2014年3月2日`,
/// `次日`, `当晚`); an episode runs from one time expression to the next.
pub fn episode_ids(fact: &str) -> Vec<usize> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            regex::Regex::new(r"[0-9０-９]{2,4}年|[0-9０-９]{1,2}月[0-9０-９]{1,2}日|次日|当日|同日|当晚|当天|翌日|数日后|几天后").ok()
        })
        .as_ref();
    let mut starts: Vec<usize> = Vec::new();
    if let Some(re) = re {
        let mut last_end = None;
        for m in re.find_iter(fact) {
            // `2014年3月2日` is one time expression, not two episodes.
            if last_end != Some(m.start()) {
                starts.push(fact[..m.start()].chars().count());
            }
            last_end = Some(m.end());
        }
    }
    let n = fact.chars().count();
    (0..n)
        .map(|pos| starts.partition_point(|&s| s <= pos))
        .collect()
}

/// Sentence number of every character of `fact` (sentences end at 。；！？ and line breaks).
pub fn sentence_ids(fact: &str) -> Vec<usize> {
    let mut ids = Vec::with_capacity(fact.len());
    let mut k = 0;
    for ch in fact.chars() {
        ids.push(k);
        if matches!(ch, '。' | '；' | ';' | '！' | '？' | '\n') {
            k += 1;
        }
    }
    ids
}

/// Segments `text` into index terms: CJK words and ASCII words; digits, punctuation and stop words are
/// dropped because amounts and dates say nothing about which law applies.
pub fn terms(text: &str) -> Vec<&str> {
    jieba()
        .cut(text, false)
        .into_iter()
        .filter(|t| {
            let mut has_cjk = false;
            let mut has_alpha = false;
            for ch in t.chars() {
                if ('\u{4e00}'..='\u{9fff}').contains(&ch) {
                    has_cjk = true;
                } else if ch.is_ascii_alphabetic() {
                    has_alpha = true;
                }
            }
            (has_cjk || has_alpha) && !is_stop(t)
        })
        .collect()
}

/// Term frequencies of `text`.
pub fn term_counts(text: &str) -> HashMap<&str, u32> {
    let mut m: HashMap<&str, u32> = HashMap::new();
    for t in terms(text) {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

/// BM25 parameters (Robertson & Zaragoza's customary values).
pub const K1: f64 = 1.2;
/// Length normalisation.
pub const B: f64 = 0.75;

/// Robertson–Spärck Jones idf, floored at a small positive value so very common terms still count a little.
pub fn idf(n_docs: f64, df: f64) -> f64 {
    (((n_docs - df + 0.5) / (df + 0.5)) + 1.0).ln().max(1e-3)
}

/// One term's BM25 contribution.
pub fn bm25_term(idf: f64, tf: f64, doc_len: f64, avg_len: f64) -> f64 {
    let norm = K1 * (1.0 - B + B * doc_len / avg_len.max(1.0));
    idf * tf * (K1 + 1.0) / (tf + norm)
}

/// A small in-memory BM25 index over a fixed set of documents (charge descriptions, article texts).
#[derive(Debug, Default, Clone)]
pub struct Bm25 {
    postings: HashMap<String, Vec<(u32, f32)>>,
    idf: HashMap<String, f64>,
    lens: Vec<f64>,
    avg: f64,
}

impl Bm25 {
    /// Indexes `docs`; document `i` keeps id `i`.
    pub fn new<S: AsRef<str>>(docs: &[S]) -> Bm25 {
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        let mut lens = Vec::with_capacity(docs.len());
        for (i, d) in docs.iter().enumerate() {
            let counts = term_counts(d.as_ref());
            lens.push(counts.values().sum::<u32>() as f64);
            for (t, c) in counts {
                postings.entry(t.to_string()).or_default().push((i as u32, c as f32));
            }
        }
        let n = docs.len() as f64;
        let avg = if lens.is_empty() { 1.0 } else { lens.iter().sum::<f64>() / n };
        let idf = postings.iter().map(|(t, p)| (t.clone(), idf(n, p.len() as f64))).collect();
        Bm25 { postings, idf, lens, avg }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// True when no document is indexed.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Scores every document against the query's term counts (each distinct query term counted once,
    /// so a long fact repeating a word does not drown the others).
    pub fn scores(&self, query: &HashMap<&str, u32>) -> Vec<f64> {
        let mut s = vec![0.0; self.lens.len()];
        // In term order, not the map's (random) order: float sums in a fixed order give the same scores on
        // every run.
        let mut terms: Vec<&str> = query.keys().copied().collect();
        terms.sort_unstable();
        for t in &terms {
            let (Some(p), Some(&idf)) = (self.postings.get(*t), self.idf.get(*t)) else { continue };
            for &(d, tf) in p {
                s[d as usize] += bm25_term(idf, tf as f64, self.lens[d as usize], self.avg);
            }
        }
        s
    }

    /// The query terms that matched document `d`, best first (for explanations).
    pub fn matched_terms<'q>(&self, query: &HashMap<&'q str, u32>, d: usize, max: usize) -> Vec<&'q str> {
        let mut v: Vec<(&str, f64)> = query
            .keys()
            .filter_map(|t| {
                let p = self.postings.get(*t)?;
                // Postings are in document order: binary search.
                p.binary_search_by_key(&(d as u32), |x| x.0).is_ok().then(|| (*t, self.idf.get(*t).copied().unwrap_or(0.0)))
            })
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        v.into_iter().take(max).map(|(t, _)| t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_drop_digits_punctuation_and_stop_words() {
        let t = terms("被告人张某于2016年5月盗窃手机一部，价值人民币2500元。");
        assert!(t.contains(&"盗窃"), "{t:?}");
        assert!(t.contains(&"手机"), "{t:?}");
        assert!(!t.iter().any(|x| x.chars().all(|c| c.is_ascii_digit())), "{t:?}");
        assert!(!t.contains(&"被告人"), "{t:?}");
        assert!(!t.contains(&"，"), "{t:?}");
    }

    #[test]
    fn bm25_ranks_the_matching_document_first() {
        let docs = ["盗窃公私财物，数额较大的", "以暴力、胁迫或者其他方法抢劫公私财物的", "醉酒驾驶机动车的"];
        let idx = Bm25::new(&docs);
        let q = term_counts("被告人醉酒驾驶机动车在道路上行驶");
        let s = idx.scores(&q);
        assert!(s[2] > s[0] && s[2] > s[1], "{s:?}");
        assert!(idx.matched_terms(&q, 2, 5).contains(&"驾驶"));
    }

    #[test]
    fn idf_is_positive_even_for_ubiquitous_terms() {
        assert!(idf(10.0, 10.0) > 0.0);
        assert!(idf(10.0, 1.0) > idf(10.0, 5.0));
    }
}
