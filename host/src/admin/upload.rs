//! Uploading a plugin version: the multipart form, its manifest, and the
//! validation that decides whether the version is kept.

use std::sync::PoisonError;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AdminState;
use super::handlers::{Answer, registry_problem, version_problem};
use super::views::{Roles, VersionView};
use crate::config::PluginManifest;
use crate::registry::RegistryError;
use crate::web::extract::PathParams;
use crate::web::problem::Problem;

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

/// Upload and validate a version.
///
/// A multipart form with the component (`component`) and optionally its
/// manifest (`manifest`, TOML; the live version's manifest otherwise). 201
/// with the stored version once it compiled, linked and initialised; 422
/// with the reason otherwise (nothing is kept and the live version is
/// untouched).
#[utoipa::path(
    post,
    path = "/admin/v1/plugins/{name}/versions",
    tag = "plugins",
    params(super::openapi::PluginName),
    request_body(content = super::openapi::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored: it compiled, linked and initialised; deploy it by id", body = VersionView),
        (status = 400, description = "A malformed form or manifest, or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 404, response = inline(super::openapi::NotFound)),
        (status = 413, description = "Larger than `admin.max_upload_bytes`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: does not compile, link or initialise (the reason; nothing is kept)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(state): State<AdminState>,
    PathParams(name): PathParams<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Answer {
    let mut form = form.map_err(|e| {
        Problem::bad_request(format!(
            "send a multipart/form-data body with `component` (and optionally `manifest`): {}",
            e.body_text()
        ))
    })?;
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
