//! `[storage]`: where the embedded stores live, topic defaults, the
//! idempotency window and the embedded log's retention.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::storage::{CleanupPolicy, DEFAULT_DELETE_RETENTION_MS};

/// Local storage and topic defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// Directory of the embedded log, the embedded KV store and the
    /// compiled-plugin cache.
    pub data_dir: PathBuf,
    /// Partitions of a topic that has no `[topics.NAME]` entry (topics the
    /// gateway creates, on either log).
    pub default_partitions: u32,
    /// How long an ingested event's (`source`, `id`) is remembered: a copy
    /// sent again within it (a client's retry) is answered with the first
    /// one's position and not written again. `0` turns this off.
    pub idempotency_window_secs: u64,
    /// How long the embedded log keeps a topic's records, ms, unless its
    /// `[topics.NAME]` says otherwise (Kafka's `retention.ms`; `-1`:
    /// forever). Kafka topics keep the broker's default unless set per topic.
    pub retention_ms: i64,
    /// Most bytes of records the embedded log keeps per partition, unless
    /// a topic says otherwise (Kafka's `retention.bytes`; `-1`: no bound).
    pub retention_bytes: i64,
    /// Kafka's `cleanup.policy` of the embedded log's topics unless set per
    /// topic: `delete`, `compact` or `compact,delete`.
    pub cleanup_policy: CleanupPolicy,
    /// Kafka's `delete.retention.ms`: how long a compacted topic keeps a
    /// tombstone (a keyed event without data) once it is its key's latest.
    pub delete_retention_ms: i64,
    /// How often the embedded log applies retention and expired KV values
    /// are swept, ms.
    pub retention_check_ms: u64,
    /// Ingest is refused (`503`, `/readyz` not ready) while the filesystem
    /// of `data_dir` has less than this free, bytes (`0`: never), so the
    /// disk never fills under the log.
    pub min_free_bytes: u64,
    /// How often free space is checked, and a failed store probed, ms.
    pub disk_check_ms: u64,
    /// Bytes at which the embedded log starts a new segment file of a
    /// partition (Kafka's `segment.bytes`). Retention frees disk a whole
    /// segment at a time, so this is also how far a partition's files may
    /// stand above `retention_bytes`.
    pub segment_bytes: u64,
    /// Acknowledge and publish the embedded log's writes without waiting
    /// for their `fdatasync` (Redpanda's `unsafe_bypass_fsync`). Only for
    /// benchmarks that compare with a handler that writes nothing and for
    /// throwaway development data: a crash of the machine (not of the
    /// process) can lose acknowledged events and committed plugin effects.
    /// Checkpoints still sync. Off by default; the gateway warns at start.
    pub unsafe_bypass_fsync: bool,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            default_partitions: 4,
            idempotency_window_secs: 24 * 60 * 60,
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: 256 * 1024 * 1024,
            cleanup_policy: CleanupPolicy::Delete,
            delete_retention_ms: DEFAULT_DELETE_RETENTION_MS,
            retention_check_ms: 60_000,
            min_free_bytes: 512 * 1024 * 1024,
            disk_check_ms: 1_000,
            segment_bytes: crate::storage::embedded::DEFAULT_SEGMENT_BYTES,
            unsafe_bypass_fsync: false,
        }
    }
}

/// `storage.unsafe_bypass_fsync` is for benchmarks and throwaway data: like
/// the demo conveniences, it is refused on a listener that is not loopback.
pub(super) fn validate(storage: &StorageSettings, listen: SocketAddr) -> Result<(), ConfigError> {
    if storage.unsafe_bypass_fsync && !listen.ip().is_loopback() {
        return Err(ConfigError::Invalid {
            setting: "storage.unsafe_bypass_fsync".into(),
            reason: format!(
                "acknowledged events could be lost in a crash of the machine; it is refused \
                 on a listener that is not loopback ({listen}), for benchmarks and \
                 throwaway data only"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fsync_bypass_is_off_by_default_and_loopback_only() {
        let storage = StorageSettings::default();
        assert!(!storage.unsafe_bypass_fsync);
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        validate(&storage, public).unwrap();
        let bypass = StorageSettings {
            unsafe_bypass_fsync: true,
            ..storage
        };
        validate(&bypass, local).unwrap();
        let err = validate(&bypass, public).unwrap_err().to_string();
        assert!(err.contains("storage.unsafe_bypass_fsync"), "{err}");
    }
}
