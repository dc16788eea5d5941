//! Where events and plugin state live. The gateway talks to the log and the
//! KV store through the [`EventLog`] and [`KvStore`] traits; the embedded
//! backend (redb) implements both in one database so that a consumer's batch
//! (published events, KV writes and its offset) commits atomically. The Kafka
//! backend is a second [`EventLog`]; Redis is a second [`KvStore`], shared by
//! every gateway instance.
//!
//! Consumers do not poll the log: they join a consumer group
//! ([`EventLog::join`]) and get a [`PartitionStream`] for every partition the
//! group hands them, until it takes it back.

pub mod embedded;
pub mod health;
mod ingest_ids;
pub mod kafka;
mod kv;
mod partitioner;
pub mod redis;
mod topic_spec;

pub(crate) use crate::clock::millis_now;
pub use health::{StorageHealth, Trouble};
pub(crate) use ingest_ids::millis;
pub use ingest_ids::{Claim, EventId, IngestIds};
pub use kv::{EXPIRED, KvStore, KvValue, KvWrite, entry_size, sweep_expired};
pub use partitioner::Partitioner;
pub use topic_spec::{CleanupPolicy, DEFAULT_DELETE_RETENTION_MS, Retention, TopicSpec};

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::event::{Event, StoredEvent};

/// An append placed in the log's order, durable when it resolves.
pub type PendingAppend = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Vec<Appended>, StorageError>> + Send>,
>;

/// Where an appended event landed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Topic.
    pub topic: String,
    /// Partition within the topic.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: u64,
}

/// Where an ingested event is: written now, or by an earlier copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Appended {
    /// Its position.
    pub position: Position,
    /// Whether an earlier copy with the same (`source`, `id`) was written
    /// within the idempotency window, and this one was not.
    pub duplicate: bool,
}

impl Appended {
    /// Events written now, at `positions`.
    pub fn fresh(positions: Vec<Position>) -> Vec<Self> {
        positions
            .into_iter()
            .map(|position| Self {
                position,
                duplicate: false,
            })
            .collect()
    }
}

/// How far a consumer got in one topic-partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NextOffset {
    /// Topic consumed.
    pub topic: String,
    /// Partition consumed.
    pub partition: u32,
    /// Offset of the next event to consume.
    pub next: u64,
}

/// Everything one consumer's batch does, made durable as one unit: the events
/// it publishes (dead-lettered ones included), its KV writes, and its next
/// offset in each topic-partition it read (a merged stream reads several).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ConsumerCommit {
    /// Consumer group (one per plugin).
    pub group: String,
    /// Where the consumer goes on, per topic-partition.
    pub offsets: Vec<NextOffset>,
    /// Events to append.
    pub publish: Vec<Event>,
    /// KV namespace of the plugin.
    pub kv_namespace: String,
    /// KV writes, applied in order.
    pub kv_writes: Vec<KvWrite>,
}

/// Errors of a storage backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// The topic does not exist.
    #[error("unknown topic `{0}`")]
    UnknownTopic(String),
    /// The partition does not exist.
    #[error("topic `{topic}` has no partition {partition}")]
    UnknownPartition {
        /// Topic.
        topic: String,
        /// Partition asked for.
        partition: u32,
    },
    /// A topic exists with another partition count.
    #[error("topic `{topic}` exists with {existing} partitions, not {wanted}")]
    PartitionMismatch {
        /// Topic.
        topic: String,
        /// Partitions it has.
        existing: u32,
        /// Partitions configured.
        wanted: u32,
    },
    /// A copy of this event (same `source` and `id`) is being written by
    /// another request right now; nothing of this request was written.
    #[error("event `{id}` from `{event_source}` is being written by another request")]
    InProgress {
        /// CloudEvents `source`.
        event_source: String,
        /// CloudEvents `id`.
        id: String,
    },
    /// Topics read together have different partition counts.
    #[error("topics read together must have the same number of partitions (co-partitioned), but {}", describe_counts(.0))]
    NotCoPartitioned(Vec<(String, u32)>),
    /// The store failed or is shutting down; nothing of the request was written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

