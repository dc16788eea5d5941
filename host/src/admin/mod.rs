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

mod auth;
pub mod client;
mod handlers;
mod releases;
pub mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::dispatch::Ownership;
use crate::registry::Registry;
use crate::runtime::plugin::PluginVersion;
use crate::versions::VersionLoader;
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

/// The admin routes.
pub fn app(state: AdminState) -> Router {
    let max_upload_bytes = state.max_upload_bytes;
    Router::new()
        .route("/admin/v1/plugins", get(handlers::list))
        .route(
            "/admin/v1/plugins/{name}",
            axum::routing::delete(handlers::remove),
        )
        .route(
            "/admin/v1/plugins/{name}/versions",
            get(handlers::versions).post(handlers::upload),
        )
        .route("/admin/v1/plugins/{name}/deploy", post(handlers::deploy))
        .route("/admin/v1/plugins/{name}/canary", post(releases::canary))
        .route("/admin/v1/plugins/{name}/promote", post(releases::promote))
        .route(
            "/admin/v1/plugins/{name}/shadow",
            post(releases::start_shadow)
                .get(releases::shadow_report)
                .delete(releases::stop_shadow),
        )
        .route(
            "/admin/v1/plugins/{name}/rollback",
            post(handlers::rollback),
        )
        .route("/admin/v1/plugins/{name}/pause", post(handlers::pause))
        .route("/admin/v1/plugins/{name}/logs", get(handlers::logs))
        .route("/admin/v1/plugins/{name}/resume", post(handlers::resume))
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
