//! The admin API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` declarations the admin router is built from, like the
//! public API's ([`crate::api::openapi`]). Served at
//! `GET /admin/v1/openapi.json` on the admin listener (behind the admin
//! token); `streamplug openapi --admin` prints it and
//! `docs/admin-openapi.json` holds a copy a test keeps equal to it.

use axum::Extension;
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use crate::web::deployment_view::DeploymentView;
use crate::web::openapi_document::{Document, add_bearer_scheme};
use crate::web::problem::Problem;

/// The document's parts that are not a route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "streamplug admin",
        description = "The operators' API on its own listener (`admin.listen`): plugin \
                       versions, deploys, canaries, shadows, rollbacks, pause and resume, \
                       logs. Every request carries the admin token; errors are RFC 9457 \
                       problem details (`application/problem+json`).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "plugins", description = "Running plugins, their stored versions and their logs"),
        (name = "releases", description = "Making a version live: deploy, canary, shadow, rollback"),
        (name = "operations", description = "This document"),
    ),
    security(("bearer" = [])),
    modifiers(&AdminBearer)
)]
pub struct AdminDoc;

/// `Authorization: Bearer <admin.token>`.
struct AdminBearer;

impl Modify for AdminBearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        add_bearer_scheme(doc, "The admin token (`admin.token`)");
    }
}

/// The multipart form `POST /admin/v1/plugins/{name}/versions` takes.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form the handler reads field by field
pub struct UploadForm {
    /// The component (`.wasm`).
    #[schema(value_type = String, format = Binary)]
    component: Vec<u8>,
    /// Its manifest: a plugin table in TOML (`name` and `wasm` may be left
    /// out); the live version's manifest when absent.
    manifest: Option<String>,
}

/// The `{name}` of every plugin route.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // the handlers read it with PathParams<String>
pub struct PluginName {
    /// The plugin.
    name: String,
}

/// What a route that changes a deployment answers when it did: the
/// deployment as it is now; the credential refused; no such plugin.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, clippy::large_enum_variant)] // describes the answers; never built
pub enum DeploymentChanged {
    /// The deployment as it is now.
    #[response(status = 200)]
    Changed(DeploymentView),
    /// No credential, or a refused one.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// No plugin of that name, or no such version.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// No plugin of that name runs here (or no such stored version).
#[derive(ToResponse)]
#[response(
    description = "No plugin of that name, or no such version",
    content_type = "application/problem+json"
)]
pub struct NotFound(pub Problem);

/// The plugin's deployment is not in a state that allows this.
#[derive(ToResponse)]
#[response(
    description = "Not now: no canary, no shadow, no previous version, already live, or its subscriptions changed",
    content_type = "application/problem+json"
)]
pub struct Conflict(pub Problem);

/// This document.
#[utoipa::path(
    get,
    path = "/admin/v1/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the admin API", body = Object),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
    )
)]
pub async fn document(Extension(doc): Extension<Document>) -> Document {
    doc
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn docs_admin_openapi_json_matches_the_code() {
        crate::docs_file::assert_current("admin-openapi.json", &super::super::openapi_json());
    }

    #[test]
    fn every_admin_route_is_described_behind_the_token_with_problem_errors() {
        let doc: Value = serde_json::from_str(&super::super::openapi_json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
        let paths = doc["paths"].as_object().unwrap();
        let expected = [
            ("/admin/v1/plugins", "get"),
            ("/admin/v1/plugins/{name}", "delete"),
            ("/admin/v1/plugins/{name}/versions", "get"),
            ("/admin/v1/plugins/{name}/versions", "post"),
            ("/admin/v1/plugins/{name}/deploy", "post"),
            ("/admin/v1/plugins/{name}/canary", "post"),
            ("/admin/v1/plugins/{name}/promote", "post"),
            ("/admin/v1/plugins/{name}/shadow", "post"),
            ("/admin/v1/plugins/{name}/shadow", "get"),
            ("/admin/v1/plugins/{name}/shadow", "delete"),
            ("/admin/v1/plugins/{name}/rollback", "post"),
            ("/admin/v1/plugins/{name}/pause", "post"),
            ("/admin/v1/plugins/{name}/resume", "post"),
            ("/admin/v1/plugins/{name}/logs", "get"),
            ("/admin/v1/openapi.json", "get"),
        ];
        let described: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(described, expected.len(), "{:?}", paths.keys());
        for (path, method) in expected {
            let op = &paths[path][method];
            let unauthorized = &op["responses"]["401"]["content"]["application/problem+json"];
            assert!(unauthorized.is_object(), "{method} {path}: {op}");
        }
        let upload = &paths["/admin/v1/plugins/{name}/versions"]["post"]["requestBody"];
        assert!(
            upload["content"]["multipart/form-data"].is_object(),
            "{upload}"
        );
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "DeploymentView",
            "VersionView",
            "LogPage",
            "ShadowReportView",
            "CanaryRequest",
            "Problem",
        ] {
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
