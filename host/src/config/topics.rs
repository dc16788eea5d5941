//! `[topics.NAME]`: a topic's partitions and retention (Kafka's topic
//! configs), and the topics the gateway creates from them.

use serde::{Deserialize, Serialize};

use super::Settings;
use crate::storage::{CleanupPolicy, Retention, TopicSpec};

/// Settings of one topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSettings {
    /// Number of partitions (fixed once the topic exists).
    pub partitions: u32,
    /// Kafka's `retention.ms`: keep records appended within this long
    /// (`-1`: forever). Unset: `storage.retention_ms` on the embedded log,
    /// the broker's default on Kafka.
    #[serde(default)]
    pub retention_ms: Option<i64>,
    /// Kafka's `retention.bytes`: keep at most this many bytes of records
    /// per partition (`-1`: no bound); unset as `retention_ms`.
    #[serde(default)]
    pub retention_bytes: Option<i64>,
    /// Kafka's `cleanup.policy`: `delete`, `compact` (the latest event per
    /// key) or `compact,delete`; unset as `retention_ms`.
    #[serde(default)]
    pub cleanup_policy: Option<CleanupPolicy>,
    /// Kafka's `delete.retention.ms`: how long a compacted topic keeps a
    /// tombstone; unset as `retention_ms`.
    #[serde(default)]
    pub delete_retention_ms: Option<i64>,
}

impl TopicSettings {
    /// `partitions`, with the default retention.
    pub fn with_partitions(partitions: u32) -> Self {
        Self {
            partitions,
            retention_ms: None,
            retention_bytes: None,
            cleanup_policy: None,
            delete_retention_ms: None,
        }
    }
}

impl Settings {
    /// Partitions of `topic`.
    pub fn partitions(&self, topic: &str) -> u32 {
        self.topics
            .get(topic)
            .map_or(self.storage.default_partitions, |t| t.partitions)
    }

    /// What the embedded log keeps of a topic without settings of its own
    /// (`[storage]`'s defaults): also the topics of a former configuration
    /// still in the log.
    pub fn default_retention(&self) -> Retention {
        let storage = &self.storage;
        Retention {
            retention_ms: storage.retention_ms,
            retention_bytes: storage.retention_bytes,
            cleanup_policy: storage.cleanup_policy,
            delete_retention_ms: storage.delete_retention_ms,
        }
    }

    /// Every topic the gateway writes to, as it creates them: partitions
    /// and retention (the embedded log's resolved against `[storage]`, and
    /// the Kafka configs set per topic).
    pub fn topic_specs(&self) -> Vec<TopicSpec> {
        let default = self.default_retention();
        self.all_topics()
            .into_iter()
            .map(|name| {
                let own = self.topics.get(&name);
                let pick = |get: fn(&TopicSettings) -> Option<i64>, default: i64| {
                    own.and_then(get).unwrap_or(default)
                };
                let retention = Retention {
                    retention_ms: pick(|t| t.retention_ms, default.retention_ms),
                    retention_bytes: pick(|t| t.retention_bytes, default.retention_bytes),
                    cleanup_policy: own
                        .and_then(|t| t.cleanup_policy)
                        .unwrap_or(default.cleanup_policy),
                    delete_retention_ms: pick(
                        |t| t.delete_retention_ms,
                        default.delete_retention_ms,
                    ),
                };
                let mut kafka_configs = Vec::new();
                if let Some(own) = own {
                    let set = [
                        ("retention.ms", own.retention_ms.map(|v| v.to_string())),
                        (
                            "retention.bytes",
                            own.retention_bytes.map(|v| v.to_string()),
                        ),
                        ("cleanup.policy", own.cleanup_policy.map(String::from)),
                        (
                            "delete.retention.ms",
                            own.delete_retention_ms.map(|v| v.to_string()),
                        ),
                    ];
                    kafka_configs.extend(set.into_iter().filter_map(|(k, v)| Some((k, v?))));
                }
                TopicSpec {
                    partitions: self.partitions(&name),
                    name,
                    retention,
                    kafka_configs,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_sets_kafkas_configs_and_the_embedded_log_fills_the_rest_from_storage() {
        let settings = Settings::from_toml(
            r#"
            [storage]
            retention_ms = 3600000
            [topics.profiles]
            partitions = 2
            cleanup_policy = "compact"
            delete_retention_ms = 1000
            [routes]
            "customer.*" = "profiles"
            "order.*" = "orders"
            "#,
        )
        .unwrap();
        let specs = settings.topic_specs();
        let profiles = specs.iter().find(|s| s.name == "profiles").unwrap();
        assert_eq!(profiles.partitions, 2);
        assert_eq!(profiles.retention.cleanup_policy, CleanupPolicy::Compact);
        assert_eq!(profiles.retention.retention_ms, 3_600_000);
        assert_eq!(
            profiles.kafka_configs,
            vec![
                ("cleanup.policy", "compact".to_owned()),
                ("delete.retention.ms", "1000".to_owned())
            ]
        );
        // A topic without its own section keeps the broker's defaults on
        // Kafka and `[storage]`'s on the embedded log.
        let orders = specs.iter().find(|s| s.name == "orders").unwrap();
        assert!(orders.kafka_configs.is_empty());
        assert_eq!(orders.retention.retention_bytes, 256 * 1024 * 1024);
        assert_eq!(orders.retention.cleanup_policy, CleanupPolicy::Delete);
    }

    #[test]
    fn retention_values_below_minus_one_and_unknown_policies_are_refused() {
        let bad = Settings::from_toml("[topics.t]\npartitions = 1\nretention_ms = -5\n")
            .unwrap()
            .validate_without_files()
            .unwrap_err();
        assert!(bad.to_string().contains("topics.t.retention_ms"), "{bad}");
        let policy = Settings::from_toml("[topics.t]\npartitions = 1\ncleanup_policy = \"keep\"\n")
            .unwrap_err();
        assert!(policy.to_string().contains("compact,delete"), "{policy}");
    }
}
