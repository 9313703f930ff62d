//! Similar-case retrieval (类案检索): a persistent BM25 index of judged cases on sled.
//!
//! Layout (one sled database, four trees):
//! - `docs`: doc id (u32, big-endian) → JSON [`CaseRecord`] (labels, hash of the fact, short excerpt);
//! - `post`: `term ‖ 0x00 ‖ chunk (u64 BE)` → packed postings `(doc u32, tf u16, doc length u16)`, one key per
//!   term per added batch, so adding never rewrites old postings (incremental add, millions of cases);
//! - `df`: term → document frequency (u64 BE);
//! - `meta`: `n_docs`, `total_len`, `next_chunk`.
//!
//! Searching reads only the postings of the query's most informative terms and fetches only the
//! records of the top hits. A case never retrieves itself: hits whose fact hashes equal the query's are
//! skipped when [`SearchOpts::exclude_same_fact`] is set (leave-one-out evaluation).

use crate::retrieve::text;
use crate::retrieve::Precedent;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Errors of the similar-case index.
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    /// The on-disk store failed.
    #[error("case index storage: {0}")]
    Store(#[from] sled::Error),
    /// A stored record is unreadable (corrupt or written by an incompatible version).
    #[error("case index record {id}: {message}")]
    Corrupt {
        /// Document id.
        id: u32,
        /// What failed.
        message: String,
    },
    /// An input line is not a case in a known format.
    #[error("line {line}: {message}")]
    BadInput {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The index cannot hold more documents (u32 ids).
    #[error("case index full")]
    Full,
}

/// The sentence of a judged case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseTerm {
    /// Months of fixed-term imprisonment or detention (0 when none).
    pub months: f64,
    /// 无期徒刑.
    pub life: bool,
    /// 死刑.
    pub death: bool,
}

/// A judged case to add to the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledCase {
    /// Identifier (file line when the input has none).
    pub id: String,
    /// Fact description.
    pub fact: String,
    /// Charges as labelled (official or CAIL names).
    pub charges: Vec<String>,
    /// Special-part articles cited.
    pub articles: Vec<String>,
    /// Sentence, when known.
    pub term: Option<CaseTerm>,
}

/// What the index keeps of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// Identifier.
    pub id: String,
    /// Charges as labelled.
    pub charges: Vec<String>,
    /// Articles cited.
    pub articles: Vec<String>,
    /// Sentence.
    pub term: Option<CaseTerm>,
    /// Hash of the normalised fact (self-exclusion).
    pub fact_hash: u64,
    /// First characters of the fact, for display.
    pub excerpt: String,
}

/// A retrieved similar case.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarCase {
    /// BM25 similarity.
    pub score: f64,
    /// The stored case.
    pub record: CaseRecord,
}

impl SimilarCase {
    /// The view the retriever votes with.
    pub fn to_precedent(&self) -> Precedent {
        Precedent {
            score: self.score,
            charges: self.record.charges.clone(),
            id: self.record.id.clone(),
        }
    }
}

/// Search options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchOpts {
    /// Skip cases whose fact is the query itself (leave-one-out, no leakage).
    pub exclude_same_fact: bool,
    /// Skip cases with these ids.
    pub exclude_ids: Vec<String>,
    /// Skip cases that carry any of these charges (as stored). Evaluation uses it to simulate a charge the index
    /// has never seen, which is how the index meets the long tail of charges.
    pub exclude_charges: Vec<String>,
}

/// Query terms consulted at most: the rarest ones carry nearly all of the BM25 mass.
const MAX_QUERY_TERMS: usize = 40;

