//! How a `streamplug plugin …` command fails: each case prints as one line.

use std::path::PathBuf;

use crate::admin::client::ClientError;

/// Why a plugin command failed.
#[derive(Debug, thiserror::Error)]
pub enum PluginCliError {
    /// No token.
    #[error("no admin token: pass --token or set STREAMPLUG_ADMIN_TOKEN")]
    NoToken,
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The admin API refused or could not be reached.
    #[error(transparent)]
    Admin(#[from] ClientError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// An input file or the plugin is not valid.
    #[error("{0}")]
    Invalid(String),
    /// An offline run did not do what its expectations say.
    #[error("{failed} of {checked} expectations do not hold")]
    Expectations {
        /// How many do not hold.
        failed: usize,
        /// How many there are.
        checked: usize,
    },
}
