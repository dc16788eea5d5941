//! How the writer gets over a failed write. A transaction that fails (the
//! disk is full, an I/O error) acknowledges none of its requests, and redb
//! then refuses every write until the database is reopened. The writer
//! reports the failure (`/readyz` not ready, ingest `503`), refuses writes
//! at once while it waits, and reopens the database after a backoff (1 s,
//! doubling to 30 s; a probe every second makes sure it tries), reloading
//! its in-memory state from what was committed and applying the
//! write-ahead log's frames it does not hold. The first transaction that
//! commits afterwards clears the failure.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use redb::Database;

use super::segments::Records;
use super::tables::{self, NextOffsets, PartitionState, PartitionStates};
use super::writer::Writer;
use crate::storage::StorageError;

/// What the writer keeps in memory, as committed.
pub(super) struct Loaded {
    pub(super) topics: HashMap<String, u32>,
    /// How far each partition's segments reach.
    pub(super) partitions: PartitionStates,
    pub(super) next_seq: u64,
    pub(super) kv_usage: HashMap<String, u64>,
    /// The LSN of the last write-ahead log frame it holds.
    pub(super) applied_lsn: u64,
}

impl Loaded {
    pub(super) fn from(db: &Database) -> Result<Self, StorageError> {
        let (topics, partitions) = tables::load_topics(db)?;
        Ok(Self {
            topics,
            partitions,
            next_seq: tables::load_meta(db, tables::NEXT_SEQ)?,
            kv_usage: tables::load_kv_usage(db)?,
            applied_lsn: tables::load_meta(db, tables::APPLIED_LSN)?,
        })
    }

    /// Next offset of every partition.
    pub(super) fn next_offsets(&self) -> NextOffsets {
        self.field(|s| s.end)
    }

    /// Bytes of every partition's kept records.
    pub(super) fn partition_bytes(&self) -> HashMap<(String, u32), u64> {
        self.field(|s| s.bytes)
    }

    /// Oldest kept offset of every partition.
    pub(super) fn starts(&self) -> HashMap<(String, u32), u64> {
        self.field(|s| s.start)
    }

    fn field(&self, f: impl Fn(&PartitionState) -> u64) -> HashMap<(String, u32), u64> {
        self.partitions
            .iter()
            .map(|(slot, state)| (slot.clone(), f(state)))
            .collect()
    }

    /// Open every partition's segments as the database describes them.
    pub(super) fn open_records(&self, records: &mut Records) -> Result<(), StorageError> {
        records.reset();
        for (slot, state) in &self.partitions {
            records.open_partition(slot, state.start, state.end)?;
        }
        Ok(())
    }
}

impl Writer {
    /// The database to write to: the open one, or, after a failure, a
    /// reopened one once the backoff has passed (before that, the failure).
    pub(super) fn ready_to_write(&mut self) -> Result<Arc<Database>, StorageError> {
        if !self.recovery.is_failed() {
            return self.db.get();
        }
        if let Some(error) = self.recovery.waiting() {
            return Err(error.clone());
        }
        // Groups committed before the failure are answered (or failed)
        // before the state they built on is reloaded.
        self.syncer.drain();
        let reopened = self.db.reopen().and_then(|db| {
            let loaded = Loaded::from(&db)?;
            Ok((db, loaded))
        });
        let replayed = reopened.and_then(|(db, loaded)| {
            let applied_lsn = loaded.applied_lsn;
            loaded.open_records(&mut self.records)?;
            self.reload(loaded);
            self.reopen_wal(&db, applied_lsn)?;
            Ok(db)
        });
        match replayed {
            Ok(db) => {
                self.syncer.resume();
                tracing::info!("the embedded store reopened after a write failure");
                Ok(db)
            }
            Err(e) => {
                self.write_failed(&e);
                Err(e)
            }
        }
    }

    /// A transaction failed with `error`.
    pub(super) fn write_failed(&mut self, error: &StorageError) {
        self.recovery.failed(error);
    }

    /// The sync thread could not make the log durable: its end is
    /// unknown, so the store is reopened before anything more is written.
    pub(super) fn sync_failed(&mut self, error: &StorageError) {
        self.wal.set_broken();
        self.write_failed(error);
    }

    /// A transaction committed.
    pub(super) fn wrote(&mut self) {
        self.recovery.wrote();
    }

    /// Take the committed state as the writer's own.
    fn reload(&mut self, loaded: Loaded) {
        self.next_offsets = loaded.next_offsets();
        self.partition_bytes = loaded.partition_bytes();
        self.starts = loaded.starts();
        self.next_seq = loaded.next_seq;
        self.readers
            .appended
            .store(loaded.next_seq, Ordering::Release);
        self.rotation = Default::default();
        *self.topics.lock().unwrap_or_else(PoisonError::into_inner) = loaded.topics;
        *self.kv_usage.lock().unwrap_or_else(PoisonError::into_inner) = loaded.kv_usage;
    }
}
