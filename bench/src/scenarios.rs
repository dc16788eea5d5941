//! The run: which scenarios, against which server, in which order. Each
//! group gets a fresh server, so no scenario inherits another's backlog:
//!
//! 1. the bare axum baseline, HTTP single-event ingest;
//! 2. the gateway with no plugins on the embedded log: the ingest path
//!    alone (HTTP single and batch, WebSocket), against the baseline;
//! 3. the gateway with the first-party plugins: WebSocket end to end at each
//!    rate (each on an idle gateway), then HTTP ingest while the plugins
//!    handle every event;
//!    Before that, the memory of an idle gateway with its plugins, and
//!    with `idle_sessions` idle WebSocket sessions open;
//! 4. with `--kafka`: the raw rdkafka producer to a fresh test broker, then
//!    the gateway (no plugins) on that broker, HTTP single and batch ingest.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::memory::{self, IdleMemory};
use crate::meter::{Measured, Timing};
use crate::target::Target;
use crate::{http_load, kafka_load, ws_load};

const BARE: &str = "bare axum (baseline)";
const RAW_PRODUCER: &str = "raw rdkafka producer (baseline)";

/// The gateway to drive.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// Start `bin` for each group, plugins from `plugin_dir`.
    Start { bin: PathBuf, plugin_dir: PathBuf },
    /// Drive the one at this address (its configuration is what it is).
    Running(SocketAddr),
}

/// What to run.
#[derive(Debug)]
pub struct Plan {
    pub gateway: Gateway,
    pub timing: Timing,
    pub connections: usize,
    pub batch: usize,
    pub sessions: usize,
    pub rates: Vec<u32>,
    /// Sends in flight for the raw producer, when the Kafka path is measured.
    pub kafka: Option<usize>,
    /// Idle sessions for the memory measurement.
    pub idle_sessions: usize,
    /// Groups to run; all when empty.
    pub only: Vec<String>,
}

impl Plan {
    /// Run every scenario, in order; with `memory`, also measure an idle
    /// gateway with that many idle sessions.
    pub async fn run(&self) -> Result<(Vec<Measured>, Option<IdleMemory>)> {
        let t = self.timing;
        let batch_connections = (self.connections / 4).max(1);
        let mut results = Vec::new();

        if self.wants("baseline") {
            let bare = Target::bare().await?;
            results.push(http_load::ingest(BARE, bare.addr, self.connections, 1, t).await?);
        }
        if self.wants("ingest") {
            let log_only = self.gateway(false, &[]).await?;
            let addr = log_only.addr;
            let single = http_load::ingest("http ingest", addr, self.connections, 1, t).await?;
            results.push(against(single, BARE));
            let batch =
                http_load::ingest("http batch ingest", addr, batch_connections, self.batch, t);
            results.push(batch.await?);
            results.push(ws_load::ingest(addr, self.sessions, t).await?);
        }
        if self.wants("e2e") {
            for rate in &self.rates {
                let with_plugins = self.gateway(true, &[]).await?;
                let e2e = ws_load::end_to_end(with_plugins.addr, self.sessions, *rate, t);
                results.push(e2e.await?);
            }
        }
        let mut idle = None;
        if self.wants("memory") && matches!(self.gateway, Gateway::Start { .. }) {
            let gateway = self.gateway(true, &[]).await?;
            idle = Some(memory::idle(&gateway, self.idle_sessions).await?);
        }
        if self.wants("plugins") {
            let with_plugins = self.gateway(true, &[]).await?;
            let name = "http ingest, plugins on";
            let single = http_load::ingest(name, with_plugins.addr, self.connections, 1, t).await?;
            results.push(against(single, BARE));
        }
        if let Some(in_flight) = self.kafka.filter(|_| self.wants("kafka")) {
            let broker = streamplug_tests::broker::Tansu::start()?;
            results.push(kafka_load::raw_producer(&broker.bootstrap, in_flight, t).await?);
            let env = [
                ("STREAMPLUG_LOG__BACKEND", "kafka"),
                (
                    "STREAMPLUG_LOG__KAFKA__BOOTSTRAP_SERVERS",
                    broker.bootstrap.as_str(),
                ),
                ("STREAMPLUG_LOG__KAFKA__REPLICATION_FACTOR", "1"),
            ];
            let on_kafka = self.gateway(false, &env).await?;
            let addr = on_kafka.addr;
            results.push(against(
                http_load::ingest("http ingest (kafka)", addr, self.connections, 1, t).await?,
                RAW_PRODUCER,
            ));
            results.push(against(
                http_load::ingest(
                    "http batch ingest (kafka)",
                    addr,
                    batch_connections,
                    self.batch,
                    t,
                )
                .await?,
                RAW_PRODUCER,
            ));
        }
        Ok((results, idle))
    }

    fn wants(&self, group: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|g| g == group)
    }

    /// A fresh gateway (or the running one, whatever it was asked for).
    async fn gateway(&self, plugins: bool, env: &[(&str, &str)]) -> Result<Target> {
        match &self.gateway {
            Gateway::Start { bin, plugin_dir } => {
                Target::gateway(bin, plugin_dir, plugins, env).await
            }
            Gateway::Running(addr) if env.is_empty() => Ok(Target::running(*addr)),
            Gateway::Running(_) => {
                None.context("the Kafka scenarios start their own gateway: leave out --gateway")
            }
        }
    }
}

fn against(mut measured: Measured, baseline: &str) -> Measured {
    measured.baseline = Some(baseline.to_owned());
    measured
}
