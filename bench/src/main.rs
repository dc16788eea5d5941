//! `streamplug-bench`: the load harness. It starts the baseline (a bare axum
//! handler) and a gateway (the first-party plugins on a fresh embedded log),
//! or drives one already running, through HTTP single-event and batch
//! ingest, WebSocket ingest, and WebSocket end to end (event in, plugin,
//! push out on the same socket). A progress line while it runs, a table of
//! throughput and latency percentiles (HDR histograms) at the end, JSON with
//! `--json`. Results and the commands behind them: `docs/BENCHMARKS.md`.

mod bare;
mod http_load;
mod meter;
mod payload;
mod report;
mod target;
mod ws_load;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use meter::{Measured, Timing};
use report::Report;
use target::Target;

#[derive(Debug, Parser)]
#[command(version, about = "Load harness for the streamplug gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the scenarios and print the table.
    Run(RunArgs),
    /// Serve the bare axum baseline (started by `run`).
    Bare {
        #[arg(long)]
        listen: SocketAddr,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Drive the gateway already running at this address instead of
    /// starting one (the baseline still runs beside it).
    #[arg(long, value_name = "ADDR")]
    gateway: Option<SocketAddr>,
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
    /// Events per second in all for the end-to-end scenario.
    #[arg(long, default_value_t = 10_000)]
    rate: u32,
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
        Command::Run(args) => runtime.block_on(run(args)),
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
    let mut results = Vec::new();

    let bare = Target::bare().await?;
    results.push(
        http_load::ingest(
            "bare axum (baseline)",
            bare.addr,
            args.connections,
            1,
            timing,
        )
        .await?,
    );
    drop(bare);

    let gateway = match args.gateway {
        Some(addr) => Target::running(addr),
        None => {
            let bin = args
                .gateway_bin
                .clone()
                .or_else(target::sibling_gateway)
                .context("no streamplug binary beside this one: build it (`cargo build --release -p streamplug`) or pass --gateway-bin")?;
            Target::gateway(&bin, &args.plugin_dir).await?
        }
    };
    let single =
        http_load::ingest("http ingest", gateway.addr, args.connections, 1, timing).await?;
    results.push(against(single, "bare axum (baseline)"));
    let batch_connections = (args.connections / 4).max(1);
    results.push(
        http_load::ingest(
            "http batch ingest",
            gateway.addr,
            batch_connections,
            args.batch,
            timing,
        )
        .await?,
    );
    results.push(ws_load::ingest(gateway.addr, args.sessions, timing).await?);
    results.push(ws_load::end_to_end(gateway.addr, args.sessions, args.rate, timing).await?);
    drop(gateway);

    let report = Report {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        warmup_secs: timing.warmup.as_secs_f64(),
        measure_secs: timing.measure.as_secs_f64(),
        results,
    };
    report.print()?;
    if let Some(path) = &args.json {
        report.write_json(path)?;
    }
    Ok(())
}

fn against(mut measured: Measured, baseline: &str) -> Measured {
    measured.baseline = Some(baseline.to_owned());
    measured
}
