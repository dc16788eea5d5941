//! The state the HTTP handlers share, and the limits they enforce.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::registry::Registry;
use crate::routing;
use crate::storage::EventLog;

/// Request limits the handlers enforce.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body, bytes.
    pub max_body_bytes: usize,
    /// Most events per batch.
    pub max_batch_events: usize,
    /// Time a request's body has to arrive.
    pub body_read_timeout: std::time::Duration,
    /// How long a (`source`, `id`) is remembered against retried copies.
    pub idempotency_window: std::time::Duration,
}

/// What the handlers share: one `Arc`, so the clone axum makes for every
/// request is one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl AppState {
    /// The handlers' state.
    pub fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct SharedState {
    /// The event log.
    pub log: Arc<dyn EventLog>,
    /// Type → topic routing.
    pub router: Arc<routing::Router>,
    /// The event types accepted at ingest.
    pub vocabulary: Arc<crate::event::vocabulary::Vocabulary>,
    /// Every topic the gateway knows.
    pub topics: Arc<Vec<String>>,
    /// Live plugins.
    pub registry: Arc<Registry>,
    /// Request limits.
    pub limits: Limits,
    /// Set once plugins are loaded and dispatch runs.
    pub ready: Arc<AtomicBool>,
    /// Partitions each plugin consumes on this instance.
    pub ownership: Arc<crate::dispatch::Ownership>,
    /// The configured webhook endpoints (`POST /v1/webhooks/{name}`).
    pub webhooks: crate::config::Endpoints,
    /// Prometheus exposition.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Turns credentials into principals.
    pub auth: Arc<crate::auth::Authenticator>,
    /// Longest dev token, when `POST /v1/dev/tokens` is on.
    pub dev_token_max_ttl: Option<u64>,
    /// Requests waiting for a reply to their event (the same table the
    /// WebSocket gateway's push tailer answers).
    pub replies: Arc<super::replies::Replies>,
    /// Ingest rate limits per key and per client address.
    pub ingest_limits: Arc<super::rate_limit::IngestLimits>,
    /// Whether the storage takes writes (ingest is refused while not).
    pub storage_health: Arc<crate::storage::StorageHealth>,
}
