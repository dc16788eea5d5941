//! Gateway settings: one TOML file (or the embedded default), every setting
//! overridable by an environment variable, then by command-line flags.
//!
//! Environment variables: `STREAMPLUG_<SECTION>__<KEY>`, for example
//! `STREAMPLUG_SERVER__LISTEN=0.0.0.0:8080` or
//! `STREAMPLUG_STORAGE__DEFAULT_PARTITIONS=8`.

mod admin;
mod auth;
mod backends;
mod commands;
mod credentials;
mod manifest;
pub mod origin;
mod redact;
pub mod schema_history;
pub mod scopes;
mod storage;
mod topics;
mod validate;
mod vocabulary;
mod webhooks;
mod websocket;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

pub use admin::AdminSettings;
pub use auth::{ApiKeySettings, AuthSettings, DEFAULT_DEV_TOKEN_MAX_TTL_SECS};
pub use backends::{KvBackend, KvSettings, LogBackend, LogSettings, expand_env};
pub use credentials::CredentialSettings;
pub use manifest::{PluginLimits, PluginManifest, RetryPolicy, is_valid_plugin_name, plugin_table};
pub use storage::StorageSettings;
pub use topics::TopicSettings;
pub use validate::ConfigError;
pub use vocabulary::{EventTypes, VocabularySettings};

/// `server.max_batch_events` unless configured.
pub const DEFAULT_MAX_BATCH_EVENTS: usize = 1000;
pub use webhooks::{Endpoint, EndpointSettings, Endpoints, Scheme, WebhookSettings};
pub use websocket::WebSocketSettings;

/// The configuration the gateway starts with when given no file: the
/// embedded log under `./data`, the standard routes and the first-party plugins.
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

/// Everything the gateway needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener and request limits.
    #[serde(default)]
    pub server: ServerSettings,
    /// Who may call the public listener: API keys, tokens, roles.
    #[serde(default)]
    pub auth: AuthSettings,
    /// Local data directory and partition defaults.
    #[serde(default)]
    pub storage: StorageSettings,
    /// Which event log: embedded or Kafka.
    #[serde(default)]
    pub log: LogSettings,
    /// Which KV store holds plugin state: embedded or Redis.
    #[serde(default)]
    pub kv: KvSettings,
    /// Plugin runtime settings shared by all plugins.
    #[serde(default)]
    pub runtime: RuntimeSettings,
    /// WebSocket sessions and the push log.
    #[serde(default)]
    pub websocket: WebSocketSettings,
    /// Event type pattern (`order.placed` or `order.*`) to topic. The most
    /// specific pattern wins. Without a `[routes]` table, the standard
    /// routes ([`standard_routes`]).
    #[serde(default = "standard_routes")]
    pub routes: BTreeMap<String, String>,
    /// Per-topic settings; topics not listed get the defaults.
    #[serde(default)]
    pub topics: BTreeMap<String, TopicSettings>,
    /// Event types besides (or instead of) the standard e-commerce set.
    #[serde(default)]
    pub vocabulary: VocabularySettings,
    /// The vocabulary `[vocabulary]` names, loaded when the settings are
    /// read ([`Settings::load`], [`Settings::from_toml`]).
    #[serde(skip)]
    pub event_types: EventTypes,
    /// Inbound webhooks (CPaaS delivery reports).
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// The admin API.
    #[serde(default)]
    pub admin: AdminSettings,
    /// Credentials the host attaches to plugins' outbound requests, by name
    /// (bound to origins in plugin manifests). Values may be `${ENV}`.
    #[serde(default)]
    pub credentials: BTreeMap<String, CredentialSettings>,
    /// The plugins to load.
    #[serde(default)]
    pub plugins: Vec<PluginManifest>,
}

