//! Consumers of the embedded log: one process owns every partition, so a
//! group member is assigned all of them at once and never loses one. A
//! stream reads one partition index of one or more topics; with several it
//! merges them by the writer's sequence number, so a plugin sees each key's
//! events in the order they were appended, whichever topic they are on.
//! When it reached the end it waits for a publication to one of its own
//! partitions: a group wakes only the readers of what it wrote.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use tokio::sync::watch;

use super::EmbeddedStore;
use super::segments::PartitionLog;
use crate::event::StoredEvent;
use crate::storage::{Assignment, EventLog, GroupMembership, PartitionStream, StorageError};

/// Where a stream starts.
pub(super) enum Start {
    /// At the group's committed offsets (read on first use).
    Committed(String),
    /// At this offset (a stream of one topic).
    At(u64),
}

/// One topic's partition within a stream.
#[derive(Default)]
struct Input {
    /// Offset of the next event to read.
    next: u64,
    /// Read, not yet handed out.
    buffered: VecDeque<StoredEvent>,
    /// The last read returned everything the partition held when it began.
    complete: bool,
    /// The partition's records and its publication ticks, once it has any
    /// (until then the stream also follows the log's every change).
    log: Option<(Arc<PartitionLog>, watch::Receiver<u64>)>,
}

/// One partition index of the embedded log, over one or more topics.
pub(super) struct EmbeddedStream {
    store: Arc<EmbeddedStore>,
    topics: Vec<String>,
    partition: u32,
    start: Option<Start>,
    inputs: Vec<Input>,
    changes: watch::Receiver<u64>,
}

impl EmbeddedStream {
    pub(super) fn new(
        store: Arc<EmbeddedStore>,
        topics: Vec<String>,
        partition: u32,
        start: Start,
    ) -> Self {
        let changes = store.changes.clone();
        let inputs = topics.iter().map(|_| Input::default()).collect();
        Self {
            store,
            topics,
            partition,
            start: Some(start),
            inputs,
            changes,
        }
    }

    async fn position(&mut self) -> Result<(), StorageError> {
        let Some(start) = self.start.take() else {
            return Ok(());
        };
        for (topic, input) in self.topics.iter().zip(&mut self.inputs) {
            input.next = match &start {
                Start::Committed(group) => {
                    self.store.committed(group, topic, self.partition).await?
                }
                Start::At(offset) => *offset,
            };
        }
        Ok(())
    }

    /// Take the publication ticks seen so far, finding the partitions
    /// that came to exist since the last call.
    fn mark_seen(&mut self) {
        self.changes.borrow_and_update();
        for (topic, input) in self.topics.iter().zip(&mut self.inputs) {
            if input.log.is_none()
                && let Some(log) = self.store.partition_log(topic, self.partition)
            {
                let ticks = log.subscribe();
                input.log = Some((log, ticks));
            }
            if let Some((_, ticks)) = &mut input.log {
                ticks.borrow_and_update();
            }
        }
    }

    /// Wait for a publication to one of the stream's partitions (or, while
    /// one of them does not exist yet, to any).
    async fn published(&mut self) -> Result<(), StorageError> {
        let closed = || StorageError::Unavailable("the log is closed".into());
        let all_exist = self.inputs.iter().all(|i| i.log.is_some());
        let mut waits: Vec<_> = self
            .inputs
            .iter_mut()
            .filter_map(|i| i.log.as_mut())
            .map(|(_, ticks)| ticks.changed())
            .map(Box::pin)
            .collect();
        if !all_exist {
            waits.push(Box::pin(self.changes.changed()));
        }
        let (changed, _, _) = futures::future::select_all(waits).await;
        changed.map_err(|_| closed())
    }

    /// Read into every input that has nothing buffered.
    async fn refill(&mut self, max: usize) -> Result<(), StorageError> {
        for (topic, input) in self.topics.iter().zip(&mut self.inputs) {
            if !input.buffered.is_empty() {
                continue;
            }
            let batch = match &input.log {
                Some((log, _)) => log.read(self.partition, input.next, max)?,
                None => {
                    self.store
                        .read(topic, self.partition, input.next, max)
                        .await?
                }
            };
            input.complete = batch.len() < max;
            if let Some(last) = batch.last() {
                input.next = last.offset + 1;
            }
            input.buffered.extend(batch);
        }
        Ok(())
    }

    /// Hand out, in sequence order, the buffered events no unread event can
    /// precede: below `appended` (every event below it was committed before
    /// the inputs were read), and only while every emptied input had been
    /// read to its end.
    fn merge(&mut self, appended: u64, max: usize) -> Vec<StoredEvent> {
        let merging = self.inputs.len() > 1;
        let mut out = Vec::new();
        while out.len() < max {
            if merging
                && self
                    .inputs
                    .iter()
                    .any(|i| i.buffered.is_empty() && !i.complete)
            {
                break;
            }
            let Some(input) = self
                .inputs
                .iter_mut()
                .filter(|i| !i.buffered.is_empty())
                .min_by_key(|i| i.buffered.front().map_or(u64::MAX, |e| e.seq))
            else {
                break;
            };
            if merging && input.buffered.front().is_some_and(|e| e.seq >= appended) {
                break;
            }
            out.extend(input.buffered.pop_front());
        }
        out
    }
}

#[async_trait]
impl PartitionStream for EmbeddedStream {
    fn topics(&self) -> &[String] {
        &self.topics
    }

    fn partition(&self) -> u32 {
        self.partition
    }

    fn visible_for(&self, event: &StoredEvent) -> Option<std::time::Duration> {
        self.store.published.visible_for(event.seq)
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<StoredEvent>, StorageError> {
        self.position().await?;
        let max = max.max(1);
        loop {
            self.mark_seen();
            let appended = self.store.appended.load(Ordering::Acquire);
            self.refill(max).await?;
            let batch = self.merge(appended, max);
            if !batch.is_empty() {
                return Ok(batch);
            }
            // An input emptied before its end is read on at once; otherwise
            // wait for a commit (one that came since `appended` was read
            // has already signalled).
            let unread = self
                .inputs
                .iter()
                .any(|i| i.buffered.is_empty() && !i.complete);
            if !unread {
                self.published().await?;
            }
        }
    }
}

/// A member that owns every partition of its topics from the start.
pub(super) struct WholeAssignment {
    pub(super) pending: VecDeque<Assignment>,
}

#[async_trait]
impl GroupMembership for WholeAssignment {
    async fn next(&mut self) -> Option<Assignment> {
        match self.pending.pop_front() {
            Some(a) => Some(a),
            // The assignment never changes; the membership ends when dropped.
            None => std::future::pending().await,
        }
    }
}
