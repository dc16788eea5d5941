//! Test harness: builds the plugins and fixtures from source once per test
//! run, starts a real gateway on a free loopback port with its own data
//! directory, and talks to it over HTTP.

pub mod broker;
mod child_gateway;
mod cli;
pub mod engagement;
pub mod infobip;
mod interop;
pub mod local_server;
pub mod module_graph;
pub mod orders;
mod plugin_build;
pub mod redis;
pub mod salesforce;
pub mod schemathesis;
mod settings;
mod stores;
pub mod stripe;
mod test_gateway;
pub mod tmpfs;
mod ws_client;

pub use child_gateway::{ChildGateway, serve_if_child};
pub use cli::streamplug_plugin;
pub use interop::{interop_python, kafka_client, venv_tool, websockets_close};
pub use plugin_build::{plugin_dir, plugin_packages, streamplug_binary};
pub use settings::{
    JWT_SECRET, RECOMMEND_MANIFEST, TEST_KEY, config, config_on, example_manifest,
    recorder_manifest, test_auth,
};
pub use stores::{Backend, Stores};
pub use test_gateway::{Answer, TestGateway, keyed_client, metrics_text, sample};
pub use ws_client::{Received, Ws, ack, closed, next_frame, push_on, pushes, receive, send_json};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::Value;

/// Longest time a test waits for the gateway to do something.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A path of the workspace, from its root.
pub fn workspace_path(relative: &str) -> PathBuf {
    workspace_root().join(relative)
}

/// Poll `probe` every 50 ms until it yields `Some`, for at most [`PATIENCE`];
/// on timeout the error says what was awaited.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe().await? {
            return Ok(found);
        }
        if Instant::now() > deadline {
            bail!("gave up waiting for {what} after {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A `product.viewed` event in the shorthand form.
pub fn view(customer: &str, product: &str) -> Value {
    serde_json::json!({"type": "product.viewed", "customer": customer, "data": {"product": product}})
}
