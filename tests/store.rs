//! The knowledge store: build + reopen round trip, crash during a rebuild, format-version mismatch.

use lexpro::kb::model::KnowledgeBase;
use lexpro::store::{self, StoreError, FORMAT_VERSION};

fn mini_kb() -> KnowledgeBase {
    let base = std::fs::read_to_string("tests/fixtures/mini/base.law").expect("fixture");
    lexpro::kb::check_sources(&[("base.law".into(), base)]).into_result().expect("mini kb compiles")
}

#[test]
fn build_and_reopen_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kb.sled");
    let kb = mini_kb();
    let meta = store::build(&path, &kb, 1).expect("build");
    assert_eq!(meta.format_version, FORMAT_VERSION);
    let (back, meta2) = store::open(&path).expect("open");
    assert_eq!(back, kb);
    assert_eq!(meta2, meta);
    // A rebuild replaces the store.
    let mut kb2 = kb.clone();
    kb2.charges.clear();
    store::build(&path, &kb2, 1).expect("rebuild");
    assert_eq!(store::open(&path).expect("reopen").0.charges.len(), 0);
}

#[test]
fn many_threads_share_one_opened_kb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kb.sled");
    store::build(&path, &mini_kb(), 1).expect("build");
    let engine = std::sync::Arc::new(lexpro::Engine::open(&path).expect("engine"));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let e = engine.clone();
            std::thread::spawn(move || e.kb().charges.len())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), 1);
    }
}

#[test]
fn crash_during_rebuild_leaves_old_store_usable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kb.sled");
    let kb = mini_kb();
    store::build(&path, &kb, 1).expect("build");
    // Simulate a crash mid-build: a half-written temporary store (no format version written yet) is left
    // beside the real one, as a killed `kb build` would leave it.
    let tmp = dir.path().join("kb.sled.tmp-99999");
    let db = sled::open(&tmp).expect("tmp db");
    db.insert("kb", &b"{\"truncated"[..]).expect("insert");
    db.flush().expect("flush");
    drop(db);
    let (back, _) = store::open(&path).expect("old store still opens");
    assert_eq!(back, kb);
    // And a crash between the two renames (store moved to .old, new one not yet in place).
    std::fs::rename(&path, dir.path().join("kb.sled.old")).expect("rename");
    let (back, _) = store::open(&path).expect("falls back to .old");
    assert_eq!(back, kb);
    // The next build cleans up and succeeds.
    store::build(&path, &kb, 1).expect("rebuild after crash");
    assert!(store::open(&path).is_ok());
}

#[test]
fn other_format_version_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kb.sled");
    store::write_with_version(&path, &mini_kb(), FORMAT_VERSION + 1).expect("write");
    match store::open(&path) {
        Err(StoreError::FormatVersion { found, expected, .. }) => {
            assert_eq!(found, FORMAT_VERSION + 1);
            assert_eq!(expected, FORMAT_VERSION);
        }
        other => panic!("expected a format-version error, got {other:?}"),
    }
    let msg = store::open(&path).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("rebuild it with `lexpro kb build`"), "{msg}");
}

#[test]
fn missing_and_garbage_stores_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(store::open(&dir.path().join("nope")), Err(StoreError::Missing(_))));
    let junk = dir.path().join("junk");
    std::fs::create_dir_all(&junk).expect("mkdir");
    std::fs::write(junk.join("db"), b"not a sled file").expect("write");
    assert!(store::open(&junk).is_err());
}
