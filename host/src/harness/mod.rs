//! The offline plugin harness (`streamplug plugin test`): a plugin runs on a
//! file of events exactly as the gateway would run it (same engine, limits,
//! host functions and trap reports) with none of the gateway around it. Its
//! KV state lives in memory, its publishes and pushes are captured, its HTTP
//! requests are answered from fixtures and never sent, and the run's report
//! can be checked against an expectations file. No event log, broker or
//! server is involved.
//!
//! Each event is handled once and committed on its own (`ok` applies its KV
//! writes before the next event); a retry or a trap is reported, not
//! retried. A trap discards the instance, as in the gateway, so the next
//! event starts on a fresh one.

pub mod events;
pub mod expect;
pub mod memory_kv;
pub mod render;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

pub use events::EventLine;
use memory_kv::MemoryKv;

use crate::config::{ConfigError, PluginManifest, Settings, TopicSettings};
use crate::routing::Router;
use crate::runtime::RuntimeError;
use crate::runtime::effects::{Effects, Trigger};
use crate::runtime::engine::PluginEngine;
use crate::runtime::log_book::LogBook;
use crate::runtime::outbound::{CallMode, HttpFixtures};
use crate::runtime::plugin::{Outcome, PluginVersion};
use crate::runtime::state::HostServices;
use crate::runtime::summary::{EffectSummary, kv_value};

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The manifest is not a valid plugin table.
    #[error("the manifest: {0}")]
    Manifest(String),
    /// The manifest breaks a rule of the gateway's configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The component did not compile, link or initialise.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// What one event did.
#[derive(Debug, Clone, Serialize)]
pub struct EventRun {
    /// Line of the events file.
    pub line: usize,
    /// Event id.
    pub id: String,
    /// Event type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The customer.
    pub subject: Option<String>,
    /// The topic it was routed to.
    pub topic: String,
    /// Whether the plugin got it (its manifest subscribes to the topic and
    /// wants the type).
    pub handled: bool,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_handled: Option<String>,
    /// What the call did (nothing for an event not handled).
    #[serde(flatten)]
    pub effects: Option<EffectSummary>,
    /// The whole reason of a trap (the summary keeps its first line):
    /// the plugin's output and the wasm backtrace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trap: Option<String>,
    /// The plugin's log lines while handling it: `[level, message]`.
    pub logs: Vec<(String, String)>,
    /// How long the call took, in microseconds.
    pub micros: u64,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The plugin.
    pub plugin: String,
    /// Its version id (component and manifest).
    pub version: String,
    /// Every event of the file, in order.
    pub events: Vec<EventRun>,
    /// The plugin's KV state after the run (values as JSON when they are
    /// JSON or packed).
    pub kv: BTreeMap<String, Value>,
    /// What the load noticed: a capability imported and not granted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A plugin loaded for offline runs.
pub struct Harness {
    version: Arc<PluginVersion>,
    kv: Arc<MemoryKv>,
    logs: Arc<LogBook>,
    fixtures: Arc<HttpFixtures>,
    router: Router,
    push_topic: String,
    warnings: Vec<String>,
}

/// The manifest in `text` (a plugin table, or a configuration fragment with
/// one `[[plugins]]`), its `wasm` set to `wasm`.
pub fn manifest(text: &str, wasm: &Path) -> Result<PluginManifest, HarnessError> {
    let mut table = crate::config::plugin_table(text).map_err(HarnessError::Manifest)?;
    table.insert("wasm".into(), wasm.display().to_string().into());
    table
        .try_into()
        .map_err(|e: toml::de::Error| HarnessError::Manifest(e.message().to_owned()))
}

impl Harness {
    /// Compile (or load from `cache_dir`), link and initialise the plugin of
    /// `manifest` (whose `wasm` is the component), checked like a deploy:
    /// the manifest by the gateway's rules, the imports against its grants
    /// (an ungranted one is a warning of the report).
    /// Credentials are not bound: no request leaves the harness.
    pub async fn load(
        mut manifest: PluginManifest,
        fixtures: HttpFixtures,
        cache_dir: Option<PathBuf>,
    ) -> Result<Self, HarnessError> {
        manifest.credentials.clear();
        let mut settings = Settings::from_toml(crate::config::EMBEDDED_DEFAULT)?;
        settings.plugins.clear();
        for topic in &manifest.subscribe {
            settings
                .topics
                .entry(topic.clone())
                .or_insert(TopicSettings::with_partitions(1));
        }
        settings.validate_plugin(&manifest)?;
        let engine = PluginEngine::new(&settings.runtime)?;
        let kv = Arc::new(MemoryKv::default());
        let logs = Arc::new(LogBook::default());
        let services = HostServices {
            kv: kv.clone(),
            push_topic: settings.websocket.push_topic.clone(),
            cache_dir,
            credentials: Arc::default(),
            logs: logs.clone(),
            vocabulary: settings.event_types.0.clone(),
            timers: Arc::default(),
        };
        let wasm = manifest.wasm.clone();
        let version = PluginVersion::load(&engine, &manifest, &wasm, &services).await?;
        let warnings = version.warn_ungranted().into_iter().collect();
        Ok(Self {
            version,
            kv,
            logs,
            fixtures: Arc::new(fixtures),
            router: settings.router(),
            push_topic: services.push_topic,
            warnings,
        })
    }

