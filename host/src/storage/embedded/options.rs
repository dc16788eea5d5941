//! How the embedded store is opened.

use std::path::Path;

use super::DEFAULT_SEGMENT_BYTES;

/// How [`EmbeddedStore::open_with_options`](super::EmbeddedStore::open_with_options)
/// opens the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// A partition starts a new segment file once its last one holds this.
    pub segment_bytes: u64,
    /// Publish and acknowledge groups without their `fdatasync`
    /// (`storage.unsafe_bypass_fsync`: benchmarks and throwaway data only).
    pub unsafe_bypass_fsync: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            unsafe_bypass_fsync: false,
        }
    }
}

impl EmbeddedOptions {
    /// Say loudly, once at open, that acknowledged writes may be lost.
    pub(super) fn warn_if_unsafe(&self, dir: &Path) {
        if self.unsafe_bypass_fsync {
            tracing::warn!(
                dir = %dir.display(),
                "storage.unsafe_bypass_fsync is on: writes are acknowledged before they are durable, \
                 and a crash of the machine can lose acknowledged events"
            );
        }
    }
}
