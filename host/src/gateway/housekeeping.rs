//! The gateway's background upkeep: expired KV values swept, the embedded
//! log's retention and compaction applied, plugin version history bounded.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::storage::embedded::EmbeddedStore;
use crate::storage::{KvStore, TopicSpec};
use crate::versions::prune::{self, Pruner};

/// What the upkeep tasks work on.
pub(super) struct Housekeeping<'a> {
    pub(super) settings: &'a Settings,
    pub(super) kv: Arc<dyn KvStore>,
    /// The embedded log, when the log is embedded.
    pub(super) embedded_log: Option<Arc<EmbeddedStore>>,
    /// Every topic and its retention.
    pub(super) topics: Vec<TopicSpec>,
    pub(super) pruner: Pruner,
}

/// Start the upkeep tasks; they run every `storage.retention_check_ms`
/// until `shutdown`.
pub(super) fn spawn(
    workers: &mut JoinSet<()>,
    upkeep: Housekeeping<'_>,
    shutdown: watch::Receiver<bool>,
) {
    let every = Duration::from_millis(upkeep.settings.storage.retention_check_ms.max(1));
    workers.spawn(crate::storage::sweep_expired(
        upkeep.kv,
        every,
        shutdown.clone(),
    ));
    if let Some(store) = upkeep.embedded_log {
        workers.spawn(crate::storage::embedded::retention::run(
            store,
            upkeep.topics,
            every,
            shutdown.clone(),
        ));
    }
    prune::spawn(workers, upkeep.pruner, every, shutdown);
}
