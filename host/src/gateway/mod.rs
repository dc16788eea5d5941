//! Wiring: open the log, load the plugins, start dispatch and the HTTP
//! server; shut them down in order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::admin::{self, AdminState};
use crate::api::listener::ConnectionLimits;
use crate::api::{self, AppState, Limits, SharedState};
use crate::auth::Authenticator;
use crate::config::{ConfigError, PluginManifest, Settings};
use crate::dispatch::Ownership;
use crate::registry::Registry;
use crate::runtime::engine::PluginEngine;
use crate::runtime::outbound::Credential;
use crate::runtime::plugin::PluginVersion;
use crate::runtime::state::HostServices;
use crate::storage::{EventLog, KvStore};
use crate::versions::{VersionError, VersionLoader};
use crate::web::rate_limit::IngestLimits;
use crate::ws::WsContext;

mod housekeeping;
mod start_error;
pub use start_error::StartError;
pub mod openapi;
mod storage;
use storage::open_storage;

/// A running gateway.
pub struct Gateway {
    /// Address the HTTP API listens on.
    pub addr: SocketAddr,
    /// Live plugins.
    pub registry: Arc<Registry>,
    /// The event log.
    pub log: Arc<dyn EventLog>,
    /// Plugin state.
    pub kv: Arc<dyn KvStore>,
    /// Partitions each plugin consumes on this instance.
    pub ownership: Arc<Ownership>,
    shutdown: watch::Sender<bool>,
    ready: Arc<AtomicBool>,
    ws: Arc<WsContext>,
    server: JoinHandle<std::io::Result<()>>,
    workers: JoinSet<()>,
    /// Validates candidate versions and keeps every version on disk.
    pub loader: Arc<VersionLoader>,
    /// Address of the admin API, when `admin.token` is set.
    pub admin_addr: Option<SocketAddr>,
    admin_server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Start the admin API when `admin.token` is set: its address and task.
async fn start_admin(
    settings: &Settings,
    registry: &Arc<Registry>,
    loader: &Arc<VersionLoader>,
    ownership: &Arc<Ownership>,
    shutdown: &watch::Receiver<bool>,
) -> Result<AdminServer, StartError> {
    let Some(token) = &settings.admin.token else {
        return Ok((None, None));
    };
    let token = crate::config::expand_env("admin.token", token)?;
    let state = AdminState {
        registry: registry.clone(),
        loader: loader.clone(),
        ownership: ownership.clone(),
        token: Arc::from(token),
        candidates: Arc::default(),
        max_upload_bytes: settings.admin.max_upload_bytes,
    };
    let (listener, addr) = bind(settings.admin.listen).await?;
    let app = admin::app(state);
    tracing::info!(admin = %admin::describe(addr), "admin API listening");
    Ok((
        Some(addr),
        Some(admin::serve(listener, app, shutdown.clone())),
    ))
}

/// A listener on `addr`, and the address it got (a port of 0 picks one).
async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    Ok((listener, bound))
}

/// The admin API's address and server task, when it runs.
type AdminServer = (Option<SocketAddr>, Option<JoinHandle<std::io::Result<()>>>);

fn prometheus() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(crate::stages::STAGE_SECONDS.into()),
                    crate::stages::BUCKETS,
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            crate::stages::register();
            Some(handle)
        })
        .clone()
}

/// The configured credentials, ready to attach.
fn credentials(
    settings: &Settings,
) -> Result<std::collections::BTreeMap<String, Arc<Credential>>, StartError> {
    settings
        .credentials_resolved()?
        .iter()
        .map(|(name, c)| {
            Credential::new(name, c)
                .map(|c| (name.clone(), Arc::new(c)))
                .map_err(|reason| {
                    StartError::Config(ConfigError::Invalid {
                        setting: format!("credentials.{name}"),
                        reason,
                    })
                })
        })
        .collect()
}

