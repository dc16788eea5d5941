//! One group commit of the log writer: every request waiting at that moment
//! applied to one redb transaction, the group's frame written to the
//! write-ahead log, the transaction committed, and the group handed to the
//! sync thread, which answers once the frame is durable (`syncer.rs`).
//! Also the checkpoints that make redb itself durable, and the replay of
//! the log's frames when the store opens.

use std::fs::File;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use redb::{Database, Durability};

use super::checkpoint::Checkpoint;
use super::logged::{self, Kept};
use super::open_tables::OpenTables;
use super::ops::{Applied, WriteOp, fail};
use super::syncer::Settled;
use super::tables::{APPLIED_LSN, META};
use super::unavailable;
use super::wal::{Replay, Wal, frame};
use super::writer::{Pending, Writer, now_ms};
use crate::storage::StorageError;

/// Summary: how long each checkpoint held the writer (seconds).
pub const CHECKPOINT_SECONDS: &str = "streamplug_storage_checkpoint_seconds";

/// Where a group's requests come from.
enum Source {
    /// Requesters waiting for their answers: log them.
    Live,
    /// The log's frame `lsn`, applied again.
    Replay(u64),
}

/// A group applied and committed: what is owed once it is settled.
struct Committed {
    pending: Pending,
    applied: Vec<Applied>,
    /// The log segment its frame went to, not yet synced.
    sync: Option<Arc<File>>,
}

impl Writer {
    /// Write one group and hand it to the sync thread, which answers.
    /// Upkeep first waits until every group before it is settled: it
    /// drops and rewrites segments that those groups' records are in.
    pub(super) fn write_group(&mut self, upkeep: bool, ops: impl Iterator<Item = WriteOp>) {
        if let Some(err) = self.syncer.failure() {
            self.sync_failed(&err);
        }
        let db = match self.ready_to_write() {
            Ok(db) => db,
            Err(err) => {
                ops.for_each(|op| fail(op, &err));
                return;
            }
        };
        if upkeep {
            self.syncer.drain();
        }
        self.clock_ms = now_ms();
        match self.commit_group(&db, ops, Source::Live) {
            Ok(committed) => {
                // A sync that failed meanwhile fails this group too (the
                // sync thread refuses it): not a recovery.
                match self.syncer.failure() {
                    Some(err) => self.sync_failed(&err),
                    None => self.wrote(),
                }
                let settled = self.adopt(committed);
                self.syncer.hand(settled);
                if self.checkpoint_due()
                    && let Err(err) = self.checkpoint(&db)
                {
                    self.write_failed(&err);
                }
            }
            Err((err, applied)) => {
                self.write_failed(&err);
                applied.into_iter().for_each(|a| a.answer(Some(&err)));
            }
        }
    }

