//! Test harness: builds the plugins and fixtures from source once per test
//! run, starts a real gateway on a free loopback port with its own data
//! directory, and talks to it over HTTP.

pub mod broker;
pub mod infobip;
pub mod redis;
pub mod salesforce;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use streamplug::config::{Overrides, Settings};
use streamplug::gateway::Gateway;

/// The plugins and fixtures the tests use (workspace package names).
pub const PLUGIN_PACKAGES: &[&str] = &[
    "recommend",
    "support-bot",
    "fixture-recorder",
    "fixture-spin-forever",
    "fixture-memory-hog",
    "fixture-trap",
    "fixture-always-retry",
];

/// Longest time a test waits for the gateway to do something.
pub const PATIENCE: Duration = Duration::from_secs(60);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Directory of the built components; builds them on first use.
pub fn plugin_dir() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_plugins().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_plugins() -> Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "plugin"]);
    for p in PLUGIN_PACKAGES {
        cmd.args(["-p", p]);
    }
    let out = cmd.output().context("running cargo to build the plugins")?;
    if !out.status.success() {
        bail!(
            "building plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(root.join("target/wasm32-wasip2/plugin"))
}

/// Python with kafka-python, from the virtualenv `scripts/setup-test.sh`
/// creates under `target/test-venv`.
pub fn interop_python() -> Result<PathBuf> {
    let python = workspace_root().join("target/test-venv/bin/python");
    if !python.is_file() {
        bail!(
            "{} is missing; run `make test`, which creates it",
            python.display()
        );
    }
    Ok(python)
}

/// Run `tests/interop/kafka_client.py` with `args`; its standard output.
pub fn kafka_client(args: &[&str]) -> Result<String> {
    let out = Command::new(interop_python()?)
        .arg(workspace_root().join("tests/interop/kafka_client.py"))
        .args(args)
        .output()
        .context("running the kafka-python client")?;
    if !out.status.success() {
        bail!(
            "kafka-python client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The secret test tokens are signed with.
pub const JWT_SECRET: &str = "test-secret";

/// The `[websocket]` table tests use unless they bring their own.
pub const TEST_WEBSOCKET: &str = "[websocket]\njwt_secret = \"test-secret\"\ndev_tokens = true\n";

/// Which event log and KV store a test gateway runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded log and KV store.
    Embedded,
    /// A real Kafka-compatible broker (tansu) and a real Redis, both started
    /// for the test on free loopback ports.
    Kafka,
}

/// The outside services a [`Backend`] needs, running while this lives.
pub struct Stores {
    /// The broker, on [`Backend::Kafka`].
    pub broker: Option<broker::Tansu>,
    /// Redis, on [`Backend::Kafka`].
    pub redis: Option<redis::Redis>,
}

impl Stores {
    /// Start what `backend` needs.
    pub fn start(backend: Backend) -> Result<Self> {
        Ok(match backend {
            Backend::Embedded => Self {
                broker: None,
                redis: None,
            },
            Backend::Kafka => Self {
                broker: Some(broker::Tansu::start()?),
                redis: Some(redis::Redis::start()?),
            },
        })
    }

    /// The `[log]` and `[kv]` tables that point a gateway at these stores.
    /// tansu 0.6 reports a partition's high watermark as the base offset of
    /// its last record batch + 1, so the tests make librdkafka send one
    /// record per batch to read exact ends from it (Kafka needs no such option).
    pub fn toml(&self) -> String {
        let mut out = String::new();
        if let Some(broker) = &self.broker {
            out.push_str(&format!(
                "[log]\nbackend = \"kafka\"\n[log.kafka]\nbootstrap_servers = \"{}\"\n[log.kafka.options]\n\"batch.num.messages\" = \"1\"\n",
                broker.bootstrap
            ));
        }
        if let Some(redis) = &self.redis {
            out.push_str(&format!(
                "[kv]\nbackend = \"redis\"\n[kv.redis]\nurl = \"{}\"\n",
                redis.url
            ));
        }
        out
    }
}

/// Define a test that runs once per backend: `NAME::embedded` and
/// `NAME::kafka`, one code path.
#[macro_export]
macro_rules! on_each_backend {
    ($(#[$attr:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$attr])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                run($crate::Backend::Embedded).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn kafka() {
                run($crate::Backend::Kafka).await
            }
        }
    };
}

/// The settings every test starts from on the embedded backend; see
/// [`config_on`].
pub fn config(data_dir: &Path, plugins: &str) -> Result<String> {
    config_on(&Stores::start(Backend::Embedded)?, data_dir, plugins)
}

/// The settings every test starts from: standard routes, an `audit` topic,
/// two partitions per topic, small pools, [`TEST_WEBSOCKET`], on `stores`.
/// `plugins` is appended TOML; a `[websocket]` table in it replaces the test
/// default.
pub fn config_on(stores: &Stores, data_dir: &Path, plugins: &str) -> Result<String> {
    let websocket = if plugins.contains("[websocket]") {
        ""
    } else {
        TEST_WEBSOCKET
    };
    Ok(format!(
        r#"
[server]
listen = "127.0.0.1:0"

[storage]
data_dir = "{data}"
default_partitions = 2

[runtime]
plugin_dir = "{plugins_dir}"
max_instances = 16

[routes]
"page.*" = "customer-interactions"
"product.*" = "customer-interactions"
"cart.*" = "customer-interactions"
"customer.*" = "customer-interactions"
"order.*" = "order-events"
"support.*" = "support-inquiries"
"message.*" = "engagement-events"

[topics.audit]
partitions = 2

{stores}
{websocket}
{plugins}
"#,
        stores = stores.toml(),
        data = data_dir.display(),
        plugins_dir = plugin_dir()?.display(),
    ))
}

/// The recorder fixture's manifest (consumes `customer-interactions`,
/// publishes to `audit`), with `extra` TOML lines appended to it.
pub fn recorder_manifest(extra: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "recorder"
wasm = "fixture_recorder.wasm"
subscribe = ["customer-interactions"]
publish = ["audit"]
{extra}
"#
    )
}

/// The recommend plugin's manifest, pushing its recommendations to the
/// customer's sessions on channel `recommendations`.
pub const RECOMMEND_MANIFEST: &str = r#"
[[plugins]]
name = "recommend"
wasm = "recommend.wasm"
subscribe = ["customer-interactions", "order-events"]
types = ["product.viewed", "cart.item_added", "order.placed"]
publish = ["recommendations"]
push_channels = ["recommendations"]
[plugins.config]
top_n = "3"
push_channel = "recommendations"
"#;

/// A gateway running for one test.
pub struct TestGateway {
    /// The gateway.
    pub gateway: Gateway,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The data directory, when the gateway owns it.
    data: Option<tempfile::TempDir>,
    /// The outside stores, when the gateway owns them.
    stores: Option<Stores>,
}

/// An HTTP answer: status, headers and JSON body (`Null` if not JSON).
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON.
    pub json: Value,
}

