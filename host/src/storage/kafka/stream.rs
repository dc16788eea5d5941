//! Partition streams on Kafka: each partition a consumer owns is split into
//! its own librdkafka queue; one thread per consumer polls the main queue,
//! which serves rebalances and hands any message fetched before a partition
//! was split off to that partition's stream. A stream reads one partition
//! index of one or more topics ([`super::merge`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use tokio::sync::{Notify, mpsc};

use super::reader::stored_event;
use super::unavailable;
use crate::event::StoredEvent;
use crate::storage::{KvStore, StorageError};

/// Where each partition's stream takes messages the main queue returned.
#[derive(Default)]
pub(super) struct Routes {
    map: Mutex<HashMap<(String, u32), Route>>,
}

struct Route {
    early: mpsc::UnboundedSender<StoredEvent>,
    ready: Arc<Notify>,
}

impl Routes {
    pub(super) fn add(
        &self,
        topic: &str,
        partition: u32,
    ) -> (mpsc::UnboundedReceiver<StoredEvent>, Arc<Notify>) {
        let (early, rx) = mpsc::unbounded_channel();
        let ready = Arc::new(Notify::new());
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (topic.to_owned(), partition),
                Route {
                    early,
                    ready: ready.clone(),
                },
            );
        (rx, ready)
    }

    pub(super) fn remove(&self, topic: &str, partition: u32) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(topic.to_owned(), partition));
    }

    fn deliver(&self, topic: &str, stored: StoredEvent) -> bool {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(&(topic.to_owned(), stored.partition)) {
            Some(route) => {
                let sent = route.early.send(stored).is_ok();
                route.ready.notify_one();
                sent
            }
            None => false,
        }
    }
}

/// Poll `consumer`'s main queue (rebalances, errors, early messages) on a
/// thread of its own until `stop` is set.
pub(super) fn spawn_poller<C: ConsumerContext + 'static>(
    name: &str,
    consumer: Arc<BaseConsumer<C>>,
    routes: Arc<Routes>,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, StorageError> {
    let label = name.to_owned();
    std::thread::Builder::new()
        .name(format!("kafka-{name}"))
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                match consumer.poll(Duration::from_millis(100)) {
                    None => {}
                    Some(Ok(msg)) => {
                        let topic = msg.topic().to_owned();
                        if !routes.deliver(&topic, stored_event(&msg)) {
                            tracing::debug!(consumer = %label, %topic, partition = msg.partition(), "message of a partition no longer owned; it is delivered again to its owner");
                        }
                    }
                    Some(Err(KafkaError::MessageConsumption(
                        RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown,
                    ))) => {
                        // librdkafka reconnects by itself (and logs the cause).
                        tracing::debug!(consumer = %label, "broker connection lost");
                    }
                    Some(Err(e)) => tracing::warn!(consumer = %label, error = %e, "kafka consumer"),
                }
            }
        })
        .map_err(unavailable)
}

/// Sets `stop` when the last stream of a consumer is gone.
pub(super) struct StopOnDrop(pub(super) Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The first offset a stream hands out.
pub(super) enum Floor {
    /// Known.
    At(u64),
    /// The position the KV store recorded with the group's state: events
    /// before it already took effect (looked up on first use).
    KvPosition {
        /// The KV store.
        kv: Arc<dyn KvStore>,
        /// Consumer group.
        group: String,
    },
}

/// One topic-partition a consumer owns, split off into its own queue.
pub(super) struct PartitionInput<C: ConsumerContext + 'static> {
    pub(super) topic: String,
    pub(super) partition: u32,
    queue: rdkafka::consumer::base_consumer::PartitionQueue<C>,
    early: mpsc::UnboundedReceiver<StoredEvent>,
    pub(super) ready: Arc<Notify>,
    floor: Floor,
    /// Offset of the next record to hand out.
    pub(super) next: u64,
}

impl<C: ConsumerContext + 'static> PartitionInput<C> {
    /// Split `partition` of `topic` off `consumer` (which must own it).
    pub(super) fn split(
        consumer: &Arc<BaseConsumer<C>>,
        routes: &Routes,
        topic: &str,
        partition: u32,
        floor: Floor,
    ) -> Option<Self> {
        let mut queue = consumer.split_partition_queue(topic, i32::try_from(partition).ok()?)?;
        let (early, ready) = routes.add(topic, partition);
        let wake = ready.clone();
        queue.set_nonempty_callback(move || wake.notify_one());
        Some(Self {
            topic: topic.to_owned(),
            partition,
            queue,
            early,
            ready,
            floor,
            next: 0,
        })
    }

    /// Resolve the floor (once): the first offset handed out.
    pub(super) async fn start(&mut self) -> Result<(), StorageError> {
        let at = match &self.floor {
            Floor::At(at) => *at,
            Floor::KvPosition { kv, group } => kv
                .position(group, &self.topic, self.partition)
                .await?
                .unwrap_or(0),
        };
        self.floor = Floor::At(at);
        self.next = self.next.max(at);
        Ok(())
    }

    /// Move what has arrived (up to `max` records) into `out`, without
    /// waiting; records below the floor are skipped.
    pub(super) fn take(
        &mut self,
        max: usize,
        out: &mut std::collections::VecDeque<StoredEvent>,
    ) -> Result<(), StorageError> {
        let floor = match self.floor {
            Floor::At(at) => at,
            Floor::KvPosition { .. } => 0,
        };
        let mut taken = 0;
        while taken < max {
            let stored = match self.early.try_recv() {
                Ok(stored) => stored,
                Err(_) => match self.queue.poll(Duration::ZERO) {
                    None => break,
                    Some(Ok(msg)) => stored_event(&msg),
                    Some(Err(e)) if taken == 0 && out.is_empty() => return Err(unavailable(e)),
                    Some(Err(_)) => break,
                },
            };
            if stored.offset >= floor {
                self.next = stored.offset + 1;
                out.push_back(stored);
                taken += 1;
            }
        }
        Ok(())
    }
}
