//! The admin handlers: list, upload and validate, deploy, roll back, pause,
//! resume, remove.

use std::sync::{Arc, PoisonError};

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AdminState;
use super::views::{LogPage, Roles, VersionView};
use crate::config::PluginManifest;
use crate::registry::RegistryError;
use crate::runtime::log_book::LINES_PER_PLUGIN;
use crate::runtime::plugin::PluginVersion;
use crate::versions::{StoreError, VersionError};
use crate::web::deployment_view::DeploymentView;
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

fn version_problem(e: VersionError) -> Problem {
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

/// `GET /admin/v1/plugins`.
pub async fn list(State(state): State<AdminState>) -> Response {
    Json(DeploymentView::all(&state.registry, &state.ownership)).into_response()
}

/// `GET /admin/v1/plugins/{name}/versions`.
pub async fn versions(State(state): State<AdminState>, Path(name): Path<String>) -> Answer {
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

/// An uploaded manifest: a plugin table in TOML (or a configuration
/// fragment with one `[[plugins]]` table); `name` and `wasm` may be left out.
fn parse_manifest(text: &str, name: &str) -> Result<PluginManifest, Problem> {
    let bad = |e: String| Problem::bad_request(format!("the manifest: {e}"));
    let mut table = crate::config::plugin_table(text).map_err(bad)?;
    let given = table
        .entry("name")
        .or_insert_with(|| name.into())
        .as_str()
        .map(str::to_owned);
    if given.as_deref() != Some(name) {
        return Err(bad(format!("it names {given:?}, not `{name}`")));
    }
    table
        .entry("wasm")
        .or_insert_with(|| "uploaded.wasm".into());
    table
        .try_into()
        .map_err(|e: toml::de::Error| bad(e.to_string()))
}

/// `POST /admin/v1/plugins/{name}/versions`: multipart form with the
/// component (`component`) and optionally its manifest (`manifest`, TOML;
/// the live version's manifest otherwise). 201 with the stored version once
/// it compiled, linked and initialised; 422 with the reason otherwise
/// (nothing is kept and the live version is untouched).
pub async fn upload(
    State(state): State<AdminState>,
    Path(name): Path<String>,
    mut form: Multipart,
) -> Answer {
    let live = state
        .registry
        .get(&name)
        .ok_or_else(|| registry_problem(RegistryError::Unknown(name.clone())))?;
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(format!(
                "the upload is larger than {} bytes (admin.max_upload_bytes)",
                state.max_upload_bytes
            ))
        } else {
            Problem::bad_request(format!("malformed multipart form: {}", e.body_text()))
        }
    };
    let (mut component, mut manifest) = (None, None);
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("component") => component = Some(field.bytes().await.map_err(malformed)?),
            Some("manifest") => {
                manifest = Some(parse_manifest(
                    &field.text().await.map_err(malformed)?,
                    &name,
                )?);
            }
            other => {
                return Err(Problem::bad_request(format!(
                    "unknown form field {other:?}: send `component` (the .wasm) and optionally `manifest` (TOML)"
                )));
            }
        }
    }
    let component =
        component.ok_or_else(|| Problem::bad_request("the form has no `component` field"))?;
    let manifest = manifest.unwrap_or_else(|| live.manifest.clone());
    match state
        .loader
        .store_and_load(&manifest, component.to_vec(), "upload")
        .await
    {
        Ok((stored, version)) => {
            tracing::info!(plugin = %name, version = %stored.id, digest = %stored.digest, "plugin version uploaded and validated");
            state
                .candidates
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name, version);
            Ok((
                StatusCode::CREATED,
                Json(VersionView::of(&stored, &Roles::default())),
            )
                .into_response())
        }
        Err(e) => {
            tracing::warn!(plugin = %name, error = %e, "plugin version refused");
            Err(version_problem(e))
        }
    }
}

/// Body of `deploy`.
#[derive(Deserialize)]
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

/// `POST /admin/v1/plugins/{name}/deploy` with `{"version": id}`.
pub async fn deploy(
    State(state): State<AdminState>,
    Path(name): Path<String>,
    Json(request): Json<DeployRequest>,
) -> Answer {
    let version = loaded(&state, &name, &request.version).await?;
    let id = version.id.clone();
    state.registry.deploy(version).map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %id, "plugin version deployed");
    deployment(&state, &name)
}

/// `POST /admin/v1/plugins/{name}/rollback`: ends the canary when one runs,
/// otherwise goes back to the version the last deploy replaced.
pub async fn rollback(State(state): State<AdminState>, Path(name): Path<String>) -> Answer {
    let live = state.registry.rollback(&name).map_err(registry_problem)?;
    tracing::info!(plugin = %name, version = %live.id, "plugin rolled back");
    deployment(&state, &name)
}

/// `POST /admin/v1/plugins/{name}/pause`.
pub async fn pause(State(state): State<AdminState>, Path(name): Path<String>) -> Answer {
    set_paused(&state, &name, true)
}

/// `POST /admin/v1/plugins/{name}/resume`.
pub async fn resume(State(state): State<AdminState>, Path(name): Path<String>) -> Answer {
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

/// `DELETE /admin/v1/plugins/{name}`: its workers finish their batch and
/// its consumers leave the group.
pub async fn remove(State(state): State<AdminState>, Path(name): Path<String>) -> Answer {
    state.registry.remove(&name).map_err(registry_problem)?;
    tracing::info!(plugin = %name, "plugin removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Query of `logs`.
#[derive(Deserialize)]
pub struct LogsQuery {
    /// Only lines after this `seq`.
    #[serde(default)]
    after: u64,
    /// At most this many (the latest).
    limit: Option<usize>,
}

/// `GET /admin/v1/plugins/{name}/logs?after=SEQ&limit=N`: the plugin's
/// recent log lines (its own and the host's notes on traps and dead
/// letters), oldest first, and the `seq` to ask after next.
pub async fn logs(
    State(state): State<AdminState>,
    Path(name): Path<String>,
    Query(query): Query<LogsQuery>,
) -> Answer {
    if state.registry.deployment(&name).is_none() {
        return Err(registry_problem(RegistryError::Unknown(name)));
    }
    let lines = state.loader.logs().read(
        &name,
        query.after,
        query.limit.unwrap_or(100).min(LINES_PER_PLUGIN),
    );
    let next = lines.last().map_or(query.after, |l| l.seq);
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
