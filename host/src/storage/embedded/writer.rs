//! The single writer thread of the embedded store: group commit of every
//! append, topic creation and consumer commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use super::checkpoint::Checkpoint;
use super::handle::DbHandle;
use super::ingest_ids::Rotation;
use super::open_tables::OpenTables;
use super::ops::{Applied, WriteOp};
use super::segments::{Records, Slot};
use super::syncer::{Readers, Syncer};
use super::tables::{NextOffsets, OFFSETS, TOPICS};
use super::unavailable;
use super::wal::Wal;
use super::write_failure::Recovery;
use crate::event::Event;
use crate::storage::{Partitioner, Position, StorageError};

/// Most requests folded into one transaction.
const MAX_GROUP: usize = 512;

pub(super) struct Writer {
    pub(super) db: Arc<DbHandle>,
    pub(super) recovery: Recovery,
    pub(super) topics: Arc<Mutex<HashMap<String, u32>>>,
    pub(super) kv_usage: Arc<Mutex<HashMap<String, u64>>>,
    pub(super) next_offsets: NextOffsets,
    /// The sequence number the next appended event gets.
    pub(super) next_seq: u64,
    /// What readers follow, moved on as groups are published.
    pub(super) readers: Readers,
    /// The thread that makes committed groups durable and answers them.
    pub(super) syncer: Syncer,
    pub(super) rotation: Rotation,
    /// Bytes of each partition's records, as committed.
    pub(super) partition_bytes: HashMap<(String, u32), u64>,
    /// The write-ahead log.
    pub(super) wal: Wal,
    /// The writer's clock for the group being written (ms since the epoch):
    /// one reading per group, kept in its frame.
    pub(super) clock_ms: u64,
    /// The frame of the group being written.
    pub(super) frame: Vec<u8>,
    /// Every partition's segments.
    pub(super) records: Records,
    /// The oldest kept offset of each partition, as committed.
    pub(super) starts: HashMap<(String, u32), u64>,
    /// When the database was last made durable, and whether frames were
    /// logged since.
    pub(super) checkpoint: Checkpoint,
}

/// Changes one transaction makes to the in-memory state, applied only once it committed.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) offsets: NextOffsets,
    pub(super) topics: HashMap<String, u32>,
    pub(super) kv_delta: HashMap<String, i64>,
    /// The next sequence number once this transaction commits.
    pub(super) next_seq: Option<u64>,
    /// Change of each partition's bytes.
    pub(super) bytes: HashMap<(String, u32), i64>,
    /// New oldest kept offsets (retention).
    pub(super) starts: HashMap<(String, u32), u64>,
}

impl Writer {
    pub(super) fn spawn(
        self,
        rx: mpsc::Receiver<WriteOp>,
    ) -> Result<std::thread::JoinHandle<()>, StorageError> {
        std::thread::Builder::new()
            .name("streamplug-log-writer".into())
            .spawn(move || self.run(rx))
            .map_err(unavailable)
    }

