//! The write-ahead log under a crash: what was acknowledged after the last
//! checkpoint comes back by applying the log again.
//!
//! A crash is staged without killing the process: the database file of a
//! checkpoint is kept aside, more groups are acknowledged, the log is copied
//! while they are in it, and then the database of the checkpoint and that
//! log are put back together, as a crash would leave them.

use std::path::Path;

use redb::ReadableTable;

use super::tests::{consumer_commit, event};
use super::*;
use crate::storage::{KvStore, KvValue, TopicSpec};

const DB: &str = "streamplug.redb";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A store at a checkpoint holding topic `t` with one event; the database
/// file of that checkpoint is kept in `aside`.
async fn checkpointed(dir: &Path, aside: &Path) {
    let store = EmbeddedStore::open(dir).unwrap();
    store
        .create_topics(&[TopicSpec::new("t", 1), TopicSpec::new("in", 1)])
        .await
        .unwrap();
    store.append(vec![event("t", "a", "before")]).await.unwrap();
    drop(store);
    std::fs::copy(dir.join(DB), aside.join(DB)).unwrap();
}

/// The crash: the checkpoint's database, and the log as it was copied.
fn crash(dir: &Path, aside: &Path, wal: &Path) {
    std::fs::copy(aside.join(DB), dir.join(DB)).unwrap();
    std::fs::remove_dir_all(dir.join("wal")).unwrap();
    copy_dir(wal, &dir.join("wal"));
}

#[tokio::test]
async fn acknowledged_groups_after_the_checkpoint_come_back_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let aside = tempfile::tempdir().unwrap();
    let wal = tempfile::tempdir().unwrap();
    checkpointed(dir.path(), aside.path()).await;

    let store = EmbeddedStore::open(dir.path()).unwrap();
    let window = std::time::Duration::from_secs(60);
    let once = event("t", "a", "once");
    let first = store.append_once(vec![once.clone()], window).await.unwrap();
    store
        .commit(consumer_commit(
            "in",
            5,
            vec![event("t", "a", "published")],
            vec![
                ("k".into(), Some(KvValue::lasting(b"v".to_vec()))),
                (
                    "ttl".into(),
                    Some(KvValue::expiring(b"x".to_vec(), u64::MAX)),
                ),
            ],
        ))
        .await
        .unwrap();
    copy_dir(&dir.path().join("wal"), wal.path());
    drop(store);
    crash(dir.path(), aside.path(), wal.path());

    let store = EmbeddedStore::open(dir.path()).unwrap();
    let types: Vec<_> = store
        .read("t", 0, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.offset, e.seq, e.event.ty))
        .collect();
    assert_eq!(
        types,
        [
            (0, 0, "before".to_owned()),
            (1, 1, "once".into()),
            (2, 2, "published".into())
        ]
    );
    assert_eq!(store.committed("g", "in", 0).await.unwrap(), 5);
    assert_eq!(
        store.get("p", "k").await.unwrap().as_deref(),
        Some(&b"v"[..])
    );
    assert_eq!(store.list_keys("p", "", 10).await.unwrap(), ["k", "ttl"]);
    assert_eq!(store.usage("p").await.unwrap(), 6);
    let again = store.append_once(vec![once], window).await.unwrap();
    assert!(again[0].duplicate, "the replayed id is remembered");
    assert_eq!(again[0].position, first[0].position);
    let next = store.append(vec![event("t", "a", "after")]).await.unwrap();
    assert_eq!(next[0].offset, 3);
    assert!(
        std::fs::read_dir(dir.path().join("wal")).unwrap().count() <= 1,
        "the open checkpointed and dropped the replayed segments"
    );
}

#[tokio::test]
async fn a_torn_last_group_is_dropped_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let aside = tempfile::tempdir().unwrap();
    let wal = tempfile::tempdir().unwrap();
    checkpointed(dir.path(), aside.path()).await;

    let store = EmbeddedStore::open(dir.path()).unwrap();
    store.append(vec![event("t", "a", "kept")]).await.unwrap();
    store.append(vec![event("t", "a", "torn")]).await.unwrap();
    copy_dir(&dir.path().join("wal"), wal.path());
    drop(store);
    let segment = std::fs::read_dir(wal.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    super::wal::tear_last_frame(&segment, 3);
    crash(dir.path(), aside.path(), wal.path());

    let store = EmbeddedStore::open(dir.path()).unwrap();
    let read = store.read("t", 0, 0, 10).await.unwrap();
    let types: Vec<_> = read.iter().map(|e| e.event.ty.as_str()).collect();
    assert_eq!(types, ["before", "kept"]);
    let next = store.append(vec![event("t", "a", "after")]).await.unwrap();
    assert_eq!(next[0].offset, 2, "the torn group's offset is given again");
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.end_offset("t", 0).await.unwrap(), 3);
}

/// A data directory as format 2 left it: records in the database, and
/// three of them in topic `t`.
fn format_2_directory(dir: &Path) {
    let db = redb::Database::create(dir.join(DB)).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(tables::TOPICS)
        .unwrap()
        .insert("t", 1)
        .unwrap();
    {
        let mut records = txn.open_table(tables::EVENTS).unwrap();
        let mut bytes = txn.open_table(tables::PARTITION_BYTES).unwrap();
        let mut total = 0;
        for offset in 0..3u64 {
            let record = tables::encode_old_record(offset + 10, 1_000, &event("t", "a", "old"));
            total += record.len() as u64;
            records.insert(("t", 0, offset), record.as_slice()).unwrap();
        }
        bytes.insert(("t", 0), total).unwrap();
    }
    txn.open_table(tables::META)
        .unwrap()
        .insert("format", 2)
        .unwrap();
    txn.commit().unwrap();
}

#[tokio::test]
async fn a_format_2_directory_is_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    format_2_directory(dir.path());
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let read = store.read("t", 0, 0, 10).await.unwrap();
    let kept: Vec<_> = read.iter().map(|e| (e.offset, e.seq)).collect();
    assert_eq!(kept, [(0, 10), (1, 11), (2, 12)]);
    let next = store.append(vec![event("t", "a", "new")]).await.unwrap();
    assert_eq!(next[0].offset, 3);
    let read = store.read("t", 0, 3, 10).await.unwrap();
    assert_eq!(
        read[0].seq, 13,
        "sequence numbers go on from the migrated ones"
    );
    drop(store);
    {
        let db = redb::Database::open(dir.path().join(DB)).unwrap();
        let txn = db.begin_write().unwrap();
        let gone = txn
            .list_tables()
            .unwrap()
            .all(|t| redb::TableHandle::name(&t) != "records");
        assert!(gone, "the records left the database");
        let mut meta = txn.open_table(tables::META).unwrap();
        assert_eq!(meta.get("format").unwrap().unwrap().value(), tables::FORMAT);
        meta.insert("format", tables::FORMAT + 1).unwrap();
        drop(meta);
        txn.commit().unwrap();
    }
    let err = EmbeddedStore::open(dir.path()).err().unwrap().to_string();
    assert!(
        err.contains("written by a newer streamplug (store format 4"),
        "{err}"
    );
}
