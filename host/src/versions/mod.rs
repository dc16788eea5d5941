//! Plugin versions beyond the configuration: the store that keeps every
//! version the gateway ran or was given, and the loader that validates a
//! candidate before it may go live.

pub mod loader;
pub mod persist;
pub mod prune;
pub mod store;
pub mod watch;

pub use loader::{VersionError, VersionLoader};
pub use store::{StoreError, StoredVersion, VersionStore, version_id};
