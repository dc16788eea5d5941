//! Which event log and KV store a test gateway runs on, and the outside
//! services (broker, Redis) that backend needs, started for the test.

use anyhow::Result;

use crate::{broker, redis};

/// Which event log and KV store a test gateway runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded log and KV store.
    Embedded,
    /// A real Kafka-compatible broker (tansu) and a real Redis, both started
    /// for the test on free loopback ports.
    Kafka,
}

/// The outside services a [`Backend`] needs, running while this lives.
pub struct Stores {
    /// The broker, on [`Backend::Kafka`].
    pub broker: Option<broker::Tansu>,
    /// Redis, on [`Backend::Kafka`].
    pub redis: Option<redis::Redis>,
}

impl Stores {
    /// Start what `backend` needs.
    pub fn start(backend: Backend) -> Result<Self> {
        Ok(match backend {
            Backend::Embedded => Self {
                broker: None,
                redis: None,
            },
            Backend::Kafka => Self {
                broker: Some(broker::Tansu::start()?),
                redis: Some(redis::Redis::start()?),
            },
        })
    }

    /// The `[log]` and `[kv]` tables that point a gateway at these stores.
    /// tansu 0.6 reports a partition's high watermark as the base offset of
    /// its last record batch + 1, so the tests make librdkafka send one
    /// record per batch to read exact ends from it (Kafka needs no such option).
    pub fn toml(&self) -> String {
        let mut out = String::new();
        if let Some(broker) = &self.broker {
            out.push_str(&format!(
                "[log]\nbackend = \"kafka\"\n[log.kafka]\nbootstrap_servers = \"{}\"\n[log.kafka.options]\n\"batch.num.messages\" = \"1\"\n",
                broker.bootstrap
            ));
        }
        if let Some(redis) = &self.redis {
            out.push_str(&format!(
                "[kv]\nbackend = \"redis\"\n[kv.redis]\nurl = \"{}\"\n",
                redis.url
            ));
        }
        out
    }
}
