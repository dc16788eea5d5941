//! Load-time validation: unknown names, missing files and impossible limits
//! fail when the gateway starts, not when the first event arrives.

use std::collections::HashSet;
use std::path::PathBuf;

use super::{PluginManifest, Settings};
use crate::routing::{is_valid_pattern, is_valid_topic_name};

/// What is wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named config file does not exist.
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    /// The file or an environment variable does not parse.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A setting has an invalid value.
    #[error("invalid setting `{setting}`: {reason}")]
    Invalid {
        /// Dotted path of the setting.
        setting: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A plugin's component file is missing.
    #[error("plugin `{plugin}`: component {} not found{hint}", path.display())]
    WasmMissing {
        /// The plugin.
        plugin: String,
        /// Where it was looked for.
        path: PathBuf,
        /// How to build it, for the first-party plugins.
        hint: String,
    },
    /// An event type file does not read.
    #[error(transparent)]
    Vocabulary(#[from] crate::event::vocabulary::TypeFileError),
    /// A plugin names a built-in plugin this binary cannot provide.
    #[error("plugin `{plugin}`: {source}")]
    Builtin {
        /// The plugin.
        plugin: String,
        /// Why.
        source: crate::builtin::BuiltinError,
    },
}

pub(super) fn invalid(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.into(),
        reason: reason.into(),
    }
}

