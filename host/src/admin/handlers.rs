//! The admin handlers: list, versions, deploy, roll back, pause,
//! resume, remove.

use std::sync::{Arc, PoisonError};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AdminState;
use super::views::{LogPage, Roles, VersionView};
use crate::registry::RegistryError;
use crate::runtime::log_book::LINES_PER_PLUGIN;
use crate::runtime::plugin::PluginVersion;
use crate::versions::{StoreError, VersionError};
use crate::web::deployment_view::DeploymentView;
use crate::web::extract::{JsonBody, PathParams, QueryParams};
use crate::web::problem::Problem;

pub(super) type Answer = Result<Response, Problem>;

fn conflict(detail: String) -> Problem {
    Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
}

pub(super) fn registry_problem(e: RegistryError) -> Problem {
    match e {
        RegistryError::Unknown(_) => Problem::not_found(e.to_string()),
        RegistryError::Share(_) => Problem::bad_request(e.to_string()),
        RegistryError::NoPrevious(_)
        | RegistryError::NoCanary(_)
        | RegistryError::NoShadow(_)
        | RegistryError::CanaryRunning { .. }
        | RegistryError::AlreadyLive { .. }
        | RegistryError::Subscriptions { .. } => conflict(e.to_string()),
    }
}

pub(super) fn version_problem(e: VersionError) -> Problem {
    match e {
        VersionError::Store(StoreError::Unknown { .. }) => Problem::not_found(e.to_string()),
        VersionError::Store(StoreError::Ambiguous { .. }) => Problem::bad_request(e.to_string()),
        VersionError::Store(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "version-store",
            "Version store failed",
            e.to_string(),
        ),
        _ => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-plugin-version",
            "Plugin version refused",
            e.to_string(),
        ),
    }
}

/// The deployment of `name` as JSON, or 404.
pub(super) fn deployment(state: &AdminState, name: &str) -> Answer {
    state
        .registry
        .deployment(name)
        .map(|d| Json(DeploymentView::of(&d, &state.ownership)).into_response())
        .ok_or_else(|| registry_problem(RegistryError::Unknown(name.to_owned())))
}

/// Every deployment: its versions, state, limits, grants and stats.
#[utoipa::path(
    get,
    path = "/admin/v1/plugins",
    tag = "plugins",
    responses(
        (status = 200, description = "Every deployment: versions, state, limits, grants, stats", body = Vec<DeploymentView>),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
    )
)]
pub async fn list(State(state): State<AdminState>) -> Response {
    Json(DeploymentView::all(&state.registry, &state.ownership)).into_response()
}

/// Every stored version of a plugin, with its role (live, canary, previous).
#[utoipa::path(
    get,
    path = "/admin/v1/plugins/{name}/versions",
    tag = "plugins",
    params(super::openapi::PluginName),
    responses(
        (status = 200, description = "Every stored version of the plugin, with its role", body = Vec<VersionView>),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 404, response = inline(super::openapi::NotFound)),
        (status = 500, description = "The version store failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn versions(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    let d = state
        .registry
        .deployment(&name)
        .ok_or_else(|| registry_problem(RegistryError::Unknown(name.clone())))?;
    let roles = Roles::of(&d);
    let stored = state
        .loader
        .store
        .list(&name)
        .map_err(|e| version_problem(e.into()))?;
    let list: Vec<VersionView> = stored.iter().map(|v| VersionView::of(v, &roles)).collect();
    Ok(Json(list).into_response())
}

/// Body of `deploy`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// Version id (or an unambiguous prefix).
    version: String,
}

/// The stored version `id` of `name`, loaded (the validated upload when it
/// is that one).
pub(super) async fn loaded(
    state: &AdminState,
    name: &str,
    id: &str,
) -> Result<Arc<PluginVersion>, Problem> {
    let stored = state
        .loader
        .store
        .get(name, id)
        .map_err(|e| version_problem(e.into()))?;
    let candidate = state
        .candidates
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .filter(|c| c.id == stored.id)
        .cloned();
    match candidate {
        Some(version) => Ok(version),
        None => state
            .loader
            .load(&stored.manifest)
            .await
            .map_err(version_problem),
    }
}

