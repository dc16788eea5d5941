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
//! 4. the recommender's KV-reading query while HTTP ingest runs
//!    (`queries`);
//! 5. the peers: the trivial checksum plugin on streamplug, on Extism and on
//!    `wasmtime serve`, HTTP single-event ingest each (`peers`);
//! 6. with `--kafka`: the raw rdkafka producer to a fresh test broker, then
//!    the gateway (no plugins) on that broker, HTTP single and batch ingest.
//!
//! Every scenario against a server the harness started also reports that
//! server's CPU time per event.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::baseline::{BARE, against, single_against_bare};
use crate::memory::{self, IdleMemory};
use crate::meter::{Measured, Timing};
use crate::peers::Peers;
use crate::target::{Plugins, Target};
use crate::{cpu_cost, http_load, kafka_load, query_load, ws_load};

const RAW_PRODUCER: &str = "raw rdkafka producer (baseline)";

/// The gateway to drive.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// Start `bin` for each group, plugins from `plugin_dir`.
    Start { bin: PathBuf, plugin_dir: PathBuf },
    /// Drive the one at this address (its configuration is what it is),
    /// with this API key.
    Running(SocketAddr, Option<String>),
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
    /// The peers' builds and tools.
    pub peers: Peers,
}

impl Plan {
    /// Run every scenario, in order; with `memory`, also measure an idle
    /// gateway with that many idle sessions.
    pub async fn run(&self) -> Result<(Vec<Measured>, Option<IdleMemory>)> {
        let t = self.timing;
        let conns = self.connections;
        let batch_connections = (conns / 4).max(1);
        let mut results = Vec::new();

        if self.wants("baseline") {
            let bare = Target::bare().await?;
            let single = http_load::ingest(BARE, &bare, conns, 1, t);
            results.push(cpu_cost::measured(&bare, t, single).await?);
        }
        if self.wants("ingest") {
            let gw = self.gateway(Plugins::None, &[]).await?;
            results.push(single_against_bare("http ingest", &gw, conns, t).await?);
            let batch =
                http_load::ingest("http batch ingest", &gw, batch_connections, self.batch, t);
            results.push(cpu_cost::measured(&gw, t, batch).await?);
            let ws = ws_load::ingest(gw.addr, self.sessions, 1, t);
            results.push(cpu_cost::measured(&gw, t, ws).await?);
            let pipelined = ws_load::ingest(gw.addr, self.sessions, WS_FRAMES_IN_FLIGHT, t);
            results.push(cpu_cost::measured(&gw, t, pipelined).await?);
        }
        if self.wants("e2e") {
            for rate in &self.rates {
                let gw = self.gateway(Plugins::FirstParty, &[]).await?;
                let e2e = ws_load::end_to_end(gw.addr, self.sessions, *rate, t);
                results.push(cpu_cost::measured(&gw, t, e2e).await?);
            }
        }
        let mut idle = None;
        if self.wants("memory") && matches!(self.gateway, Gateway::Start { .. }) {
            let gateway = self.gateway(Plugins::FirstParty, &[]).await?;
            idle = Some(memory::idle(&gateway, self.idle_sessions).await?);
        }
        if self.wants("plugins") {
            let gw = self.gateway(Plugins::FirstParty, &[]).await?;
            let name = "http ingest, plugins on";
            results.push(single_against_bare(name, &gw, conns, t).await?);
        }
        if self.wants("queries") {
            let gw = self.gateway(Plugins::FirstParty, &[]).await?;
            results.extend(
                query_load::under_ingest(&gw, QUERY_CONNECTIONS, batch_connections, t).await?,
            );
        }
        if self.wants("peers") {
            let streamplug = self.gateway(Plugins::Checksum, &[]).await?;
            let bypass = [("STREAMPLUG_STORAGE__UNSAFE_BYPASS_FSYNC", "true")];
            let unsynced = async || self.gateway(Plugins::Checksum, &bypass).await;
            results.extend(self.peers.run(streamplug, unsynced, conns, t).await?);
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
            let gw = self.gateway(Plugins::None, &env).await?;
            let single = http_load::ingest("http ingest (kafka)", &gw, conns, 1, t);
            results.push(against(
                cpu_cost::measured(&gw, t, single).await?,
                RAW_PRODUCER,
            ));
            let batch = http_load::ingest(
                "http batch ingest (kafka)",
                &gw,
                batch_connections,
                self.batch,
                t,
            );
            results.push(against(
                cpu_cost::measured(&gw, t, batch).await?,
                RAW_PRODUCER,
            ));
        }
        Ok((results, idle))
    }

    fn wants(&self, group: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|g| g == group)
    }

    /// A fresh gateway (or the running one, whatever it was asked for).
    pub(crate) async fn gateway(&self, plugins: Plugins, env: &[(&str, &str)]) -> Result<Target> {
        match &self.gateway {
            Gateway::Start { bin, plugin_dir } => {
                Target::gateway(bin, plugin_dir, plugins, env).await
            }
            Gateway::Running(addr, key) if env.is_empty() => {
                Ok(Target::running(*addr, key.clone()))
            }
            Gateway::Running(..) => {
                None.context("the Kafka scenarios start their own gateway: leave out --gateway")
            }
        }
    }
}

/// Connections asking queries back to back in the `queries` group.
const QUERY_CONNECTIONS: usize = 4;

/// Frames each session keeps unanswered in the pipelined WebSocket ingest
/// scenario (the gateway's default `websocket.max_frames_in_flight` is 16).
const WS_FRAMES_IN_FLIGHT: usize = 8;