impl Gateway {
    /// Start everything `settings` describes.
    pub async fn start(settings: Settings) -> Result<Self, StartError> {
        // First, so that nothing recorded while starting is lost (the log's
        // recovery, plugins' loads, the events handled at once).
        let metrics = prometheus();
        let data_dir = settings.storage.data_dir.clone();
        let storage::Stores {
            log,
            kv,
            embedded,
            log_is_embedded,
            health,
        } = open_storage(&settings).await?;
        // The event types' schemas against those their events were written
        // under, then recorded for the next start.
        crate::config::schema_history::check(&data_dir, &settings.event_types)?;
        crate::config::schema_history::record(&data_dir, &settings.event_types)?;
        let specs = settings.topic_specs();
        log.create_topics(&specs).await?;
        let topics: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        // A plugin's topics are merged per partition index, so they must be
        // co-partitioned on the log too (Kafka keeps existing topics' counts).
        for manifest in &settings.plugins {
            if let Err(source) = crate::storage::co_partitioned(log.as_ref(), &manifest.subscribe) {
                return Err(StartError::NotCoPartitioned {
                    plugin: manifest.name.clone(),
                    source,
                });
            }
        }

        let engine = PluginEngine::new(&settings.runtime)?;
        let services = HostServices {
            kv: kv.clone(),
            push_topic: settings.websocket.push_topic.clone(),
            cache_dir: Some(
                settings
                    .runtime
                    .cache_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("compiled")),
            ),
            credentials: Arc::new(credentials(&settings)?),
            vocabulary: settings.event_types.0.clone(),
            logs: Arc::default(),
            timers: Arc::default(),
        };
        let mut versions = Vec::new();
        for manifest in &settings.plugins {
            if let Some(name) = crate::builtin::name_in(&manifest.wasm) {
                crate::builtin::write(&settings.storage.data_dir, name).map_err(|e| {
                    StartError::Builtin {
                        plugin: manifest.name.clone(),
                        reason: e.to_string(),
                    }
                })?;
            }
            let wasm = settings.wasm_path(manifest);
            let version = PluginVersion::load(&engine, manifest, &wasm, &services).await?;
            version.warn_ungranted();
            versions.push(version);
        }
        let registry = Arc::new(Registry::new(versions));
        let engine_for_pruning = engine.clone();
        let loader = Arc::new(VersionLoader::new(engine, services, settings.clone()));
        loader.keep_configured(&registry);

        let configured: HashMap<String, String> = registry
            .snapshot()
            .plugins
            .iter()
            .map(|(name, d)| (name.clone(), d.live.id.clone()))
            .collect();
        crate::versions::persist::restore(&registry, &loader, &configured).await;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let kv_handle = kv.clone();
        let ownership = Arc::new(Ownership::default());
        let mut workers = crate::dispatch::start(
            log.clone(),
            registry.clone(),
            ownership.clone(),
            shutdown_rx.clone(),
        );
        crate::registry::CanaryWatch::spawn(&mut workers, registry.clone(), shutdown_rx.clone());
        housekeeping::spawn(
            &mut workers,
            housekeeping::Housekeeping {
                settings: &settings,
                kv: kv.clone(),
                embedded_log: embedded.clone().filter(|_| log_is_embedded),
                embedded,
                health: health.clone(),
                topics: specs,
                metrics: metrics.clone(),
                pruner: crate::versions::prune::Pruner {
                    store: loader.store.clone(),
                    registry: registry.clone(),
                    keep: settings.runtime.keep_versions,
                    configured: configured.clone(),
                    compiled: settings
                        .runtime
                        .cache_dir
                        .is_none()
                        .then(|| (engine_for_pruning, data_dir.join("compiled"))),
                },
            },
            shutdown_rx.clone(),
        );
        crate::versions::persist::spawn_recorder(
            &mut workers,
            registry.clone(),
            loader.store.clone(),
            configured,
            shutdown_rx.clone(),
        );
        if settings.runtime.watch {
            crate::versions::watch::spawn(
                &mut workers,
                &settings,
                registry.clone(),
                loader.clone(),
                shutdown_rx.clone(),
            )?;
        }
        let ws = Arc::new(WsContext::new(
            &settings.websocket,
            settings.server.max_reply_waits_per_principal,
            shutdown_rx.clone(),
        ));
        let auth = Arc::new(
            Authenticator::start(&settings.auth, &settings.storage.data_dir, &shutdown_rx).await?,
        );
        crate::ws::tailer::spawn(
            &mut workers,
            log.clone(),
            ws.hub.clone(),
            &settings.websocket.push_topic,
            shutdown_rx.clone(),
        )
        .await?;

