//! Health, readiness, metrics, the vocabulary's schemas and the plugin list.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::Scope;
use crate::web::AppState;
use crate::web::caller::Caller;
use crate::web::deployment_view::DeploymentView;
use crate::web::problem::Problem;

/// The body of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (the process is up) or `ready` (it takes traffic).
    pub status: String,
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Health))
)]
pub async fn healthz() -> Response {
    axum::Json(Health {
        status: "ok".into(),
    })
    .into_response()
}

/// Ready to serve.
///
/// Plugins are loaded and consuming, and the storage takes writes (not
/// ready while the disk is nearly full or a write failed, with the
/// reason).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Plugins run and the storage takes writes", body = Health),
        (status = 503, description = "Starting, stopping, or the storage does not take writes (the reason)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::Acquire) {
        return Problem::unavailable("the gateway is starting or stopping").into_response();
    }
    match state.storage_health.trouble() {
        Some(trouble) => Problem::storage(&trouble, "").into_response(),
        None => axum::Json(Health {
            status: "ready".into(),
        })
        .into_response(),
    }
}

/// Prometheus metrics.
///
/// The text exposition, for a key (or staff) with the `metrics` scope: Prometheus scrapes with
/// `authorization: {credentials: <key>}`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "No `metrics` scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The metrics could not be rendered this time (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(p) = caller.require(&Scope::Metrics, "scraping metrics") {
        return p.into_response();
    }
    // Rendering folds every sample recorded since the last upkeep: CPU
    // work kept off the runtime's workers (see `gateway::housekeeping`).
    let body = match state.metrics.clone() {
        Some(handle) => match tokio::task::spawn_blocking(move || handle.render()).await {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(error = %e, "rendering the metrics failed");
                return Problem::unavailable("the metrics could not be rendered").into_response();
            }
        },
        None => String::new(),
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The JSON Schema of every event type's `data`, for
/// any authenticated caller.
#[utoipa::path(
    get,
    path = "/v1/schemas",
    tag = "read",
    responses(
        (status = 200, description = "Every event type, with the JSON Schema (2020-12) of its `data`", body = Vec<crate::event::vocabulary::TypeSchema>),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
    ),
    security(("bearer" = []))
)]
pub async fn schemas(State(state): State<AppState>, _: Caller) -> Response {
    axum::Json(state.vocabulary.schemas_json()).into_response()
}

/// Deployed plugins with their version, state, grants,
/// limits and what the live version did since it was loaded.
#[utoipa::path(
    get,
    path = "/v1/plugins",
    tag = "operations",
    responses(
        (status = 200, description = "Every deployed plugin", body = Vec<DeploymentView>),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "No `plugins` scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn plugins(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(p) = caller.require(&Scope::Plugins, "listing plugins") {
        return p.into_response();
    }
    axum::Json(DeploymentView::all(&state.registry, &state.ownership)).into_response()
}

/// The demo page.
///
/// It opens a session, shows pushes live and sends view, cart and support
/// events (needs `auth.dev_tokens`).
#[utoipa::path(
    get,
    path = "/demo",
    tag = "sessions",
    responses((status = 200, description = "The demo page", body = String, content_type = "text/html"))
)]
pub async fn demo() -> Response {
    axum::response::Html(include_str!("demo.html")).into_response()
}

/// Anything else: a 404 problem.
pub async fn not_found(uri: Uri) -> Response {
    Problem::not_found(format!("no route for {}", uri.path())).into_response()
}
