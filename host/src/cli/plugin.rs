//! `streamplug plugin …`: operate the plugins of a running gateway through
//! its admin API. Output goes to the writer given (stdout in the binary), a
//! progress bar to stderr while a component uploads and is validated (only
//! on a terminal).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

pub use super::error::PluginCliError;
use super::tables;
use crate::admin::client::AdminClient;

/// Where the admin API is and the command.
#[derive(Debug, Args)]
pub struct PluginArgs {
    /// Base URL of the gateway's admin API.
    #[arg(
        long,
        env = "STREAMPLUG_ADMIN_URL",
        default_value = "http://127.0.0.1:8081",
        global = true
    )]
    pub admin: String,
    /// The admin token (`admin.token` of the gateway).
    #[arg(
        long,
        env = "STREAMPLUG_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: PluginCommand,
}

/// The plugin commands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run a plugin offline on a file of events: in-memory KV, captured
    /// publishes and pushes, HTTP answered from fixtures. No gateway needed.
    Test(super::plugin_test::TestArgs),
    /// Create a new plugin project (Rust, Python or JavaScript): manifest,
    /// handler, events to try it on, expectations, build instructions.
    New(super::plugin_new::NewArgs),
    /// Every plugin: live version, state, canary, previous version, outcomes.
    List,
    /// The stored versions of a plugin.
    Versions {
        /// Plugin name.
        name: String,
    },
    /// Make a version live for every key (upload it first with --wasm).
    Deploy {
        /// Plugin name.
        name: String,
        /// Which version.
        #[command(flatten)]
        source: VersionSource,
    },
    /// Send a share of the keys (customers) to a version; the rest stays on
    /// the live one. Rolled back on its own when it fails too often.
    Canary {
        /// Plugin name.
        name: String,
        /// Which version.
        #[command(flatten)]
        source: VersionSource,
        /// Share of the keys, in percent.
        #[arg(long)]
        percent: f64,
        /// Roll back when more than this share (0..1) of its invocations
        /// in the window trap or are rejected.
        #[arg(long, default_value_t = 0.05)]
        max_error_rate: f64,
        /// The window, in seconds.
        #[arg(long, default_value_t = 60)]
        window_secs: u64,
        /// Judge only once the window holds this many invocations.
        #[arg(long, default_value_t = 20)]
        min_events: u64,
    },
    /// Give a version a copy of the live events with its effects captured
    /// (publishes, pushes, KV writes, HTTP requests recorded, never
    /// executed); `diff` shows how they differ from the live version's.
    Shadow {
        /// Plugin name.
        name: String,
        /// Which version.
        #[command(flatten)]
        source: VersionSource,
        /// Share of the keys it shadows, in percent.
        #[arg(long, default_value_t = 100.0)]
        percent: f64,
    },
    /// How the shadow's effects differ from the live version's.
    Diff {
        /// Plugin name.
        name: String,
        /// How many of the latest differences to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Stop the shadow (prints its final report).
    ShadowStop {
        /// Plugin name.
        name: String,
    },
    /// Make the canary live for every key.
    Promote {
        /// Plugin name.
        name: String,
    },
    /// End the canary, or go back to the version the last deploy replaced.
    Rollback {
        /// Plugin name.
        name: String,
    },
    /// Stop consuming (events wait, nothing is lost).
    Pause {
        /// Plugin name.
        name: String,
    },
    /// Consume again.
    Resume {
        /// Plugin name.
        name: String,
    },
    /// Stop running the plugin.
    Remove {
        /// Plugin name.
        name: String,
    },
    /// The plugin's recent log lines (its own, and the host's notes on
    /// traps and dead letters).
    Logs {
        /// Plugin name.
        name: String,
        /// Keep printing new lines.
        #[arg(long, short)]
        follow: bool,
        /// How many of the latest lines to print first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// A version: a stored one, or a component to upload.
#[derive(Debug, Args)]
pub struct VersionSource {
    /// A stored version's id (or an unambiguous prefix).
    #[arg(long, required_unless_present = "wasm", conflicts_with = "wasm")]
    pub version: Option<String>,
    /// A component to upload, validate and store first.
    #[arg(long, value_name = "FILE.wasm")]
    pub wasm: Option<PathBuf>,
    /// The manifest of the upload (TOML plugin table; the live one's
    /// otherwise).
    #[arg(long, value_name = "FILE.toml", conflicts_with = "version")]
    pub manifest: Option<PathBuf>,
}

/// Run `args`, writing what it shows to `out`.
pub async fn run(args: PluginArgs, out: &mut (dyn Write + Send)) -> Result<(), PluginCliError> {
    let command = match args.command {
        PluginCommand::Test(test) => return super::plugin_test::run(test, out).await,
        PluginCommand::New(new) => return super::plugin_new::run(new, out),
        command => command,
    };
    let token = args.token.as_deref().ok_or(PluginCliError::NoToken)?;
    let admin = AdminClient::new(&args.admin, token);
    match command {
        PluginCommand::Test(_) | PluginCommand::New(_) => {}
        PluginCommand::List => {
            write!(out, "{}", tables::plugins(&admin.plugins().await?))?;
            writeln!(out)?;
        }
        PluginCommand::Versions { name } => {
            write!(out, "{}", tables::versions(&admin.versions(&name).await?))?;
            writeln!(out)?;
        }
        PluginCommand::Deploy { name, source } => {
            let id = version_id(&admin, &name, &source, out).await?;
            let d = admin
                .act(&name, "deploy", Some(json!({ "version": id })))
                .await?;
            writeln!(out, "{}", tables::deployment(&d))?;
        }
        PluginCommand::Canary {
            name,
            source,
            percent,
            max_error_rate,
            window_secs,
            min_events,
        } => {
            let id = version_id(&admin, &name, &source, out).await?;
            let body = json!({
                "version": id, "percent": percent, "max_error_rate": max_error_rate,
                "window_secs": window_secs, "min_events": min_events,
            });
            let d = admin.act(&name, "canary", Some(body)).await?;
            writeln!(out, "{}", tables::deployment(&d))?;
        }
        PluginCommand::Shadow {
            name,
            source,
            percent,
        } => {
            let id = version_id(&admin, &name, &source, out).await?;
            let body = json!({ "version": id, "percent": percent });
            let d = admin.act(&name, "shadow", Some(body)).await?;
            writeln!(out, "{}", tables::deployment(&d))?;
        }
        PluginCommand::Diff { name, limit } => {
            let report = admin.shadow(&name, false).await?;
            write!(out, "{}", tables::shadow_report(&report, limit))?;
        }
        PluginCommand::ShadowStop { name } => {
            let report = admin.shadow(&name, true).await?;
            writeln!(out, "{name}: shadow {} stopped", report.version)?;
            write!(out, "{}", tables::shadow_report(&report, 0))?;
        }
        PluginCommand::Promote { name } => act(&admin, &name, "promote", out).await?,
        PluginCommand::Rollback { name } => act(&admin, &name, "rollback", out).await?,
        PluginCommand::Pause { name } => act(&admin, &name, "pause", out).await?,
        PluginCommand::Resume { name } => act(&admin, &name, "resume", out).await?,
        PluginCommand::Remove { name } => {
            admin.remove(&name).await?;
            writeln!(out, "{name}: removed")?;
        }
        PluginCommand::Logs {
            name,
            follow,
            limit,
        } => logs(&admin, &name, follow, limit, out).await?,
    }
    Ok(())
}

async fn act(
    admin: &AdminClient,
    name: &str,
    action: &str,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginCliError> {
    let d = admin.act(name, action, None).await?;
    writeln!(out, "{}", tables::deployment(&d))?;
    Ok(())
}

async fn logs(
    admin: &AdminClient,
    name: &str,
    follow: bool,
    limit: usize,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginCliError> {
    let mut after = 0;
    let mut limit = limit;
    loop {
        let page = admin.logs(name, after, limit).await?;
        write!(out, "{}", tables::log_lines(&page.lines))?;
        out.flush()?;
        after = page.next;
        if !follow {
            return Ok(());
        }
        limit = crate::runtime::log_book::LINES_PER_PLUGIN;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The id of the version `source` names, uploading its component first
/// (with a progress bar) when it is a file.
async fn version_id(
    admin: &AdminClient,
    name: &str,
    source: &VersionSource,
    out: &mut (dyn Write + Send),
) -> Result<String, PluginCliError> {
    let Some(wasm) = &source.wasm else {
        return Ok(source.version.clone().unwrap_or_default());
    };
    let component = read(wasm).await?;
    let manifest = match &source.manifest {
        Some(path) => Some(String::from_utf8_lossy(&read(path).await?).into_owned()),
        None => None,
    };
    let bar = upload_bar(component.len() as u64);
    let progress_bar = bar.clone();
    let validating = format!("validating {name}: compile, link, init");
    let progress = Arc::new(move |sent: u64, total: u64| {
        progress_bar.set_position(sent);
        if sent == total {
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                progress_bar.set_style(style);
            }
            progress_bar.set_message(validating.clone());
            progress_bar.enable_steady_tick(Duration::from_millis(100));
        }
    });
    let stored = admin.upload(name, component, manifest, progress).await;
    bar.finish_and_clear();
    let stored = stored?;
    writeln!(
        out,
        "uploaded {name} {} ({}, {})",
        stored.id,
        tables::size(stored.size),
        stored.digest
    )?;
    Ok(stored.id)
}

fn upload_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} uploading {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style);
    }
    bar
}

async fn read(path: &Path) -> Result<Vec<u8>, PluginCliError> {
    tokio::fs::read(path)
        .await
        .map_err(|source| PluginCliError::File {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from([&["streamplug", "plugin", "--token", "t"], args].concat())
    }

    #[test]
    fn a_version_comes_from_the_store_or_a_file_not_both() {
        assert!(parse(&["deploy", "rec", "--version", "abc"]).is_ok());
        let cli = parse(&[
            "canary",
            "rec",
            "--wasm",
            "r.wasm",
            "--manifest",
            "m.toml",
            "--percent",
            "10",
        ])
        .unwrap();
        let Command::Plugin(args) = cli.command else {
            panic!("not a plugin command")
        };
        assert!(
            matches!(args.command, super::PluginCommand::Canary { percent, .. } if percent == 10.0)
        );
        assert!(parse(&["deploy", "rec"]).is_err());
        assert!(parse(&["deploy", "rec", "--version", "a", "--wasm", "r.wasm"]).is_err());
        assert!(parse(&["deploy", "rec", "--version", "a", "--manifest", "m.toml"]).is_err());
    }
}
