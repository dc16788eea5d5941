//! `[storage]`: where the embedded stores live, topic defaults, the
//! idempotency window and the embedded log's retention.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
    /// `[topics.NAME]` says otherwise (Kafka's `retention.ms`; `0`: forever).
    pub retention_ms: u64,
    /// Most bytes of records the embedded log keeps per partition, unless
    /// a topic says otherwise (Kafka's `retention.bytes`; `0`: no bound).
    pub retention_bytes: u64,
    /// How often the embedded log applies retention, ms.
    pub retention_check_ms: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            default_partitions: 4,
            idempotency_window_secs: 24 * 60 * 60,
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: 256 * 1024 * 1024,
            retention_check_ms: 60_000,
        }
    }
}
