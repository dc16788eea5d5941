//! Consumer groups on Kafka: a plugin's group member subscribes to its
//! topics with the range assignor; the partitions it is given become one
//! [`KafkaStream`] per partition index (merging the co-partitioned topics), and a partition taken away is released only once its
//! worker stopped after committing, so no event is handled by two members.
//! The push-log tail is a group-less consumer assigned every partition.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tokio::sync::{mpsc, oneshot};

use super::merge::KafkaStream;
use super::stream::{Floor, PartitionInput, Routes, StopOnDrop, spawn_poller};
use super::unavailable;
use crate::storage::{Assignment, GroupMembership, KvStore, PartitionStream, StorageError};

/// Longest wait for a revoked partition's worker to commit and stop.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// The group member's view of rebalances.
pub(super) struct GroupContext {
    group: String,
    /// The subscribed topics, in the order a merge breaks ties in.
    topics: Vec<String>,
    max_idle: Duration,
    kv: Arc<dyn KvStore>,
    routes: Arc<Routes>,
    changes: mpsc::UnboundedSender<Assignment>,
    consumer: OnceLock<Weak<BaseConsumer<GroupContext>>>,
}

impl ClientContext for GroupContext {}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<(String, u32)> {
    tpl.elements()
        .iter()
        .filter_map(|e| Some((e.topic().to_owned(), u32::try_from(e.partition()).ok()?)))
        .collect()
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let partitions = partitions_of(tpl);
                if partitions.is_empty() {
                    return;
                }
                for (topic, partition) in &partitions {
                    self.routes.remove(topic, *partition);
                }
                let (done, mut stopped) = oneshot::channel();
                if self
                    .changes
                    .send(Assignment::Revoked { partitions, done })
                    .is_err()
                {
                    return;
                }
                // This is the consumer's own polling thread: waiting here
                // holds the rebalance until the workers committed.
                let deadline = Instant::now() + REVOKE_TIMEOUT;
                while let Err(oneshot::error::TryRecvError::Empty) = stopped.try_recv() {
                    if Instant::now() > deadline {
                        tracing::warn!(group = %self.group, "revoked partitions' workers did not stop in time");
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Rebalance::Error(e) => {
                tracing::warn!(group = %self.group, error = %e, "rebalance failed")
            }
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Assign(tpl) = rebalance else {
            return;
        };
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            return;
        };
        // One stream per partition index, over every subscribed topic the
        // group gave this member at that index (all of them: the range
        // assignor keeps co-partitioned topics together).
        let assigned = partitions_of(tpl);
        let mut indexes: Vec<u32> = assigned.iter().map(|(_, p)| *p).collect();
        indexes.sort_unstable();
        indexes.dedup();
        let streams: Vec<Box<dyn PartitionStream>> = indexes
            .into_iter()
            .filter_map(|partition| {
                let inputs: Vec<_> = self
                    .topics
                    .iter()
                    .filter(|t| assigned.contains(&((*t).clone(), partition)))
                    .filter_map(|topic| {
                        let floor = Floor::KvPosition {
                            kv: self.kv.clone(),
                            group: self.group.clone(),
                        };
                        PartitionInput::split(&consumer, &self.routes, topic, partition, floor)
                    })
                    .collect();
                KafkaStream::new(&consumer, inputs, self.max_idle, None)
                    .map(|s| Box::new(s) as Box<dyn PartitionStream>)
            })
            .collect();
        if !streams.is_empty() {
            let _ = self.changes.send(Assignment::Assigned(streams));
        }
    }
}

/// A member of a plugin's consumer group.
pub(super) struct KafkaMembership {
    changes: mpsc::UnboundedReceiver<Assignment>,
    stop: Arc<AtomicBool>,
    poller: Option<std::thread::JoinHandle<()>>,
}

/// The member's consumer, shared with `KafkaLog::commit` (offsets are
/// committed by the member, under its generation).
pub(super) type GroupConsumer = BaseConsumer<GroupContext>;

/// Join `group` for `topics`; a merge waits up to `max_idle` for an input
/// that is behind.
pub(super) fn join(
    config: &ClientConfig,
    group: &str,
    topics: &[String],
    kv: Arc<dyn KvStore>,
    max_idle: Duration,
) -> Result<(KafkaMembership, Weak<GroupConsumer>), StorageError> {
    let (tx, changes) = mpsc::unbounded_channel();
    let routes = Arc::new(Routes::default());
    let context = GroupContext {
        group: group.to_owned(),
        topics: topics.to_vec(),
        max_idle,
        kv,
        routes: routes.clone(),
        changes: tx,
        consumer: OnceLock::new(),
    };
    let consumer: GroupConsumer = config
        .clone()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // The range assignor gives a member the same partition indexes of
        // every co-partitioned topic, which a merged stream needs (the
        // sticky assignors do not); it is eager: a rebalance revokes every
        // partition of the member, whose workers commit, then reassigns.
        .set("partition.assignment.strategy", "range")
        .create_with_context(context)
        .map_err(unavailable)?;
    let consumer = Arc::new(consumer);
    let _ = consumer.context().consumer.set(Arc::downgrade(&consumer));
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&names).map_err(unavailable)?;
    let weak = Arc::downgrade(&consumer);
    let stop = Arc::new(AtomicBool::new(false));
    let poller = spawn_poller(group, consumer, routes, stop.clone())?;
    Ok((
        KafkaMembership {
            changes,
            stop,
            poller: Some(poller),
        },
        weak,
    ))
}

#[async_trait]
impl GroupMembership for KafkaMembership {
    async fn next(&mut self) -> Option<Assignment> {
        self.changes.recv().await
    }
}

impl Drop for KafkaMembership {
    /// Leave the group: the poller stops and the consumer closes (its final
    /// revoke finds nobody waiting).
    fn drop(&mut self) {
        self.changes.close();
        self.stop.store(true, Ordering::Release);
        if let Some(poller) = self.poller.take() {
            let _ = poller.join();
        }
    }
}

/// Every partition of `topic` from `starts[partition]` (its end when the
/// tail began), outside any group.
pub(super) fn tail(
    config: &ClientConfig,
    topic: &str,
    starts: &[u64],
) -> Result<Vec<Box<dyn PartitionStream>>, StorageError> {
    let partitions = u32::try_from(starts.len()).unwrap_or(u32::MAX);
    let consumer: BaseConsumer = config
        .clone()
        .set("group.id", "streamplug-tail")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(unavailable)?;
    let consumer = Arc::new(consumer);
    let mut tpl = TopicPartitionList::new();
    for (p, start) in starts.iter().enumerate() {
        let offset = Offset::Offset(i64::try_from(*start).unwrap_or(i64::MAX));
        tpl.add_partition_offset(topic, i32::try_from(p).unwrap_or(0), offset)
            .map_err(unavailable)?;
    }
    consumer.assign(&tpl).map_err(unavailable)?;
    let routes = Arc::new(Routes::default());
    let stop = Arc::new(AtomicBool::new(false));
    let guard = Arc::new(StopOnDrop(stop.clone()));
    let streams = (0..partitions)
        .filter_map(|p| {
            let input = PartitionInput::split(&consumer, &routes, topic, p, Floor::At(0))?;
            KafkaStream::new(&consumer, vec![input], Duration::ZERO, Some(guard.clone()))
                .map(|s| Box::new(s) as Box<dyn PartitionStream>)
        })
        .collect();
    spawn_poller(&format!("tail-{topic}"), consumer, routes, stop)?;
    Ok(streams)
}
