//! What a plugin instance's store holds: its sandboxed WASI context, its
//! grants, the effects it is staging, and its resource limits.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::effects::Effects;
use super::log_book::LogBook;
use super::outbound::{Credential, OutboundGrants, OutboundHooks, OutboundPolicy};
use super::stderr_tail::StderrTail;
use super::timers::{PluginTimers, TimerBooks};
use crate::config::PluginManifest;
use crate::event::vocabulary::Vocabulary;
use crate::storage::KvStore;

/// What the host gives every plugin it loads.
#[derive(Clone)]
pub struct HostServices {
    /// Committed plugin state.
    pub kv: Arc<dyn KvStore>,
    /// The topic pushes are written to.
    pub push_topic: String,
    /// Where compiled components are cached (none: compile every time).
    pub cache_dir: Option<std::path::PathBuf>,
    /// Credentials plugins' manifests may bind to origins, by name.
    pub credentials: Arc<BTreeMap<String, Arc<Credential>>>,
    /// The plugins' recent log lines.
    pub logs: Arc<LogBook>,
    /// The event types publishes of theirs are checked against.
    pub vocabulary: Arc<Vocabulary>,
    /// Every plugin's pending timers.
    pub timers: Arc<TimerBooks>,
}

impl HostServices {
    /// Services for plugins run outside a gateway (benchmarks, tests): the
    /// state in `kv`, pushes to `customer-pushes`, the standard vocabulary,
    /// no compile cache and no credentials.
    pub fn standalone(kv: Arc<dyn KvStore>) -> Self {
        Self {
            kv,
            push_topic: "customer-pushes".into(),
            cache_dir: None,
            credentials: Arc::default(),
            logs: Arc::default(),
            vocabulary: Vocabulary::shared_standard().clone(),
            timers: Arc::default(),
        }
    }
}

/// The plugin-wide, read-only part of every instance's state.
pub struct PluginContext {
    /// Plugin name (also its KV namespace).
    pub name: String,
    /// The version id, naming the version in logs.
    pub version: String,
    /// Topics the plugin may publish to.
    pub publish_grants: HashSet<String>,
    /// Channels the plugin may push on.
    pub push_grants: HashSet<String>,
    /// The push log topic.
    pub push_topic: String,
    /// Command types it processes.
    pub commands: HashSet<String>,
    /// Config values (never secrets).
    pub config: BTreeMap<String, String>,
    /// KV quota, bytes.
    pub kv_quota: u64,
    /// How long journal entries are kept, ms.
    pub journal_retention_ms: u64,
    /// Publishes allowed per handled event.
    pub max_publishes: u32,
    /// Committed plugin state.
    pub kv: Arc<dyn KvStore>,
    /// Outbound HTTP grants.
    pub outbound: Arc<OutboundPolicy>,
    /// Where its log lines are kept.
    pub logs: Arc<LogBook>,
    /// Its log lines' rate (a plugin cannot flood the gateway's logs).
    pub log_rate: Option<governor::DefaultDirectRateLimiter>,
    /// The event types its publishes are checked against.
    pub vocabulary: Arc<Vocabulary>,
    /// Its pending timers (shared by its versions).
    pub timers: Arc<PluginTimers>,
    /// Timers it may have pending.
    pub max_timers: u32,
}

impl PluginContext {
    /// The context of `manifest`'s plugin at version `version`.
    pub fn new(
        manifest: &PluginManifest,
        version: String,
        host: &HostServices,
    ) -> Result<Self, String> {
        Ok(Self {
            name: manifest.name.clone(),
            version,
            publish_grants: manifest.publish.iter().cloned().collect(),
            push_grants: manifest.push_channels.iter().cloned().collect(),
            push_topic: host.push_topic.clone(),
            commands: manifest.commands.iter().cloned().collect(),
            config: manifest.config.clone(),
            kv_quota: manifest.limits.kv_quota_bytes,
            journal_retention_ms: manifest.limits.journal_retention_secs.saturating_mul(1000),
            max_publishes: manifest.limits.max_publishes_per_event,
            kv: host.kv.clone(),
            outbound: Arc::new(OutboundPolicy::new(
                &manifest.name,
                &grants(manifest, host)?,
            )?),
            logs: host.logs.clone(),
            log_rate: crate::rate::limiter(
                manifest.limits.log_lines_per_second,
                manifest.limits.log_lines_per_second.saturating_mul(2),
            ),
            vocabulary: host.vocabulary.clone(),
            timers: host.timers.of(&manifest.name),
            max_timers: manifest.limits.max_timers,
        })
    }
}

/// What `manifest` grants for outbound HTTP, with its credentials looked up.
fn grants(manifest: &PluginManifest, host: &HostServices) -> Result<OutboundGrants, String> {
    let credentials = manifest
        .credentials
        .iter()
        .map(|(origin, name)| {
            host.credentials
                .get(name)
                .map(|c| (origin.clone(), c.clone()))
                .ok_or_else(|| format!("plugin `{}`: no credential `{name}`", manifest.name))
        })
        .collect::<Result<_, _>>()?;
    let limits = &manifest.limits;
    Ok(OutboundGrants {
        allowed_hosts: manifest.allowed_hosts.clone(),
        private_hosts: manifest.private_hosts.clone(),
        credentials,
        concurrency: limits.http_concurrency,
        requests_per_second: limits.http_requests_per_second,
        max_response_bytes: limits.http_max_response_bytes,
        timeout: std::time::Duration::from_millis(limits.timeout_ms),
    })
}

/// The `T` of every plugin `Store<T>`.
pub struct StoreState {
    pub(crate) plugin: Arc<PluginContext>,
    pub(crate) effects: Effects,
    pub(crate) limits: StoreLimits,
    /// Epoch ticks of CPU time left for the current call.
    pub(crate) ticks_left: u64,
    /// The latest bytes the guest wrote to stderr.
    pub(crate) stderr: StderrTail,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) outbound: OutboundHooks,
    table: ResourceTable,
}

impl StoreState {
    /// Fresh state for a new instance of `plugin` with `memory_bytes` of memory.
    pub fn new(plugin: Arc<PluginContext>, memory_bytes: usize) -> Self {
        let outbound = OutboundHooks::new((*plugin.outbound).clone());
        let stderr = StderrTail::default();
        Self {
            plugin,
            effects: Effects::default(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            ticks_left: 0,
            // Deny-all WASI: no files, no environment, no sockets, no stdin or
            // stdout; stderr only into a small in-memory tail for trap reports.
            wasi: WasiCtx::builder().stderr(stderr.clone()).build(),
            stderr,
            http: WasiHttpCtx::new(),
            outbound,
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
