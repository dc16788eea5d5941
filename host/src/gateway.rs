//! Wiring: open the log, load the plugins, start dispatch and the HTTP
//! server; shut them down in order.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::api::{self, AppState, Limits};
use crate::config::{ConfigError, KvBackend, LogBackend, PluginManifest, Settings};
use crate::dispatch::Ownership;
use crate::registry::Registry;
use crate::routing::Router;
use crate::runtime::RuntimeError;
use crate::runtime::engine::PluginEngine;
use crate::runtime::outbound::Credential;
use crate::runtime::plugin::PluginVersion;
use crate::runtime::state::HostServices;
use crate::storage::embedded::EmbeddedStore;
use crate::storage::kafka::KafkaLog;
use crate::storage::redis::RedisKv;
use crate::storage::{EventLog, KvStore, StorageError};
use crate::ws::WsContext;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The log could not be opened.
    #[error("event log: {0}")]
    Storage(#[from] StorageError),
    /// A plugin could not be loaded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

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
    loader: VersionLoader,
}

/// What loading a new plugin version takes: the engine, the host services
/// and the settings it is checked against.
struct VersionLoader {
    engine: PluginEngine,
    services: HostServices,
    settings: Settings,
}

/// Why a new plugin version was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The manifest is invalid, or grants topics the gateway does not have.
    #[error(transparent)]
    Manifest(#[from] ConfigError),
    /// The component did not compile, link or initialise.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

fn prometheus() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .clone()
}

/// The event log and KV store `settings` choose.
async fn open_storage(
    settings: &Settings,
) -> Result<(Arc<dyn EventLog>, Arc<dyn KvStore>), StartError> {
    let mut embedded: Option<Arc<EmbeddedStore>> = None;
    let mut open_embedded = || -> Result<Arc<EmbeddedStore>, StorageError> {
        if let Some(store) = &embedded {
            return Ok(store.clone());
        }
        let store = Arc::new(EmbeddedStore::open(&settings.storage.data_dir)?);
        embedded = Some(store.clone());
        Ok(store)
    };
    let kv: Arc<dyn KvStore> = match settings.kv.backend {
        KvBackend::Redis => Arc::new(RedisKv::connect(&settings.kv.redis_resolved()?).await?),
        KvBackend::Embedded => open_embedded()?,
    };
    let log: Arc<dyn EventLog> = match settings.log.backend {
        LogBackend::Kafka => {
            if settings.kv.backend == KvBackend::Embedded {
                tracing::warn!(
                    "log.backend = kafka with kv.backend = embedded: plugin state stays on this machine; run one instance, or set kv.backend = redis"
                );
            }
            Arc::new(KafkaLog::connect(
                settings.log.kafka_resolved()?,
                kv.clone(),
            )?)
        }
        LogBackend::Embedded => open_embedded()?,
    };
    Ok((log, kv))
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
        let data_dir = settings.storage.data_dir.clone();
        let (log, kv) = open_storage(&settings).await?;
        let topics = settings.all_topics();
        let specs: Vec<(String, u32)> = topics
            .iter()
            .map(|t| (t.clone(), settings.partitions(t)))
            .collect();
        log.create_topics(&specs).await?;

        let engine = PluginEngine::new(&settings.runtime)?;
        let services = HostServices {
            kv: kv.clone(),
            push_topic: settings.websocket.push_topic.clone(),
            cache_dir: Some(data_dir.join("compiled")),
            credentials: Arc::new(credentials(&settings)?),
        };
        let mut versions = Vec::new();
        for manifest in &settings.plugins {
            let wasm = settings.wasm_path(manifest);
            versions.push(PluginVersion::load(&engine, manifest, &wasm, &services).await?);
        }
        let registry = Arc::new(Registry::new(versions));
        let loader = VersionLoader {
            engine,
            services,
            settings: settings.clone(),
        };

        let (shutdown, shutdown_rx) = watch::channel(false);
        let kv_handle = kv.clone();
        let ownership = Arc::new(Ownership::default());
        let mut workers = crate::dispatch::start(
            log.clone(),
            registry.clone(),
            ownership.clone(),
            shutdown_rx.clone(),
        );
        let ws = Arc::new(WsContext::new(&settings.websocket, shutdown_rx.clone()));
        if ws.keys.is_none() {
            tracing::info!("websocket.jwt_secret is not set: /v1/ws refuses every session");
        }
        if settings.websocket.dev_tokens {
            tracing::warn!(
                "websocket.dev_tokens is on: anyone can mint customer tokens (demo only)"
            );
        }
        crate::ws::tailer::spawn(
            &mut workers,
            log.clone(),
            ws.hub.clone(),
            &settings.websocket.push_topic,
            shutdown_rx.clone(),
        )
        .await?;

        let ready = Arc::new(AtomicBool::new(false));
        let state = AppState {
            log: log.clone(),
            router: Arc::new(Router::new(&settings.routes)),
            topics: Arc::new(topics),
            registry: registry.clone(),
            limits: Limits {
                max_body_bytes: settings.server.max_body_bytes,
                max_batch_events: settings.server.max_batch_events,
            },
            ready: ready.clone(),
            ownership: ownership.clone(),
            webhook_token: settings
                .webhooks
                .infobip_token
                .as_deref()
                .map(|t| crate::config::expand_env("webhooks.infobip_token", t))
                .transpose()?
                .map(Arc::from),
            metrics: prometheus(),
            ws: ws.clone(),
        };
        let addr = settings.server.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        let mut stop = shutdown_rx;
        let server = tokio::spawn(async move {
            axum::serve(listener, api::app(state))
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        });
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
        })
    }

    /// Load a new version of a plugin from `manifest` (its component
    /// resolved against `runtime.plugin_dir`): the manifest is checked like
    /// the configuration's (and may only use topics the gateway has), the
    /// component compiled and linked, and `init` run. It is not live until
    /// [`Registry::deploy`] makes it so.
    pub async fn load_version(
        &self,
        manifest: &PluginManifest,
    ) -> Result<Arc<PluginVersion>, VersionError> {
        let settings = &self.loader.settings;
        settings.validate_plugin(manifest)?;
        let known = settings.all_topics();
        let used = manifest.publish.iter().chain(&manifest.subscribe);
        if let Some(topic) = used
            .cloned()
            .chain(std::iter::once(manifest.dead_letter_topic()))
            .find(|t| !known.contains(t))
        {
            return Err(ConfigError::Invalid {
                setting: format!("plugins.{}", manifest.name),
                reason: format!("topic `{topic}` does not exist on this gateway"),
            }
            .into());
        }
        let wasm = settings.wasm_path(manifest);
        Ok(
            PluginVersion::load(&self.loader.engine, manifest, &wasm, &self.loader.services)
                .await?,
        )
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
        while self.workers.join_next().await.is_some() {}
        tracing::info!("gateway stopped");
    }
}