/// FNV-1a over the fact without whitespace: stable across runs and platforms.
pub fn fact_hash(fact: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for ch in fact.chars().filter(|c| !c.is_whitespace()) {
        let mut buf = [0u8; 4];
        for b in ch.encode_utf8(&mut buf).bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn value_strings(v: Option<&serde_json::Value>) -> Vec<String> {
    let Some(serde_json::Value::Array(a)) = v else {
        return Vec::new();
    };
    a.iter()
        .filter_map(|x| match x {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Object(o) => {
                o.get("name").and_then(|n| n.as_str()).map(str::to_string)
            }
            _ => None,
        })
        .collect()
}

/// Parses one JSONL line: CAIL (`fact`, `meta.accusation`, `meta.relevant_articles`,
/// `meta.term_of_imprisonment`) or the contract's input with labels (`id`, `fact`, `charges`, `articles`,
/// optional `term` with `months`/`kind`). Blank lines give `None`.
pub fn parse_case(line: &str, line_no: usize) -> Result<Option<LabelledCase>, CasesError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let bad = |m: String| CasesError::BadInput {
        line: line_no,
        message: m,
    };
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    let fact = v
        .get("fact")
        .and_then(|f| f.as_str())
        .ok_or_else(|| bad("no `fact` string".into()))?;
    let id = match v.get("id") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => format!("line{line_no}"),
    };
    let (charges, articles, term) = if let Some(meta) = v.get("meta") {
        let t = meta.get("term_of_imprisonment");
        let term = t.map(|t| CaseTerm {
            months: t
                .get("imprisonment")
                .and_then(|x| x.as_f64())
                .unwrap_or(0.0),
            life: t
                .get("life_imprisonment")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
            death: t
                .get("death_penalty")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
        });
        (
            value_strings(meta.get("accusation")),
            value_strings(meta.get("relevant_articles")),
            term,
        )
    } else {
        let term = v.get("term").and_then(|t| {
            let kind = t.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            Some(CaseTerm {
                months: t.get("months").and_then(|x| x.as_f64()).unwrap_or(0.0),
                life: kind == "life",
                death: kind == "death",
            })
        });
        (
            value_strings(v.get("charges")),
            value_strings(v.get("articles")),
            term,
        )
    };
    if charges.is_empty() {
        return Err(bad(
            "no charge labels (`meta.accusation` or `charges`)".into()
        ));
    }
    let mut articles = articles;
    articles.dedup();
    Ok(Some(LabelledCase {
        id,
        fact: fact.to_string(),
        charges,
        articles,
        term,
    }))
}

/// The persistent similar-case index.
#[derive(Debug, Clone)]
pub struct CaseIndex {
    db: sled::Db,
    docs: sled::Tree,
    post: sled::Tree,
    df: sled::Tree,
    meta: sled::Tree,
    hashes: sled::Tree,
}

fn get_u64(t: &sled::Tree, k: &[u8]) -> Result<u64, CasesError> {
    Ok(t.get(k)?
        .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(0))
}

impl CaseIndex {
    /// Opens (or creates) the index in directory `path`.
    pub fn open(path: &Path) -> Result<CaseIndex, CasesError> {
        Self::from_db(crate::store::open_sled(path)?)
    }

    /// A throw-away index (tests, one-off evaluations).
    pub fn temporary() -> Result<CaseIndex, CasesError> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<CaseIndex, CasesError> {
        Ok(CaseIndex {
            docs: db.open_tree("docs")?,
            post: db.open_tree("post")?,
            df: db.open_tree("df")?,
            meta: db.open_tree("meta")?,
            hashes: db.open_tree("hashes")?,
            db,
        })
    }

