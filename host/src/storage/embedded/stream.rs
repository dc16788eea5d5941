//! Consumers of the embedded log: one process owns every partition, so a
//! group member is assigned all of them at once and never loses one. A
//! stream reads the log from its position and waits for the writer's change
//! signal when it reached the end.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::EmbeddedStore;
use crate::event::StoredEvent;
use crate::storage::{Assignment, EventLog, GroupMembership, PartitionStream, StorageError};

/// Where a stream starts.
pub(super) enum Start {
    /// At the group's committed offset (read on first use).
    Committed(String),
    /// At this offset.
    At(u64),
}

/// One partition of the embedded log.
pub(super) struct EmbeddedStream {
    pub(super) store: Arc<EmbeddedStore>,
    pub(super) topic: String,
    pub(super) partition: u32,
    pub(super) start: Option<Start>,
    pub(super) next: u64,
    pub(super) changes: watch::Receiver<u64>,
}

#[async_trait]
impl PartitionStream for EmbeddedStream {
    fn topic(&self) -> &str {
        &self.topic
    }

    fn partition(&self) -> u32 {
        self.partition
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<StoredEvent>, StorageError> {
        if let Some(start) = &self.start {
            self.next = match start {
                Start::Committed(group) => {
                    self.store
                        .committed(group, &self.topic, self.partition)
                        .await?
                }
                Start::At(offset) => *offset,
            };
            self.start = None;
        }
        loop {
            self.changes.borrow_and_update();
            let batch = self
                .store
                .read(&self.topic, self.partition, self.next, max)
                .await?;
            if let Some(last) = batch.last() {
                self.next = last.offset + 1;
                return Ok(batch);
            }
            if self.changes.changed().await.is_err() {
                return Err(StorageError::Unavailable("the log is closed".into()));
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
