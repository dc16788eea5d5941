//! Dispatch: every plugin joins its consumer group (`streamplug.<plugin>`)
//! for its subscribed topics and consumes each partition the group gives
//! it in its own task. Ordering holds per partition (and so per key); a slow
//! or failing plugin holds up only its own partitions. When the group takes
//! a partition away (another gateway instance joined), its worker finishes
//! and commits its batch before the partition moves, so no event is handled
//! by two members.

mod dead_letter;
mod ownership;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::registry::Registry;
use crate::storage::{Assignment, EventLog, GroupMembership};
pub use ownership::Ownership;
pub use worker::PartitionWorker;

/// Events read and handled per batch; their effects commit together.
pub const BATCH_SIZE: usize = 64;

/// Join every plugin's group and consume what it is assigned, until shutdown.
pub fn start(
    log: Arc<dyn EventLog>,
    registry: Arc<Registry>,
    ownership: Arc<Ownership>,
    shutdown: watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for (name, deployment) in &registry.snapshot().plugins {
        let manifest = &deployment.live.manifest;
        let member = PluginMember {
            plugin: name.clone(),
            group: manifest.consumer_group(),
            topics: manifest.subscribe.clone(),
            log: log.clone(),
            registry: registry.clone(),
            ownership: ownership.clone(),
            workers: HashMap::new(),
        };
        tasks.spawn(member.run(shutdown.clone()));
    }
    tasks
}

/// A running partition worker and its stop signal.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// One plugin's membership of its consumer group.
struct PluginMember {
    plugin: String,
    group: String,
    topics: Vec<String>,
    log: Arc<dyn EventLog>,
    registry: Arc<Registry>,
    ownership: Arc<Ownership>,
    workers: HashMap<(String, u32), Running>,
}

impl PluginMember {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut membership = loop {
            match self.log.clone().join(&self.group, &self.topics).await {
                Ok(m) => break m,
                Err(e) => {
                    tracing::warn!(plugin = %self.plugin, error = %e, "cannot join the consumer group; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = stopped(&mut shutdown) => return,
                    }
                }
            }
        };
        let mut registry_changes = self.registry.changes();
        loop {
            tokio::select! {
                change = membership.next() => match change {
                    Some(change) => self.apply(change).await,
                    None => break,
                },
                _ = stopped(&mut shutdown) => break,
                changed = registry_changes.changed() => {
                    if changed.is_err() || self.registry.get(&self.plugin).is_none() {
                        tracing::info!(plugin = %self.plugin, "plugin removed; leaving its consumer group");
                        break;
                    }
                }
            }
        }
        // Stop every worker (each commits its batch) before leaving the group.
        let owned: Vec<(String, u32)> = self.workers.keys().cloned().collect();
        self.stop(&owned).await;
        leave(membership).await;
    }

    async fn apply(&mut self, change: Assignment) {
        match change {
            Assignment::Assigned(streams) => {
                for stream in streams {
                    let slot = (stream.topic().to_owned(), stream.partition());
                    tracing::info!(plugin = %self.plugin, topic = %slot.0, partition = slot.1, "partition assigned");
                    // Assigned again without a revoke in between: the old
                    // worker's stream is stale; it stops first.
                    self.stop(std::slice::from_ref(&slot)).await;
                    let (stop, stop_rx) = watch::channel(false);
                    let worker = PartitionWorker {
                        plugin: self.plugin.clone(),
                        stream,
                        log: self.log.clone(),
                        registry: self.registry.clone(),
                        stop: stop_rx,
                    };
                    let task = tokio::spawn(worker.run());
                    self.ownership.assigned(&self.plugin, &slot.0, slot.1);
                    self.workers.insert(slot, Running { stop, task });
                }
            }
            Assignment::Revoked { partitions, done } => {
                for (topic, partition) in &partitions {
                    tracing::info!(plugin = %self.plugin, %topic, partition, "partition revoked");
                }
                self.stop(&partitions).await;
                let _ = done.send(());
            }
        }
    }

    /// Stop the workers of `partitions` and wait until they finished.
    async fn stop(&mut self, partitions: &[(String, u32)]) {
        let running: Vec<Running> = partitions
            .iter()
            .filter_map(|slot| self.workers.remove(slot))
            .collect();
        for (topic, partition) in partitions {
            self.ownership.released(&self.plugin, topic, *partition);
        }
        for r in &running {
            let _ = r.stop.send(true);
        }
        for r in running {
            if let Err(e) = r.task.await {
                tracing::error!(plugin = %self.plugin, error = %e, "partition worker failed");
            }
        }
    }
}

/// Resolves once `shutdown` is `true`.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// Leave the group; a blocking close (Kafka) runs off the async threads.
async fn leave(membership: Box<dyn GroupMembership>) {
    let _ = tokio::task::spawn_blocking(move || drop(membership)).await;
}
