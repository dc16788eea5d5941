//! Command-line interface of the `streamplug` binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod config_check;
mod error;
pub mod init;
pub mod keys;
pub mod plugin;
pub mod plugin_new;
pub mod plugin_test;
mod tables;

/// streamplug: a WebAssembly-extensible event gateway between frontends and Kafka.
#[derive(Debug, Parser)]
#[command(name = "streamplug", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: HTTP ingest, the event log and the plugins.
    Serve(ServeArgs),
    /// Operate the plugins of a running gateway through its admin API
    /// (list, deploy, canary, promote, roll back, pause, resume, logs);
    /// create a new one, or test one offline.
    Plugin(plugin::PluginArgs),
    /// Print the effective configuration (file, environment and flags merged)
    /// as TOML, secrets hidden; or, with --check, check it as a start would.
    Config(ConfigArgs),
    /// Write a commented production configuration (Kafka, Redis, keys,
    /// retention, the admin listener) and an environment file with fresh
    /// secrets for it.
    Init(init::InitArgs),
    /// Make a backend API key: prints the key once (give it to the service)
    /// and the `[[auth.api_keys]]` table holding only its SHA-256.
    Keys(keys::KeysArgs),
    /// Print the JSON Schema of every event type's data.
    Schemas {
        /// Print the reference page (docs/events.md) instead of JSON.
        #[arg(long)]
        markdown: bool,
        /// Write types from the schemas instead.
        #[command(subcommand)]
        action: Option<SchemasAction>,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API (what
    /// `GET /v1/openapi.json` serves, and docs/openapi.json holds).
    Openapi {
        /// The admin API's instead (`GET /admin/v1/openapi.json`,
        /// docs/admin-openapi.json).
        #[arg(long)]
        admin: bool,
    },
    /// Print the AsyncAPI 3.0 document of the WebSocket sessions and the
    /// topics (docs/asyncapi.json holds it).
    Asyncapi,
}

/// What `streamplug schemas` does besides printing them.
#[derive(Debug, Subcommand)]
pub enum SchemasAction {
    /// Print each event type's data as types of a language: Rust structs
    /// (serde), Python `TypedDict`s or TypeScript interfaces.
    Codegen {
        /// The language.
        #[arg(long, value_enum)]
        lang: crate::codegen::Lang,
        /// A configuration whose `[vocabulary]` (the deployment's own
        /// types) to use instead of the standard set.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Where the configuration comes from.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML). Without it the embedded default is used: the
    /// embedded log under ./data and the first-party plugins.
    #[arg(long, short, env = "STREAMPLUG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address of the HTTP API (overrides server.listen).
    #[arg(long, env = "STREAMPLUG_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory of the event log, plugin state and compiled-plugin cache
    /// (overrides storage.data_dir).
    #[arg(long, env = "STREAMPLUG_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory that relative plugin `wasm` paths are resolved against
    /// (overrides runtime.plugin_dir).
    #[arg(long, env = "STREAMPLUG_PLUGIN_DIR", value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,
    /// Reload a plugin when its `.wasm` file changes (validated like an
    /// upload; a refused build leaves the running version serving).
    #[arg(long)]
    pub watch: bool,
}

impl ServeArgs {
    /// The flag overrides.
    pub fn overrides(&self) -> crate::config::Overrides {
        crate::config::Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            plugin_dir: self.plugin_dir.clone(),
            watch: self.watch,
        }
    }
}

/// `streamplug config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Where the configuration comes from.
    #[command(flatten)]
    pub source: ServeArgs,
    /// Check it as `serve` would before it connects (the file, the
    /// environment it refers to, the plugins' components) and print a
    /// summary instead; fails with the first problem.
    #[arg(long)]
    pub check: bool,
}

/// `streamplug config`: the effective configuration as TOML, every secret
/// shown as its `${ENV}` reference or hidden; with `--check`, a summary of
/// what a start would run.
pub fn effective_config(args: &ConfigArgs) -> Result<String, crate::config::ConfigError> {
    let source = &args.source;
    let settings = crate::config::Settings::load(source.config.as_deref(), &source.overrides())?;
    if args.check {
        return config_check::check(&settings);
    }
    toml::to_string_pretty(&settings.redacted())
        .map_err(|e| crate::config::ConfigError::Parse(e.to_string()))
}