        let ingest_limits = Arc::new(IngestLimits::new(
            settings.server.ingest_rate_per_address,
            settings.server.ingest_burst_per_address,
        ));
        ingest_limits.spawn_forgetting(shutdown_rx.clone());
        let ready = Arc::new(AtomicBool::new(false));
        let router = settings.router();
        for t in settings.event_types.types() {
            if router.topic_for(&t.name).is_none() {
                tracing::warn!(event_type = %t.name, "no topic: ingest refuses this type; give its file a `topic` or add a [routes] entry");
            }
        }
        let state = AppState::new(SharedState {
            log: log.clone(),
            router: Arc::new(router),
            vocabulary: settings.event_types.0.clone(),
            topics: Arc::new(topics),
            registry: registry.clone(),
            limits: Limits {
                max_body_bytes: settings.server.max_body_bytes,
                max_batch_events: settings.server.max_batch_events,
                body_read_timeout: Duration::from_millis(settings.server.body_read_timeout_ms),
                idempotency_window: Duration::from_secs(settings.storage.idempotency_window_secs),
            },
            ready: ready.clone(),
            ownership: ownership.clone(),
            webhooks: settings.webhooks.endpoints()?,
            metrics,
            replies: ws.hub.replies.clone(),
            auth,
            dev_token_max_ttl: settings
                .auth
                .dev_tokens
                .then_some(settings.auth.dev_token_max_ttl_secs),
            ingest_limits: ingest_limits.clone(),
            storage_health: health,
        });
        let (listener, addr) = bind(settings.server.listen).await?;
        let stop_admin = shutdown_rx.clone();
        let server = api::listener::serve(
            listener,
            api::app(state.clone(), crate::ws::routes(state, ws.clone())),
            ConnectionLimits::of(&settings.server),
            shutdown_rx,
        );
        let (admin_addr, admin_server) =
            start_admin(&settings, &registry, &loader, &ownership, &stop_admin).await?;
        ready.store(true, Ordering::Release);
        tracing::info!(%addr, plugins = registry.snapshot().plugins.len(), log = ?settings.log.backend, kv = ?settings.kv.backend, data_dir = %data_dir.display(), "gateway started");
        Ok(Self {
            addr,
            registry,
            log,
            kv: kv_handle,
            ownership,
            shutdown,
            ready,
            ws,
            server,
            workers,
            loader,
            admin_addr,
            admin_server,
        })
    }

    /// Validate and load a new version of a plugin (see
    /// [`VersionLoader::load`]); not live until deployed.
    pub async fn load_version(
        &self,
        manifest: &PluginManifest,
    ) -> Result<Arc<PluginVersion>, VersionError> {
        self.loader.load(manifest).await
    }

    /// Requests waiting for a reply (`reply_timeout_ms`) on this instance.
    pub fn reply_waiters(&self) -> usize {
        self.ws.hub.replies.len()
    }

    /// Live WebSocket sessions of `customer` on this instance.
    pub fn sessions_of(&self, customer: &str) -> usize {
        self.ws.hub.sessions_of(customer)
    }

    /// Stop accepting requests, let in-flight requests and batches finish,
    /// and release the log.
    pub async fn shutdown(mut self) {
        self.ready.store(false, Ordering::Release);
        let _ = self.shutdown.send(true);
        // Sessions finish the frame they are handling (its ack included),
        // then close with "going away".
        if tokio::time::timeout(std::time::Duration::from_secs(5), self.ws.hub.drained())
            .await
            .is_err()
        {
            tracing::warn!("some WebSocket sessions did not close within 5 s");
        }
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "HTTP server stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "HTTP server task failed"),
        }
        if let Some(admin) = self.admin_server
            && let Err(e) = admin.await
        {
            tracing::warn!(error = %e, "admin server task failed");
        }
        while self.workers.join_next().await.is_some() {}
        tracing::info!("gateway stopped");
    }
}
