//! The records' segment files: rolling, retention freeing whole files,
//! compaction across files, and damage noticed when the store opens.

use std::path::Path;

use super::tests::event;
use super::*;
use crate::storage::{CleanupPolicy, Retention, TopicSpec};

/// Segment files of partition 0 of `t`.
fn segment_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("records").join("t-0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A store with topic `t` whose segments roll every 1 KiB, holding 40
/// events appended one group at a time.
async fn small_segments(dir: &Path) -> EmbeddedStore {
    let store = EmbeddedStore::open_with(dir, 1024).unwrap();
    store
        .create_topics(&[TopicSpec::new("t", 1)])
        .await
        .unwrap();
    for i in 0..40 {
        let mut e = event("t", &format!("k{}", i % 4), "x");
        e.data = vec![b'x'; 100];
        store.append(vec![e]).await.unwrap();
    }
    store
}

fn offsets(read: &[crate::event::StoredEvent]) -> Vec<u64> {
    read.iter().map(|e| e.offset).collect()
}

#[tokio::test]
async fn segments_roll_and_retention_deletes_whole_files_below_the_oldest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_segments(dir.path()).await;
    let before = segment_files(dir.path());
    assert!(before.len() >= 5, "rolled into several files: {before:?}");
    assert_eq!(before[0], "00000000000000000000.log");
    let all = store.read("t", 0, 0, 100).await.unwrap();
    assert_eq!(offsets(&all), (0..40).collect::<Vec<_>>());
    // Reads that start inside a later segment find it.
    assert_eq!(
        offsets(&store.read("t", 0, 27, 3).await.unwrap()),
        [27, 28, 29]
    );

    let keep = vec![TopicSpec::new("t", 1).retained(Retention {
        retention_bytes: 2048,
        ..Retention::FOREVER
    })];
    let deleted = store.apply_retention(&keep).await.unwrap();
    assert!(deleted >= 25, "{deleted}");
    let start = store.start_offset("t", 0).await.unwrap();
    assert_eq!(start, deleted);
    let after = segment_files(dir.path());
    assert!(after.len() < before.len(), "{after:?}");
    let first_base: u64 = after[0].trim_end_matches(".log").parse().unwrap();
    assert!(
        first_base <= start,
        "the file holding the oldest kept record stays"
    );
    assert_eq!(store.read("t", 0, 0, 1).await.unwrap()[0].offset, start);

    drop(store);
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    assert_eq!(store.start_offset("t", 0).await.unwrap(), start);
    assert_eq!(store.end_offset("t", 0).await.unwrap(), 40);
    let pos = store.append(vec![event("t", "k", "next")]).await.unwrap();
    assert_eq!(pos[0].offset, 40);
    let tail = store.read("t", 0, 38, 10).await.unwrap();
    assert_eq!(offsets(&tail), [38, 39, 40]);
}

#[tokio::test]
async fn compaction_rewrites_every_segment_it_touches_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(small_segments(dir.path()).await);
    let spec = TopicSpec::new("t", 1).retained(Retention {
        cleanup_policy: CleanupPolicy::Compact,
        ..Retention::FOREVER
    });
    let removed = store
        .compact(&spec, 0, &mut Compacted::default())
        .await
        .unwrap();
    assert_eq!(removed, 36, "four keys: the latest of each stays");
    let left = offsets(&store.read("t", 0, 0, 100).await.unwrap());
    assert_eq!(left, [36, 37, 38, 39]);
    let pos = store.append(vec![event("t", "k0", "next")]).await.unwrap();
    assert_eq!(pos[0].offset, 40);
    drop(store);
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    let left = offsets(&store.read("t", 0, 0, 100).await.unwrap());
    assert_eq!(left, [36, 37, 38, 39, 40]);
}

#[tokio::test]
async fn a_damaged_record_the_database_holds_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(small_segments(dir.path()).await);
    let first = dir
        .path()
        .join("records")
        .join("t-0")
        .join("00000000000000000000.log");
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&first, bytes).unwrap();
    let err = EmbeddedStore::open_with(dir.path(), 1024)
        .err()
        .expect("a damaged record is refused")
        .to_string();
    assert!(err.contains("lost acknowledged records"), "{err}");
}