impl Settings {
    /// Validate everything, including that plugin components exist.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_without_files()?;
        for plugin in &self.plugins {
            if let Some(name) = crate::builtin::name_in(&plugin.wasm) {
                crate::builtin::component(name).map_err(|source| ConfigError::Builtin {
                    plugin: plugin.name.clone(),
                    source,
                })?;
                continue;
            }
            let path = self.wasm_path(plugin);
            if !path.is_file() {
                return Err(ConfigError::WasmMissing {
                    plugin: plugin.name.clone(),
                    hint: if path.starts_with("target") {
                        "; build the plugins first with `make plugins`".into()
                    } else {
                        String::new()
                    },
                    path,
                });
            }
        }
        Ok(())
    }

    /// Validate names, grants and limits (not the filesystem).
    pub fn validate_without_files(&self) -> Result<(), ConfigError> {
        if self.storage.default_partitions == 0 || self.storage.default_partitions > 1024 {
            return Err(invalid("storage.default_partitions", "must be 1 to 1024"));
        }
        if self.server.max_batch_events == 0 {
            return Err(invalid("server.max_batch_events", "must be at least 1"));
        }
        super::backends::validate(&self.log, &self.kv)?;
        super::auth::validate(&self.auth, self.server.listen)?;
        super::storage::validate(&self.storage, self.server.listen)?;
        if self.runtime.epoch_tick_ms == 0 {
            return Err(invalid("runtime.epoch_tick_ms", "must be at least 1"));
        }
        for (pattern, topic) in &self.routes {
            if !is_valid_pattern(pattern) {
                return Err(invalid(
                    format!("routes.{pattern}"),
                    "a pattern is an event type or a prefix ending in `.*`",
                ));
            }
            check_topic(&format!("routes.{pattern}"), topic)?;
        }
        for (name, topic) in &self.topics {
            check_topic(&format!("topics.{name}"), name)?;
            if topic.partitions == 0 || topic.partitions > 1024 {
                return Err(invalid(
                    format!("topics.{name}.partitions"),
                    "must be 1 to 1024",
                ));
            }
            let durations = [
                ("retention_ms", topic.retention_ms),
                ("retention_bytes", topic.retention_bytes),
                ("delete_retention_ms", topic.delete_retention_ms),
            ];
            for (field, value) in durations {
                check_retention(&format!("topics.{name}.{field}"), value)?;
            }
        }
        let storage = &self.storage;
        check_retention("storage.retention_ms", Some(storage.retention_ms))?;
        check_retention("storage.retention_bytes", Some(storage.retention_bytes))?;
        check_retention(
            "storage.delete_retention_ms",
            Some(storage.delete_retention_ms),
        )?;
        let mut names = HashSet::new();
        for plugin in &self.plugins {
            if !names.insert(plugin.name.as_str()) {
                return Err(invalid(
                    "plugins.name",
                    format!("`{}` is declared twice", plugin.name),
                ));
            }
            self.validate_plugin(plugin)?;
        }
        Ok(())
    }

    /// Validate one plugin's manifest against these settings.
    pub fn validate_plugin(&self, p: &PluginManifest) -> Result<(), ConfigError> {
        let at = |field: &str| format!("plugins.{}.{field}", p.name);
        if !super::manifest::is_valid_plugin_name(&p.name) {
            return Err(invalid(
                format!("plugins.{}", p.name),
                "a plugin name is 1-64 lowercase letters, digits or `-`",
            ));
        }
        if p.subscribe.is_empty() {
            return Err(invalid(
                at("subscribe"),
                "a plugin must subscribe to at least one topic",
            ));
        }
        let counts: Vec<(String, u32)> = p
            .subscribe
            .iter()
            .map(|t| (t.clone(), self.partitions(t)))
            .collect();
        if counts.iter().any(|(_, n)| *n != counts[0].1) {
            return Err(invalid(
                at("subscribe"),
                format!(
                    "topics a plugin reads together are merged per partition and must have the same number of partitions, but {}; set `partitions` alike in their `[topics.NAME]` tables",
                    counts
                        .iter()
                        .map(|(t, n)| format!("`{t}` has {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let produced = self.produced_topics();
        for topic in &p.subscribe {
            check_topic(&at("subscribe"), topic)?;
            if !produced.contains(topic) {
                return Err(invalid(
                    at("subscribe"),
                    format!(
                        "unknown topic `{topic}`: nothing routes or publishes to it \
                         (topics events reach: {}); route event types to it in `[routes]` \
                         or declare it as `[topics.{topic}]`",
                        produced
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        for topic in p.publish.iter().chain(p.dead_letter_topic.iter()) {
            check_topic(&at("publish"), topic)?;
        }
        for ty in &p.types {
            if !is_valid_pattern(ty) {
                return Err(invalid(
                    at("types"),
                    format!("`{ty}` is not an event type or `prefix.*`"),
                ));
            }
            let domain = ty.split('.').next().unwrap_or_default();
            let vocabulary_domain = self
                .event_types
                .types()
                .iter()
                .any(|t| t.name.split('.').next() == Some(domain));
            let known = ty.ends_with(".*") || self.event_types.lookup(ty).is_some();
            if vocabulary_domain && !known {
                return Err(invalid(at("types"), format!("unknown event type `{ty}`")));
            }
        }
        self.validate_commands(p)?;
        let mut granted = Vec::new();
        for host in &p.allowed_hosts {
            granted.push(
                super::origin::AllowedOrigin::parse(host)
                    .map_err(|reason| invalid(at("allowed_hosts"), reason))?,
            );
        }
        for (origin, credential) in &p.credentials {
            let parsed = super::origin::AllowedOrigin::parse(origin)
                .map_err(|reason| invalid(at("credentials"), reason))?;
            if !granted.contains(&parsed) {
                return Err(invalid(
                    at("credentials"),
                    format!("`{origin}` is not in allowed_hosts"),
                ));
            }
            if !self.credentials.contains_key(credential) {
                return Err(invalid(
                    at("credentials"),
                    format!("no [credentials.{credential}] is configured"),
                ));
            }
        }
        for host in &p.private_hosts {
            if !granted.iter().any(|o| o.host.eq_ignore_ascii_case(host)) {
                return Err(invalid(
                    at("private_hosts"),
                    format!("`{host}` is not the host of an origin in allowed_hosts"),
                ));
            }
        }
        if p.limits.http_concurrency == 0 || p.limits.http_requests_per_second == 0 {
            return Err(invalid(
                at("limits.http_concurrency"),
                "http_concurrency and http_requests_per_second must be at least 1",
            ));
        }
        let l = &p.limits;
        if l.memory_mib == 0 || l.memory_mib > self.runtime.max_memory_mib {
            return Err(invalid(
                at("limits.memory_mib"),
                format!(
                    "must be 1 to runtime.max_memory_mib ({})",
                    self.runtime.max_memory_mib
                ),
            ));
        }
        if l.cpu_ms == 0 || l.timeout_ms < l.cpu_ms {
            return Err(invalid(
                at("limits"),
                "cpu_ms must be at least 1 and timeout_ms at least cpu_ms",
            ));
        }
        if l.instances == 0 || l.instances > self.runtime.max_instances {
            return Err(invalid(
                at("limits.instances"),
                "must be 1 to runtime.max_instances",
            ));
        }
        if p.retry.max_attempts == 0 {
            return Err(invalid(at("retry.max_attempts"), "must be at least 1"));
        }
        if p.commit_interval_ms
            .is_some_and(|ms| ms > super::manifest::MAX_COMMIT_INTERVAL_MS)
        {
            return Err(invalid(
                at("commit_interval_ms"),
                format!(
                    "must be at most {} (ten minutes)",
                    super::manifest::MAX_COMMIT_INTERVAL_MS
                ),
            ));
        }
        Ok(())
    }
}

fn check_topic(setting: &str, topic: &str) -> Result<(), ConfigError> {
    if is_valid_topic_name(topic) {
        Ok(())
    } else {
        Err(invalid(
            setting,
            format!("`{topic}` is not a topic name (1-249 of a-z, A-Z, 0-9, `.`, `_`, `-`)"),
        ))
    }
}

/// Kafka's retention values: a count, or `-1` for no bound.
fn check_retention(setting: &str, value: Option<i64>) -> Result<(), ConfigError> {
    match value {
        Some(v) if v < -1 => Err(invalid(setting, "must be -1 (no bound) or at least 0")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(plugin: &str) -> Settings {
        Settings::from_toml(&format!(
            "[routes]\n\"product.*\" = \"customer-interactions\"\n[[plugins]]\nname = \"p\"\nwasm = \"p.wasm\"\n{plugin}"
        ))
        .unwrap()
    }

    #[test]
    fn unknown_names_are_clear_errors() {
        let cases = [
            ("subscribe = [\"nowhere\"]", "unknown topic `nowhere`"),
            (
                "subscribe = [\"customer-interactions\"]\ntypes = [\"product.veiwed\"]",
                "unknown event type",
            ),
            (
                "subscribe = [\"customer-interactions\"]\npublish = [\"bad topic\"]",
                "not a topic name",
            ),
            ("subscribe = []", "at least one topic"),
            (
                "subscribe = [\"customer-interactions\", \"audit\"]\n[topics.audit]\npartitions = 3",
                "`customer-interactions` has 4, `audit` has 3",
            ),
            (
                "subscribe = [\"customer-interactions\"]\nallowed_hosts = [\"ftp://x\"]",
                "allowed_hosts",
            ),
            (
                "subscribe = [\"customer-interactions\"]\n[plugins.limits]\nmemory_mib = 0",
                "memory_mib",
            ),
            (
                "subscribe = [\"customer-interactions\"]\ncommit_interval_ms = 600001",
                "commit_interval_ms",
            ),
        ];
        for (toml, expected) in cases {
            let err = settings(toml)
                .validate_without_files()
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{toml}: {err}");
        }
    }

    #[test]
    fn plugins_cannot_ask_for_more_instances_than_the_pool_holds() {
        let mut s =
            settings("subscribe = [\"customer-interactions\"]\n[plugins.limits]\ninstances = 8");
        s.runtime.max_instances = 8;
        s.validate_without_files().unwrap();
        s.runtime.max_instances = 4;
        let err = s.validate_without_files().unwrap_err().to_string();
        assert!(err.contains("runtime.max_instances"), "{err}");
    }

    #[test]
    fn unknown_manifest_fields_are_refused_when_parsing() {
        let err =
            Settings::from_toml("[[plugins]]\nname = \"p\"\nwasm = \"p.wasm\"\nsubscibe = []")
                .unwrap_err();
        assert!(err.to_string().contains("subscibe"), "{err}");
    }

    #[test]
    fn a_missing_component_names_the_plugin_and_path() {
        let s = settings("subscribe = [\"customer-interactions\"]");
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("plugin `p`") && err.contains("p.wasm"),
            "{err}"
        );
    }
}
