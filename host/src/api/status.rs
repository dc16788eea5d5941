//! Health, readiness, metrics, the vocabulary's schemas and the plugin list.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::Scope;
use crate::dispatch::Ownership;
use crate::registry::{Deployment, Registry};
use crate::web::AppState;
use crate::web::caller::Caller;
use crate::web::problem::Problem;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: plugins are loaded and consuming, and the storage takes
/// writes (not ready while the disk is nearly full or a write failed, with
/// the reason).
pub async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::Acquire) {
        return Problem::unavailable("the gateway is starting or stopping").into_response();
    }
    match state.storage_health.trouble() {
        Some(trouble) => Problem::storage(&trouble, "").into_response(),
        None => axum::Json(json!({"status": "ready"})).into_response(),
    }
}

/// `GET /metrics`: Prometheus text exposition, for a key (or staff) with
/// the `metrics` scope: Prometheus scrapes with
/// `authorization: {credentials: <key>}`.
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(p) = caller.require(&Scope::Metrics, "scraping metrics") {
        return p.into_response();
    }
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `GET /v1/schemas`: the JSON Schema of every event type's `data`, for
/// any authenticated caller.
pub async fn schemas(_: Caller) -> Response {
    axum::Json(crate::event::vocabulary::schemas_json()).into_response()
}

/// `GET /v1/plugins`: deployed plugins with their version, state, grants,
/// limits and what the live version did since it was loaded.
pub async fn plugins(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(p) = caller.require(&Scope::Plugins, "listing plugins") {
        return p.into_response();
    }
    axum::Json(deployments_json(&state.registry, &state.ownership)).into_response()
}

/// Every deployment as the status and admin APIs list them.
pub fn deployments_json(registry: &Registry, ownership: &Ownership) -> Vec<Value> {
    registry
        .snapshot()
        .plugins
        .values()
        .map(|d| deployment_json(d, ownership))
        .collect()
}

/// One deployment as the status and admin APIs show it.
pub fn deployment_json(d: &Deployment, ownership: &Ownership) -> Value {
    let (v, m) = (&d.live, &d.live.manifest);
    json!({
        "name": m.name,
        "version": v.id,
        "digest": format!("sha256:{}", v.digest),
        "state": if d.paused { "paused" } else { "running" },
        "previous": d.previous.as_ref().map(|p| p.id.clone()),
        "canary": d.canary.as_ref().map(|c| json!({
            "version": c.version.id,
            "digest": format!("sha256:{}", c.version.digest),
            "percent": c.percent(),
            "policy": c.policy,
            "started_at": c.started_at,
            "stats": c.version.stats.read().since(&c.started.1),
        })),
        "subscribe": m.subscribe,
        "types": m.types,
        "publish": m.publish,
        "push_channels": m.push_channels,
        "allowed_hosts": m.allowed_hosts,
        "dead_letter_topic": m.dead_letter_topic(),
        "limits": m.limits,
        "retry": m.retry,
        "idle_instances": v.idle_instances(),
        "stats": v.stats.read(),
        "shadow": d.shadow.as_ref().map(|s| {
            let (compared, same, different) = s.report.counts();
            json!({
                "version": s.version.id,
                "percent": s.percent(),
                "started_at": s.started_at,
                "compared": compared,
                "same": same,
                "different": different,
            })
        }),
        "partitions": ownership.of(&m.name),
        "history": d.history,
    })
}

/// `GET /demo`: a page that opens a session, shows pushes live and sends
/// view, cart and support events (needs `auth.dev_tokens`).
pub async fn demo() -> Response {
    axum::response::Html(include_str!("demo.html")).into_response()
}

/// Anything else: a 404 problem.
pub async fn not_found(uri: Uri) -> Response {
    Problem::not_found(format!("no route for {}", uri.path())).into_response()
}
