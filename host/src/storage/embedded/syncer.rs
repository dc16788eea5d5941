//! The log's sync thread: pipelined group commit. The writer commits a
//! group (its records and its write-ahead log frame written, its redb
//! transaction committed without a sync) and hands it here, then goes on
//! with the next group while this thread makes the frames durable: one
//! `fdatasync` for every group waiting, and only then are their records
//! published to readers and their requests answered. So the writer's work
//! on one group overlaps the disk's flush of the one before (PostgreSQL's
//! WAL writer and RocksDB's pipelined write do the same).
//!
//! Nothing is acknowledged or shown to readers before it is durable. A
//! failed sync fails its groups and every group after it, until the writer
//! has reopened the store (see `recovery.rs`) and says to resume. The
//! store's health turns not ready at once; the writer learns of the
//! failure before its next group, and before it would count a group it
//! committed meanwhile as a recovery.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SendError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::ops::Applied;
use super::published::PublishTimes;
use super::segments::Publication;
use super::unavailable;
use crate::storage::{StorageError, StorageHealth};

/// Committed groups that may wait for the sync thread before the writer
/// waits too (while it waits, requests gather into a larger next group).
const WAITING_GROUPS: usize = 2;

/// What readers follow: the sequence number after the last published
/// event, and a tick at every publication; and the store's health, which
/// a failed sync makes not ready at once.
#[derive(Clone)]
pub(super) struct Readers {
    pub(super) appended: Arc<AtomicU64>,
    pub(super) changes: Arc<watch::Sender<u64>>,
    pub(super) health: Arc<StorageHealth>,
    /// When recent groups were published.
    pub(super) published: Arc<PublishTimes>,
}

/// A committed group, owed its publication and answers once durable.
pub(super) struct Settled {
    /// The log segment holding its frame, to sync first (none: the group
    /// logged nothing, or committed durably itself).
    pub(super) sync: Option<Arc<File>>,
    pub(super) records: Vec<Publication>,
    /// The sequence number after its events, if it appended any.
    pub(super) next_seq: Option<u64>,
    pub(super) applied: Vec<Applied>,
}

impl Settled {
    /// Readers see the group's records; its requests get their answers.
    pub(super) fn publish(self, readers: &Readers) {
        let published: Vec<_> = self.records.into_iter().map(Publication::publish).collect();
        if let Some(next_seq) = self.next_seq {
            readers.appended.store(next_seq, Ordering::Release);
            readers.published.published(next_seq);
            readers.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        for partition in published {
            partition.wake();
        }
        for a in self.applied {
            a.answer(None);
        }
    }

    fn fail(self, err: &StorageError) {
        for a in self.applied {
            a.answer(Some(err));
        }
    }
}

enum Message {
    Group(Settled),
    /// Answered once everything handed over before is settled.
    Drained(std::sync::mpsc::Sender<()>),
    /// The store was reopened after a failure: sync again.
    Resume,
}

/// The writer's handle on the sync thread.
pub(super) struct Syncer {
    to: Option<SyncSender<Message>>,
    /// A sync failed (taken by the writer).
    failed: Arc<Mutex<Option<StorageError>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Syncer {
    /// The sync thread; with `bypass_fsync` it publishes and answers groups
    /// without syncing them (`storage.unsafe_bypass_fsync`).
    pub(super) fn spawn(readers: Readers, bypass_fsync: bool) -> Result<Self, StorageError> {
        let (to, from) = sync_channel(WAITING_GROUPS);
        let failed = Arc::new(Mutex::new(None));
        let thread = std::thread::Builder::new()
            .name("streamplug-log-sync".into())
            .spawn({
                let failed = failed.clone();
                move || run(&from, &readers, &failed, bypass_fsync)
            })
            .map_err(unavailable)?;
        Ok(Self {
            to: Some(to),
            failed,
            thread: Some(thread),
        })
    }

    fn send(&self, message: Message) -> bool {
        self.to.as_ref().is_some_and(|to| to.send(message).is_ok())
    }

    /// Hand over a committed group (waits while the thread is behind).
    pub(super) fn hand(&self, settled: Settled) {
        let stopped = || unavailable("the log's sync thread stopped");
        let Some(to) = &self.to else {
            return settled.fail(&stopped());
        };
        if let Err(SendError(Message::Group(settled))) = to.send(Message::Group(settled)) {
            settled.fail(&stopped());
        }
    }

    /// Wait until every group handed over is published or failed.
    pub(super) fn drain(&self) {
        let (done, wait) = std::sync::mpsc::channel();
        if self.send(Message::Drained(done)) {
            let _ = wait.recv();
        }
    }

    /// The store was reopened: groups handed over from now on are synced.
    pub(super) fn resume(&self) {
        self.send(Message::Resume);
    }

    /// A sync that failed since the last call.
    pub(super) fn failure(&self) -> Option<StorageError> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Drop for Syncer {
    /// Settle what was handed over, then stop the thread.
    fn drop(&mut self) {
        drop(self.to.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    from: &Receiver<Message>,
    readers: &Readers,
    failed: &Mutex<Option<StorageError>>,
    bypass_fsync: bool,
) {
    let mut broken: Option<StorageError> = None;
    let mut groups: Vec<Settled> = Vec::new();
    while let Ok(first) = from.recv() {
        // What waits now (at most what the channel holds, and one more),
        // so a steady stream of groups still gets synced.
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(message) = next.take() {
            taken += 1;
            match message {
                Message::Group(settled) => groups.push(settled),
                Message::Drained(done) => {
                    settle(&mut groups, &mut broken, readers, failed, bypass_fsync);
                    let _ = done.send(());
                }
                Message::Resume => {
                    settle(&mut groups, &mut broken, readers, failed, bypass_fsync);
                    broken = None;
                }
            }
            if taken <= WAITING_GROUPS {
                next = from.try_recv().ok();
            }
        }
        settle(&mut groups, &mut broken, readers, failed, bypass_fsync);
    }
}

/// Make `groups` durable with one sync of each log segment they were
/// written to, then publish them in order (or fail them all).
fn settle(
    groups: &mut Vec<Settled>,
    broken: &mut Option<StorageError>,
    readers: &Readers,
    failed: &Mutex<Option<StorageError>>,
    bypass_fsync: bool,
) {
    if groups.is_empty() {
        return;
    }
    if broken.is_none()
        && !bypass_fsync
        && let Err(e) = sync(groups)
    {
        tracing::error!(error = %e, "the write-ahead log's sync failed");
        readers.health.write_failed(&e.to_string());
        *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
        *broken = Some(e);
    }
    for group in groups.drain(..) {
        match broken {
            Some(err) => group.fail(err),
            None => group.publish(readers),
        }
    }
}

fn sync(groups: &[Settled]) -> Result<(), StorageError> {
    let mut synced: Vec<&Arc<File>> = Vec::with_capacity(1);
    for file in groups.iter().filter_map(|g| g.sync.as_ref()) {
        if !synced.iter().any(|s| Arc::ptr_eq(s, file)) {
            file.sync_data()
                .map_err(|e| unavailable(format!("write-ahead log: {e}")))?;
            synced.push(file);
        }
    }
    Ok(())
}
