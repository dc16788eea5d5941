//! Dispatch: every plugin consumes each partition of each subscribed topic in
//! its own task, with its own committed offsets. Ordering holds per
//! partition (and so per key); a slow or failing plugin holds up only its
//! own partitions.

mod dead_letter;
mod worker;

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::registry::Registry;
use crate::storage::EventLog;
pub use worker::PartitionWorker;

/// Events read and handled per batch; their effects commit together.
pub const BATCH_SIZE: usize = 64;

/// Start one worker per (plugin, subscribed topic, partition).
pub fn start(
    log: Arc<dyn EventLog>,
    registry: Arc<Registry>,
    shutdown: watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for (name, version) in &registry.snapshot().plugins {
        for topic in &version.manifest.subscribe {
            let partitions = log.partitions(topic).unwrap_or(0);
            for partition in 0..partitions {
                let worker = PartitionWorker {
                    plugin: name.clone(),
                    topic: topic.clone(),
                    partition,
                    log: log.clone(),
                    registry: registry.clone(),
                    shutdown: shutdown.clone(),
                };
                tasks.spawn(worker.run());
            }
        }
    }
    tasks
}
