//! The sync thread: groups are answered, and their sequence numbers shown to
//! readers, only after the sync of their log segment, in the order handed
//! over; a failed sync fails its groups and every later one until the
//! writer says to resume.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{oneshot, watch};

use super::ops::Applied;
use super::syncer::{Readers, Settled, Syncer};
use crate::storage::{StorageError, StorageHealth};

fn readers() -> (Readers, watch::Receiver<u64>) {
    let (changes, seen) = watch::channel(0);
    let readers = Readers {
        appended: Arc::new(AtomicU64::new(0)),
        changes: Arc::new(changes),
        health: Arc::new(StorageHealth::default()),
        published: Arc::new(super::published::PublishTimes::starting_at(0)),
    };
    (readers, seen)
}

/// A group that appended up to `next_seq`, logged in `sync`; its answer.
fn group(
    sync: &Arc<File>,
    next_seq: u64,
) -> (Settled, oneshot::Receiver<Result<(), StorageError>>) {
    let (reply, answer) = oneshot::channel();
    let settled = Settled {
        sync: Some(sync.clone()),
        records: Vec::new(),
        next_seq: Some(next_seq),
        applied: vec![Applied::Unit(reply)],
    };
    (settled, answer)
}

fn real_file() -> (tempfile::TempDir, Arc<File>) {
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("seg.wal")).unwrap();
    (dir, Arc::new(file))
}

/// `fsync` of a character device fails (EINVAL): a sync that fails.
fn failing_file() -> Arc<File> {
    Arc::new(File::open("/dev/null").unwrap())
}

#[test]
fn groups_are_answered_in_order_and_shown_to_readers_once_synced() {
    let (_dir, file) = real_file();
    let (readers, seen) = readers();
    let syncer = Syncer::spawn(readers.clone(), false).unwrap();
    let mut answers = Vec::new();
    for seq in 1..=20 {
        let (settled, answer) = group(&file, seq);
        syncer.hand(settled);
        answers.push(answer);
    }
    syncer.drain();
    for mut answer in answers {
        assert!(matches!(answer.try_recv(), Ok(Ok(()))));
    }
    assert_eq!(readers.appended.load(Ordering::Acquire), 20);
    assert!(seen.has_changed().unwrap());
    assert!(syncer.failure().is_none());
}

#[test]
fn a_failed_sync_fails_its_groups_and_later_ones_until_the_writer_resumes() {
    let (_dir, file) = real_file();
    let (readers, _seen) = readers();
    let syncer = Syncer::spawn(readers.clone(), false).unwrap();
    let (ok, mut ok_answer) = group(&file, 1);
    syncer.hand(ok);
    syncer.drain();
    assert!(matches!(ok_answer.try_recv(), Ok(Ok(()))));

    let (bad, mut bad_answer) = group(&failing_file(), 2);
    syncer.hand(bad);
    syncer.drain();
    let Ok(Err(err)) = bad_answer.try_recv() else {
        panic!("a group whose sync failed was not failed");
    };
    assert!(err.to_string().contains("write-ahead log"), "{err}");
    assert!(
        readers.health.is_write_failed(),
        "the store is not ready at once, before any later write"
    );
    assert!(syncer.failure().is_some(), "the writer is told");
    assert!(syncer.failure().is_none(), "once");

    // A later group on a file that would sync is failed as well: the log's
    // end is unknown until the store is reopened.
    let (later, mut later_answer) = group(&file, 3);
    syncer.hand(later);
    syncer.drain();
    assert!(matches!(later_answer.try_recv(), Ok(Err(_))));
    assert_eq!(
        readers.appended.load(Ordering::Acquire),
        1,
        "nothing failed is shown"
    );

    syncer.resume();
    let (after, mut after_answer) = group(&file, 4);
    syncer.hand(after);
    syncer.drain();
    assert!(matches!(after_answer.try_recv(), Ok(Ok(()))));
    assert_eq!(readers.appended.load(Ordering::Acquire), 4);
}

#[test]
fn dropping_the_syncer_settles_what_was_handed_over() {
    let (_dir, file) = real_file();
    let (readers, _seen) = readers();
    let syncer = Syncer::spawn(readers, false).unwrap();
    let (settled, mut answer) = group(&file, 1);
    syncer.hand(settled);
    drop(syncer);
    assert!(matches!(answer.try_recv(), Ok(Ok(()))));
}

#[test]
fn with_the_fsync_bypassed_groups_are_answered_without_a_sync() {
    // The segment's sync would fail: with the bypass it is never asked for.
    let (readers, _seen) = readers();
    let syncer = Syncer::spawn(readers.clone(), true).unwrap();
    let (settled, mut answer) = group(&failing_file(), 1);
    syncer.hand(settled);
    syncer.drain();
    assert!(matches!(answer.try_recv(), Ok(Ok(()))));
    assert_eq!(readers.appended.load(Ordering::Acquire), 1);
    assert!(syncer.failure().is_none());
}
