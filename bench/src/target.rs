//! What the harness drives: a gateway it starts (`streamplug serve` with the
//! first-party plugins on a fresh embedded log) or one already running, the
//! bare axum baseline and the peers (Extism, `wasmtime serve`), each started
//! as a process of its own like the gateway so that all pay the same for
//! their process and runtime.

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
    /// The API key its ingest requests carry (a started gateway's demo key).
    pub key: Option<String>,
    child: Option<Child>,
    _data: Option<tempfile::TempDir>,
}

impl Target {
    /// A gateway already running at `addr`, driven with `key`.
    pub fn running(addr: SocketAddr, key: Option<String>) -> Self {
        Self {
            addr,
            key,
            child: None,
            _data: None,
        }
    }

    /// Start `gateway` (`streamplug`) on a fresh data directory with the
    /// embedded default and `plugins` (from `plugin_dir`); WebSocket rate
    /// limits lifted, and `env` (configuration overrides such as
    /// `STREAMPLUG_LOG__BACKEND`). Waits until it is ready.
    pub async fn gateway(
        gateway: &Path,
        plugin_dir: &Path,
        plugins: Plugins,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let addr = free_addr()?;
        let data = tempfile::tempdir()?;
        let mut command = Command::new(gateway);
        command.arg("serve");
        if plugins != Plugins::FirstParty {
            let mut config: toml::Table = streamplug::config::EMBEDDED_DEFAULT.parse()?;
            config.remove("plugins");
            if plugins == Plugins::Checksum {
                config.insert(
                    "plugins".into(),
                    toml::Value::Array(vec![checksum_plugin()?]),
                );
            }
            let path = data.path().join("plugins.toml");
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
            // Every connection of the load comes from one address.
            .env("STREAMPLUG_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "100000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", gateway.display()))?;
        let key_file = streamplug::auth::demo_key::path(data.path());
        let mut target = Self {
            addr,
            key: None,
            child: Some(child),
            _data: Some(data),
        };
        target
            .wait_ready("/readyz", Duration::from_secs(120))
            .await?;
        // The embedded default minted its demo key at start.
        let key = std::fs::read_to_string(&key_file)
            .with_context(|| format!("the gateway's demo key {}", key_file.display()))?;
        target.key = Some(key.trim().to_owned());
        Ok(target)
    }

    /// Start this binary's `bare` subcommand: the baseline HTTP server.
    pub async fn bare() -> Result<Self> {
        let addr = free_addr()?;
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("bare").arg("--listen").arg(addr.to_string());
        Self::server(addr, command, Ready::Healthy).await
    }

    /// Start this binary's `extism` subcommand: the Extism peer hosting
    /// `plugin`.
    pub async fn extism(plugin: &Path) -> Result<Self> {
        let addr = free_addr()?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("extism")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--plugin")
            .arg(plugin);
        Self::server(addr, command, Ready::Healthy).await
    }

    /// Start `wasmtime serve` (the CLI at `wasmtime`) with `component`, a
    /// `wasi:http/proxy` component: as it ships, one fresh instance per
    /// request, plus the `wasi:cli` imports Rust's standard library needs.
    pub async fn wasmtime_serve(wasmtime: &Path, component: &Path) -> Result<Self> {
        let addr = free_addr()?;
        let mut command = Command::new(wasmtime);
        command
            .arg("serve")
            .arg("-S")
            .arg("cli")
            .arg("--addr")
            .arg(addr.to_string())
            .arg(component)
            .stderr(Stdio::null());
        Self::server(addr, command, Ready::Answering).await
    }

    async fn server(addr: SocketAddr, mut command: Command, ready: Ready) -> Result<Self> {
        let child = command
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {:?}", command.as_std().get_program()))?;
        let mut target = Self {
            addr,
            key: None,
            child: Some(child),
            _data: None,
        };
        match ready {
            Ready::Healthy => {
                target
                    .wait_ready("/healthz", Duration::from_secs(60))
                    .await?
            }
            Ready::Answering => target.wait_answering(Duration::from_secs(120)).await?,
        }
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
        self.wait_for(path, patience, |status| status.is_success())
            .await
    }

    /// Wait for any HTTP answer (a server with no health endpoint).
    async fn wait_answering(&mut self, patience: Duration) -> Result<()> {
        self.wait_for("/", patience, |_| true).await
    }

    async fn wait_for(
        &mut self,
        path: &str,
        patience: Duration,
        ready: impl Fn(reqwest::StatusCode) -> bool,
    ) -> Result<()> {
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
                && ready(answer.status())
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

/// Which plugins a gateway the harness starts runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugins {
    /// None: the ingest path alone.
    None,
    /// The embedded default's: recommend, customer-registry, order-processor
    /// and customer-view.
    FirstParty,
    /// Only the checksum fixture (`fixture_checksum.wasm`) on
    /// `customer-interactions`: the trivial plugin the peers also run.
    Checksum,
}

/// How a started server shows it is ready.
enum Ready {
    /// `GET /healthz` answers 2xx.
    Healthy,
    /// Anything answers.
    Answering,
}

/// The checksum fixture's manifest entry.
fn checksum_plugin() -> Result<toml::Value> {
    Ok(toml::Value::Table(toml::from_str(
        r#"
        name = "checksum"
        wasm = "fixture_checksum.wasm"
        subscribe = ["customer-interactions"]
        "#,
    )?))
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
