//! A peer: the checksum plugin's logic hosted by Extism (`extism` crate,
//! plugin built with its own PDK, `tests/fixtures/checksum-extism`), behind
//! the same `POST /v1/events` as the bare baseline. One warm plugin
//! instance per core, each used by one request at a time (an Extism
//! `Plugin` is called through `&mut`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, Result};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use bytes::Bytes;
use extism::{Manifest, Plugin, Wasm};

/// Warm plugin instances, taken in turn.
struct Instances {
    plugins: Vec<Mutex<Plugin>>,
    next: AtomicUsize,
}

/// Serve `plugin` (an Extism plugin exporting `handle`) on `listen` until the
/// process is killed.
pub async fn serve(listen: SocketAddr, plugin: &Path) -> Result<()> {
    let wasm = std::fs::read(plugin).with_context(|| format!("reading {}", plugin.display()))?;
    let manifest = Manifest::new([Wasm::data(wasm)]);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let plugins = (0..cores)
        .map(|_| Plugin::new(&manifest, [], false).map(Mutex::new))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("loading the Extism plugin {}", plugin.display()))?;
    let instances = Arc::new(Instances {
        plugins,
        next: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/v1/events", post(handle))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(instances);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn handle(State(instances): State<Arc<Instances>>, body: Bytes) -> (StatusCode, String) {
    let turn = instances.next.fetch_add(1, Ordering::Relaxed) % instances.plugins.len();
    let mut plugin = instances.plugins[turn]
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match plugin.call::<&[u8], &str>("handle", &body) {
        Ok(checksum) => (StatusCode::ACCEPTED, checksum.to_owned()),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    }
}