    /// Number of indexed cases.
    pub fn len(&self) -> Result<usize, CasesError> {
        Ok(get_u64(&self.meta, b"n_docs")? as usize)
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> Result<bool, CasesError> {
        Ok(self.len()? == 0)
    }

    /// Adds a batch of cases; returns how many were added (a case whose fact is already indexed is
    /// skipped). One call writes one posting chunk per term, so callers should pass thousands of cases at a
    /// time when building large indexes.
    pub fn add(&self, cases: &[LabelledCase]) -> Result<usize, CasesError> {
        let mut fresh: Vec<&LabelledCase> = Vec::with_capacity(cases.len());
        let mut batch_hashes = std::collections::HashSet::new();
        for c in cases {
            let h = fact_hash(&c.fact);
            if batch_hashes.insert(h) && !self.hashes.contains_key(h.to_be_bytes())? {
                fresh.push(c);
            }
        }
        let cases = fresh;
        if cases.is_empty() {
            return Ok(0);
        }
        let n0 = get_u64(&self.meta, b"n_docs")?;
        if n0 + cases.len() as u64 > u32::MAX as u64 {
            return Err(CasesError::Full);
        }
        let chunk = get_u64(&self.meta, b"next_chunk")?;
        let mut postings: HashMap<String, Vec<u8>> = HashMap::new();
        let mut docs = sled::Batch::default();
        let mut hashes = sled::Batch::default();
        let mut total = 0u64;
        for (k, c) in cases.iter().enumerate() {
            let id = (n0 + k as u64) as u32;
            let counts = text::term_counts(&c.fact);
            let len: u32 = counts.values().sum();
            total += len as u64;
            let len16 = len.min(u16::MAX as u32) as u16;
            for (t, tf) in counts {
                let p = postings.entry(t.to_string()).or_default();
                p.extend_from_slice(&id.to_be_bytes());
                p.extend_from_slice(&(tf.min(u16::MAX as u32) as u16).to_be_bytes());
                p.extend_from_slice(&len16.to_be_bytes());
            }
            let rec = CaseRecord {
                id: c.id.clone(),
                charges: c.charges.clone(),
                articles: c.articles.clone(),
                term: c.term,
                fact_hash: fact_hash(&c.fact),
                excerpt: c.fact.chars().take(80).collect(),
            };
            let json = serde_json::to_vec(&rec).map_err(|e| CasesError::Corrupt {
                id,
                message: e.to_string(),
            })?;
            docs.insert(&id.to_be_bytes(), json);
            hashes.insert(&rec.fact_hash.to_be_bytes(), &id.to_be_bytes());
        }
        let mut post = sled::Batch::default();
        let mut df = sled::Batch::default();
        for (t, p) in postings {
            let mut key = t.as_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(&chunk.to_be_bytes());
            let n = (p.len() / 8) as u64;
            df.insert(
                t.as_bytes(),
                &(get_u64(&self.df, t.as_bytes())? + n).to_be_bytes(),
            );
            post.insert(key, p);
        }
        self.docs.apply_batch(docs)?;
        self.post.apply_batch(post)?;
        self.df.apply_batch(df)?;
        self.hashes.apply_batch(hashes)?;
        let total0 = get_u64(&self.meta, b"total_len")?;
        self.meta
            .insert(b"total_len", &(total0 + total).to_be_bytes())?;
        self.meta
            .insert(b"next_chunk", &(chunk + 1).to_be_bytes())?;
        // Written last: a batch interrupted before this line is invisible to searches.
        self.meta
            .insert(b"n_docs", &(n0 + cases.len() as u64).to_be_bytes())?;
        Ok(cases.len())
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), CasesError> {
        self.db.flush()?;
        Ok(())
    }

    /// Reads a stored record.
    pub fn record(&self, id: u32) -> Result<Option<CaseRecord>, CasesError> {
        match self.docs.get(id.to_be_bytes())? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| CasesError::Corrupt {
                    id,
                    message: e.to_string(),
                }),
        }
    }

    /// The `k` cases most similar to `fact` by BM25 over jieba terms.
    pub fn search(
        &self,
        fact: &str,
        k: usize,
        opts: &SearchOpts,
    ) -> Result<Vec<SimilarCase>, CasesError> {
        let n = get_u64(&self.meta, b"n_docs")?;
        if n == 0 || k == 0 {
            return Ok(Vec::new());
        }
        let avg = get_u64(&self.meta, b"total_len")? as f64 / n as f64;
        let q = text::term_counts(fact);
        let mut terms: Vec<(&str, f64, u32)> = Vec::with_capacity(q.len());
        for (t, qtf) in &q {
            let df = get_u64(&self.df, t.as_bytes())?;
            if df > 0 {
                terms.push((t, text::idf(n as f64, df as f64), *qtf));
            }
        }
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        terms.truncate(MAX_QUERY_TERMS);
        let mut acc: HashMap<u32, f64> = HashMap::new();
        for (t, idf, qtf) in &terms {
            let qw = 1.0 + (*qtf as f64).ln();
            let mut prefix = t.as_bytes().to_vec();
            prefix.push(0);
            for kv in self.post.scan_prefix(&prefix) {
                let (_, v) = kv?;
                for p in v.chunks_exact(8) {
                    let doc = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                    if doc as u64 >= n {
                        continue; // from a batch whose commit did not finish
                    }
                    let tf = u16::from_be_bytes([p[4], p[5]]) as f64;
                    let len = u16::from_be_bytes([p[6], p[7]]) as f64;
                    *acc.entry(doc).or_insert(0.0) += qw * text::bm25_term(*idf, tf, len, avg);
                }
            }
        }
        let mut hits: Vec<(u32, f64)> = acc.into_iter().collect();
        // Exclusions drop hits after ranking: look further down the list when some are set.
        let spare = if opts.exclude_charges.is_empty() {
            k * 4 + 16
        } else {
            k * 40 + 160
        };
        let keep = spare.min(hits.len());
        if keep < hits.len() {
            hits.select_nth_unstable_by(keep, |a, b| b.1.total_cmp(&a.1));
            hits.truncate(keep);
        }
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let own = fact_hash(fact);
        let mut out = Vec::with_capacity(k);
        for (doc, score) in hits {
            let Some(record) = self.record(doc)? else {
                continue;
            };
            if (opts.exclude_same_fact && record.fact_hash == own)
                || opts.exclude_ids.contains(&record.id)
                || record
                    .charges
                    .iter()
                    .any(|c| opts.exclude_charges.contains(c))
            {
                continue;
            }
            out.push(SimilarCase { score, record });
            if out.len() == k {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, fact: &str, charge: &str) -> LabelledCase {
        LabelledCase {
            id: id.into(),
            fact: fact.into(),
            charges: vec![charge.into()],
            articles: vec![],
            term: Some(CaseTerm {
                months: 6.0,
                life: false,
                death: false,
            }),
        }
    }

    #[test]
    fn finds_the_similar_case_and_never_itself() {
        let idx = CaseIndex::temporary().unwrap();
        idx.add(&[
            case(
                "a",
                "被告人醉酒驾驶机动车在道路上行驶，血液酒精含量为150mg/100ml。",
                "危险驾驶",
            ),
            case("b", "被告人趁无人之机窃取手机一部，价值2000元。", "盗窃"),
        ])
        .unwrap();
        // A second batch: incremental add.
        idx.add(&[case("c", "被告人持刀抢劫被害人现金500元。", "抢劫")])
            .unwrap();
        assert_eq!(idx.len().unwrap(), 3);
        // The same case again is not indexed twice.
        assert_eq!(
            idx.add(&[case("c2", "被告人持刀抢劫被害人现金500元。", "抢劫")])
                .unwrap(),
            0
        );
        assert_eq!(idx.len().unwrap(), 3);
        let q = "被告人醉酒后驾驶机动车，经检验血液酒精含量为120mg/100ml。";
        let hits = idx.search(q, 2, &SearchOpts::default()).unwrap();
        assert_eq!(hits[0].record.id, "a");
        let own = "被告人趁无人之机窃取手机一部，价值2000元。";
        let hits = idx
            .search(
                own,
                3,
                &SearchOpts {
                    exclude_same_fact: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(hits.iter().all(|h| h.record.id != "b"), "{hits:?}");
        let hits = idx.search(own, 3, &SearchOpts::default()).unwrap();
        assert_eq!(hits[0].record.id, "b");
    }

    #[test]
    fn persists_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let idx = CaseIndex::open(dir.path()).unwrap();
            idx.add(&[case("a", "被告人窃取电动车一辆。", "盗窃")])
                .unwrap();
            idx.flush().unwrap();
        }
        let idx = CaseIndex::open(dir.path()).unwrap();
        assert_eq!(idx.len().unwrap(), 1);
        let hits = idx.search("窃取电动车", 1, &SearchOpts::default()).unwrap();
        assert_eq!(hits[0].record.charges, vec!["盗窃".to_string()]);
        assert_eq!(hits[0].to_precedent().id, "a");
    }

    #[test]
    fn parses_cail_and_contract_lines() {
        let cail = r#"{"fact":"某某","meta":{"accusation":["盗窃"],"relevant_articles":[264],"term_of_imprisonment":{"imprisonment":6,"life_imprisonment":false,"death_penalty":false}}}"#;
        let c = parse_case(cail, 1).unwrap().unwrap();
        assert_eq!(c.charges, vec!["盗窃"]);
        assert_eq!(c.articles, vec!["264"]);
        assert_eq!(c.id, "line1");
        assert_eq!(c.term.unwrap().months, 6.0);
        let contract = r#"{"id":"x","fact":"某某","charges":[{"name":"盗窃罪","article":"264"}],"articles":["264"]}"#;
        let c = parse_case(contract, 2).unwrap().unwrap();
        assert_eq!(c.charges, vec!["盗窃罪"]);
        assert_eq!(c.id, "x");
        assert!(parse_case("   ", 3).unwrap().is_none());
        assert!(matches!(
            parse_case("{", 4),
            Err(CasesError::BadInput { line: 4, .. })
        ));
        assert!(parse_case(r#"{"fact":"x"}"#, 5).is_err());
    }

    #[test]
    fn empty_index_and_empty_query_return_nothing() {
        let idx = CaseIndex::temporary().unwrap();
        assert!(idx
            .search("盗窃", 3, &SearchOpts::default())
            .unwrap()
            .is_empty());
        idx.add(&[case("a", "被告人窃取电动车一辆。", "盗窃")])
            .unwrap();
        assert!(idx
            .search("", 3, &SearchOpts::default())
            .unwrap()
            .is_empty());
        assert_eq!(fact_hash("a b"), fact_hash("ab"));
    }
}
