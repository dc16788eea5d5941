//! The peers: the same trivial plugin (the checksum of an event,
//! `tests/fixtures/checksum-logic`) hosted by streamplug, by Extism and by
//! `wasmtime serve`, each fed the same HTTP single-event ingest load; what
//! compares them is the CPU time each server spends per event (and, beside
//! it, throughput). streamplug's event is durably appended to its log and
//! then handled by the plugin's worker; Extism's is handed to a warm plugin
//! instance in the request; `wasmtime serve` instantiates the component
//! afresh for every request. streamplug runs twice: as deployed, and with
//! `storage.unsafe_bypass_fsync` (acknowledged before durable), so that the
//! comparison with peers whose handler writes nothing is also made on equal
//! terms.

use std::path::PathBuf;

use anyhow::Result;

use crate::baseline::single_against_bare as load;
use crate::meter::{Measured, Timing};
use crate::target::Target;

/// Where the peers' builds and tools are.
#[derive(Debug, Clone)]
pub struct Peers {
    /// The `wasmtime` CLI; the `wasmtime serve` peer is skipped without it.
    pub wasmtime: PathBuf,
    /// The checksum plugin built with the Extism PDK.
    pub extism_plugin: PathBuf,
    /// The checksum plugin as a `wasi:http/proxy` component.
    pub wasi_http_component: PathBuf,
}

impl Peers {
    /// The three, one after the other, each on a fresh server
    /// (`streamplug`: a gateway hosting the checksum plugin; `unsynced`
    /// starts one with its log's fsync bypassed), each driven by `conns`
    /// connections.
    pub async fn run(
        &self,
        streamplug: Target,
        unsynced: impl AsyncFnOnce() -> Result<Target>,
        conns: usize,
        t: Timing,
    ) -> Result<Vec<Measured>> {
        let mut results = Vec::new();

        let gw = streamplug;
        results.push(load("checksum plugin on streamplug", &gw, conns, t).await?);
        drop(gw);

        let gw = unsynced().await?;
        let name = "checksum plugin on streamplug, fsync bypassed";
        results.push(load(name, &gw, conns, t).await?);
        drop(gw);

        let extism = Target::extism(&self.extism_plugin).await?;
        results.push(load("checksum plugin on Extism", &extism, conns, t).await?);
        drop(extism);

        if self.wasmtime.is_file() {
            let serve = Target::wasmtime_serve(&self.wasmtime, &self.wasi_http_component).await?;
            results.push(load("checksum plugin on wasmtime serve", &serve, conns, t).await?);
        } else {
            eprintln!(
                "skipped the `wasmtime serve` peer: no wasmtime CLI at {} (`make bench` installs it)",
                self.wasmtime.display()
            );
        }
        Ok(results)
    }
}
