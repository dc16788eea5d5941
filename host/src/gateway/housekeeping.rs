//! The gateway's background upkeep: free disk space watched, a failed
//! embedded store probed until it recovers, expired KV values swept, the
//! embedded log's retention and compaction applied, plugin version history
//! bounded, the metrics recorder's samples folded into their buckets.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::storage::embedded::EmbeddedStore;
use crate::storage::{KvStore, StorageHealth, TopicSpec};
use crate::versions::prune::{self, Pruner};

/// What the upkeep tasks work on.
pub(super) struct Housekeeping<'a> {
    pub(super) settings: &'a Settings,
    pub(super) kv: Arc<dyn KvStore>,
    /// The embedded log, when the log is embedded.
    pub(super) embedded_log: Option<Arc<EmbeddedStore>>,
    /// The embedded store, when the log or the KV store is embedded.
    pub(super) embedded: Option<Arc<EmbeddedStore>>,
    /// What the disk watch reports to.
    pub(super) health: Arc<StorageHealth>,
    /// Every topic and its retention.
    pub(super) topics: Vec<TopicSpec>,
    pub(super) pruner: Pruner,
    /// The Prometheus recorder, when this process installed one.
    pub(super) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// Start the upkeep tasks; they run every `storage.retention_check_ms`
/// until `shutdown`.
pub(super) fn spawn(
    workers: &mut JoinSet<()>,
    upkeep: Housekeeping<'_>,
    shutdown: watch::Receiver<bool>,
) {
    let storage = &upkeep.settings.storage;
    let every = Duration::from_millis(storage.retention_check_ms.max(1));
    let disk_every = Duration::from_millis(storage.disk_check_ms.max(1));
    workers.spawn(crate::storage::health::watch_disk(
        upkeep.health,
        storage.data_dir.clone(),
        storage.min_free_bytes,
        disk_every,
        shutdown.clone(),
    ));
    if let Some(store) = upkeep.embedded {
        workers.spawn(store.probe_while_failed(disk_every, shutdown.clone()));
    }
    workers.spawn(crate::storage::sweep_expired(
        upkeep.kv,
        every,
        shutdown.clone(),
    ));
    if let Some(store) = upkeep.embedded_log {
        workers.spawn(crate::storage::embedded::retention::run(
            store,
            upkeep.topics,
            upkeep.settings.default_retention(),
            every,
            shutdown.clone(),
        ));
    }
    if let Some(metrics) = upkeep.metrics {
        workers.spawn(metrics_upkeep(metrics, shutdown.clone()));
    }
    prune::spawn(workers, upkeep.pruner, every, shutdown);
}

/// How often the recorder folds recorded histogram samples into their
/// buckets (a scrape does too): the samples wait in memory until then. At
/// 10k events/s the stage histograms take ~80k samples a second, and a
/// scrape that folded 0.7 s of them took 2-20 ms, so five seconds' worth
/// would hold a thread for tens of milliseconds: folds are small and
/// frequent.
const METRICS_UPKEEP: Duration = Duration::from_secs(1);

/// Fold the recorder's histogram samples into their buckets every
/// [`METRICS_UPKEEP`], so memory stays bounded between scrapes. The fold is
/// CPU work that takes locks of its own: it runs on the blocking pool, never
/// on a runtime worker that sessions and plugin workers are waiting for.
async fn metrics_upkeep(
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(METRICS_UPKEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let metrics = metrics.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || metrics.run_upkeep()).await {
            tracing::warn!(error = %e, "folding the metrics' samples failed");
        }
    }
}
