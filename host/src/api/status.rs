//! Health, readiness, metrics, the vocabulary's schemas and the plugin list.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::problem::Problem;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: plugins are loaded and consuming.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        axum::Json(json!({"status": "ready"})).into_response()
    } else {
        Problem::unavailable("the gateway is starting or stopping").into_response()
    }
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `GET /v1/schemas`: the JSON Schema of every event type's `data`.
pub async fn schemas() -> Response {
    axum::Json(crate::event::vocabulary::schemas_json()).into_response()
}

/// `GET /v1/plugins`: deployed plugins with their version, state, grants,
/// limits and what the live version did since it was loaded.
pub async fn plugins(State(state): State<AppState>) -> Response {
    let list: Vec<Value> = state
        .registry
        .snapshot()
        .plugins
        .values()
        .map(|d| {
            let (v, m) = (&d.live, &d.live.manifest);
            json!({
                "name": m.name,
                "digest": format!("sha256:{}", v.digest),
                "state": if d.paused { "paused" } else { "running" },
                "subscribe": m.subscribe,
                "types": m.types,
                "publish": m.publish,
                "allowed_hosts": m.allowed_hosts,
                "dead_letter_topic": m.dead_letter_topic(),
                "limits": m.limits,
                "retry": m.retry,
                "idle_instances": v.idle_instances(),
                "stats": v.stats.read(),
                "previous": d.previous.as_ref().map(|p| format!("sha256:{}", p.digest)),
                "partitions": state.ownership.of(&m.name),
            })
        })
        .collect();
    axum::Json(list).into_response()
}

/// `GET /demo`: a page that opens a session, shows pushes live and sends
/// view, cart and order events (needs `websocket.dev_tokens`).
pub async fn demo() -> Response {
    axum::response::Html(include_str!("demo.html")).into_response()
}

/// Anything else: a 404 problem.
pub async fn not_found(uri: Uri) -> Response {
    Problem::not_found(format!("no route for {}", uri.path())).into_response()
}
