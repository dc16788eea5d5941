//! One loaded plugin version: its compiled component, pre-instantiated
//! against the host's linker, its limits, and its warm instances.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use wasmtime::{Store, UpdateDeadline};

use super::RuntimeError;
use super::bindings::{HandleError, PluginPre, WitEvent};
use super::bindings::{WIT_PACKAGE, handler_interface};
use super::component_cache;
use super::effects::Effects;
use super::engine::PluginEngine;
use super::event_ref::HandleExport;
use super::instance_pool::{Instance, InstancePool, Lease};
use super::log_book::LineOf;
use super::outbound::CallMode;
use super::query_bindings::QueryIndices;
use super::state::{HostServices, PluginContext, StoreState};
use super::stats::VersionStats;
use super::world::Interfaces;
use crate::config::PluginManifest;
use crate::event::StoredEvent;

pub use super::outcome::Outcome;

/// A loaded, validated plugin version.
pub struct PluginVersion {
    /// The manifest it was loaded with.
    pub manifest: PluginManifest,
    /// sha256 of the component, hex.
    pub digest: String,
    /// Version id: the component together with its manifest
    /// ([`super::version_id::version_id`]).
    pub id: String,
    /// Shared, read-only state of its instances.
    pub context: Arc<PluginContext>,
    /// What it did since it was loaded.
    pub stats: VersionStats,
    /// What its component imports and exports.
    pub interfaces: Interfaces,
    pub(super) engine: PluginEngine,
    pre: PluginPre<StoreState>,
    pub(super) pool: InstancePool,
    /// Where its `query` export is, if it answers queries.
    pub(super) query_indices: Option<QueryIndices>,
}

