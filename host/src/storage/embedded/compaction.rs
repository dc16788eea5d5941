//! Compaction of the embedded log, Kafka's `cleanup.policy=compact`: a
//! partition keeps the latest record of each key. A keyed record without
//! data is a tombstone (as a record with a null value is on Kafka): it
//! removes the key's older records, and is itself removed once it has been
//! the latest for `delete.retention.ms`. Records without a key are kept.
//! The newest record of a partition always stays, so its next offset
//! survives restarts.
//!
//! The partition is read off the writer thread; what
//! to remove goes to the writer in bounded steps, so ingest goes on between
//! them. Removing a record found superseded is safe later too: records
//! never change, and the one that superseded it is newer, so it outlives it.

use std::collections::HashMap;
use std::sync::Arc;

use super::ops::WriteOp;
use super::segments::record::decode_event;
use super::{EmbeddedStore, unavailable};
use crate::storage::{EventLog, StorageError, TopicSpec};

/// Counter of records compaction removed, by topic.
pub const COMPACTED: &str = "streamplug_log_compaction_removed_total";

/// Records one removal step deletes at most.
const STEP: usize = 10_000;

/// The latest record of a key.
struct Latest {
    offset: u64,
    tombstone: bool,
    appended_ms: u64,
}

/// Next offset of each partition when it was last compacted, so a pass
/// skips partitions nothing was appended to since.
pub type Compacted = HashMap<(String, u32), u64>;

impl EmbeddedStore {
    /// Compact `spec`'s topic now (if its cleanup policy compacts); how
    /// many records were removed. `compacted` remembers where each
    /// partition stood, across calls.
    pub async fn compact(
        self: &Arc<Self>,
        spec: &TopicSpec,
        now_ms: u64,
        compacted: &mut Compacted,
    ) -> Result<u64, StorageError> {
        if !spec.retention.cleanup_policy.compacts() {
            return Ok(0);
        }
        let mut removed = 0;
        for partition in 0..self.partitions(&spec.name).unwrap_or(0) {
            let end = self.end_offset(&spec.name, partition).await?;
            let slot = (spec.name.clone(), partition);
            if end == 0 || compacted.get(&slot) == Some(&end) {
                continue;
            }
            let store = self.clone();
            let topic = spec.name.clone();
            let tombstone_ms =
                u64::try_from(spec.retention.delete_retention_ms).unwrap_or(u64::MAX);
            let doomed = tokio::task::spawn_blocking(move || {
                store.superseded(&topic, partition, end, now_ms, tombstone_ms)
            })
            .await
            .map_err(unavailable)??;
            for chunk in doomed.chunks(STEP) {
                let (topic, offsets) = (spec.name.clone(), chunk.to_vec());
                removed += self
                    .submit(|reply| WriteOp::Remove {
                        topic,
                        partition,
                        offsets,
                        reply,
                    })
                    .await?;
            }
            if !doomed.is_empty() {
                metrics::counter!(COMPACTED, "topic" => spec.name.clone())
                    .increment(doomed.len() as u64);
            }
            compacted.insert(slot, end);
        }
        Ok(removed)
    }

    /// Offsets below `end` in `topic`/`partition` whose key has a later
    /// record, and tombstones that have been the latest for `tombstone_ms`;
    /// never the record at `end - 1`.
    fn superseded(
        &self,
        topic: &str,
        partition: u32,
        end: u64,
        now_ms: u64,
        tombstone_ms: u64,
    ) -> Result<Vec<u64>, StorageError> {
        let Some(log) = self.partition_log(topic, partition) else {
            return Ok(Vec::new());
        };
        // One pass: a key's earlier record is superseded when a later one
        // comes; what stays latest is known at the end.
        let mut latest: HashMap<String, Latest> = HashMap::new();
        let mut doomed = Vec::new();
        log.visit(0, |head, payload| {
            if head.offset >= end {
                return Ok(false);
            }
            let event = decode_event(payload)?;
            if let Some(key) = event.key {
                let record = Latest {
                    offset: head.offset,
                    tombstone: event.data.is_empty(),
                    appended_ms: head.appended_ms,
                };
                doomed.extend(latest.insert(key, record).map(|earlier| earlier.offset));
            }
            Ok(true)
        })?;
        doomed.extend(latest.values().filter_map(|last| {
            let expired = last.tombstone && last.appended_ms.saturating_add(tombstone_ms) < now_ms;
            (expired && last.offset + 1 != end).then_some(last.offset)
        }));
        doomed.sort_unstable();
        Ok(doomed)
    }
}
