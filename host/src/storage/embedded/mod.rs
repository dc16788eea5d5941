//! The embedded backend: each partition's records in append-only segment
//! files ([`segments`]), and one redb database holding topics, how far each
//! partition reaches, consumer offsets, ingested ids and plugin KV state;
//! both made durable by a write-ahead log.
//!
//! Durability policy: every write goes through one writer thread that takes
//! all requests waiting at that moment and applies them together: records
//! to their segments, the rest to one write transaction. The group's frame
//! is appended to the write-ahead log ([`wal`]) with one `fdatasync`, and
//! only then is the transaction committed (without a sync of its own:
//! checkpoints every second or 4 MiB sync the segments and make redb durable) and
//! are the requests answered. Concurrent requests therefore share one
//! fsync (group commit); a request is acknowledged only once its group is on
//! disk, and a failed group acknowledges none of its requests. Readers see a
//! group only once it is durable.

mod append_once;
mod checkpoint;
mod claims;
mod compaction;
mod group;
mod handle;
pub use compaction::{COMPACTED, Compacted};
pub use group::CHECKPOINT_SECONDS;
mod ingest_ids;
mod kv;
mod le;
mod logged;
mod migrate;
mod open_tables;
mod ops;
mod options;
mod published;
mod recovery;
pub mod retention;
mod segments;
pub use options::EmbeddedOptions;
pub use segments::DEFAULT_SEGMENT_BYTES;
mod stream;
mod syncer;
mod tables;
mod wal;
mod write_failure;
mod writer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use super::{
    Appended, Assignment, ConsumerCommit, EventLog, GroupMembership, KvStore, PartitionStream,
    Partitioner, PendingAppend, Position, StorageError, StorageHealth, TopicSpec,
};
use crate::event::{Event, StoredEvent};
use handle::DbHandle;
use ops::WriteOp;
use recovery::Loaded;
use stream::{EmbeddedStream, Start, WholeAssignment};
use syncer::{Readers, Syncer};
use write_failure::Recovery;
use writer::Writer;

/// The embedded log and KV store.
pub struct EmbeddedStore {
    db: Arc<DbHandle>,
    /// Every partition's records, as published.
    logs: segments::Logs,
    health: Arc<StorageHealth>,
    ops: mpsc::Sender<WriteOp>,
    writer: Option<std::thread::JoinHandle<()>>,
    topics: Arc<Mutex<HashMap<String, u32>>>,
    kv_usage: Arc<Mutex<HashMap<String, u64>>>,
    changes: watch::Receiver<u64>,
    /// Sequence numbers below this are committed (and readable).
    appended: Arc<AtomicU64>,
    /// When recent groups became readable.
    published: Arc<published::PublishTimes>,
    claims: Mutex<claims::Claims>,
}

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(e.to_string())
}