impl std::fmt::Debug for PluginVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginVersion")
            .field("plugin", &self.manifest.name)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl PluginVersion {
    /// Read, compile (or load from `cache_dir`), link and validate the
    /// component at `wasm`: every import must be one the host provides, the
    /// handler must be exported, and `init` must accept the config on a first
    /// instance (which is kept warm).
    pub async fn load(
        engine: &PluginEngine,
        manifest: &PluginManifest,
        wasm: &Path,
        host: &HostServices,
    ) -> Result<Arc<Self>, RuntimeError> {
        let fail = |what: &'static str, reason: String| RuntimeError::Load {
            plugin: manifest.name.clone(),
            what,
            reason,
        };
        let bytes = tokio::fs::read(wasm)
            .await
            .map_err(|e| fail("its file", format!("{}: {e}", wasm.display())))?;
        let digest = component_cache::digest(&bytes);
        let compile_engine = engine.engine.clone();
        let cache_dir = host.cache_dir.clone();
        let compile_digest = digest.clone();
        let component = tokio::task::spawn_blocking(move || {
            component_cache::load_or_compile(
                &compile_engine,
                &bytes,
                &compile_digest,
                cache_dir.as_deref(),
            )
        })
        .await
        .map_err(|e| fail("the component", e.to_string()))?
        .map_err(|e| fail("the component", e))?;
        let interfaces = Interfaces::of(&engine.engine, &component);
        interfaces
            .check_world()
            .map_err(|reason| fail("its WIT world", reason))?;
        let instance_pre = engine
            .linker
            .instantiate_pre(&component)
            .map_err(|e| {
                fail(
                    "its imports",
                    format!(
                        "{e:#}; this gateway provides the world `plugin` of {} (build against its `wit/`), WASI 0.2 and `wasi:http/outgoing-handler`",
                        WIT_PACKAGE
                    ),
                )
            })?;
        // A component of the plain `plugin` world answers no queries.
        let query_indices = QueryIndices::new(&instance_pre).ok();
        let pre = PluginPre::new(instance_pre).map_err(|e| {
            fail(
                "its exports",
                format!("{e:#} (does it target {}?)", WIT_PACKAGE),
            )
        })?;
        let id = super::version_id::version_id(&digest, manifest);
        let context =
            PluginContext::new(manifest, id.clone(), host).map_err(|e| fail("its manifest", e))?;
        let version = Arc::new(Self {
            manifest: manifest.clone(),
            id,
            digest,
            context: Arc::new(context),
            engine: engine.clone(),
            pre,
            pool: InstancePool::new(manifest.limits.instances),
            stats: VersionStats::default(),
            interfaces,
            query_indices,
        });
        let first = version.instantiate().await.map_err(|e| match e {
            InstantiateError::Init(reason) => RuntimeError::Init {
                plugin: manifest.name.clone(),
                reason,
            },
            InstantiateError::Other(reason) => fail("an instance", reason),
        })?;
        version.pool.seed(first);
        tracing::info!(plugin = %manifest.name, version = %version.context.version, "plugin loaded");
        Ok(version)
    }

    /// A new instance with its `init` run.
    pub(super) async fn instantiate(&self) -> Result<Instance, InstantiateError> {
        let limits = &self.manifest.limits;
        let memory =
            usize::try_from(limits.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let mut store = Store::new(
            &self.engine.engine,
            StoreState::new(self.context.clone(), memory),
        );
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.ticks_left == 0 {
                return Err(wasmtime::Error::msg("CPU time limit exceeded"));
            }
            state.ticks_left -= 1;
            // Let other tasks run between ticks: a busy plugin must not hold a
            // runtime thread for its whole budget.
            Ok(UpdateDeadline::Yield(1))
        });
        store.data_mut().ticks_left = self.engine.ticks(limits.cpu_ms);
        store.set_epoch_deadline(1);
        let other = |e: wasmtime::Error| InstantiateError::Other(format!("{e:#}"));
        let instance = self
            .pre
            .instance_pre()
            .instantiate_async(&mut store)
            .await
            .map_err(other)?;
        let bindings = super::bindings::Plugin::new(&mut store, &instance).map_err(other)?;
        let handle = HandleExport::of(&mut store, &instance).map_err(other)?;
        let query = match &self.query_indices {
            Some(indices) => Some(indices.load(&mut store, &instance).map_err(other)?),
            None => None,
        };
        let config: Vec<(String, String)> = self
            .manifest
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let init = bindings
            .streamplug_plugin_handler()
            .call_init(&mut store, &config);
        match tokio::time::timeout(Duration::from_millis(limits.timeout_ms), init).await {
            Ok(Ok(Ok(()))) => Ok(Instance {
                store,
                handle,
                query,
            }),
            Ok(Ok(Err(reason))) => Err(InstantiateError::Init(reason)),
            Ok(Err(trap)) => Err(InstantiateError::Init(format!(
                "trapped {}",
                describe_trap(&trap, &store.data().stderr.text(), &self.export("init"))
            ))),
            Err(_) => Err(InstantiateError::Init(format!(
                "timed out after {} ms",
                limits.timeout_ms
            ))),
        }
    }

    /// Handle one event with `effects` as the batch's staged effects so far.
    /// Returns how it ended and the effects (the current event's effects are
    /// staged in `effects.current`; the caller accepts or discards them).
    pub async fn handle(&self, stored: &StoredEvent, effects: Effects) -> (Outcome, Effects) {
        self.handle_as(stored, effects, CallMode::Live).await
    }

    /// [`PluginVersion::handle`] in `mode`: in shadow mode outbound requests
    /// are recorded, never sent (the caller discards the staged publishes,
    /// pushes and KV writes).
    pub async fn handle_as(
        &self,
        stored: &StoredEvent,
        mut effects: Effects,
        mode: CallMode,
    ) -> (Outcome, Effects) {
        let mut lease = match self.lease().await {
            Ok(lease) => lease,
            Err(reason) => {
                return (
                    Outcome::Trap(format!("cannot instantiate: {reason}")),
                    effects,
                );
            }
        };
        let limits = &self.manifest.limits;
        let handle = lease.instance.handle;
        let store = &mut lease.instance.store;
        effects.current = Default::default();
        self.begin_call(store, effects, mode);
        let call = handle.call(store, stored);
        let timed = tokio::time::timeout(Duration::from_millis(limits.timeout_ms), call);
        // A panic in a host function surfaces here; it fails this event only.
        let result = AssertUnwindSafe(timed).catch_unwind().await;
        let mut effects = std::mem::take(&mut store.data_mut().effects);
        effects.current.http = store.data().outbound.take_calls();
        let outcome = match result {
            Ok(Ok(Ok(Ok(())))) => Outcome::Ok,
            Ok(Ok(Ok(Err(HandleError::Retry(reason))))) => Outcome::Retry(reason),
            Ok(Ok(Ok(Err(HandleError::Reject(reason))))) => Outcome::Reject(reason),
            Ok(Ok(Err(trap))) => Outcome::Trap(describe_trap(
                &trap,
                &store.data().stderr.text(),
                &self.export("handle"),
            )),
            Ok(Err(_)) => Outcome::Trap(format!("timed out after {} ms", limits.timeout_ms)),
            Err(_) => Outcome::Trap("the host failed (panicked) while running the plugin".into()),
        };
        if matches!(outcome, Outcome::Trap(_)) {
            tracing::debug!(plugin = %self.manifest.name, event = %stored.event.id, ?outcome, "instance discarded");
        } else {
            self.pool.give_back(lease);
        }
        (outcome, effects)
    }

    /// A warm instance (or a new one) and the permit to run it.
    pub(super) async fn lease(&self) -> Result<Lease, String> {
        self.pool
            .lease(|| async { self.instantiate().await.map_err(|e| e.to_string()) })
            .await
    }

    /// Ready `store` for one call in `mode` with `effects` staged so far: a
    /// fresh CPU budget and stderr tail.
    pub(super) fn begin_call(
        &self,
        store: &mut Store<StoreState>,
        effects: Effects,
        mode: CallMode,
    ) {
        store.data_mut().effects = effects;
        store.data_mut().ticks_left = self.engine.ticks(self.manifest.limits.cpu_ms);
        store.data_mut().stderr.clear();
        store.data_mut().outbound.begin(mode);
        store.set_epoch_deadline(1);
    }

    /// `function` of the handler interface, with this plugin and version,
    /// as a trap message names it.
    fn export(&self, function: &str) -> String {
        format!(
            "`{}#{function}` of plugin `{}` ({})",
            handler_interface(),
            self.manifest.name,
            self.id
        )
    }

    /// Make a fresh instance and run its `init`, then drop it: what serving
    /// an event would cost without warm instances (used by benchmarks).
    pub async fn cold_start(&self) -> Result<(), String> {
        self.instantiate()
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Warn (in the log and the plugin's log book) when the component
    /// imports a capability its manifest does not grant (see
    /// [`Interfaces::ungranted`]): it loads, and every such call is denied.
    /// Whether it uses the capability can depend on its config (the order
    /// processor takes payment only when given a provider), so this is
    /// not a refusal.
    pub fn warn_ungranted(&self) -> Option<String> {
        let reason = self.interfaces.ungranted(&self.manifest)?;
        let warning = format!("{reason}: every request it makes will be denied");
        tracing::warn!(plugin = %self.manifest.name, version = %self.id, "{warning}");
        let of = LineOf {
            plugin: &self.manifest.name,
            version: &self.id,
            event: "",
            source: "host",
        };
        self.context.logs.record(of, "warn", &warning);
        Some(warning)
    }

    /// Idle warm instances.
    pub fn idle_instances(&self) -> usize {
        self.pool.idle()
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum InstantiateError {
    #[error("init failed: {0}")]
    Init(String),
    #[error("{0}")]
    Other(String),
}

/// A trap for the people who wrote the plugin: where (`in` the WIT
/// function, of which plugin and version), why, what the guest said (stderr:
/// a panic message, a traceback; error log lines: a JavaScript exception's
/// stack) and the wasm backtrace.
pub(super) fn describe_trap(err: &wasmtime::Error, stderr: &str, place: &str) -> String {
    let mut text = format!("in {place}: {}", err.root_cause());
    if !stderr.is_empty() {
        text.push_str(&format!("\nplugin output: {stderr}"));
    }
    if let Some(bt) = err.downcast_ref::<wasmtime::WasmBacktrace>() {
        text.push_str(&format!("\n{bt}"));
    }
    text
}

/// The event as the WIT `event` record the handler is called with.
pub fn to_wit(stored: &StoredEvent) -> WitEvent {
    let e = &stored.event;
    WitEvent {
        id: e.id.clone(),
        source: e.source.clone(),
        type_: e.ty.clone(),
        subject: e.subject.clone(),
        time: e.time.clone(),
        topic: e.topic.clone(),
        key: e.key.clone(),
        content_type: e.content_type.clone(),
        data: e.data.clone(),
        headers: e.headers.clone(),
        partition: stored.partition,
        offset: stored.offset,
    }
}