impl TestGateway {
    /// Start a gateway with `plugins` (TOML) on the test [`config`] and a
    /// fresh data directory that lives as long as the gateway.
    pub async fn with_plugins(plugins: &str) -> Result<Self> {
        Self::on(Backend::Embedded, plugins).await
    }

    /// Start a gateway with `plugins` on `backend`, with its own data
    /// directory and stores that live as long as the gateway.
    pub async fn on(backend: Backend, plugins: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let stores = Stores::start(backend)?;
        let mut gw = Self::start(&config_on(&stores, dir.path(), plugins)?).await?;
        gw.data = Some(dir);
        gw.stores = Some(stores);
        Ok(gw)
    }

    /// Start a gateway from TOML settings (validated as `serve` would).
    pub async fn start(toml: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("streamplug.toml");
        std::fs::write(&path, toml)?;
        let settings = Settings::load(Some(&path), &Overrides::default())?;
        let gateway = Gateway::start(settings).await?;
        Ok(Self {
            url: format!("http://{}", gateway.addr),
            gateway,
            client: reqwest::Client::new(),
            data: None,
            stores: None,
        })
    }

    /// POST `body` as JSON to `/v1/events`.
    pub async fn post(&self, body: &Value) -> Result<Answer> {
        self.post_raw("application/json", serde_json::to_vec(body)?)
            .await
    }

