//! A gateway in a child process, for tests that kill it with SIGKILL: the
//! test binary runs itself again with one ignored test selected
//! ([`CHILD_TEST`]), which serves the configuration named by an
//! environment variable until it is killed. No second binary to build.

use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result};
use streamplug::config::{Overrides, Settings};
use streamplug::gateway::Gateway;

use crate::eventually;

/// The environment variable naming the child's configuration file.
pub const CHILD_CONFIG_ENV: &str = "STREAMPLUG_TEST_CHILD_CONFIG";
/// The test (in the integration binary) a child process runs.
pub const CHILD_TEST: &str = "child::gateway_serves_until_killed";

/// A gateway running in a child process.
pub struct ChildGateway {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _config: tempfile::TempDir,
}

impl ChildGateway {
    /// Start a child serving `toml`, which listens on `port` of loopback;
    /// returns once it answers `/readyz`.
    pub async fn start(toml: &str, port: u16) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("streamplug.toml");
        std::fs::write(&path, toml)?;
        let child = Command::new(std::env::current_exe()?)
            .args([CHILD_TEST, "--exact", "--ignored", "--test-threads", "1"])
            .env(CHILD_CONFIG_ENV, &path)
            .stdout(Stdio::null())
            .spawn()
            .context("starting the child gateway")?;
        let gateway = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _config: dir,
        };
        let client = reqwest::Client::new();
        let ready = format!("{}/readyz", gateway.url);
        eventually("the child gateway to be ready", || async {
            Ok(client
                .get(&ready)
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .map(drop))
        })
        .await?;
        Ok(gateway)
    }

    /// Kill it with SIGKILL (no shutdown, nothing flushed) and reap it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In a child process (the environment names a configuration), serve it
/// until killed; otherwise return at once.
pub async fn serve_if_child() -> Result<()> {
    let Ok(path) = std::env::var(CHILD_CONFIG_ENV) else {
        return Ok(());
    };
    let settings = Settings::load(Some(std::path::Path::new(&path)), &Overrides::default())?;
    let _gateway = Gateway::start(settings).await?;
    std::future::pending::<()>().await;
    Ok(())
}
