//! What the harness drives: a gateway it starts (`streamplug serve` with the
//! first-party plugins on a fresh embedded log) or one already running, and
//! the bare axum baseline, started as a process of its own like the gateway
//! so that both pay the same for their process and runtime.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::process::{Child, Command};

/// A server on loopback; a process the harness started is killed on drop.
#[derive(Debug)]
pub struct Target {
    /// Its address.
    pub addr: SocketAddr,
    child: Option<Child>,
    _data: Option<tempfile::TempDir>,
}

impl Target {
    /// A gateway already running at `addr`.
    pub fn running(addr: SocketAddr) -> Self {
        Self {
            addr,
            child: None,
            _data: None,
        }
    }

    /// Start `gateway` (`streamplug`) on a fresh data directory with the
    /// embedded default (the first-party plugins from `plugin_dir`), or
    /// without its plugins when `plugins` is false; WebSocket rate limits
    /// lifted, and `env` (configuration overrides such as
    /// `STREAMPLUG_LOG__BACKEND`). Waits until it is ready.
    pub async fn gateway(
        gateway: &Path,
        plugin_dir: &Path,
        plugins: bool,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let addr = free_addr()?;
        let data = tempfile::tempdir()?;
        let mut command = Command::new(gateway);
        command.arg("serve");
        if !plugins {
            let mut config: toml::Table = streamplug::config::EMBEDDED_DEFAULT.parse()?;
            config.remove("plugins");
            let path = data.path().join("no-plugins.toml");
            std::fs::write(&path, toml::to_string(&config)?)?;
            command.arg("--config").arg(path);
        }
        let child = command
            .envs(env.iter().copied())
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data.path())
            .arg("--plugin-dir")
            .arg(plugin_dir)
            .env("STREAMPLUG_WEBSOCKET__RATE_PER_SEC", "1000000")
            .env("STREAMPLUG_WEBSOCKET__RATE_BURST", "1000000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", gateway.display()))?;
        let mut target = Self {
            addr,
            child: Some(child),
            _data: Some(data),
        };
        target
            .wait_ready("/readyz", Duration::from_secs(120))
            .await?;
        Ok(target)
    }

    /// Start this binary's `bare` subcommand: the baseline HTTP server.
    pub async fn bare() -> Result<Self> {
        let addr = free_addr()?;
        let me = std::env::current_exe()?;
        let child = Command::new(me)
            .arg("bare")
            .arg("--listen")
            .arg(addr.to_string())
            .kill_on_drop(true)
            .spawn()?;
        let mut target = Self {
            addr,
            child: Some(child),
            _data: None,
        };
        target
            .wait_ready("/healthz", Duration::from_secs(10))
            .await?;
        Ok(target)
    }

    /// The process id of a server the harness started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref()?.id()
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn wait_ready(&mut self, path: &str, patience: Duration) -> Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(child) = &mut self.child
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "the server at {} exited before it was ready: {status}",
                    self.url()
                );
            }
            if let Ok(answer) = client.get(format!("{}{path}", self.url())).send().await
                && answer.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > patience {
                bail!("{} was not ready after {patience:?}", self.url());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A free port on 127.0.0.1.
fn free_addr() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The `streamplug` binary beside this one (same profile), if built.
pub fn sibling_gateway() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let path = me.parent()?.join("streamplug");
    path.is_file().then_some(path)
}
