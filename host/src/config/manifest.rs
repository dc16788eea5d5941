//! A plugin's manifest: what it is, what it consumes, what it is granted and
//! how far it may go. Everything not granted is denied.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One `[[plugins]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginManifest {
    /// Unique name: lowercase letters, digits and `-`. Also names its KV
    /// namespace, consumer group and dead-letter topic.
    pub name: String,
    /// The component file (absolute, or relative to `runtime.plugin_dir`).
    pub wasm: PathBuf,
    /// Topics to consume.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Only these event types are handed to the plugin (others are skipped);
    /// empty means every type.
    #[serde(default)]
    pub types: Vec<String>,
    /// Topics the plugin may publish to.
    #[serde(default)]
    pub publish: Vec<String>,
    /// Command types (`"kind": "command"` in their type files) this plugin
    /// processes: it is their one processor, and what it does with each
    /// (accepts, refuses, fails) answers the command. Left out of the
    /// stored manifest when empty, so versions ids made before stay the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Channels the plugin may push to customers' live sessions on; empty
    /// denies pushing.
    #[serde(default)]
    pub push_channels: Vec<String>,
    /// Outbound HTTP origins the plugin may call (`https://api.example.com`,
    /// `http://127.0.0.1:8081`); empty denies every host.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Host names in `allowed_hosts` that may resolve to private, loopback or
    /// link-local addresses (an intranet CRM). Other names that do are
    /// refused; an address written in `allowed_hosts` is granted as written.
    #[serde(default)]
    pub private_hosts: Vec<String>,
    /// Origin (one of `allowed_hosts`) → name of a `[credentials.NAME]` the
    /// host attaches to requests to it. The plugin never sees the secret.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// Where events that cannot be handled go; `dlq.<name>` by default.
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
    /// Resource limits.
    #[serde(default)]
    pub limits: PluginLimits,
    /// Redelivery of events the plugin could not handle.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Longest a batch that staged nothing (no publish, push or KV write,
    /// no outbound request) keeps its offsets uncommitted, milliseconds
    /// (default [`DEFAULT_COMMIT_INTERVAL_MS`]; `0` commits every batch):
    /// Kafka Streams' `commit.interval.ms`, kept to the batches that have
    /// nothing the offsets must be atomic with. After a crash the plugin
    /// sees those events again. Left out of the stored manifest when unset,
    /// so versions ids made before stay the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_interval_ms: Option<u64>,
    /// Values the plugin reads through the `config` interface.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// The plugin table of a manifest file: the file itself, or the one
/// `[[plugins]]` table of a configuration fragment (like an example's
/// `plugin.toml`).
pub fn plugin_table(text: &str) -> Result<toml::Table, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    match table.remove("plugins") {
        None => Ok(table),
        Some(toml::Value::Array(entries)) => match <[_; 1]>::try_from(entries) {
            Ok([toml::Value::Table(plugin)]) => Ok(plugin),
            Ok(_) => Err("`plugins` is not a table".into()),
            Err(entries) => Err(format!(
                "the file declares {} plugins (`[[plugins]]`); a manifest is one",
                entries.len()
            )),
        },
        Some(_) => Err("`plugins` is not an array of tables (`[[plugins]]`)".into()),
    }
}

/// [`PluginManifest::commit_interval_ms`] when the manifest does not set it.
pub const DEFAULT_COMMIT_INTERVAL_MS: u64 = 1000;
/// The largest [`PluginManifest::commit_interval_ms`] allowed.
pub const MAX_COMMIT_INTERVAL_MS: u64 = 600_000;

impl PluginManifest {
    /// How long offsets that no effect carried may stay uncommitted, ms.
    pub fn commit_interval_millis(&self) -> u64 {
        self.commit_interval_ms
            .unwrap_or(DEFAULT_COMMIT_INTERVAL_MS)
    }