/// HTTP listener and request limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Most events accepted in one batch request (413 above).
    pub max_batch_events: usize,
    /// A connection must send a request's head within this, ms; the same
    /// timer closes a keep-alive connection idle for this long.
    pub header_read_timeout_ms: u64,
    /// A request's body must arrive within this, ms (408 after).
    pub body_read_timeout_ms: u64,
    /// Most open connections (HTTP and WebSocket) at once; more wait unaccepted.
    pub max_connections: usize,
    /// Most open connections from one client address; more are closed at once.
    pub max_connections_per_address: usize,
    /// Ingest requests a second one client address may make (sustained),
    /// 0: no limit. Requests with an API key count against the key's own
    /// `rate_per_sec` instead (a backend sends for many shoppers).
    pub ingest_rate_per_address: u32,
    /// Burst of ingest requests one client address may make.
    pub ingest_burst_per_address: u32,
    /// Requests of one principal waiting for a reply at once (`reply_timeout_ms`).
    pub max_reply_waits_per_principal: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            max_batch_events: DEFAULT_MAX_BATCH_EVENTS,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            max_connections: 20_000,
            max_connections_per_address: 512,
            ingest_rate_per_address: 200,
            ingest_burst_per_address: 400,
            max_reply_waits_per_principal: 64,
        }
    }
}

/// Plugin runtime settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeSettings {
    /// Directory that relative plugin `wasm` paths are resolved against.
    pub plugin_dir: PathBuf,
    /// Granularity of CPU-time accounting (epoch tick), milliseconds.
    pub epoch_tick_ms: u64,
    /// Most plugin instances alive at once, across all plugins (pooling allocator slots).
    pub max_instances: u32,
    /// Largest memory any plugin may be granted, MiB (a plugin's own limit is in its manifest).
    pub max_memory_mib: u64,
    /// Where compiled components are kept (default `<data_dir>/compiled`).
    /// Several gateways may share one; only streamplug may write to it.
    pub cache_dir: Option<PathBuf>,
    /// Reload a configured plugin when its `.wasm` file changes (through
    /// the same validation as an upload). For development.
    pub watch: bool,
    /// Stored versions kept per plugin, newest first (`0`: all); versions
    /// in use or named by the configuration are kept besides.
    pub keep_versions: usize,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            plugin_dir: PathBuf::from("target/wasm32-wasip2/plugin"),
            epoch_tick_ms: 10,
            max_instances: 64,
            max_memory_mib: 512,
            cache_dir: None,
            watch: false,
            keep_versions: 10,
        }
    }
}

/// Overrides given on the command line (flags or their environment variables).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--plugin-dir`.
    pub plugin_dir: Option<PathBuf>,
    /// `--watch`.
    pub watch: bool,
}

/// Where the vocabulary's events go unless `[routes]` says otherwise:
/// interactions to `customer-interactions`, orders to `order-events`,
/// support messages to `support-inquiries`, message statuses to
/// `engagement-events`.
pub fn standard_routes() -> BTreeMap<String, String> {
    [
        ("page.*", "customer-interactions"),
        ("product.*", "customer-interactions"),
        ("cart.*", "customer-interactions"),
        ("customer.*", "customer-interactions"),
        ("order.*", "order-events"),
        ("support.*", "support-inquiries"),
        ("message.*", "engagement-events"),
    ]
    .into_iter()
    .map(|(pattern, topic)| (pattern.to_owned(), topic.to_owned()))
    .collect()
}

