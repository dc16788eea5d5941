//! Dispatch: every plugin joins its consumer group (`streamplug.<plugin>`)
//! for its subscribed topics and consumes each partition index the group
//! gives it in its own task, the same partition of every subscribed topic
//! merged in append order (the topics are co-partitioned). Ordering holds
//! per key across the plugin's topics; a slow or failing plugin holds up
//! only its own partitions. When the group takes
//! a partition away (another gateway instance joined), its worker finishes
//! and commits its batch before the partition moves, so no event is handled
//! by two members.

pub mod command_outcome;
mod dead_letter;
mod ownership;
mod partition_timers;
mod progress;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::registry::Registry;
use crate::storage::{Assignment, EventLog, GroupMembership};
pub use ownership::Ownership;
pub use progress::Progress;
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
    /// Running workers by partition index.
    workers: HashMap<u32, Running>,
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
        let owned: Vec<u32> = self.workers.keys().copied().collect();
        self.stop(&owned).await;
        leave(membership).await;
    }

    async fn apply(&mut self, change: Assignment) {
        match change {
            Assignment::Assigned(streams) => {
                for stream in streams {
                    let partition = stream.partition();
                    let topics = stream.topics().to_vec();
                    tracing::info!(plugin = %self.plugin, ?topics, partition, "partition assigned");
                    // Assigned again without a revoke in between: the old
                    // worker's stream is stale; it stops first.
                    self.stop(&[partition]).await;
                    let (stop, stop_rx) = watch::channel(false);
                    let worker = PartitionWorker {
                        plugin: self.plugin.clone(),
                        stream,
                        log: self.log.clone(),
                        registry: self.registry.clone(),
                        stop: stop_rx,
                        progress: Default::default(),
                        timers: None,
                    };
                    let task = tokio::spawn(worker.run());
                    for topic in &topics {
                        self.ownership.assigned(&self.plugin, topic, partition);
                    }
                    self.workers.insert(partition, Running { stop, task });
                }
            }
            Assignment::Revoked { partitions, done } => {
                for (topic, partition) in &partitions {
                    tracing::info!(plugin = %self.plugin, %topic, partition, "partition revoked");
                }
                // A worker reads one index of every topic: losing any of
                // them stops it (the range assignor revokes them together).
                let mut indexes: Vec<u32> = partitions.iter().map(|(_, p)| *p).collect();
                indexes.sort_unstable();
                indexes.dedup();
                self.stop(&indexes).await;
                let _ = done.send(());
            }
        }
    }

    /// Stop the workers of partition indexes `partitions` and wait until
    /// they finished.
    async fn stop(&mut self, partitions: &[u32]) {
        let running: Vec<Running> = partitions
            .iter()
            .filter_map(|p| self.workers.remove(p))
            .collect();
        for partition in partitions {
            for topic in &self.topics {
                self.ownership.released(&self.plugin, topic, *partition);
            }
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
