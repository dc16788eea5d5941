//! The records' segment files: rolling, retention freeing whole files,
//! compaction across files, and damage noticed when the store opens.

use std::path::Path;

use super::tests::event;
use super::*;
use crate::storage::{CleanupPolicy, Retention, TopicSpec};

/// Files of partition 0 of `t` whose names end with `suffix`.
fn files(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("records").join("t-0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// Segment files of partition 0 of `t`.
fn segment_files(dir: &Path) -> Vec<String> {
    files(dir, ".log")
}

/// Every segment but the last (the one appended to) has an index file.
fn assert_sealed_segments_indexed(dir: &Path) {
    let logs = segment_files(dir);
    let sealed: Vec<String> = logs[..logs.len() - 1]
        .iter()
        .map(|l| l.replace(".log", ".index"))
        .collect();
    assert_eq!(files(dir, ".index"), sealed);
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
    assert_sealed_segments_indexed(dir.path());
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
    assert_sealed_segments_indexed(dir.path());
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    let left = offsets(&store.read("t", 0, 0, 100).await.unwrap());
    assert_eq!(left, [36, 37, 38, 39, 40]);
}

#[tokio::test]
async fn sealed_segments_are_opened_from_their_index_files_and_scanned_without_one() {
    let dir = tempfile::tempdir().unwrap();
    drop(small_segments(dir.path()).await);
    assert_sealed_segments_indexed(dir.path());
    let part = dir.path().join("records").join("t-0");
    let sealed = part.join(&segment_files(dir.path())[1]);
    let written = std::fs::read(sealed.with_extension("index")).unwrap();
    let base: u64 = segment_files(dir.path())[1]
        .trim_end_matches(".log")
        .parse()
        .unwrap();
    let size = std::fs::metadata(&sealed).unwrap().len();
    let wrong = |size| segments::index_file::SealedIndex {
        size,
        end: base + 1,
        entries: vec![(base, 3)],
    };

    // An index that matches its segment is believed: one pointing into
    // the middle of a record makes reading there fail.
    segments::index_file::write(&sealed, &wrong(size)).unwrap();
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    let err = store.read("t", 0, base, 1).await.unwrap_err().to_string();
    assert!(err.contains("damaged record"), "{err}");
    drop(store);

    // One that does not match (another size) is not: the segment is
    // scanned, and its index written again as it was.
    segments::index_file::write(&sealed, &wrong(size + 1)).unwrap();
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    let all = offsets(&store.read("t", 0, 0, 100).await.unwrap());
    assert_eq!(all, (0..40).collect::<Vec<_>>());
    assert_eq!(
        std::fs::read(sealed.with_extension("index")).unwrap(),
        written
    );
    drop(store);

    // Without index files every segment is scanned and each gets its own.
    for index in files(dir.path(), ".index") {
        std::fs::remove_file(part.join(index)).unwrap();
    }
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    assert_sealed_segments_indexed(dir.path());
    assert_eq!(
        std::fs::read(sealed.with_extension("index")).unwrap(),
        written
    );
    let from = offsets(&store.read("t", 0, 27, 3).await.unwrap());
    assert_eq!(from, [27, 28, 29]);
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
    // A sealed segment with its index file is not read at open (as Kafka
    // opens one): the damage is found, and refused, when it is read.
    let store = EmbeddedStore::open_with(dir.path(), 1024).unwrap();
    let err = store.read("t", 0, 0, 10).await.unwrap_err().to_string();
    assert!(err.contains("damaged record"), "{err}");
    drop(store);
    std::fs::remove_file(first.with_extension("index")).unwrap();
    let err = EmbeddedStore::open_with(dir.path(), 1024)
        .err()
        .expect("a damaged record is refused")
        .to_string();
    assert!(err.contains("lost acknowledged records"), "{err}");
}
