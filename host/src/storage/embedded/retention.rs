//! Retention of the embedded log, with Kafka's meaning: a partition of a
//! topic whose cleanup policy deletes keeps records appended within
//! `retention_ms` and at most `retention_bytes` of them, deleting the oldest
//! first; `-1` is no bound. Deleting moves the partition's oldest kept
//! offset (Kafka's log start offset); segments wholly below it are removed
//! from disk once that is committed. The newest record of
//! a partition is never deleted (Kafka keeps its active segment), so a
//! partition's next offset survives restarts. Consumers behind the oldest
//! kept offset read on from it. A background task prunes in bounded steps,
//! each one write transaction of the single writer, so ingest goes on
//! between them.

use std::sync::Arc;
use std::time::Duration;

use redb::WriteTransaction;
use tokio::sync::watch;

use super::EmbeddedStore;
pub use super::ops::Pruned;
use super::ops::WriteOp;
use super::tables::{META, NEXT_SEQ, PARTITIONS};
use super::unavailable;
use super::writer::{Pending, Writer, now_ms};
use crate::storage::{Retention, StorageError, TopicSpec};

/// Counter of records deleted by retention, by topic.
pub const DELETED: &str = "streamplug_log_retention_deleted_total";

/// Records one pruning step deletes at most.
const STEP: usize = 10_000;

impl Writer {
    /// Write how far the partitions this transaction changed reach, and
    /// the next sequence number.
    pub(super) fn record_partition_state(
        &self,
        txn: &WriteTransaction,
        pending: &Pending,
    ) -> Result<(), StorageError> {
        if let Some(next_seq) = pending.next_seq {
            let mut meta = txn.open_table(META).map_err(unavailable)?;
            meta.insert(NEXT_SEQ, next_seq).map_err(unavailable)?;
        }
        if pending.bytes.is_empty() && pending.starts.is_empty() {
            return Ok(());
        }
        let mut table = txn.open_table(PARTITIONS).map_err(unavailable)?;
        let slots = pending.bytes.keys().chain(pending.starts.keys());
        for slot in slots {
            let bytes = self
                .partition_bytes
                .get(slot)
                .copied()
                .unwrap_or(0)
                .saturating_add_signed(pending.bytes.get(slot).copied().unwrap_or(0));
            let end = pending
                .offsets
                .get(slot)
                .or_else(|| self.next_offsets.get(slot))
                .copied()
                .unwrap_or(0);
            let start = pending
                .starts
                .get(slot)
                .or_else(|| self.starts.get(slot))
                .copied()
                .unwrap_or(0);
            table
                .insert((slot.0.as_str(), slot.1), (end, bytes, start))
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Remove the records of `topic`/`partition` at `offsets` (sorted)
    /// that are still there; how many were.
    pub(super) fn remove_records(
        &mut self,
        topic: &str,
        partition: u32,
        offsets: &[u64],
        pending: &mut Pending,
    ) -> Result<u64, StorageError> {
        let slot = (topic.to_owned(), partition);
        let removed = self.records.remove(&slot, offsets)?;
        *pending.bytes.entry(slot).or_default() -= removed.bytes as i64;
        Ok(removed.records)
    }

    /// Move the oldest kept offset of partitions past the oldest records
    /// `policies` no longer keep, at most `budget` of them.
    pub(super) fn prune(
        &self,
        policies: &[TopicSpec],
        now_ms: u64,
        budget: usize,
        pending: &mut Pending,
    ) -> Result<Pruned, StorageError> {
        let mut pruned = Pruned::default();
        for policy in policies {
            let (max_age, max_bytes) =
                (policy.retention.max_age_ms(), policy.retention.max_bytes());
            if max_age.is_none() && max_bytes.is_none() {
                continue;
            }
            let Some(partitions) = self.partition_count(&policy.name, pending) else {
                continue;
            };
            let cutoff = max_age.map(|age| now_ms.saturating_sub(age));
            for partition in 0..partitions {
                let slot = (policy.name.clone(), partition);
                let Some(end) = self.next_offsets.get(&slot).copied() else {
                    continue;
                };
                let Some(log) = self.records.partition(&slot) else {
                    continue;
                };
                let mut bytes = self.partition_bytes.get(&slot).copied().unwrap_or(0);
                let (mut deleted, mut freed, mut start) = (0u64, 0u64, None);
                let room = budget.saturating_sub(pruned.deleted as usize) as u64;
                log.visit(0, |head, _| {
                    // The newest record stays.
                    if head.offset + 1 >= end {
                        return Ok(false);
                    }
                    if deleted >= room {
                        pruned.more = true;
                        return Ok(false);
                    }
                    let too_old = cutoff.is_some_and(|cutoff| head.appended_ms < cutoff);
                    let too_big = max_bytes.is_some_and(|max| bytes > max);
                    if !too_old && !too_big {
                        return Ok(false);
                    }
                    bytes = bytes.saturating_sub(head.len);
                    freed += head.len;
                    deleted += 1;
                    start = Some(head.offset + 1);
                    Ok(true)
                })?;
                if let Some(start) = start {
                    pending.starts.insert(slot.clone(), start);
                    *pending.bytes.entry(slot).or_default() -= freed as i64;
                    metrics::counter!(DELETED, "topic" => policy.name.clone()).increment(deleted);
                }
                pruned.deleted += deleted;
                if pruned.more {
                    return Ok(pruned);
                }
            }
        }
        Ok(pruned)
    }
}

impl EmbeddedStore {
    /// Apply `policies` now: delete what they no longer keep, in steps of
    /// at most `STEP` records; how many were deleted.
    pub async fn apply_retention(&self, policies: &[TopicSpec]) -> Result<u64, StorageError> {
        let mut deleted = 0;
        loop {
            let policies = policies.to_vec();
            let step = self
                .submit(|reply| WriteOp::Prune {
                    policies,
                    now_ms: now_ms(),
                    budget: STEP,
                    reply,
                })
                .await?;
            deleted += step.deleted;
            if !step.more {
                return Ok(deleted);
            }
        }
    }
}

/// Apply `configured` (retention, then compaction) every `every` until
/// `shutdown`; topics the log holds that `configured` does not name (a
/// former configuration's) are kept as `default` says.
pub async fn run(
    store: Arc<EmbeddedStore>,
    configured: Vec<TopicSpec>,
    default: Retention,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut compacted = super::Compacted::default();
    loop {
        let mut policies = configured.clone();
        for (name, partitions) in store.topic_partitions() {
            if !configured.iter().any(|spec| spec.name == name) {
                policies.push(TopicSpec::new(name, partitions).retained(default));
            }
        }
        match store.apply_retention(&policies).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "retention deleted old records"),
            Err(e) => tracing::warn!(error = %e, "retention step failed; trying again later"),
        }
        for policy in &policies {
            match store.compact(policy, now_ms(), &mut compacted).await {
                Ok(0) => {}
                Ok(removed) => {
                    tracing::info!(topic = %policy.name, removed, "compaction removed superseded records");
                }
                Err(e) => {
                    tracing::warn!(topic = %policy.name, error = %e, "compaction failed; trying again later");
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
