//! Which event log and which KV store the gateway uses, and how it connects
//! to them. Secrets stay out of the file: any connection value may name an
//! environment variable as `${NAME}`, resolved when the gateway connects.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::storage::kafka::KafkaSettings;
use crate::storage::redis::RedisSettings;

/// `[log]`: where events are stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `embedded` (one machine, under `storage.data_dir`) or `kafka`.
    pub backend: LogBackend,
    /// `[log.kafka]`: required when `backend = "kafka"`.
    pub kafka: Option<KafkaSettings>,
}

/// The event log backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogBackend {
    /// The embedded redb log.
    #[default]
    Embedded,
    /// A Kafka cluster (or any broker speaking its protocol).
    Kafka,
}

/// `[kv]`: where plugin state is kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KvSettings {
    /// `embedded` (this machine's database) or `redis` (shared by instances).
    pub backend: KvBackend,
    /// `[kv.redis]`: required when `backend = "redis"`.
    pub redis: Option<RedisSettings>,
}

/// The KV store backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KvBackend {
    /// The embedded redb database.
    #[default]
    Embedded,
    /// Redis, shared by every gateway instance.
    Redis,
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

/// Replace every `${NAME}` in `value` with environment variable `NAME`.
pub fn expand_env(setting: &str, value: &str) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| invalid(setting, "`${` without a closing `}`"))?;
        let name = &after[..end];
        let resolved = std::env::var(name).map_err(|_| {
            invalid(
                setting,
                format!("refers to environment variable `{name}`, which is not set"),
            )
        })?;
        out.push_str(&resolved);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl LogSettings {
    /// The Kafka settings with `${NAME}` references resolved.
    pub fn kafka_resolved(&self) -> Result<KafkaSettings, ConfigError> {
        let mut kafka = self.kafka.clone().ok_or_else(|| {
            invalid(
                "log.kafka",
                "`log.backend = \"kafka\"` needs a [log.kafka] table",
            )
        })?;
        kafka.bootstrap_servers =
            expand_env("log.kafka.bootstrap_servers", &kafka.bootstrap_servers)?;
        for (key, value) in &mut kafka.options {
            *value = expand_env(&format!("log.kafka.options.{key}"), value)?;
        }
        Ok(kafka)
    }
}

impl KvSettings {
    /// The Redis settings with `${NAME}` references resolved.
    pub fn redis_resolved(&self) -> Result<RedisSettings, ConfigError> {
        let mut redis = self.redis.clone().ok_or_else(|| {
            invalid(
                "kv.redis",
                "`kv.backend = \"redis\"` needs a [kv.redis] table",
            )
        })?;
        redis.url = expand_env("kv.redis.url", &redis.url)?;
        Ok(redis)
    }
}

/// Check the backend combination and that every referenced variable is set.
pub(super) fn validate(log: &LogSettings, kv: &KvSettings) -> Result<(), ConfigError> {
    if log.backend == LogBackend::Kafka {
        let kafka = log.kafka_resolved()?;
        if kafka.bootstrap_servers.trim().is_empty() {
            return Err(invalid("log.kafka.bootstrap_servers", "must not be empty"));
        }
        if kafka.replication_factor < 1 {
            return Err(invalid(
                "log.kafka.replication_factor",
                "must be at least 1",
            ));
        }
    }
    if kv.backend == KvBackend::Redis {
        if log.backend == LogBackend::Embedded {
            return Err(invalid(
                "kv.backend",
                "`redis` needs `log.backend = \"kafka\"`: the embedded log keeps plugin state in its own database, atomically with its offsets",
            ));
        }
        kv.redis_resolved()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_resolve_or_name_the_missing_variable() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_env("s", "a${PATH}b").unwrap(), format!("a{path}b"));
        assert_eq!(expand_env("s", "plain").unwrap(), "plain");
        let err = expand_env(
            "log.kafka.options.sasl.password",
            "${STREAMPLUG_SURELY_UNSET_VAR}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("STREAMPLUG_SURELY_UNSET_VAR"), "{err}");
        assert!(err.contains("log.kafka.options.sasl.password"), "{err}");
        assert!(expand_env("s", "${OPEN").is_err());
    }

    #[test]
    fn redis_state_needs_the_kafka_log() {
        let kv = KvSettings {
            backend: KvBackend::Redis,
            redis: Some(RedisSettings {
                url: "redis://127.0.0.1:6379".into(),
                key_prefix: "streamplug".into(),
            }),
        };
        assert!(validate(&LogSettings::default(), &kv).is_err());
        let kafka = LogSettings {
            backend: LogBackend::Kafka,
            kafka: None,
        };
        assert!(
            validate(&kafka, &KvSettings::default())
                .unwrap_err()
                .to_string()
                .contains("[log.kafka]")
        );
    }
}
