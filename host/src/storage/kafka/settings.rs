//! How the gateway connects to Kafka: `[log.kafka]` and the librdkafka
//! configuration every client of the backend starts from.

use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;
use serde::{Deserialize, Serialize};

/// Connection settings of the Kafka backend.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// `bootstrap.servers`, e.g. `pkc-xxxx.confluent.cloud:9092`.
    pub bootstrap_servers: String,
    /// Replication factor of topics the gateway creates.
    #[serde(default = "default_replication")]
    pub replication_factor: i32,
    /// How long an append may wait for the broker's acknowledgement, ms.
    #[serde(default = "default_delivery_timeout")]
    pub delivery_timeout_ms: u64,
    /// How long a plugin that reads several topics waits for one of them
    /// that the broker says holds records not yet fetched, before it goes on
    /// without it (Kafka Streams' `max.task.idle.ms`), ms.
    #[serde(default = "default_max_task_idle")]
    pub max_task_idle_ms: u64,
    /// librdkafka options passed through (SASL, SSL, ...).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

fn default_max_task_idle() -> u64 {
    1_000
}

fn default_replication() -> i32 {
    1
}

fn default_delivery_timeout() -> u64 {
    10_000
}

/// The base librdkafka configuration: bootstrap servers and the pass-through options.
pub(super) fn client_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &settings.bootstrap_servers);
    for (k, v) in &settings.options {
        config.set(k, v);
    }
    config
}
