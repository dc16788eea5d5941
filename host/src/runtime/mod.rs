//! The plugin runtime: wasmtime components, sandboxed.
//!
//! One [`engine::PluginEngine`] per gateway (one epoch ticker, one pooling
//! allocator, one linker). A plugin version is compiled once (cached on disk
//! by digest) and pre-instantiated ([`plugin::PluginVersion`]); events run on
//! warm instances from its [`instance_pool::InstancePool`], and an instance
//! that trapped is thrown away. Host capabilities live in [`host`], one file
//! per WIT interface.

pub mod bindings;
pub mod committed_reads;
pub mod component_cache;
pub mod effects;
pub mod engine;
pub mod event_ref;
pub mod host;
pub mod instance_pool;
pub mod log_book;
pub mod outbound;
pub mod outcome;
pub mod plugin;
pub mod query;
pub mod query_bindings;
pub mod state;
pub mod stats;
pub mod stderr_tail;
pub mod summary;
pub mod timers;
pub mod version_id;
pub mod world;

/// Errors of loading or running plugins.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured.
    #[error("plugin engine: {0}")]
    Engine(String),
    /// The plugin's component could not be read, compiled or linked.
    #[error("plugin `{plugin}`: cannot load {what}: {reason}")]
    Load {
        /// Plugin name.
        plugin: String,
        /// What failed (the file, the component, the imports...).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// `init` refused the configuration.
    #[error("plugin `{plugin}`: init failed: {reason}")]
    Init {
        /// Plugin name.
        plugin: String,
        /// The plugin's reason.
        reason: String,
    },
}