impl Settings {
    /// Load from `file` (or the embedded default), then `STREAMPLUG_*__*`
    /// environment variables, then `overrides`; validate the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let base = match file {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError::Missing(path.to_owned()));
                }
                Figment::from(Toml::file_exact(path))
            }
            None => Figment::from(Toml::string(EMBEDDED_DEFAULT)),
        };
        let env = Env::prefixed("STREAMPLUG_")
            .filter(|key| key.as_str().contains("__"))
            .split("__");
        let mut settings: Settings = base
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        if let Some(listen) = overrides.listen {
            settings.server.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            settings.storage.data_dir.clone_from(dir);
        }
        if let Some(dir) = &overrides.plugin_dir {
            settings.runtime.plugin_dir.clone_from(dir);
        }
        settings.runtime.watch |= overrides.watch;
        settings.event_types = EventTypes(settings.vocabulary.load()?);
        settings.validate()?;
        Ok(settings)
    }

    /// Parse settings from TOML text (no environment, no validation) and
    /// load the vocabulary they name.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let mut settings: Self =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        settings.event_types = EventTypes(settings.vocabulary.load()?);
        Ok(settings)
    }

    /// Type → topic routing: the `[routes]`, and the topics the event
    /// types' definitions name (an exact route beats a type's own topic,
    /// which beats a prefix route).
    pub fn router(&self) -> crate::routing::Router {
        crate::routing::Router::new(&self.routes).with_topics_of(&self.event_types)
    }

    /// The topics events can reach: routed to, declared, or published to by
    /// a plugin.
    pub fn produced_topics(&self) -> BTreeSet<&String> {
        self.routes
            .values()
            .chain(
                self.event_types
                    .types()
                    .iter()
                    .filter_map(|t| t.topic.as_ref()),
            )
            .chain(self.topics.keys())
            .chain(self.plugins.iter().flat_map(|p| &p.publish))
            .collect()
    }

    /// Every topic the gateway writes to: route targets, plugin grants and
    /// dead-letter topics, and the explicitly configured ones.
    pub fn all_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self
            .routes
            .values()
            .cloned()
            .chain(
                self.event_types
                    .types()
                    .iter()
                    .filter_map(|t| t.topic.clone()),
            )
            .chain(self.topics.keys().cloned())
            .chain(std::iter::once(self.websocket.push_topic.clone()))
            .chain(self.plugins.iter().flat_map(|p| {
                p.publish
                    .iter()
                    .cloned()
                    .chain(p.subscribe.iter().cloned())
                    .chain(std::iter::once(p.dead_letter_topic()))
            }))
            .collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// Every credential with its `${ENV}` references resolved.
    pub fn credentials_resolved(
        &self,
    ) -> Result<BTreeMap<String, CredentialSettings>, ConfigError> {
        self.credentials
            .iter()
            .map(|(name, c)| {
                let at = |field: &str| format!("credentials.{name}.{field}");
                let resolved = match c {
                    CredentialSettings::Oauth2ClientCredentials {
                        token_url,
                        client_id,
                        client_secret,
                        scope,
                    } => CredentialSettings::Oauth2ClientCredentials {
                        token_url: expand_env(&at("token_url"), token_url)?,
                        client_id: expand_env(&at("client_id"), client_id)?,
                        client_secret: expand_env(&at("client_secret"), client_secret)?,
                        scope: scope
                            .as_deref()
                            .map(|s| expand_env(&at("scope"), s))
                            .transpose()?,
                    },
                    CredentialSettings::Header {
                        name: header,
                        value,
                    } => CredentialSettings::Header {
                        name: header.clone(),
                        value: expand_env(&at("value"), value)?,
                    },
                };
                Ok((name.clone(), resolved))
            })
            .collect()
    }

    /// Absolute or cwd-relative path of a plugin's component; a built-in
    /// plugin's is where the gateway writes it ([`crate::builtin::write`]).
    pub fn wasm_path(&self, plugin: &PluginManifest) -> PathBuf {
        if let Some(name) = crate::builtin::name_in(&plugin.wasm) {
            crate::builtin::path(&self.storage.data_dir, name)
        } else if plugin.wasm.is_absolute() {
            plugin.wasm.clone()
        } else {
            self.runtime.plugin_dir.join(&plugin.wasm)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_routes_every_vocabulary_type() {
        let s = Settings::from_toml(EMBEDDED_DEFAULT).unwrap();
        s.validate_without_files().unwrap();
        let router = s.router();
        for t in crate::event::vocabulary::Vocabulary::standard().types() {
            assert!(router.topic_for(&t.name).is_some(), "{}", t.name);
        }
        assert!(s.plugins.iter().any(|p| p.name == "recommend"));
        assert_eq!(s.routes, standard_routes());
    }

    #[test]
    fn a_file_without_routes_gets_the_standard_ones() {
        let s = Settings::from_toml("[server]\nlisten = \"127.0.0.1:0\"").unwrap();
        assert_eq!(s.routes, standard_routes());
        let s = Settings::from_toml("[routes]\n\"order.*\" = \"orders\"").unwrap();
        assert_eq!(s.routes.len(), 1, "a [routes] table replaces them");
    }
}
