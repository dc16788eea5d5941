//! Retention of the embedded log, with Kafka's meaning: a partition of a
//! topic whose cleanup policy deletes keeps records appended within
//! `retention_ms` and at most `retention_bytes` of them, deleting the oldest
//! first; `-1` is no bound. The newest record of
//! a partition is never deleted (Kafka keeps its active segment), so a
//! partition's next offset survives restarts. Consumers behind the oldest
//! kept offset read on from it. A background task prunes in bounded steps,
//! each one write transaction of the single writer, so ingest goes on
//! between them.

use std::sync::Arc;
use std::time::Duration;

use redb::{ReadableTable, WriteTransaction};
use tokio::sync::watch;

use super::EmbeddedStore;
use super::ops::WriteOp;
use super::tables::{EVENTS, PARTITION_BYTES, record_appended_ms};
use super::unavailable;
use super::writer::{Pending, Writer, now_ms};
use crate::storage::{Retention, StorageError, TopicSpec};

/// Counter of records deleted by retention, by topic.
pub const DELETED: &str = "streamplug_log_retention_deleted_total";

/// Records one pruning step deletes at most.
const STEP: usize = 10_000;

/// What a pruning step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Records deleted.
    pub deleted: u64,
    /// Whether it stopped at its budget with more to delete.
    pub more: bool,
}

impl Writer {
    /// Write the new byte counts of the partitions this transaction changed.
    pub(super) fn record_partition_bytes(
        &self,
        txn: &WriteTransaction,
        pending: &Pending,
    ) -> Result<(), StorageError> {
        if pending.bytes.is_empty() {
            return Ok(());
        }
        let mut table = txn.open_table(PARTITION_BYTES).map_err(unavailable)?;
        for ((topic, partition), delta) in &pending.bytes {
            let now = self
                .partition_bytes
                .get(&(topic.clone(), *partition))
                .copied()
                .unwrap_or(0)
                .saturating_add_signed(*delta);
            table
                .insert((topic.as_str(), *partition), now)
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Remove, in `txn`, the records of `topic`/`partition` at `offsets`
    /// that are still there; how many were.
    pub(super) fn remove_records(
        &self,
        txn: &WriteTransaction,
        topic: &str,
        partition: u32,
        offsets: &[u64],
        pending: &mut Pending,
    ) -> Result<u64, StorageError> {
        let mut table = txn.open_table(EVENTS).map_err(unavailable)?;
        let mut removed = 0;
        for offset in offsets {
            if let Some(value) = table
                .remove((topic, partition, *offset))
                .map_err(unavailable)?
            {
                *pending
                    .bytes
                    .entry((topic.to_owned(), partition))
                    .or_default() -= value.value().len() as i64;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Delete, in `txn`, the oldest records `policies` no longer keep, at
    /// most `budget`.
    pub(super) fn prune(
        &self,
        txn: &WriteTransaction,
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
                let mut bytes = self.partition_bytes.get(&slot).copied().unwrap_or(0);
                let mut doomed = Vec::new();
                let table = txn.open_table(EVENTS).map_err(unavailable)?;
                let range = (policy.name.as_str(), partition, 0)
                    ..(policy.name.as_str(), partition, end.saturating_sub(1));
                for entry in table.range(range).map_err(unavailable)? {
                    if doomed.len() >= budget.saturating_sub(pruned.deleted as usize) {
                        pruned.more = true;
                        break;
                    }
                    let (key, value) = entry.map_err(unavailable)?;
                    let value = value.value();
                    let too_old = match cutoff {
                        Some(cutoff) => record_appended_ms(value)? < cutoff,
                        None => false,
                    };
                    let too_big = max_bytes.is_some_and(|max| bytes > max);
                    if !too_old && !too_big {
                        break;
                    }
                    bytes = bytes.saturating_sub(value.len() as u64);
                    doomed.push(key.value().2);
                }
                drop(table);
                let deleted =
                    self.remove_records(txn, &policy.name, partition, &doomed, pending)?;
                if deleted > 0 {
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
