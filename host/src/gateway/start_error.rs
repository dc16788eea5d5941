//! Why the gateway could not start.

use std::net::SocketAddr;

use crate::config::ConfigError;
use crate::runtime::RuntimeError;
use crate::storage::StorageError;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The log could not be opened.
    #[error("event log: {0}")]
    Storage(#[from] StorageError),
    /// A plugin could not be loaded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A plugin reads topics that are not co-partitioned on the log.
    #[error("plugin `{plugin}`: {source}; give them the same partition count")]
    NotCoPartitioned {
        /// The plugin.
        plugin: String,
        /// Which topics have which counts.
        source: StorageError,
    },
    /// A built-in plugin could not be written under the data directory.
    #[error("plugin `{plugin}`: cannot write the built-in component: {reason}")]
    Builtin {
        /// The plugin.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// `runtime.watch` is on and the plugin files cannot be watched.
    #[error(transparent)]
    Watch(#[from] crate::versions::watch::WatchError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}