    /// Read an events file's text for this plugin (see [`events::read`]).
    pub fn events(&self, text: &str) -> Result<Vec<EventLine>, String> {
        let fallback = self
            .version
            .manifest
            .subscribe
            .first()
            .cloned()
            .unwrap_or_default();
        events::read(text, &self.router, &fallback)
    }

    /// Handle `events` in order.
    pub async fn run(&self, events: &[EventLine]) -> Report {
        let mut runs = Vec::with_capacity(events.len());
        for event in events {
            runs.push(self.handle(event).await);
        }
        let name = &self.version.manifest.name;
        let kv = self
            .kv
            .entries(name)
            .into_iter()
            .map(|(k, v)| (k, kv_value(&v)))
            .collect();
        Report {
            plugin: name.clone(),
            version: self.version.id.clone(),
            events: runs,
            kv,
            warnings: self.warnings.clone(),
        }
    }

    async fn handle(&self, line: &EventLine) -> EventRun {
        let manifest = &self.version.manifest;
        let event = &line.stored.event;
        let mut run = EventRun {
            line: line.line,
            id: event.id.clone(),
            ty: event.ty.clone(),
            subject: event.subject.clone(),
            topic: event.topic.clone(),
            handled: false,
            not_handled: None,
            effects: None,
            trap: None,
            logs: Vec::new(),
            micros: 0,
        };
        run.not_handled = if !manifest.subscribe.contains(&event.topic) {
            Some(format!(
                "the manifest does not subscribe to `{}`",
                event.topic
            ))
        } else if !manifest.wants(&event.ty) {
            Some(format!("the manifest's `types` do not take `{}`", event.ty))
        } else {
            None
        };
        run.handled = run.not_handled.is_none();
        if !run.handled {
            return run;
        }
        let effects = Effects {
            trigger: Trigger::of_stored(&line.stored),
            ..Effects::default()
        };
        let seen = self
            .logs
            .read(&manifest.name, 0, usize::MAX)
            .last()
            .map_or(0, |l| l.seq);
        let started = Instant::now();
        let mode = CallMode::Offline(self.fixtures.clone());
        let (outcome, effects) = self.version.handle_as(&line.stored, effects, mode).await;
        run.micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if outcome == Outcome::Ok {
            self.kv.write(&manifest.name, &effects.current.kv);
        }
        if let Outcome::Trap(reason) = &outcome
            && reason.contains('\n')
        {
            run.trap = Some(reason.clone());
        }
        run.effects = Some(EffectSummary::of(
            &outcome,
            &effects.current,
            &self.push_topic,
        ));
        run.logs = self
            .logs
            .read(&manifest.name, seen, usize::MAX)
            .into_iter()
            .map(|l| (l.level.into_owned(), l.message))
            .collect();
        run
    }
}
