//! The public HTTP API. [`app`] builds the whole router from an [`AppState`]
//! and the WebSocket gateway's routes; it does no I/O itself, so tests drive
//! it with `oneshot` or a real socket. Each route is declared once, with its
//! description: the router and the OpenAPI document ([`openapi`]) come
//! from the same declarations. What it shares with the WebSocket gateway
//! and the admin API is in [`crate::web`].

pub mod commands;
pub mod inbound_webhooks;
pub mod ingest;
pub mod listener;
pub mod openapi;
pub mod queries;
pub mod status;
pub mod topics;
pub mod trace;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::event::vocabulary::Vocabulary;
use crate::web::openapi_document::{Document, split_with_document};
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

/// The public API's routes, each with its description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(ingest::post_events))
        .routes(routes!(commands::post_command))
        .routes(routes!(inbound_webhooks::receive))
        .routes(routes!(topics::list_topics))
        .routes(routes!(topics::read_events))
        .routes(routes!(queries::ask))
        .routes(routes!(status::schemas))
        .routes(routes!(status::plugins))
        .routes(routes!(status::demo))
        .routes(routes!(status::healthz))
        .routes(routes!(status::readyz))
        .routes(routes!(status::metrics))
}

/// The public API's routers (its routes; `GET /v1/openapi.json`, which
/// alone needs the document) and the document, with the description of the
/// routes merged into them (`sessions`: the WebSocket gateway's, as
/// [`crate::ws::openapi`] describes them) and the ingest bodies' exact
/// schemas for `vocabulary` ([`crate::web::ingest_body::complete_openapi`]).
fn parts(
    sessions: utoipa::openapi::OpenApi,
    vocabulary: &Vocabulary,
) -> (Router<AppState>, Router<AppState>, Value) {
    let (api, document, mut doc) = split_with_document(
        routes(),
        OpenApiRouter::new().routes(routes!(openapi::document)),
    );
    doc.merge(sessions);
    let mut doc = serde_json::to_value(&doc).unwrap_or_default();
    crate::web::ingest_body::complete_openapi(&mut doc, vocabulary);
    (api, document, doc)
}

/// The gateway's OpenAPI document: the public API's routes and those of
/// the routers merged into it (`sessions`: the WebSocket gateway's), the
/// ingest bodies those of `vocabulary`'s types.
pub fn openapi(sessions: utoipa::openapi::OpenApi, vocabulary: &Vocabulary) -> Value {
    parts(sessions, vocabulary).2
}

/// The gateway's routes: the public API's, with `sessions` (the WebSocket
/// gateway's routes and their description, [`crate::ws::routes`]) merged
/// in, all behind the same body limits, tracing and panic guard.
pub fn app(state: AppState, sessions: (Router, utoipa::openapi::OpenApi)) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let body_read_timeout = state.limits.body_read_timeout;
    let (sessions, sessions_doc) = sessions;
    let (api, document, doc) = parts(sessions_doc, &state.vocabulary);
    // Serialised once; only its own route carries it.
    let doc = Document::of(&doc);
    api.merge(document.layer(Extension(doc)))
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
        // a webhook's `?token=`), and logs never hold secrets.
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