    /// Apply `ops` to one transaction and commit it: after logging their
    /// frame durably (live requests), or recording that it holds frame `lsn`
    /// (a replay). Upkeep commits durably. On an error nothing is committed
    /// and the applied requests come back to be failed.
    fn commit_group(
        &mut self,
        db: &Database,
        ops: impl Iterator<Item = WriteOp>,
        source: Source,
    ) -> Result<Committed, (StorageError, Vec<Applied>)> {
        let mut applied = Vec::new();
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(e) => {
                let err = unavailable(e);
                ops.for_each(|op| fail(op, &err));
                return Err((err, applied));
            }
        };
        let mut frame = std::mem::take(&mut self.frame);
        frame::begin(&mut frame);
        let mut pending = Pending::default();
        let mut tables = OpenTables::new(&txn);
        let mut durable = false;
        let mut broken: Option<StorageError> = None;
        for op in ops {
            if let Some(err) = &broken {
                fail(op, err);
                continue;
            }
            let mark = frame.len();
            match logged::log(&op, &mut frame) {
                Ok(Kept::Checkpoint) => durable = true,
                Ok(Kept::Logged | Kept::Nothing) => {}
                Err(e) => {
                    fail(op, &e);
                    continue;
                }
            }
            // Each op is validated before it writes anything, so a refused op
            // leaves the transaction as it was; a storage error aborts the group.
            match self.apply(&mut tables, op, &mut pending) {
                Ok(Some(a)) => applied.push(a),
                Ok(None) => frame.truncate(mark),
                Err(e) => broken = Some(e),
            }
        }
        drop(tables);
        if let Some(err) = broken {
            self.frame = frame;
            self.records.roll_back();
            return Err((err, applied));
        }
        let finished = self.finish(txn, &mut frame, &pending, source, durable);
        self.frame = frame;
        match finished {
            Ok(sync) => Ok(Committed {
                pending,
                applied,
                sync,
            }),
            Err(err) => {
                self.records.roll_back();
                Err((err, applied))
            }
        }
    }

    /// Log the group's frame (live) and commit its transaction: durably if
    /// it did upkeep (then the frame is not needed), else after writing the
    /// frame, whose segment comes back to be synced before anyone is told.
    fn finish(
        &mut self,
        mut txn: redb::WriteTransaction,
        frame: &mut [u8],
        pending: &Pending,
        source: Source,
        durable: bool,
    ) -> Result<Option<Arc<File>>, StorageError> {
        self.record_partition_state(&txn, pending)?;
        let logging = matches!(source, Source::Live) && !durable && !frame::is_empty(frame);
        let lsn = match source {
            Source::Replay(lsn) => Some(lsn),
            Source::Live if logging => Some(self.wal.next_lsn()),
            Source::Live => None,
        };
        if let Some(lsn) = lsn {
            let mut meta = txn.open_table(META).map_err(unavailable)?;
            meta.insert(APPLIED_LSN, lsn).map_err(unavailable)?;
        }
        let durability = if durable {
            Durability::Immediate
        } else {
            Durability::None
        };
        txn.set_durability(durability).map_err(unavailable)?;
        // The records go to their segments first: the database is about to
        // say they are there.
        self.records.write_staged()?;
        if durable {
            self.records.sync()?;
        }
        let mut sync = None;
        if logging {
            sync = Some(self.wal.write(frame, self.clock_ms)?.1);
            self.checkpoint.behind = true;
        }
        if let Err(e) = txn.commit() {
            if logging {
                self.wal.discard_last(frame.len());
            }
            return Err(unavailable(e));
        }
        if durable {
            self.checkpointed()?;
        }
        Ok(sync)
    }

    /// Take a committed group's changes as the writer's state (the next
    /// group builds on them); what readers and requesters are owed once it
    /// is durable comes back.
    fn adopt(&mut self, committed: Committed) -> Settled {
        let Committed {
            pending,
            applied,
            sync,
        } = committed;
        let records = self.records.commit_staged();
        for (slot, start) in pending.starts {
            self.records.advance_start(&slot, start);
            self.starts.insert(slot, start);
        }
        for (topic, partitions) in &pending.topics {
            for partition in 0..*partitions {
                self.records.ensure(topic, partition);
            }
        }
        self.next_offsets.extend(pending.offsets);
        for (slot, delta) in pending.bytes {
            let bytes = self.partition_bytes.entry(slot).or_default();
            *bytes = bytes.saturating_add_signed(delta);
        }
        if let Some(next_seq) = pending.next_seq {
            self.next_seq = next_seq;
        }
        if !pending.topics.is_empty() {
            self.topics
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(pending.topics);
        }
        if !pending.kv_delta.is_empty() {
            let mut usage = self.kv_usage.lock().unwrap_or_else(PoisonError::into_inner);
            for (ns, delta) in pending.kv_delta {
                let v = usage.entry(ns).or_default();
                *v = v.saturating_add_signed(delta);
            }
        }
        Settled {
            sync,
            records,
            next_seq: pending.next_seq,
            applied,
        }
    }

    fn checkpoint_due(&self) -> bool {
        self.checkpoint.due(self.wal.segment_bytes())
    }

    /// Make the records and the database durable (everything the log holds
    /// is then in them) and drop the log's segments.
    pub(super) fn checkpoint(&mut self, db: &Database) -> Result<(), StorageError> {
        let began = Instant::now();
        let log_bytes = self.wal.segment_bytes();
        self.records.sync()?;
        let mut txn = db.begin_write().map_err(unavailable)?;
        txn.set_durability(Durability::Immediate)
            .map_err(unavailable)?;
        {
            // A durable commit that changes nothing may write nothing.
            let mut meta = txn.open_table(META).map_err(unavailable)?;
            meta.insert(APPLIED_LSN, self.wal.next_lsn() - 1)
                .map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        let took = began.elapsed();
        metrics::histogram!(CHECKPOINT_SECONDS).record(took.as_secs_f64());
        tracing::debug!(took_ms = took.as_millis() as u64, log_bytes, "checkpoint");
        self.checkpointed()
    }

    fn checkpointed(&mut self) -> Result<(), StorageError> {
        self.checkpoint = Checkpoint::default();
        self.wal.checkpointed()
    }

    /// Apply again the frames the database does not hold, in order, then
    /// make it durable. Runs before the writer takes requests (at open and
    /// after reopening the database).
    pub(super) fn replay(&mut self, db: &Database, replay: Replay) -> Result<(), StorageError> {
        if replay.torn_bytes > 0 {
            tracing::warn!(
                bytes = replay.torn_bytes,
                "dropped the torn tail of the write-ahead log (a group that was never acknowledged)"
            );
        }
        let frames = replay.frames.len();
        for frame in replay.frames {
            self.clock_ms = frame.clock_ms;
            let ops = logged::read(&frame.payload)?;
            let committed = self
                .commit_group(db, ops.into_iter(), Source::Replay(frame.lsn))
                .map_err(|(err, _)| err)?;
            self.adopt(committed).publish(&self.readers);
        }
        if frames > 0 {
            tracing::info!(frames, "applied the write-ahead log again");
        }
        self.checkpoint(db)
    }

    /// Open the write-ahead log again and replay it (after the database was
    /// reopened).
    pub(super) fn reopen_wal(
        &mut self,
        db: &Database,
        applied_lsn: u64,
    ) -> Result<(), StorageError> {
        let (wal, replay) = Wal::open(self.wal.dir(), applied_lsn)?;
        self.wal = wal;
        self.replay(db, replay)
    }
}
