//! Whether the gateway's storage can take writes. Two troubles stop ingest
//! before anything is lost: free space on the data directory's filesystem
//! below `storage.min_free_bytes` (checked every `storage.disk_check_ms`),
//! and a write the embedded store could not make (ENOSPC, an I/O error),
//! until it has recovered by itself. Ingest answers `503` with
//! `Retry-After` while either holds, `/readyz` reports it, and
//! `streamplug_storage_trouble{reason}` is 1.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::sync::watch;

/// Gauge: 1 while storage has this trouble (`reason`: `low_disk`,
/// `write_failed`), else 0.
pub const TROUBLE: &str = "streamplug_storage_trouble";
/// Gauge: free bytes on the data directory's filesystem.
pub const FREE_BYTES: &str = "streamplug_storage_free_bytes";

/// What keeps the storage from taking writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// Free space is below the watermark.
    LowDisk {
        /// Bytes free.
        free: u64,
        /// The watermark.
        min: u64,
    },
    /// A write failed; the store is recovering.
    WriteFailed(String),
}

impl Trouble {
    /// The metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::LowDisk { .. } => "low_disk",
            Self::WriteFailed(_) => "write_failed",
        }
    }
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LowDisk { free, min } => write!(
                f,
                "the data directory's disk is nearly full ({} free, {} needed); \
                 writes resume once space is freed",
                indicatif::HumanBytes(*free),
                indicatif::HumanBytes(*min)
            ),
            Self::WriteFailed(error) => write!(
                f,
                "the store could not write ({error}); it retries by itself and \
                 nothing acknowledged was lost"
            ),
        }
    }
}

/// The storage's troubles, read on every ingest (lock-free).
#[derive(Debug, Default)]
pub struct StorageHealth {
    low_disk: ArcSwapOption<Trouble>,
    write_failed: ArcSwapOption<Trouble>,
}

impl StorageHealth {
    /// What keeps writes off now, if anything (a failed write first).
    pub fn trouble(&self) -> Option<Arc<Trouble>> {
        self.write_failed
            .load_full()
            .or_else(|| self.low_disk.load_full())
    }

    /// A write failed with `error`.
    pub fn write_failed(&self, error: &str) {
        if self.write_failed.load().is_none() {
            tracing::error!(%error, "the embedded store could not write; refusing writes until it recovers");
        }
        self.write_failed
            .store(Some(Arc::new(Trouble::WriteFailed(error.to_owned()))));
        metrics::gauge!(TROUBLE, "reason" => "write_failed").set(1.0);
    }

    /// Writes work again.
    pub fn write_recovered(&self) {
        if self.write_failed.swap(None).is_some() {
            tracing::info!("the embedded store writes again");
        }
        metrics::gauge!(TROUBLE, "reason" => "write_failed").set(0.0);
    }

    /// Whether a failed write has not been recovered from yet.
    pub fn is_write_failed(&self) -> bool {
        self.write_failed.load().is_some()
    }

    /// Record `free` bytes against the watermark `min` (`0`: none).
    pub fn disk_free(&self, free: u64, min: u64) {
        metrics::gauge!(FREE_BYTES).set(free as f64);
        let low = min > 0 && free < min;
        let was = self.low_disk.load().is_some();
        if low {
            if !was {
                tracing::warn!(
                    free,
                    min,
                    "the data directory's disk is nearly full; refusing ingest"
                );
            }
            self.low_disk
                .store(Some(Arc::new(Trouble::LowDisk { free, min })));
        } else if was {
            tracing::info!(free, min, "disk space is back; accepting ingest");
            self.low_disk.store(None);
        }
        metrics::gauge!(TROUBLE, "reason" => "low_disk").set(if low { 1.0 } else { 0.0 });
    }
}

/// Bytes available to the gateway on the filesystem holding `dir`.
pub fn free_bytes(dir: &std::path::Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(dir)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Check the free space under `dir` against `min` every `every` until
/// `shutdown`.
pub async fn watch_disk(
    health: Arc<StorageHealth>,
    dir: PathBuf,
    min: u64,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let probe = dir.clone();
        match tokio::task::spawn_blocking(move || free_bytes(&probe)).await {
            Ok(Ok(free)) => health.disk_free(free, min),
            Ok(Err(e)) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot read free disk space")
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_outranks_low_disk_and_both_clear() {
        let health = StorageHealth::default();
        assert_eq!(health.trouble(), None);
        health.disk_free(10, 100);
        assert_eq!(health.trouble().unwrap().reason(), "low_disk");
        health.write_failed("No space left on device (os error 28)");
        let trouble = health.trouble().unwrap();
        assert_eq!(trouble.reason(), "write_failed");
        assert!(trouble.to_string().contains("os error 28"), "{trouble}");
        health.write_recovered();
        assert_eq!(health.trouble().unwrap().reason(), "low_disk");
        health.disk_free(1000, 100);
        assert_eq!(health.trouble(), None);
        // No watermark: never low.
        health.disk_free(0, 0);
        assert_eq!(health.trouble(), None);
    }

    #[test]
    fn the_free_space_of_a_real_directory_is_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
    }
}