    fn run(mut self, mut rx: mpsc::Receiver<WriteOp>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        // Upkeep (retention, compaction, KV expiry) is a group of its own,
        // so no records are staged while it changes segments.
        let mut held: Option<WriteOp> = None;
        while let Some(first) = held.take().or_else(|| rx.blocking_recv()) {
            let upkeep = first.is_upkeep();
            group.push(first);
            while !upkeep && group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(op) if op.is_upkeep() => {
                        held = Some(op);
                        break;
                    }
                    Ok(op) => group.push(op),
                    Err(_) => break,
                }
            }
            self.write_group(upkeep, group.drain(..));
        }
        // Leave the database durable and the log empty.
        if let Ok(db) = self.db.get()
            && let Err(e) = self.checkpoint(&db)
        {
            tracing::warn!(error = %e, "no checkpoint when the log writer stopped");
        }
        tracing::debug!("log writer stopped");
    }

    /// Apply one op to the transaction. `Ok(None)` means the op was refused
    /// (its requester already has the answer) and nothing was written.
    pub(super) fn apply(
        &mut self,
        tables: &mut OpenTables<'_>,
        op: WriteOp,
        pending: &mut Pending,
    ) -> Result<Option<Applied>, StorageError> {
        match op {
            WriteOp::CreateTopics { topics, reply } => {
                let mut table = tables.txn.open_table(TOPICS).map_err(unavailable)?;
                for (topic, partitions) in &topics {
                    if let Some(existing) = self.partition_count(topic, pending)
                        && existing != *partitions
                    {
                        let _ = reply.send(Err(StorageError::PartitionMismatch {
                            topic: topic.clone(),
                            existing,
                            wanted: *partitions,
                        }));
                        return Ok(None);
                    }
                }
                for (topic, partitions) in topics {
                    if self.partition_count(&topic, pending).is_none() {
                        table
                            .insert(topic.as_str(), partitions)
                            .map_err(unavailable)?;
                        pending.topics.insert(topic, partitions);
                    }
                }
                Ok(Some(Applied::Unit(reply)))
            }
            WriteOp::Append { events, reply } => {
                if let Err(e) = self.check_topics(&events, pending) {
                    let _ = reply.send(Err(e));
                    return Ok(None);
                }
                let positions = self.append(events.iter(), pending)?;
                Ok(Some(Applied::Positions(reply, positions)))
            }
            WriteOp::AppendOnce {
                events,
                window_ms,
                reply,
            } => {
                if let Err(e) = self.check_topics(&events, pending) {
                    let _ = reply.send(Err(e));
                    return Ok(None);
                }
                let appended = self.append_once(tables, &events, window_ms, pending)?;
                Ok(Some(Applied::Appended(reply, appended)))
            }
            WriteOp::Prune {
                policies,
                now_ms,
                budget,
                reply,
            } => {
                let pruned = self.prune(&policies, now_ms, budget, pending)?;
                Ok(Some(Applied::Pruned(reply, pruned)))
            }
            WriteOp::Remove {
                topic,
                partition,
                offsets,
                reply,
            } => {
                let removed = self.remove_records(&topic, partition, &offsets, pending)?;
                Ok(Some(Applied::Count(reply, removed)))
            }
            WriteOp::Probe { reply } => Ok(Some(Applied::Unit(reply))),
            WriteOp::ExpireKv {
                now_ms,
                budget,
                reply,
            } => {
                let removed = self.expire_kv(tables.txn, now_ms, budget, pending)?;
                Ok(Some(Applied::Count(reply, removed)))
            }
            WriteOp::RecordIds {
                entries,
                window_ms,
                reply,
            } => {
                let buckets = tables.buckets(&mut self.rotation, window_ms, self.clock_ms)?;
                for (id, position) in &entries {
                    buckets.record(&id.source, &id.id, position)?;
                }
                Ok(Some(Applied::Unit(reply)))
            }
            WriteOp::Commit { commit, reply } => {
                if let Err(e) = self.check_topics(&commit.publish, pending) {
                    let _ = reply.send(Err(e));
                    return Ok(None);
                }
                let positions = self.append(commit.publish.iter(), pending)?;
                let mut offsets = tables.txn.open_table(OFFSETS).map_err(unavailable)?;
                for at in &commit.offsets {
                    offsets
                        .insert(
                            (commit.group.as_str(), at.topic.as_str(), at.partition),
                            at.next,
                        )
                        .map_err(unavailable)?;
                }
                self.write_kv(tables.txn, &commit.kv_namespace, &commit.kv_writes, pending)?;
                Ok(Some(Applied::Positions(reply, positions)))
            }
        }
    }

    pub(super) fn partition_count(&self, topic: &str, pending: &Pending) -> Option<u32> {
        pending.topics.get(topic).copied().or_else(|| {
            self.topics
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(topic)
                .copied()
        })
    }

    fn check_topics(&self, events: &[Event], pending: &Pending) -> Result<(), StorageError> {
        for e in events {
            if self.partition_count(&e.topic, pending).is_none() {
                return Err(StorageError::UnknownTopic(e.topic.clone()));
            }
        }
        Ok(())
    }

    /// Stage `events` in their partitions, in order; their positions.
    pub(super) fn append<'e>(
        &mut self,
        events: impl ExactSizeIterator<Item = &'e Event>,
        pending: &mut Pending,
    ) -> Result<Vec<Position>, StorageError> {
        if events.len() == 0 {
            return Ok(Vec::new());
        }
        let mut positions = Vec::with_capacity(events.len());
        // The partitions this request appends to: each one's next offset
        // and bytes added, taken into `pending` at the end.
        let mut slots: Vec<(Slot, u64, i64)> = Vec::new();
        let mut topic: Option<(&str, u32)> = None;
        let mut seq = pending.next_seq.unwrap_or(self.next_seq);
        for event in events {
            let partitions = match topic {
                Some((name, partitions)) if name == event.topic => partitions,
                _ => {
                    let partitions = self.partition_count(&event.topic, pending).unwrap_or(1);
                    topic = Some((&event.topic, partitions));
                    partitions
                }
            };
            let partition = Partitioner::Fnv1a.partition(event.key.as_deref(), partitions);
            let at = match slots
                .iter()
                .position(|((name, p), ..)| *p == partition && *name == event.topic)
            {
                Some(at) => at,
                None => {
                    let slot = (event.topic.clone(), partition);
                    let offset = pending
                        .offsets
                        .get(&slot)
                        .or_else(|| self.next_offsets.get(&slot))
                        .copied()
                        .unwrap_or(0);
                    slots.push((slot, offset, 0));
                    slots.len() - 1
                }
            };
            let (slot, offset, bytes) = &mut slots[at];
            let len = self
                .records
                .stage(slot, *offset, seq, self.clock_ms, event)?;
            positions.push(Position {
                topic: event.topic.clone(),
                partition,
                offset: *offset,
            });
            *offset += 1;
            *bytes += len as i64;
            seq += 1;
        }
        for (slot, next, bytes) in slots {
            *pending.bytes.entry(slot.clone()).or_default() += bytes;
            pending.offsets.insert(slot, next);
        }
        pending.next_seq = Some(seq);
        Ok(positions)
    }
}

pub(super) fn now_ms() -> u64 {
    crate::storage::millis_now()
}
