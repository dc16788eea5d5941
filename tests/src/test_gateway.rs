//! A real gateway for one test: its own data directory and stores, on a
//! loopback port, with an HTTP client and helpers for its API.

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use streamplug::config::{Overrides, Settings};
use streamplug::gateway::Gateway;

use crate::{Backend, Stores, config_on, eventually};

/// A gateway running for one test.
pub struct TestGateway {
    /// The gateway.
    pub gateway: Gateway,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// HTTP client sending [`crate::TEST_KEY`] (every scope) with each request.
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
        Self::listening(backend, 0, plugins).await
    }

    /// Like [`TestGateway::with_plugins`], listening on `port` of loopback
    /// (for settings that must name the gateway's own URL, such as a
    /// webhook a plugin hands to a third party); see [`crate::free_port`].
    pub async fn with_plugins_on_port(port: u16, plugins: &str) -> Result<Self> {
        Self::listening(Backend::Embedded, port, plugins).await
    }

    /// Like [`TestGateway::on`], listening on `port` of loopback.
    pub async fn on_port(backend: Backend, port: u16, plugins: &str) -> Result<Self> {
        Self::listening(backend, port, plugins).await
    }

    async fn listening(backend: Backend, port: u16, plugins: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let stores = Stores::start(backend)?;
        let config = config_on(&stores, dir.path(), plugins)?.replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
            1,
        );
        let mut gw = Self::start(&config).await?;
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
            client: keyed_client(crate::TEST_KEY)?,
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

    /// POST `body` as JSON to `/v1/commands` with `query` (e.g.
    /// `timeout_ms=500`, or empty).
    pub async fn post_command(&self, query: &str, body: &Value) -> Result<Answer> {
        let r = self
            .client
            .post(format!("{}/v1/commands?{query}", self.url))
            .json(body)
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

    /// The ids of every event of `topic`, partition by partition, in order.
    pub async fn event_ids(&self, topic: &str) -> Result<Vec<String>> {
        self.events(topic)
            .await?
            .iter()
            .map(|e| {
                e["event"]["id"]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("an event of {topic} without an id: {e}"))
            })
            .collect()
    }

    /// The offsets the recorder fixture saw for `key`, in the order it saw
    /// them (its KV `order:<key>`; empty when it saw none).
    pub async fn recorded_order(&self, key: &str) -> Result<Vec<u64>> {
        let order = self.kv("recorder", &format!("order:{key}")).await?;
        order
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|o| o.as_u64().with_context(|| format!("not an offset: {o}")))
            .collect()
    }

    /// POST `events` as one batch, expecting `202`; the ids the gateway
    /// acknowledged, in order.
    pub async fn post_batch(&self, events: &[Value]) -> Result<Vec<String>> {
        let a = self.post(&Value::Array(events.to_vec())).await?;
        if a.status != 202 {
            bail!("batch refused: {} {}", a.status, a.json);
        }
        a.json["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                e["id"]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("an acknowledgement without an id: {e}"))
            })
            .collect()
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

    /// The committed KV value of `plugin` under `key`, as JSON: stored as
    /// JSON, or packed (`0xC1` and MessagePack, the SDK's `kv::set_packed`).
    pub async fn kv(&self, plugin: &str, key: &str) -> Result<Option<Value>> {
        match self.kv_bytes(plugin, key).await? {
            Some(bytes) => Ok(Some(streamplug_sdk::packed::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The bytes `plugin` committed under `key`, as stored.
    pub async fn kv_bytes(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.gateway.kv.get(plugin, key).await?)
    }

    /// The broker's `host:port`, when the gateway runs on its own Kafka stores.
    pub fn bootstrap(&self) -> Option<String> {
        self.stores
            .as_ref()
            .and_then(|s| s.broker.as_ref())
            .map(|b| b.bootstrap.clone())
    }

    /// The value of the sample `name` (as written in the exposition, labels
    /// included) on `GET /metrics`; 0 when absent. The recorder is global,
    /// so the value counts every gateway of the test process.
    pub async fn metric(&self, name: &str) -> Result<f64> {
        Ok(sample(&metrics_text(&self.client, &self.url).await?, name))
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

/// The Prometheus exposition `GET <url>/metrics` answers.
pub async fn metrics_text(client: &reqwest::Client, url: &str) -> Result<String> {
    Ok(client
        .get(format!("{url}/metrics"))
        .send()
        .await?
        .text()
        .await?)
}

/// The value of the sample `name` (labels included) in the exposition
/// `text`; 0 when absent.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(sample, _)| *sample == name)
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0.0)
}

/// An HTTP client that sends `Authorization: Bearer <key>` with every request.
pub fn keyed_client(key: &str) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))?;
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

pub(crate) async fn answer(r: reqwest::Response) -> Result<Answer> {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await?;
    Ok(Answer {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    })
}
