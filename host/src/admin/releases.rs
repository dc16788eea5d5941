//! The admin handlers of gradual releases: canary and promote, and shadow
//! mode (start, report, stop).

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AdminState;
use super::handlers::{Answer, deployment, loaded, registry_problem};
use crate::registry::{CanaryPolicy, RegistryError};
use crate::shadow::ShadowReportView;
use crate::web::extract::{JsonBody, PathParams};
use crate::web::problem::Problem;

/// Body of `canary`: the version, its share, and when it is rolled back
/// on its own (defaults: more than 5 % of at least 20 invocations in 60 s
/// trapped or were rejected).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CanaryRequest {
    /// Version id (or an unambiguous prefix).
    version: String,
    /// Share of the keys (customers) it takes, in percent (0.01 to 100).
    #[schema(minimum = 0.01, maximum = 100.0)]
    percent: f64,
    /// Roll back when more than this share (0 to 1) of the canary's
    /// invocations in the window trapped or were rejected.
    #[schema(minimum = 0.0, maximum = 1.0)]
    max_error_rate: Option<f64>,
    /// The window, in seconds.
    window_secs: Option<u64>,
    /// Judge only once the window holds at least this many invocations.
    min_events: Option<u64>,
}

impl CanaryRequest {
    /// The rollback policy it asks for, defaults filled in.
    fn policy(&self) -> CanaryPolicy {
        let default = CanaryPolicy::default();
        CanaryPolicy {
            max_error_rate: self.max_error_rate.unwrap_or(default.max_error_rate),
            window_secs: self.window_secs.unwrap_or(default.window_secs),
            min_events: self.min_events.unwrap_or(default.min_events),
        }
    }
}

/// Send a share of the keys to a stored version.
///
/// `{"version": id, "percent": 10}` and optionally `max_error_rate`,
/// `window_secs`, `min_events`: when it is rolled back on its own.
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/canary",
    tag = "releases",
    params(super::openapi::PluginName),
    request_body = CanaryRequest,
    responses(
        super::openapi::DeploymentChanged,
        (status = 415, description = "Not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "A malformed body, or a share or error rate out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, response = inline(super::openapi::Conflict)),
        (status = 422, description = "The stored version no longer loads (the reason)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn canary(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
    JsonBody(request): JsonBody<CanaryRequest>,
) -> Answer {
    let policy = request.policy();
    if !(0.0..=1.0).contains(&policy.max_error_rate) {
        return Err(Problem::bad_request(format!(
            "max_error_rate is a share between 0 and 1, not {}",
            policy.max_error_rate
        )));
    }
    let version = loaded(&state, &name, &request.version).await?;
    let id = version.id.clone();
    state
        .registry
        .start_canary(version, request.percent, policy)
        .map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %id, percent = request.percent, "canary started");
    deployment(&state, &name)
}

/// Make the canary live.
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/promote",
    tag = "releases",
    params(super::openapi::PluginName),
    responses(
        super::openapi::DeploymentChanged,
        (status = 409, response = inline(super::openapi::Conflict)),
    )
)]
pub async fn promote(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    let live = state.registry.promote(&name).map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %live.id, "canary promoted");
    deployment(&state, &name)
}

/// Body of `shadow`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowRequest {
    /// Version id (or an unambiguous prefix).
    version: String,
    /// Share of the keys it shadows, in percent (all by default).
    #[serde(default = "all")]
    #[schema(default = 100.0, minimum = 0.01, maximum = 100.0)]
    percent: f64,
}

fn all() -> f64 {
    100.0
}

/// Shadow a stored version: it gets copies of the live events, its effects
/// captured and compared, never applied (`{"version": id}`).
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/shadow",
    tag = "releases",
    params(super::openapi::PluginName),
    request_body = ShadowRequest,
    responses(
        super::openapi::DeploymentChanged,
        (status = 415, description = "Not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "A malformed body, or a share out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, response = inline(super::openapi::Conflict)),
        (status = 422, description = "The stored version no longer loads (the reason)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start_shadow(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
    JsonBody(request): JsonBody<ShadowRequest>,
) -> Answer {
    let version = loaded(&state, &name, &request.version).await?;
    let id = version.id.clone();
    state
        .registry
        .start_shadow(version, request.percent)
        .map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %id, percent = request.percent, "shadow started");
    deployment(&state, &name)
}

/// How the shadow's effects differ from the live version's.
#[utoipa::path(
    get,
    path = "/admin/v1/plugins/{name}/shadow",
    tag = "releases",
    params(super::openapi::PluginName),
    responses(
        (status = 200, description = "How the shadow's effects differ from the live version's", body = ShadowReportView),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 404, description = "No such plugin, or it has no shadow", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn shadow_report(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    let d = state
        .registry
        .deployment(&name)
        .ok_or_else(|| registry_problem(RegistryError::Unknown(name.clone())))?;
    let shadow = d
        .shadow
        .ok_or_else(|| Problem::not_found(format!("{name} has no shadow")))?;
    let mut report = shadow.report.view(&shadow.version.id);
    report.live = Some(d.live.id.clone());
    report.percent = Some(shadow.percent());
    report.started_at = Some(shadow.started_at.clone());
    Ok(Json(report).into_response())
}

/// Stop the shadow; its final report.
#[utoipa::path(
    delete,
    path = "/admin/v1/plugins/{name}/shadow",
    tag = "releases",
    params(super::openapi::PluginName),
    responses(
        (status = 200, description = "Stopped; its final report", body = ShadowReportView),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 404, response = inline(super::openapi::NotFound)),
        (status = 409, response = inline(super::openapi::Conflict)),
    )
)]
pub async fn stop_shadow(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    let shadow = state
        .registry
        .stop_shadow(&name)
        .map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %shadow.version.id, "shadow stopped");
    Ok(Json(shadow.report.view(&shadow.version.id)).into_response())
}
