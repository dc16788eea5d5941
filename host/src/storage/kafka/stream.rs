//! Partition streams on Kafka: each partition a consumer owns is split into
//! its own librdkafka queue and read by its own worker; one thread per
//! consumer polls the main queue, which serves rebalances and hands any
//! message fetched before a partition was split off to that partition's
//! stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use tokio::sync::{Notify, mpsc};

use super::reader::stored_event;
use super::unavailable;
use crate::event::StoredEvent;
use crate::storage::{KvStore, PartitionStream, StorageError};

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
    fn add(
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

/// One partition of a Kafka consumer.
pub(super) struct KafkaStream<C: ConsumerContext + 'static> {
    topic: String,
    partition: u32,
    queue: rdkafka::consumer::base_consumer::PartitionQueue<C>,
    early: mpsc::UnboundedReceiver<StoredEvent>,
    ready: Arc<Notify>,
    floor: Floor,
    _stop: Option<Arc<StopOnDrop>>,
}

impl<C: ConsumerContext + 'static> KafkaStream<C> {
    /// Split `partition` off `consumer` (which must own it) into a stream.
    pub(super) fn split(
        consumer: &Arc<BaseConsumer<C>>,
        routes: &Routes,
        topic: &str,
        partition: u32,
        floor: Floor,
        stop: Option<Arc<StopOnDrop>>,
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
            _stop: stop,
        })
    }

    async fn floor(&mut self) -> Result<u64, StorageError> {
        let at = match &self.floor {
            Floor::At(at) => *at,
            Floor::KvPosition { kv, group } => kv
                .position(group, &self.topic, self.partition)
                .await?
                .unwrap_or(0),
        };
        self.floor = Floor::At(at);
        Ok(at)
    }
}

#[async_trait]
impl<C: ConsumerContext + 'static> PartitionStream for KafkaStream<C> {
    fn topic(&self) -> &str {
        &self.topic
    }

    fn partition(&self) -> u32 {
        self.partition
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<StoredEvent>, StorageError> {
        let floor = self.floor().await?;
        loop {
            let mut out = Vec::new();
            while out.len() < max {
                match self.early.try_recv() {
                    Ok(stored) if stored.offset >= floor => out.push(stored),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            while out.len() < max {
                match self.queue.poll(Duration::ZERO) {
                    None => break,
                    Some(Ok(msg)) => {
                        let stored = stored_event(&msg);
                        if stored.offset >= floor {
                            out.push(stored);
                        }
                    }
                    Some(Err(e)) if out.is_empty() => return Err(unavailable(e)),
                    Some(Err(_)) => break,
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            self.ready.notified().await;
        }
    }
}
