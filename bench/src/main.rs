//! `streamplug-bench`: the load harness. It starts the baseline (a bare axum
//! handler) and a gateway (the first-party plugins on a fresh embedded log),
//! or drives one already running, through HTTP single-event and batch
//! ingest, WebSocket ingest, and WebSocket end to end (event in, plugin,
//! push out on the same socket). A progress line while it runs, a table of
//! throughput and latency percentiles (HDR histograms) at the end, JSON with
//! `--json`. Results and the commands behind them: `docs/BENCHMARKS.md`.

mod bare;
mod baseline;
mod cpu;
mod cpu_cost;
mod extism_peer;
mod flush;
mod http_load;
mod kafka_load;
mod memory;
mod meter;
mod payload;
mod peers;
mod query_load;
mod report;
mod scenarios;
mod stages;
mod target;
mod ws_load;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use meter::Timing;
use report::Report;
use scenarios::Gateway;

#[derive(Debug, Parser)]
#[command(version, about = "Load harness for the streamplug gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the scenarios and print the table.
    Run(Box<RunArgs>),
    /// Serve the bare axum baseline (started by `run`).
    Bare {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Serve the Extism peer: an Extism plugin's `handle` per request
    /// (started by `run`).
    Extism {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        plugin: PathBuf,
    },
    /// Measure the disk under a directory: `fdatasync` of one small write,
    /// appending and over written blocks, with one or more lanes at once
    /// (what bounds the embedded log's group commits).
    Flush {
        /// A directory on the disk to measure (the gateway's data directory).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Seconds a probe.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        /// Lanes syncing at once, one probe each.
        #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 3])]
        lanes: Vec<usize>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Drive the gateway already running at this address instead of
    /// starting one (the baseline still runs beside it).
    #[arg(long, value_name = "ADDR")]
    gateway: Option<SocketAddr>,
    /// The API key ingest requests carry against `--gateway` (a gateway the
    /// harness starts mints its demo key).
    #[arg(long, env = "STREAMPLUG_BENCH_KEY", hide_env_values = true)]
    key: Option<String>,
    /// The `streamplug` binary to start (default: the one beside this binary).
    #[arg(long, value_name = "FILE")]
    gateway_bin: Option<PathBuf>,
    /// Where the first-party plugins are built.
    #[arg(long, default_value = "target/wasm32-wasip2/plugin")]
    plugin_dir: PathBuf,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Warm-up seconds per scenario (not counted).
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// One second per scenario and no warm-up: checks the harness works,
    /// measures nothing worth keeping.
    #[arg(long)]
    quick: bool,
    /// HTTP connections for single-event ingest.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Events per request for batch ingest.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// WebSocket sessions.
    #[arg(long, default_value_t = 64)]
    sessions: usize,
    /// Events per second in all for the end-to-end scenario, one run (on a
    /// fresh gateway) per rate.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000, 1_000])]
    rates: Vec<u32>,
    /// Also measure the Kafka path: start the test broker (tansu, installed
    /// by `make test`), the raw rdkafka producer baseline against it, and a
    /// gateway whose log is that broker.
    #[arg(long)]
    kafka: bool,
    /// Sends in flight for the raw producer baseline.
    #[arg(long, default_value_t = 256)]
    producer_in_flight: usize,
    /// Idle WebSocket sessions for the memory measurement.
    #[arg(long, default_value_t = 1000)]
    idle_sessions: usize,
    /// The `wasmtime` CLI for the `wasmtime serve` peer (`make bench`
    /// installs it there); the peer is skipped, with a note, without it.
    #[arg(long, default_value = "target/tools/bin/wasmtime")]
    wasmtime: PathBuf,
    /// Where the peers' builds of the checksum plugin are: the Extism
    /// plugin (`wasm32-unknown-unknown`) and the `wasi:http` component.
    #[arg(
        long,
        default_value = "target/wasm32-unknown-unknown/plugin/fixture_checksum_extism.wasm"
    )]
    extism_plugin: PathBuf,
    #[arg(
        long,
        default_value = "target/wasm32-wasip2/plugin/fixture_checksum_http.wasm"
    )]
    wasi_http_component: PathBuf,
    /// Run only these groups of scenarios (`baseline`, `ingest`, `e2e`,
    /// `memory`, `plugins`, `queries`, `kafka`, `peers`; `kafka` also needs
    /// `--kafka`). All by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write the report as JSON here too.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Bare { listen } => runtime.block_on(bare::serve(listen)),
        Command::Extism { listen, plugin } => runtime.block_on(extism_peer::serve(listen, &plugin)),
        Command::Run(args) => runtime.block_on(run(*args)),
        Command::Flush {
            dir,
            seconds,
            lanes,
        } => flush::run(&dir, seconds, &lanes),
    }
}

async fn run(args: RunArgs) -> Result<()> {
    let timing = if args.quick {
        Timing {
            warmup: Duration::ZERO,
            measure: Duration::from_secs(1),
        }
    } else {
        Timing {
            warmup: Duration::from_secs_f64(args.warmup),
            measure: Duration::from_secs_f64(args.seconds),
        }
    };
    let gateway = match args.gateway {
        Some(addr) => Gateway::Running(addr, args.key.clone()),
        None => Gateway::Start {
            bin: args
                .gateway_bin
                .clone()
                .or_else(target::sibling_gateway)
                .context("no streamplug binary beside this one: build it (`cargo build --release -p streamplug`) or pass --gateway-bin")?,
            plugin_dir: args.plugin_dir.clone(),
        },
    };
    let plan = scenarios::Plan {
        gateway,
        timing,
        connections: args.connections,
        batch: args.batch,
        sessions: args.sessions,
        rates: args.rates.clone(),
        kafka: args.kafka.then_some(args.producer_in_flight),
        only: args.only.clone(),
        idle_sessions: if args.quick { 10 } else { args.idle_sessions },
        peers: peers::Peers {
            wasmtime: args.wasmtime.clone(),
            extism_plugin: args.extism_plugin.clone(),
            wasi_http_component: args.wasi_http_component.clone(),
        },
    };
    let (results, idle) = plan.run().await?;
    let report = Report {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        warmup_secs: timing.warmup.as_secs_f64(),
        measure_secs: timing.measure.as_secs_f64(),
        results,
        idle,
    };
    report.print()?;
    if let Some(path) = &args.json {
        report.write_json(path)?;
    }
    Ok(())
}
