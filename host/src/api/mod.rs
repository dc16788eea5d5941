//! The public HTTP API. [`app`] builds the whole router from an [`AppState`]
//! and the WebSocket gateway's routes; it does no I/O itself, so tests drive
//! it with `oneshot` or a real socket. What it shares with the WebSocket
//! gateway and the admin API is in [`crate::web`].

pub mod ingest;
pub mod listener;
pub mod status;
pub mod topics;
pub mod trace;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::web::unread_body;
pub use crate::web::{AppState, Limits, SharedState};

/// The span of one request: method and path, never the query.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// The gateway's routes: the public API's, with `sessions` (the WebSocket
/// gateway's routes, [`crate::ws::routes`]) merged in, all behind the same
/// body limits, tracing and panic guard.
pub fn app(state: AppState, sessions: Router) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let body_read_timeout = state.limits.body_read_timeout;
    Router::new()
        .route("/v1/events", post(ingest::post_events))
        .route("/v1/webhooks/infobip", post(webhooks::infobip))
        .route("/v1/topics", get(topics::list_topics))
        .route("/v1/topics/{topic}/events", get(topics::read_events))
        .route("/v1/schemas", get(status::schemas))
        .route("/v1/plugins", get(status::plugins))
        .route("/demo", get(status::demo))
        .route("/healthz", get(status::healthz))
        .route("/readyz", get(status::readyz))
        .route("/metrics", get(status::metrics))
        .fallback(status::not_found)
        .with_state(state)
        .merge(sessions)
        .layer(DefaultBodyLimit::max(body_limit))
        // A body that trickles in is cut off (the handler answers 408).
        .layer(RequestBodyTimeoutLayer::new(body_read_timeout))
        // What a handler leaves of a body is read before the answer, so a
        // client still sending it reads the answer, not a reset.
        .layer(axum::middleware::from_fn_with_state(
            unread_body::Discard::within(body_read_timeout),
            unread_body::discard_unread,
        ))
        // One span per request, at DEBUG (nothing per request above DEBUG),
        // naming the path only: a query may carry a token (`/v1/ws?token=`,
        // the webhook's `?token=`), and logs never hold secrets.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::new())
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