impl EmbeddedStore {
    /// Open (or create) the store in `dir`, with segments of
    /// [`DEFAULT_SEGMENT_BYTES`].
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, DEFAULT_SEGMENT_BYTES)
    }

    /// Open (or create) the store in `dir`; a partition starts a new
    /// segment file once its last one holds `segment_bytes`.
    pub fn open_with(dir: &Path, segment_bytes: u64) -> Result<Self, StorageError> {
        let options = EmbeddedOptions {
            segment_bytes,
            ..EmbeddedOptions::default()
        };
        Self::open_with_options(dir, options)
    }

    /// Open (or create) the store in `dir` with `options`.
    pub fn open_with_options(dir: &Path, options: EmbeddedOptions) -> Result<Self, StorageError> {
        options.warn_if_unsafe(dir);
        let segment_bytes = options.segment_bytes;
        std::fs::create_dir_all(dir).map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
        let db = Arc::new(DbHandle::open(dir.join("streamplug.redb"))?);
        let records_dir = dir.join("records");
        migrate::records_out_of_database(&*db.get()?, &records_dir)?;
        let loaded = Loaded::from(&*db.get()?)?;
        let logs = segments::Logs::default();
        let mut records = segments::Records::new(records_dir, logs.clone(), segment_bytes);
        loaded.open_records(&mut records)?;
        let appended = Arc::new(AtomicU64::new(loaded.next_seq));
        let topics = Arc::new(Mutex::new(loaded.topics.clone()));
        let kv_usage = Arc::new(Mutex::new(loaded.kv_usage.clone()));
        let health = Arc::new(StorageHealth::default());
        let (changes_tx, changes) = watch::channel(0);
        let published = Arc::new(published::PublishTimes::starting_at(loaded.next_seq));
        let readers = Readers {
            appended: appended.clone(),
            changes: Arc::new(changes_tx),
            health: health.clone(),
            published: published.clone(),
        };
        let (ops, rx) = mpsc::channel(4096);
        let (wal, replay) = wal::Wal::open(&dir.join("wal"), loaded.applied_lsn)?;
        let mut writer = Writer {
            db: db.clone(),
            recovery: Recovery::new(health.clone()),
            topics: topics.clone(),
            kv_usage: kv_usage.clone(),
            next_offsets: loaded.next_offsets(),
            next_seq: loaded.next_seq,
            readers: readers.clone(),
            syncer: Syncer::spawn(readers, options.unsafe_bypass_fsync)?,
            rotation: Default::default(),
            partition_bytes: loaded.partition_bytes(),
            starts: loaded.starts(),
            records,
            wal,
            clock_ms: writer::now_ms(),
            frame: Vec::new(),
            checkpoint: Default::default(),
        };
        let current = db.get()?;
        writer.replay(&current, replay)?;
        let writer = writer.spawn(rx)?;
        Ok(Self {
            db,
            logs,
            health,
            ops,
            writer: Some(writer),
            topics,
            kv_usage,
            changes,
            appended,
            published,
            claims: Mutex::default(),
        })
    }

    /// Whether the store can take writes.
    pub fn health(&self) -> Arc<StorageHealth> {
        self.health.clone()
    }

    /// While a write failure lasts, probe the writer every `every` (so it
    /// reopens the database and reports recovery without waiting for
    /// traffic), until `shutdown`.
    pub async fn probe_while_failed(
        self: Arc<Self>,
        every: std::time::Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            if self.health.is_write_failed() {
                let _ = self.submit(|reply| WriteOp::Probe { reply }).await;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    /// Every topic the log holds, with its partition count.
    pub fn topic_partitions(&self) -> Vec<(String, u32)> {
        self.topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, n)| (name.clone(), *n))
            .collect()
    }

    /// A partition's records, once it is known.
    fn partition_log(&self, topic: &str, partition: u32) -> Option<Arc<segments::PartitionLog>> {
        self.logs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(topic.to_owned(), partition))
            .cloned()
    }

    /// Put a request in the writer's queue (which it applies in order);
    /// its answer, once the writer has written it.
    async fn enqueue<T: Send + 'static>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StorageError>>) -> WriteOp,
    ) -> Result<impl Future<Output = Result<T, StorageError>> + Send + 'static, StorageError> {
        let stopped = || unavailable("the log writer has stopped");
        let (tx, rx) = oneshot::channel();
        self.ops.send(make(tx)).await.map_err(|_| stopped())?;
        Ok(async move { rx.await.map_err(|_| stopped())? })
    }

    /// Ask the writer to do something and wait until it is written.
    async fn submit<T: Send + 'static>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StorageError>>) -> WriteOp,
    ) -> Result<T, StorageError> {
        self.enqueue(make).await?.await
    }
}

