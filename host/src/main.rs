//! The `streamplug` binary.

use anyhow::Context as _;
use clap::Parser as _;
use std::io::Write as _;
use streamplug::cli::{Cli, Command, SchemasAction};
use streamplug::config::{Overrides, Settings};
use streamplug::gateway::Gateway;
use tracing_subscriber::EnvFilter;

/// jemalloc, not glibc's allocator: ingest allocates and frees many small,
/// short-lived objects across the runtime's threads and the log writer's;
/// jemalloc took 15-30% off the CPU an ingested event costs for 8 MiB more
/// idle RSS (docs/BENCHMARKS.md, "The allocator"). As TiKV and Vector ship.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    match start(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes on one line; no backtrace for an error
            // the user can act on.
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn start(cli: Cli) -> anyhow::Result<()> {
    // The plugin commands print what matters themselves (an offline run
    // shows the plugin's log lines in its report): only warnings of the host.
    let default = match cli.command {
        Command::Plugin(_) => "warn,streamplug::plugin=off",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("STREAMPLUG_LOG")
                .or_else(|_| EnvFilter::try_from_default_env())
                .unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("streamplug")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let settings = Settings::load(args.config.as_deref(), &args.overrides())?;
            let gateway = Gateway::start(settings).await?;
            shutdown_signal().await;
            tracing::info!("shutdown requested");
            gateway.shutdown().await;
        }
        Command::Plugin(args) => {
            let mut stdout = std::io::stdout();
            streamplug::cli::plugin::run(args, &mut stdout).await?;
        }
        Command::Config(args) => {
            let text = streamplug::cli::effective_config(&args)?;
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Command::Init(args) => {
            let text = streamplug::cli::init::run(&args)?;
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Command::Keys(args) => {
            let text = streamplug::cli::keys::run(&args).map_err(anyhow::Error::msg)?;
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Command::Schemas {
            action: Some(SchemasAction::Codegen { lang, config }),
            ..
        } => {
            let vocabulary = match config {
                Some(file) => Settings::load(Some(&file), &Overrides::default())?
                    .event_types
                    .0
                    .clone(),
                None => streamplug::event::vocabulary::Vocabulary::shared_standard().clone(),
            };
            let text = streamplug::codegen::generate(&vocabulary, lang);
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Command::Schemas { markdown, .. } => {
            let text = if markdown {
                streamplug::event::vocabulary::Vocabulary::standard().reference_markdown()
            } else {
                streamplug::docs_file::pretty_json(
                    &streamplug::event::vocabulary::Vocabulary::standard().schemas_json(),
                )
            };
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Command::Openapi { admin } => {
            let text = if admin {
                streamplug::admin::openapi_json()
            } else {
                streamplug::gateway::openapi::openapi_json()
            };
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Command::Asyncapi => {
            let text = streamplug::ws::asyncapi::asyncapi_json();
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
