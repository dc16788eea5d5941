//! The admin API: plugin versions, deploys, rollbacks, pause and resume,
//! on its own listener (`admin.listen`) behind a bearer token
//! (`admin.token`; without one the API is off). Every answer is JSON; every
//! refusal a problem body.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /admin/v1/plugins` | deployments with version, state, limits, grants, stats |
//! | `GET /admin/v1/plugins/{name}/versions` | every stored version of a plugin |
//! | `POST /admin/v1/plugins/{name}/versions` | upload and validate a version (multipart `component`, optional `manifest`) |
//! | `POST /admin/v1/plugins/{name}/deploy` | make a stored version live (`{"version": id}`) |
//! | `POST /admin/v1/plugins/{name}/canary` | send a share of the keys to a stored version (`{"version": id, "percent": 10}`) |
//! | `POST /admin/v1/plugins/{name}/promote` | make the canary live |
//! | `POST /admin/v1/plugins/{name}/shadow` | a stored version gets copies of the events, effects captured (`{"version": id}`) |
//! | `GET`, `DELETE /admin/v1/plugins/{name}/shadow` | how its effects differ from the live version's; stop it |
//! | `POST /admin/v1/plugins/{name}/rollback` | end the canary, or back to the version the last deploy replaced |
//! | `POST /admin/v1/plugins/{name}/pause`, `/resume` | stop and restart consumption |
//! | `GET /admin/v1/plugins/{name}/logs?after=SEQ&limit=N` | its recent log lines |
//! | `DELETE /admin/v1/plugins/{name}` | stop running the plugin |
//! | `GET /admin/v1/openapi.json` | the OpenAPI 3.1 document of these routes (`docs/admin-openapi.json`) |

mod auth;
pub mod client;
mod handlers;
pub mod openapi;
mod releases;
mod upload;
pub mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dispatch::Ownership;
use crate::registry::Registry;
use crate::runtime::plugin::PluginVersion;
use crate::versions::VersionLoader;
use crate::web::openapi_document::{Document, split_with_document};
use crate::web::unread_body::{Discard, discard_unread};

/// What the admin handlers work on.
#[derive(Clone)]
pub struct AdminState {
    /// The deployments.
    pub registry: Arc<Registry>,
    /// Validates candidates; the version store.
    pub loader: Arc<VersionLoader>,
    /// Partitions each plugin consumes here.
    pub ownership: Arc<Ownership>,
    /// The bearer token requests must carry.
    pub token: Arc<str>,
    /// The latest validated upload of each plugin, ready to deploy.
    pub candidates: Arc<Mutex<HashMap<String, Arc<PluginVersion>>>>,
    /// Largest component upload, bytes.
    pub max_upload_bytes: usize,
}

/// How long an upload refused before it was read may take to arrive
/// (and be thrown away) before the answer goes out.
const UPLOAD_DISCARD_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// The admin routes, each with its description.
fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::with_openapi(openapi::AdminDoc::openapi())
        .routes(routes!(handlers::list))
        .routes(routes!(handlers::remove))
        .routes(routes!(handlers::versions, upload::upload))
        .routes(routes!(handlers::deploy))
        .routes(routes!(releases::canary))
        .routes(routes!(releases::promote))
        .routes(routes!(
            releases::start_shadow,
            releases::shadow_report,
            releases::stop_shadow
        ))
        .routes(routes!(handlers::rollback))
        .routes(routes!(handlers::pause))
        .routes(routes!(handlers::resume))
        .routes(routes!(handlers::logs))
}

/// The admin routers (its routes; `GET /admin/v1/openapi.json`, which
/// alone needs the document) and the document.
fn parts() -> (
    Router<AdminState>,
    Router<AdminState>,
    utoipa::openapi::OpenApi,
) {
    split_with_document(
        routes(),
        OpenApiRouter::new().routes(routes!(openapi::document)),
    )
}

/// The admin API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().2
}

/// The admin API's OpenAPI document as `docs/admin-openapi.json` holds it.
pub fn openapi_json() -> String {
    crate::docs_file::pretty_json(&openapi())
}

/// The admin routes.
pub fn app(state: AdminState) -> Router {
    let max_upload_bytes = state.max_upload_bytes;
    let (admin, document, doc) = parts();
    admin
        .merge(document.layer(Extension(Document::of(&doc))))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        // What a handler leaves of an upload (refused before it was read)
        // is read before the answer, so the operator's client reads it.
        .layer(axum::middleware::from_fn_with_state(
            Discard::within(UPLOAD_DISCARD_TIME),
            discard_unread,
        ))
        .with_state(state)
}

/// Serve the admin API on `listener` until `shutdown`.
pub fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|s| *s).await;
            })
            .await
    })
}

/// The address an admin listener bound to, for logs.
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/admin/v1")
}