impl Drop for EmbeddedStore {
    /// Stop the writer (it finishes the group it is writing) and wait for it,
    /// so the database file is closed when the store is gone and can be
    /// opened again at once.
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.ops, closed));
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[async_trait]
impl EventLog for EmbeddedStore {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), StorageError> {
        let topics = topics
            .iter()
            .map(|t| (t.name.clone(), t.partitions))
            .collect();
        self.submit(|reply| WriteOp::CreateTopics { topics, reply })
            .await
    }

    fn partitions(&self, topic: &str) -> Option<u32> {
        self.topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .copied()
    }

    fn partitioner(&self) -> Partitioner {
        Partitioner::Fnv1a
    }

    async fn append(&self, events: Vec<Event>) -> Result<Vec<Position>, StorageError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.submit(|reply| WriteOp::Append { events, reply }).await
    }

    async fn append_once(
        &self,
        events: Vec<Event>,
        window: std::time::Duration,
    ) -> Result<Vec<Appended>, StorageError> {
        self.queue_append_once(events, window).await?.await
    }

    async fn queue_append_once(
        &self,
        events: Vec<Event>,
        window: std::time::Duration,
    ) -> Result<PendingAppend, StorageError> {
        let window_ms = crate::storage::millis(window);
        if events.is_empty() {
            return Ok(Box::pin(std::future::ready(Ok(Vec::new()))));
        }
        if window_ms == 0 {
            let positions = self
                .enqueue(|reply| WriteOp::Append { events, reply })
                .await?;
            return Ok(Box::pin(
                async move { Ok(Appended::fresh(positions.await?)) },
            ));
        }
        let appended = self
            .enqueue(|reply| WriteOp::AppendOnce {
                events,
                window_ms,
                reply,
            })
            .await?;
        Ok(Box::pin(appended))
    }

    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.check_partition(topic, partition)?;
        match self.partition_log(topic, partition) {
            Some(log) => log.read(partition, from, limit),
            None => Ok(Vec::new()),
        }
    }

    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, StorageError> {
        self.check_partition(topic, partition)?;
        Ok(self
            .partition_log(topic, partition)
            .map_or(0, |log| log.end()))
    }

    async fn start_offset(&self, topic: &str, partition: u32) -> Result<u64, StorageError> {
        match self.read(topic, partition, 0, 1).await?.first() {
            Some(first) => Ok(first.offset),
            None => self.end_offset(topic, partition).await,
        }
    }

    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<u64, StorageError> {
        Ok(self.position(group, topic, partition).await?.unwrap_or(0))
    }

    async fn commit(&self, commit: ConsumerCommit) -> Result<Vec<Position>, StorageError> {
        self.submit(|reply| WriteOp::Commit { commit, reply }).await
    }

    async fn join(
        self: Arc<Self>,
        group: &str,
        topics: &[String],
    ) -> Result<Box<dyn GroupMembership>, StorageError> {
        let partitions = super::co_partitioned(self.as_ref(), topics)?;
        let streams = (0..partitions)
            .map(|partition| {
                Box::new(EmbeddedStream::new(
                    self.clone(),
                    topics.to_vec(),
                    partition,
                    Start::Committed(group.to_owned()),
                )) as Box<dyn PartitionStream>
            })
            .collect();
        Ok(Box::new(WholeAssignment {
            pending: [Assignment::Assigned(streams)].into(),
        }))
    }

    async fn tail(
        self: Arc<Self>,
        topic: &str,
    ) -> Result<Vec<Box<dyn PartitionStream>>, StorageError> {
        let mut streams = Vec::new();
        for partition in 0..self.partitions(topic).unwrap_or(0) {
            let end = self.end_offset(topic, partition).await?;
            streams.push(Box::new(EmbeddedStream::new(
                self.clone(),
                vec![topic.to_owned()],
                partition,
                Start::At(end),
            )) as Box<dyn PartitionStream>);
        }
        Ok(streams)
    }
}

#[cfg(test)]
mod retention_tests;
#[cfg(test)]
mod segments_tests;
#[cfg(test)]
mod syncer_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod wal_tests;