/// Make a stored version live (`{"version": id}`).
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/deploy",
    tag = "releases",
    params(super::openapi::PluginName),
    request_body = DeployRequest,
    responses(
        super::openapi::DeploymentChanged,
        (status = 415, description = "Not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "A malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, response = inline(super::openapi::Conflict)),
        (status = 422, description = "The stored version no longer loads (the reason)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deploy(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
    JsonBody(request): JsonBody<DeployRequest>,
) -> Answer {
    let version = loaded(&state, &name, &request.version).await?;
    let id = version.id.clone();
    state.registry.deploy(version).map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %id, "plugin version deployed");
    deployment(&state, &name)
}

/// Roll back: end the canary when one runs, otherwise go back to the
/// version the last deploy replaced.
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/rollback",
    tag = "releases",
    params(super::openapi::PluginName),
    responses(
        super::openapi::DeploymentChanged,
        (status = 409, response = inline(super::openapi::Conflict)),
    )
)]
pub async fn rollback(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    let live = state.registry.rollback(&name).map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %live.id, "plugin rolled back");
    deployment(&state, &name)
}

/// Stop consuming (events wait in the log).
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/pause",
    tag = "plugins",
    params(super::openapi::PluginName),
    responses(super::openapi::DeploymentChanged)
)]
pub async fn pause(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    set_paused(&state, &name, true)
}

/// Consume again from where it paused.
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/resume",
    tag = "plugins",
    params(super::openapi::PluginName),
    responses(super::openapi::DeploymentChanged)
)]
pub async fn resume(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    set_paused(&state, &name, false)
}

fn set_paused(state: &AdminState, name: &str, paused: bool) -> Answer {
    state
        .registry
        .set_paused(name, paused)
        .map_err(registry_problem)?;
    tracing::info!(plugin = %name, paused, "plugin pause changed");
    deployment(state, name)
}

/// Stop running the plugin: its workers finish their batch and its
/// consumers leave the group.
#[utoipa::path(
    delete,
    path = "/admin/v1/plugins/{name}",
    tag = "plugins",
    params(super::openapi::PluginName),
    responses(
        (status = 204, description = "It no longer runs here"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 404, response = inline(super::openapi::NotFound)),
    )
)]
pub async fn remove(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
) -> Answer {
    state.registry.remove(&name).map_err(registry_problem)?;
    tracing::info!(plugin = %name, "plugin removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Query of `logs`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// Only lines after this `seq`.
    #[serde(default)]
    #[param(minimum = 0)]
    after: i64,
    /// At most this many (the latest); 100 by default.
    #[param(maximum = 1000)] // LINES_PER_PLUGIN
    limit: Option<usize>,
}

/// A plugin's recent log lines.
///
/// Its own lines and the host's notes on traps and dead letters, oldest
/// first, and the `seq` to ask after next (`?after=SEQ&limit=N`).
#[utoipa::path(
    get,
    path = "/admin/v1/plugins/{name}/logs",
    tag = "plugins",
    params(super::openapi::PluginName, LogsQuery),
    responses(
        (status = 200, description = "Its latest lines after `after`, oldest first", body = LogPage),
        (status = 400, description = "A bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 404, response = inline(super::openapi::NotFound)),
    )
)]
pub async fn logs(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
    QueryParams(query): QueryParams<LogsQuery>,
) -> Answer {
    if state.registry.deployment(&name).is_none() {
        return Err(registry_problem(RegistryError::Unknown(name)));
    }
    let after =
        u64::try_from(query.after).map_err(|_| Problem::bad_request("after must be 0 or more"))?;
    let limit = query.limit.unwrap_or(100);
    if limit > LINES_PER_PLUGIN {
        return Err(Problem::bad_request(format!(
            "limit must be at most {LINES_PER_PLUGIN}"
        )));
    }
    let lines = state.loader.logs().read(&name, after, limit);
    let next = lines.last().map_or(after, |l| l.seq);
    Ok(Json(LogPage {
        plugin: name,
        lines,
        next,
    })
    .into_response())
}

/// Anything else: 404.
pub async fn not_found(uri: Uri) -> Response {
    Problem::not_found(format!("no admin route for {}", uri.path())).into_response()
}