    /// POST raw bytes with a content type to `/v1/events`.
    pub async fn post_raw(&self, content_type: &str, body: Vec<u8>) -> Result<Answer> {
        let r = self
            .client
            .post(format!("{}/v1/events", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        answer(r).await
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        answer(
            self.client
                .get(format!("{}{path}", self.url))
                .send()
                .await?,
        )
        .await
    }

    /// Partition count and end offsets of `topic` (`GET /v1/topics`).
    pub async fn ends(&self, topic: &str) -> Result<Vec<u64>> {
        let a = self.get("/v1/topics").await?;
        if a.status != 200 {
            bail!("listing topics: {} {}", a.status, a.json);
        }
        let info = a
            .json
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["name"] == topic))
            .with_context(|| format!("no topic {topic}"))?;
        Ok(info["end_offsets"]
            .as_array()
            .map(|os| os.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default())
    }

    /// Every event of `topic`, partition by partition, paging through each.
    pub async fn events(&self, topic: &str) -> Result<Vec<Value>> {
        const PAGE: usize = 1000;
        let mut all = Vec::new();
        for partition in 0..self.ends(topic).await?.len() {
            let mut offset = 0;
            loop {
                let a = self
                    .get(&format!(
                        "/v1/topics/{topic}/events?partition={partition}&offset={offset}&limit={PAGE}"
                    ))
                    .await?;
                if a.status != 200 {
                    bail!("reading {topic}: {} {}", a.status, a.json);
                }
                let page = a.json["events"].as_array().cloned().unwrap_or_default();
                let Some(last) = page.last().and_then(|e| e["offset"].as_u64()) else {
                    break;
                };
                let full = page.len() == PAGE;
                all.extend(page);
                if !full {
                    break;
                }
                offset = last + 1;
            }
        }
        Ok(all)
    }

    /// Wait until `topic` holds at least `n` events; returns them.
    pub async fn wait_for_events(&self, topic: &str, n: usize) -> Result<Vec<Value>> {
        eventually(&format!("{topic} to hold {n} events"), || async {
            let held: u64 = self.ends(topic).await?.iter().sum();
            Ok((held >= n as u64).then_some(()))
        })
        .await?;
        self.events(topic).await
    }

    /// The committed KV value of `plugin` under `key`, as JSON.
    pub async fn kv(&self, plugin: &str, key: &str) -> Result<Option<Value>> {
        match self.gateway.kv.get(plugin, key).await? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The broker's `host:port`, when the gateway runs on its own Kafka stores.
    pub fn bootstrap(&self) -> Option<String> {
        self.stores
            .as_ref()
            .and_then(|s| s.broker.as_ref())
            .map(|b| b.bootstrap.clone())
    }

    /// Live WebSocket sessions of `customer` on this gateway.
    pub fn gateway_sessions(&self, customer: &str) -> usize {
        self.gateway.sessions_of(customer)
    }

    /// Shut the gateway down (its own data directory goes with it).
    pub async fn stop(self) {
        self.gateway.shutdown().await;
        drop(self.data);
        drop(self.stores);
    }
}

async fn answer(r: reqwest::Response) -> Result<Answer> {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await?;
    Ok(Answer {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    })
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

/// A WebSocket client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestGateway {
    /// A customer token from `POST /v1/dev/tokens`.
    pub async fn token(&self, customer: &str) -> Result<String> {
        let a = self
            .client
            .post(format!("{}/v1/dev/tokens", self.url))
            .json(&serde_json::json!({ "customer": customer }))
            .send()
            .await?;
        let a = answer(a).await?;
        a.json["token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no token: {} {}", a.status, a.json))
    }

    /// Open `/v1/ws` with `query` (e.g. `token=...&resume=...`).
    pub async fn ws(&self, query: &str) -> Result<Ws> {
        let url = format!("{}/v1/ws?{query}", self.url.replace("http://", "ws://"));
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(ws)
    }

    /// A session of `customer`, past its welcome frame (returned too).
    pub async fn session(&self, customer: &str, resume: Option<&str>) -> Result<(Ws, Value)> {
        let token = self.token(customer).await?;
        let query = match resume {
            Some(r) => format!("token={token}&resume={r}"),
            None => format!("token={token}"),
        };
        let mut ws = self.ws(&query).await?;
        let welcome = next_frame(&mut ws).await?;
        if welcome["kind"] != "welcome" {
            bail!("expected a welcome frame, got {welcome}");
        }
        Ok((ws, welcome))
    }
}

/// What a session received next: a JSON frame, or the close.
#[derive(Debug)]
pub enum Received {
    /// A JSON text frame.
    Frame(Value),
    /// The close frame's code and reason (0 and empty when the socket just ended).
    Closed(u16, String),
}

/// The next frame or close, skipping pings and pongs.
pub async fn receive(ws: &mut Ws) -> Result<Received> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .context("no frame in time")?;
        match msg {
            None => return Ok(Received::Closed(0, String::new())),
            Some(Err(e)) => bail!("websocket error: {e}"),
            Some(Ok(Message::Text(t))) => {
                return Ok(Received::Frame(serde_json::from_str(t.as_str())?));
            }
            Some(Ok(Message::Close(frame))) => {
                return Ok(match frame {
                    Some(f) => Received::Closed(f.code.into(), f.reason.to_string()),
                    None => Received::Closed(0, String::new()),
                });
            }
            Some(Ok(_)) => {}
        }
    }
}

/// The next JSON frame (an error if the session closed instead).
pub async fn next_frame(ws: &mut Ws) -> Result<Value> {
    match receive(ws).await? {
        Received::Frame(v) => Ok(v),
        Received::Closed(code, reason) => bail!("session closed: {code} {reason}"),
    }
}

/// Read until the close frame, skipping everything else; its code and reason.
pub async fn closed(ws: &mut Ws) -> Result<(u16, String)> {
    loop {
        if let Received::Closed(code, reason) = receive(ws).await? {
            return Ok((code, reason));
        }
    }
}

/// Read frames until `n` pushes arrived (skipping acks); returns the pushes.
pub async fn pushes(ws: &mut Ws, n: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    while out.len() < n {
        let f = next_frame(ws).await?;
        if f["kind"] == "push" {
            out.push(f);
        }
    }
    Ok(out)
}

/// Send a JSON text frame.
pub async fn send_json(ws: &mut Ws, value: &Value) -> Result<()> {
    use futures::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        value.to_string().into(),
    ))
    .await?;
    Ok(())
}

/// A `product.viewed` event in the shorthand form.
pub fn view(customer: &str, product: &str) -> Value {
    serde_json::json!({"type": "product.viewed", "customer": customer, "data": {"product": product}})
}
