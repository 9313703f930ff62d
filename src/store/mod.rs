//! The knowledge store: the compiled knowledge base persisted in sled, with a format version.
//!
//! Layout: one sled database directory holding `format_version` (u32, big-endian), `meta` (JSON
//! [`StoreMeta`]) and `kb` (JSON `KnowledgeBase`). Opening reads everything into memory and releases the
//! database at once, so any number of threads share one `Arc<KnowledgeBase>` and several processes can
//! open the same store one after another.
//!
//! Atomic rebuild: `build` writes a fresh database into a sibling temporary directory, flushes it, then
//! swaps it in with two renames (`store` → `store.old`, `tmp` → `store`). A crash before the swap leaves the
//! old store untouched; a crash between the two renames leaves `store.old`, which `open` falls back to.

use crate::kb::model::KnowledgeBase;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the on-disk format. Bump when `KnowledgeBase` changes shape.
pub const FORMAT_VERSION: u32 = 3;

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store directory does not exist (and no `.old` fallback either).
    #[error("no knowledge store at {0} (build one with `lexpro kb build`)")]
    Missing(PathBuf),
    /// The store was written by another format version.
    #[error("knowledge store {path} has format version {found}, this lexpro reads version {expected}: rebuild it with `lexpro kb build`")]
    FormatVersion {
        /// The store.
        path: PathBuf,
        /// Version on disk.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The store is damaged or not a lexpro store.
    #[error("knowledge store {path} is unreadable: {reason}")]
    Corrupt {
        /// The store.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// sled failed.
    #[error("knowledge store {path}: {source}")]
    Sled {
        /// The store.
        path: PathBuf,
        /// The cause.
        source: sled::Error,
    },
    /// Filesystem failure while swapping stores.
    #[error("knowledge store {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Facts about a built store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreMeta {
    /// Format version.
    pub format_version: u32,
    /// lexpro version that built it.
    pub built_by: String,
    /// Seconds since the Unix epoch at build time.
    pub built_at: u64,
    /// Number of articles.
    pub articles: usize,
    /// Number of charges.
    pub charges: usize,
    /// Number of source files.
    pub files: usize,
}

fn sled_err(path: &Path) -> impl Fn(sled::Error) -> StoreError + '_ {
    move |source| StoreError::Sled { path: path.to_path_buf(), source }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes `kb` into a new store at `path`, replacing any store there atomically.
pub fn build(path: &Path, kb: &KnowledgeBase, files: usize) -> Result<StoreMeta, StoreError> {
    let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|source| StoreError::Io { path: tmp.clone(), source })?;
    }
    let meta = StoreMeta {
        format_version: FORMAT_VERSION,
        built_by: env!("CARGO_PKG_VERSION").to_string(),
        built_at: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        articles: kb.articles.len(),
        charges: kb.charges.len(),
        files,
    };
    write_db(&tmp, kb, &meta)?;
    swap_in(&tmp, path)?;
    Ok(meta)
}

/// Writes the database files of a store (no swap). Public for the crash test.
pub fn write_db(dir: &Path, kb: &KnowledgeBase, meta: &StoreMeta) -> Result<(), StoreError> {
    let db = sled::open(dir).map_err(sled_err(dir))?;
    let kb_bytes = serde_json::to_vec(kb).map_err(|e| StoreError::Corrupt { path: dir.to_path_buf(), reason: e.to_string() })?;
    let meta_bytes = serde_json::to_vec(meta).map_err(|e| StoreError::Corrupt { path: dir.to_path_buf(), reason: e.to_string() })?;
    db.insert("kb", kb_bytes).map_err(sled_err(dir))?;
    db.insert("meta", meta_bytes).map_err(sled_err(dir))?;
    // The version goes in last: a store without it was never finished.
    db.insert("format_version", &meta.format_version.to_be_bytes()).map_err(sled_err(dir))?;
    db.flush().map_err(sled_err(dir))?;
    Ok(())
}

fn swap_in(tmp: &Path, path: &Path) -> Result<(), StoreError> {
    let old = sibling(path, ".old");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    if path.exists() {
        std::fs::rename(path, &old).map_err(io(path))?;
    }
    std::fs::rename(tmp, path).map_err(io(path))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

/// Opens a sled database, waiting up to a second for its file lock: sled locks the database exclusively,
/// and another process opening it, or this process's previous handle whose background threads are still
/// shutting down, may hold the lock for a moment. Any other error is returned at once.
pub(crate) fn open_sled(path: &Path) -> Result<sled::Db, sled::Error> {
    let mut tries = 0;
    loop {
        match sled::open(path) {
            Err(sled::Error::Io(e)) if tries < 20 && is_lock_contention(&e) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn is_lock_contention(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("acquire lock")
}

/// Opens a store read-only: reads the knowledge base into memory and releases the database.
pub fn open(path: &Path) -> Result<(KnowledgeBase, StoreMeta), StoreError> {
    let target = if path.exists() {
        path.to_path_buf()
    } else {
        let old = sibling(path, ".old");
        if old.exists() { old } else { return Err(StoreError::Missing(path.to_path_buf())) }
    };
    if !target.join("conf").exists() && !target.join("db").exists() {
        return Err(StoreError::Corrupt { path: target, reason: "not a sled database".into() });
    }
    let db = open_sled(&target).map_err(|e| StoreError::Sled { path: target.clone(), source: e })?;
    let corrupt = |reason: String| StoreError::Corrupt { path: target.clone(), reason };
    let version = db.get("format_version").map_err(sled_err(&target))?.ok_or_else(|| corrupt("no format version (unfinished build?)".into()))?;
    let version: [u8; 4] = version.as_ref().try_into().map_err(|_| corrupt("format version is not 4 bytes".into()))?;
    let found = u32::from_be_bytes(version);
    if found != FORMAT_VERSION {
        return Err(StoreError::FormatVersion { path: target, found, expected: FORMAT_VERSION });
    }
    let meta = db.get("meta").map_err(sled_err(&target))?.ok_or_else(|| corrupt("no meta".into()))?;
    let meta: StoreMeta = serde_json::from_slice(&meta).map_err(|e| corrupt(format!("meta: {e}")))?;
    let kb = db.get("kb").map_err(sled_err(&target))?.ok_or_else(|| corrupt("no knowledge base".into()))?;
    let kb: KnowledgeBase = serde_json::from_slice(&kb).map_err(|e| corrupt(format!("knowledge base: {e}")))?;
    Ok((kb, meta))
}

/// Writes a store whose format version is `version` (for tests of the version check).
#[doc(hidden)]
pub fn write_with_version(path: &Path, kb: &KnowledgeBase, version: u32) -> Result<(), StoreError> {
    let meta = StoreMeta { format_version: version, built_by: "test".into(), built_at: 0, articles: kb.articles.len(), charges: kb.charges.len(), files: 0 };
    write_db(path, kb, &meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database still locked by a handle that is being dropped opens once the lock is released,
    /// instead of failing with "could not acquire lock".
    #[test]
    fn open_sled_waits_for_a_lock_being_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let first = sled::open(&path).unwrap();
        first.insert("k", "v").unwrap();
        first.flush().unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            drop(first);
        });
        let second = open_sled(&path).unwrap();
        assert_eq!(second.get("k").unwrap().as_deref(), Some(&b"v"[..]));
        releaser.join().unwrap();
    }

    #[test]
    fn open_sled_reports_other_errors_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let t = std::time::Instant::now();
        assert!(open_sled(&file.join("db")).is_err());
        assert!(t.elapsed() < std::time::Duration::from_millis(500));
    }
}