    /// [`Self::commit_interval_millis`] as a duration.
    pub fn commit_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.commit_interval_millis())
    }

    /// The dead-letter topic of this plugin.
    pub fn dead_letter_topic(&self) -> String {
        self.dead_letter_topic
            .clone()
            .unwrap_or_else(|| format!("dlq.{}", self.name))
    }

    /// The consumer group whose offsets this plugin commits.
    pub fn consumer_group(&self) -> String {
        format!("streamplug.{}", self.name)
    }

    /// Whether this plugin is the processor of command type `ty`.
    pub fn processes(&self, ty: &str) -> bool {
        self.commands.iter().any(|c| c == ty)
    }

    /// Whether events of type `ty` are handed to this plugin.
    pub fn wants(&self, ty: &str) -> bool {
        self.types.is_empty()
            || self
                .types
                .iter()
                .any(|t| crate::routing::pattern_matches(t, ty))
    }
}

/// Whether `name` can name a plugin: 1-64 lowercase letters, digits or `-`.
pub fn is_valid_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Resource limits of one plugin; every plugin runs within them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// Linear memory of one instance, MiB.
    pub memory_mib: u64,
    /// CPU time one event may take inside the plugin, milliseconds.
    pub cpu_ms: u64,
    /// Wall-clock time one event may take including host calls, milliseconds.
    pub timeout_ms: u64,
    /// Warm instances kept, and so events handled at once.
    pub instances: u32,
    /// Bytes (keys and values) the plugin may keep in its KV store.
    pub kv_quota_bytes: u64,
    /// Events the plugin may publish while handling one event.
    pub max_publishes_per_event: u32,
    /// Log lines a second the plugin may write (bursts of twice that); more
    /// are dropped and counted (`streamplug_plugin_log_lines_dropped_total`).
    pub log_lines_per_second: u32,
    /// Outbound HTTP requests in flight at once.
    pub http_concurrency: u32,
    /// Outbound HTTP requests per second (further requests wait).
    pub http_requests_per_second: u32,
    /// Largest outbound HTTP response body, bytes.
    pub http_max_response_bytes: u64,
    /// How long a journal step's result is kept, seconds: a retry or
    /// redelivery of the event within it replays the step instead of
    /// calling again.
    pub journal_retention_secs: u64,
    /// Timers the plugin may have pending at once (`streamplug:plugin/timer`).
    #[serde(skip_serializing_if = "is_default_max_timers")]
    pub max_timers: u32,
}

/// The default of `max_timers`.
pub const DEFAULT_MAX_TIMERS: u32 = 10_000;

// Left out of the stored manifest at its default, so the ids of versions
// stored before timers existed stay the same.
fn is_default_max_timers(n: &u32) -> bool {
    *n == DEFAULT_MAX_TIMERS
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            memory_mib: 64,
            cpu_ms: 200,
            timeout_ms: 10_000,
            instances: 2,
            kv_quota_bytes: 64 * 1024 * 1024,
            max_publishes_per_event: 100,
            log_lines_per_second: 100,
            http_concurrency: 4,
            http_requests_per_second: 20,
            http_max_response_bytes: 1024 * 1024,
            journal_retention_secs: 7 * 24 * 60 * 60,
            max_timers: DEFAULT_MAX_TIMERS,
        }
    }
}

/// How events the plugin did not accept are redelivered.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in all (the first delivery included) before dead-lettering.
    pub max_attempts: u32,
    /// Backoff before the second attempt, milliseconds; doubles each time.
    pub initial_backoff_ms: u64,
    /// Longest backoff, milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff_ms: 100,
            max_backoff_ms: 10_000,
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt` (2 = the first retry).
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let exp = attempt.saturating_sub(2).min(30);
        let ms = self
            .initial_backoff_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_backoff_ms);
        std::time::Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff_ms: 100,
            max_backoff_ms: 500,
        };
        let ms: Vec<u128> = (2..7).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 500, 500]);
    }
}
