//! The HTTP API. [`app`] builds the whole router from an [`AppState`]; it
//! does no I/O itself, so tests drive it with `oneshot` or a real socket.

mod admission;
pub mod caller;
pub mod ingest;
pub mod listener;
pub mod problem;
pub mod rate_limit;
pub mod status;
pub mod topics;
pub mod trace;
pub mod unread_body;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

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
    /// Token inbound webhooks must carry, when configured.
    pub webhook_token: Option<Arc<str>>,
    /// Prometheus exposition.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// WebSocket sessions.
    pub ws: Arc<crate::ws::WsContext>,
    /// Turns credentials into principals.
    pub auth: Arc<crate::auth::Authenticator>,
    /// Longest dev token, when `POST /v1/dev/tokens` is on.
    pub dev_token_max_ttl: Option<u64>,
    /// Ingest rate limits per key and per client address.
    pub ingest_limits: Arc<rate_limit::IngestLimits>,
    /// Whether the storage takes writes (ingest is refused while not).
    pub storage_health: Arc<crate::storage::StorageHealth>,
}

/// The span of one request: method and path, never the query.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// The gateway's routes.
pub fn app(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/v1/events", post(ingest::post_events))
        .route("/v1/webhooks/infobip", post(webhooks::infobip))
        .route("/v1/ws", get(crate::ws::upgrade))
        .route("/v1/dev/tokens", post(crate::ws::dev_token))
        .route("/v1/topics", get(topics::list_topics))
        .route("/v1/topics/{topic}/events", get(topics::read_events))
        .route("/v1/schemas", get(status::schemas))
        .route("/v1/plugins", get(status::plugins))
        .route("/demo", get(status::demo))
        .route("/healthz", get(status::healthz))
        .route("/readyz", get(status::readyz))
        .route("/metrics", get(status::metrics))
        .fallback(status::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        // A body that trickles in is cut off (the handler answers 408).
        .layer(RequestBodyTimeoutLayer::new(state.limits.body_read_timeout))
        // What a handler leaves of a body is read before the answer, so a
        // client still sending it reads the answer, not a reset.
        .layer(axum::middleware::from_fn_with_state(
            unread_body::Discard::within(state.limits.body_read_timeout),
            unread_body::discard_unread,
        ))
        // One span per request, at DEBUG (nothing per request above DEBUG),
        // naming the path only: a query may carry a token (`/v1/ws?token=`,
        // the webhook's `?token=`), and logs never hold secrets.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn request_spans_name_the_path_and_never_the_query() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = axum::http::Request::get("/v1/ws?token=eyJsecret.part.sig&resume=2.1")
                .body(())
                .unwrap();
            super::request_span(&request).in_scope(|| tracing::debug!("handled"));
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("/v1/ws") && text.contains("handled"),
            "{text}"
        );
        assert!(!text.contains("eyJsecret"), "{text}");
    }
}
