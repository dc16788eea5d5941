//! What a topic is created with: its partition count and how long its
//! records are kept, with Kafka's topic-level names and meaning
//! (`retention.ms`, `retention.bytes`, `cleanup.policy`,
//! `delete.retention.ms`). The Kafka log creates topics with these configs;
//! the embedded log applies them itself.

use serde::{Deserialize, Serialize};

/// Kafka's `cleanup.policy`: what happens to old records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CleanupPolicy {
    /// Delete records older than `retention.ms` or beyond `retention.bytes`.
    #[default]
    Delete,
    /// Keep the latest record per key (and tombstones for
    /// `delete.retention.ms`); nothing is deleted by age or size.
    Compact,
    /// Both: the latest record per key, and only within the retention.
    CompactDelete,
}

impl CleanupPolicy {
    /// The value of Kafka's `cleanup.policy`.
    pub fn as_kafka(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Compact => "compact",
            Self::CompactDelete => "compact,delete",
        }
    }

    /// Whether records are deleted by age and size.
    pub fn deletes(self) -> bool {
        matches!(self, Self::Delete | Self::CompactDelete)
    }

    /// Whether older records of a key are removed.
    pub fn compacts(self) -> bool {
        matches!(self, Self::Compact | Self::CompactDelete)
    }
}

impl TryFrom<String> for CleanupPolicy {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
        parts.sort_unstable();
        parts.dedup();
        match parts.as_slice() {
            ["delete"] => Ok(Self::Delete),
            ["compact"] => Ok(Self::Compact),
            ["compact", "delete"] => Ok(Self::CompactDelete),
            _ => Err(format!(
                "`{value}` is not a cleanup policy: use \"delete\", \"compact\" or \"compact,delete\""
            )),
        }
    }
}

impl From<CleanupPolicy> for String {
    fn from(policy: CleanupPolicy) -> Self {
        policy.as_kafka().to_owned()
    }
}

/// Kafka's default `delete.retention.ms`: a day.
pub const DEFAULT_DELETE_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a topic keeps its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep records appended within this long, ms; `-1`: forever.
    pub retention_ms: i64,
    /// Keep at most this many bytes of records per partition; `-1`: no bound.
    pub retention_bytes: i64,
    /// What happens to old records.
    pub cleanup_policy: CleanupPolicy,
    /// How long a tombstone (a keyed record without data) of a compacted
    /// topic is kept once it is the latest record of its key, ms.
    pub delete_retention_ms: i64,
}

impl Retention {
    /// Keep every record.
    pub const FOREVER: Self = Self {
        retention_ms: -1,
        retention_bytes: -1,
        cleanup_policy: CleanupPolicy::Delete,
        delete_retention_ms: DEFAULT_DELETE_RETENTION_MS,
    };

    /// The age limit, if records are deleted by age.
    pub fn max_age_ms(&self) -> Option<u64> {
        self.cleanup_policy
            .deletes()
            .then(|| u64::try_from(self.retention_ms).ok())
            .flatten()
    }

    /// The size limit per partition, if records are deleted by size.
    pub fn max_bytes(&self) -> Option<u64> {
        self.cleanup_policy
            .deletes()
            .then(|| u64::try_from(self.retention_bytes).ok())
            .flatten()
    }
}

/// A topic the gateway creates if it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Partition count.
    pub partitions: u32,
    /// What the embedded log keeps.
    pub retention: Retention,
    /// The topic configs a Kafka topic is created with: only those set for
    /// it, so the broker's defaults hold for the rest.
    pub kafka_configs: Vec<(&'static str, String)>,
}

impl TopicSpec {
    /// `name` with `partitions`, kept forever, with the broker's defaults.
    pub fn new(name: impl Into<String>, partitions: u32) -> Self {
        Self {
            name: name.into(),
            partitions,
            retention: Retention::FOREVER,
            kafka_configs: Vec::new(),
        }
    }

    /// The same, kept as `retention` says.
    pub fn retained(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_policies_read_kafkas_spellings_and_refuse_others() {
        let parse = |s: &str| CleanupPolicy::try_from(s.to_owned());
        assert_eq!(parse("delete"), Ok(CleanupPolicy::Delete));
        assert_eq!(parse("compact"), Ok(CleanupPolicy::Compact));
        assert_eq!(parse("compact,delete"), Ok(CleanupPolicy::CompactDelete));
        assert_eq!(parse("delete, compact"), Ok(CleanupPolicy::CompactDelete));
        assert!(parse("keep").unwrap_err().contains("compact,delete"));
        assert!(parse("").is_err());
    }

    #[test]
    fn a_compacted_topic_is_not_deleted_by_age_or_size() {
        let compact = Retention {
            cleanup_policy: CleanupPolicy::Compact,
            ..Retention::FOREVER
        };
        assert_eq!(compact.max_age_ms(), None);
        assert_eq!(compact.max_bytes(), None);
        assert_eq!(Retention::FOREVER.max_age_ms(), None);
        assert_eq!(Retention::FOREVER.max_bytes(), None);
        let week = Retention {
            retention_ms: 604_800_000,
            ..Retention::FOREVER
        };
        assert_eq!(week.max_age_ms(), Some(604_800_000));
    }
}