fn describe_counts(counts: &[(String, u32)]) -> String {
    counts
        .iter()
        .map(|(t, n)| format!("`{t}` has {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The partition count shared by `topics`, which a plugin reads together:
/// each must exist, and all must have the same count (the log's one
/// partitioner then puts a key in the same partition index of each).
pub fn co_partitioned(log: &dyn EventLog, topics: &[String]) -> Result<u32, StorageError> {
    let mut counts = Vec::with_capacity(topics.len());
    for topic in topics {
        let n = log
            .partitions(topic)
            .ok_or_else(|| StorageError::UnknownTopic(topic.clone()))?;
        counts.push((topic.clone(), n));
    }
    match counts.first() {
        Some((_, n)) if counts.iter().all(|(_, m)| m == n) => Ok(*n),
        Some(_) => Err(StorageError::NotCoPartitioned(counts)),
        None => Ok(0),
    }
}

/// One partition's events handed to a consumer, in offset order, from the
/// group's position on; or, for a plugin that reads several topics, the
/// same partition of each, merged in append order (each topic's events
/// still in offset order).
#[async_trait]
pub trait PartitionStream: Send {
    /// The topics read (one, or a plugin's subscriptions in order).
    fn topics(&self) -> &[String];

    /// Partition (the same index in every topic).
    fn partition(&self) -> u32;

    /// Wait for the next events: at least one, at most `max`. Cancel-safe:
    /// a cancelled call takes nothing.
    async fn next_batch(&mut self, max: usize) -> Result<Vec<StoredEvent>, StorageError>;

    /// How long ago `event` (read from this stream) became durable and
    /// readable, when the log can tell: what the reader's own wait added
    /// (the `pickup` and `push` stages of [`crate::stages`]).
    fn visible_for(&self, event: &StoredEvent) -> Option<std::time::Duration> {
        let _ = event;
        None
    }
}

/// A change of the partitions a group member owns.
pub enum Assignment {
    /// These partitions are now this member's.
    Assigned(Vec<Box<dyn PartitionStream>>),
    /// These partitions are being taken away. Stop their consumers (after
    /// they committed what they handled), then send on `done` (or drop it):
    /// the group gives them to another member only after that.
    Revoked {
        /// `(topic, partition)` pairs.
        partitions: Vec<(String, u32)>,
        /// Signals that their consumers stopped.
        done: oneshot::Sender<()>,
    },
}

/// Membership of one consumer group.
#[async_trait]
pub trait GroupMembership: Send {
    /// The next change of this member's partitions; `None` once the
    /// membership ended.
    async fn next(&mut self) -> Option<Assignment>;
}

/// A partitioned, durable, replayable event log.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Create the topics that do not exist yet, with their partition counts
    /// and (on Kafka) the topic configs given for them; existing topics
    /// keep theirs.
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), StorageError>;

    /// Partition count of `topic`, if it exists.
    fn partitions(&self, topic: &str) -> Option<u32>;

    /// How this log places keys in partitions.
    fn partitioner(&self) -> Partitioner;

    /// The partition of `topic` that holds `key`'s events, if the topic exists.
    fn partition_of(&self, topic: &str, key: &str) -> Option<u32> {
        let partitions = self.partitions(topic)?;
        Some(self.partitioner().partition(Some(key), partitions))
    }

    /// `Ok` if `topic` exists and has `partition`.
    fn check_partition(&self, topic: &str, partition: u32) -> Result<(), StorageError> {
        match self.partitions(topic) {
            None => Err(StorageError::UnknownTopic(topic.to_owned())),
            Some(n) if partition >= n => Err(StorageError::UnknownPartition {
                topic: topic.to_owned(),
                partition,
            }),
            Some(_) => Ok(()),
        }
    }

    /// Append events (each to its `topic`, partitioned by `key`); when this
    /// returns `Ok` every event is durable, in input order within each
    /// partition, and the positions come back in input order. What durable
    /// and an `Err` mean depends on the backend:
    ///
    /// - embedded: the events are in one group commit whose write-ahead log
    ///   frame was `fdatasync`ed, and the append is atomic: on `Err` none of
    ///   them was written.
    /// - Kafka: each event was acknowledged by every in-sync replica
    ///   (`acks=all`; on disk as the brokers' flush settings have it), with
    ///   the idempotent producer, so a retry inside librdkafka writes no
    ///   copy. Events are produced one by one, so on `Err` some of them may
    ///   have been written: a caller that retries relies on the ids
    ///   ([`EventLog::append_once`]) to write each event once.
    async fn append(&self, events: Vec<Event>) -> Result<Vec<Position>, StorageError>;

    /// Append events from producers like [`EventLog::append`], each at most
    /// once per (`source`, `id`) within `window`: a copy of an event written
    /// within it (or earlier in the same call) is not written again and
    /// comes back with the first one's position, marked as a duplicate.
    async fn append_once(
        &self,
        events: Vec<Event>,
        window: std::time::Duration,
    ) -> Result<Vec<Appended>, StorageError>;

    /// [`EventLog::append_once`] in two steps, so one producer can have
    /// several appends in flight without reordering them: this returns once
    /// the events hold their place in the log's order (calls are placed in
    /// the order they return), and the future it returns resolves when they
    /// are durable. The default does the whole append before returning.
    async fn queue_append_once(
        &self,
        events: Vec<Event>,
        window: std::time::Duration,
    ) -> Result<PendingAppend, StorageError> {
        let appended = self.append_once(events, window).await;
        Ok(Box::pin(std::future::ready(appended)))
    }

    /// Up to `limit` events of one partition from offset `from` on.
    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError>;

    /// The offset the next event of the partition will get.
    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, StorageError>;

    /// The oldest offset the partition still holds (retention deletes older
    /// ones); its end offset when it holds nothing.
    async fn start_offset(&self, topic: &str, partition: u32) -> Result<u64, StorageError>;

    /// [`EventLog::start_offset`] and [`EventLog::end_offset`] together.
    async fn offset_range(&self, topic: &str, partition: u32) -> Result<(u64, u64), StorageError> {
        Ok((
            self.start_offset(topic, partition).await?,
            self.end_offset(topic, partition).await?,
        ))
    }

    /// The committed next offset of `group` on a partition (0 when none).
    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<u64, StorageError>;

    /// Commit a consumer's batch: its publishes, its KV writes with its
    /// position, then its offset. Atomic on the embedded log; on Kafka the
    /// steps happen in that order (see `docs/ARCHITECTURE.md`).
    async fn commit(&self, commit: ConsumerCommit) -> Result<Vec<Position>, StorageError>;

    /// Join consumer group `group` for `topics`. Members of one group share
    /// the partitions; each event is handed to one member.
    async fn join(
        self: Arc<Self>,
        group: &str,
        topics: &[String],
    ) -> Result<Box<dyn GroupMembership>, StorageError>;

    /// Every partition of `topic` from its current end on, outside any group
    /// (every caller sees every event).
    async fn tail(
        self: Arc<Self>,
        topic: &str,
    ) -> Result<Vec<Box<dyn PartitionStream>>, StorageError>;
}
