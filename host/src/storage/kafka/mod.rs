//! The Kafka backend of [`EventLog`] on rdkafka (librdkafka): any broker that
//! speaks the Kafka protocol (Kafka, Confluent Cloud, Redpanda, tansu).
//!
//! - Appends go through one idempotent producer with `acks=all`; an append
//!   returns only when the broker acknowledged every record of it. A batch
//!   is not atomic on Kafka (no transactions): on error some records may be
//!   written, so a retried request can duplicate them (at-least-once; event
//!   ids stay the same, so consumers can deduplicate).
//! - Keyed records are placed by [`Partitioner::Murmur2`], the Java client's
//!   hash of the key (librdkafka's `murmur2_random`): events of one customer
//!   land in the same partition whichever Kafka client wrote them, and the
//!   push delivery and resume tokens find them there. They carry the
//!   CloudEvents binary-mode headers (`streamplug_wire::kafka_binding`).
//! - Plugins consume through consumer groups (`streamplug.<plugin>`, see
//!   [`group`]); the read API assigns a reader consumer to one partition at
//!   an offset.
//! - A consumer's batch commits in three steps: its publishes (acknowledged
//!   by the broker), its KV writes with its position (one atomic step in the
//!   KV store), then the group offset. A crash between the first two
//!   publishes again on redelivery (at-least-once); the state never holds an
//!   event's effect twice, because a new owner of the partition skips what
//!   the KV position says already took effect.

mod group;
mod merge;
mod offsets;
mod order;
mod produce;
mod reader;
mod settings;
mod stream;

pub use settings::KafkaSettings;
use settings::client_config;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

use super::{
    Appended, ConsumerCommit, EventLog, GroupMembership, IngestIds, KvStore, PartitionStream,
    Partitioner, Position, StorageError, TopicSpec,
};
use crate::event::{Event, StoredEvent};

/// Timeout of metadata, watermark and offset requests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(e.to_string())
}

/// The Kafka event log.
pub struct KafkaLog {
    settings: KafkaSettings,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    reader: Arc<Mutex<BaseConsumer>>,
    groups: Mutex<HashMap<String, Arc<BaseConsumer>>>,
    members: Mutex<HashMap<String, Weak<group::GroupConsumer>>>,
    partitions: Mutex<HashMap<String, u32>>,
    kv: Arc<dyn KvStore>,
    ids: Arc<dyn IngestIds>,
    idempotency_window: Duration,
}

/// The `source` prefix of events plugins emit (`plugin:<name>`).
const PLUGIN_SOURCE: &str = "plugin:";

impl KafkaLog {
    /// Connect (lazily: librdkafka connects on first use). Consumers keep
    /// their state, and the position it reflects, in `kv`; ingested events'
    /// ids are remembered in `ids` (shared by every instance).
    pub fn connect(
        settings: KafkaSettings,
        kv: Arc<dyn KvStore>,
        ids: Arc<dyn IngestIds>,
    ) -> Result<Self, StorageError> {
        let delivery = settings.delivery_timeout_ms.to_string();
        let producer: FutureProducer = client_config(&settings)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            // Topics are created by the gateway with their configured
            // partitions, never implicitly by a metadata request.
            .set("allow.auto.create.topics", "false")
            .set("delivery.timeout.ms", &delivery)
            .set("message.timeout.ms", &delivery)
            .create()
            .map_err(unavailable)?;
        let admin = client_config(&settings).create().map_err(unavailable)?;
        let reader: BaseConsumer = client_config(&settings)
            .set("group.id", "streamplug-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .map_err(unavailable)?;
        Ok(Self {
            settings,
            producer,
            admin,
            reader: Arc::new(Mutex::new(reader)),
            groups: Mutex::new(HashMap::new()),
            members: Mutex::new(HashMap::new()),
            partitions: Mutex::new(HashMap::new()),
            kv,
            ids,
            idempotency_window: Duration::from_secs(24 * 60 * 60),
        })
    }

    /// Remember written ids (ingested events, plugins' emissions) for
    /// `window` (`storage.idempotency_window_secs`; zero: not at all).
    #[must_use]
    pub fn with_idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window;
        self
    }

    fn partition_count_from_broker(&self, topic: &str) -> Result<Option<u32>, StorageError> {
        let metadata = self
            .producer
            .client()
            .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
            .map_err(unavailable)?;
        Ok(metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as u32)
            .filter(|n| *n > 0))
    }
}

#[async_trait]
impl EventLog for KafkaLog {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), StorageError> {
        let mut missing = Vec::new();
        for spec in topics {
            let (topic, partitions) = (&spec.name, &spec.partitions);
            match self.partition_count_from_broker(topic)? {
                Some(existing) => {
                    if existing != *partitions {
                        tracing::info!(%topic, existing, configured = partitions, "topic exists with another partition count; using it");
                    }
                    if !spec.kafka_configs.is_empty() {
                        tracing::info!(%topic, "topic exists: its retention configs stay as they are on the broker (change them with kafka-configs)");
                    }
                    self.partitions
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(topic.clone(), existing);
                }
                None => missing.push(spec),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let replication = self.settings.replication_factor;
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|spec| {
                let topic = NewTopic::new(
                    &spec.name,
                    i32::try_from(spec.partitions).unwrap_or(i32::MAX),
                    TopicReplication::Fixed(replication),
                );
                spec.kafka_configs
                    .iter()
                    .fold(topic, |topic, (name, value)| topic.set(name, value))
            })
            .collect();
        let names: Vec<&str> = missing.iter().map(|spec| spec.name.as_str()).collect();
        let results = self
            .admin
            .create_topics(
                &new,
                &AdminOptions::new()
                    .operation_timeout(Some(REQUEST_TIMEOUT))
                    .request_timeout(Some(REQUEST_TIMEOUT)),
            )
            .await
            .map_err(|e| {
                unavailable(format!(
                    "topics {names:?} do not exist and cannot be created ({e}); create them or grant the gateway CreateTopics"
                ))
            })?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(unavailable(format!(
                        "topic `{topic}` does not exist and cannot be created ({code}); create it or grant the gateway CreateTopics"
                    )));
                }
            }
        }
        for spec in missing {
            let count = self
                .partition_count_from_broker(&spec.name)?
                .unwrap_or(spec.partitions);
            self.partitions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(spec.name.clone(), count);
        }
        Ok(())
    }

    fn partitioner(&self) -> Partitioner {
        Partitioner::Murmur2
    }

    fn partitions(&self, topic: &str) -> Option<u32> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .copied()
    }

    async fn append(&self, events: Vec<Event>) -> Result<Vec<Position>, StorageError> {
        self.produce(events).await
    }

    async fn append_once(
        &self,
        events: Vec<Event>,
        window: Duration,
    ) -> Result<Vec<Appended>, StorageError> {
        if window.is_zero() {
            return Ok(Appended::fresh(self.append(events).await?));
        }
        super::ingest_ids::append_once(
            &*self.ids,
            events,
            window,
            |_| true,
            |fresh| self.append(fresh),
        )
        .await
    }

    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.check_partition(topic, partition)?;
        let reader = self.reader.clone();
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || {
            reader::read_blocking(&reader, &topic, partition, from, limit)
        })
        .await
        .map_err(unavailable)?
    }

    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, StorageError> {
        Ok(self.offset_range(topic, partition).await?.1)
    }

    async fn start_offset(&self, topic: &str, partition: u32) -> Result<u64, StorageError> {
        Ok(self.offset_range(topic, partition).await?.0)
    }

    /// Both watermarks in one request.
    async fn offset_range(&self, topic: &str, partition: u32) -> Result<(u64, u64), StorageError> {
        self.check_partition(topic, partition)?;
        let (low, high) = self
            .producer
            .client()
            .fetch_watermarks(
                topic,
                i32::try_from(partition).unwrap_or(0),
                REQUEST_TIMEOUT,
            )
            .map_err(unavailable)?;
        Ok((
            u64::try_from(low).unwrap_or(0),
            u64::try_from(high).unwrap_or(0),
        ))
    }

    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<u64, StorageError> {
        let consumer = self.group(group)?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(topic, i32::try_from(partition).unwrap_or(0));
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || {
            let committed = consumer
                .committed_offsets(tpl, REQUEST_TIMEOUT)
                .map_err(unavailable)?;
            Ok(committed
                .find_partition(&topic, i32::try_from(partition).unwrap_or(0))
                .and_then(|e| match e.offset() {
                    Offset::Offset(n) => u64::try_from(n).ok(),
                    _ => None,
                })
                .unwrap_or(0))
        })
        .await
        .map_err(unavailable)?
    }

    async fn commit(&self, mut commit: ConsumerCommit) -> Result<Vec<Position>, StorageError> {
        // `apply` ignores the publishes, so they move into the append. What
        // plugins emit has ids stable across attempts, so a batch handled
        // again after a crash between this step and the next one produces
        // its publishes and pushes once (dead letters keep the original
        // event's id and are written again).
        let publish = std::mem::take(&mut commit.publish);
        let positions = if self.idempotency_window.is_zero() {
            self.append(publish).await?
        } else {
            super::ingest_ids::append_once(
                &*self.ids,
                publish,
                self.idempotency_window,
                |e| e.source.starts_with(PLUGIN_SOURCE),
                |fresh| self.append(fresh),
            )
            .await?
            .into_iter()
            .map(|a| a.position)
            .collect()
        };
        self.kv.apply(&commit).await?;
        // The KV position is what the next owner resumes from; the group
        // offset follows it for Kafka tooling (lag, console consumers). A
        // failed offset commit is caught up by the next one, and retrying
        // the whole batch here would publish its events again.
        if let Err(e) = self.commit_offset(&commit).await {
            tracing::warn!(group = %commit.group, error = %e, "group offsets not committed; the KV positions hold them");
        }
        Ok(positions)
    }

    async fn join(
        self: Arc<Self>,
        group: &str,
        topics: &[String],
    ) -> Result<Box<dyn GroupMembership>, StorageError> {
        super::co_partitioned(self.as_ref(), topics)?;
        let (membership, consumer) = group::join(
            &client_config(&self.settings),
            group,
            topics,
            self.kv.clone(),
            Duration::from_millis(self.settings.max_task_idle_ms),
        )?;
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(group.to_owned(), consumer);
        Ok(Box::new(membership))
    }

    async fn tail(
        self: Arc<Self>,
        topic: &str,
    ) -> Result<Vec<Box<dyn PartitionStream>>, StorageError> {
        let partitions = self
            .partitions(topic)
            .ok_or_else(|| StorageError::UnknownTopic(topic.to_owned()))?;
        // Resolve the ends now: `Offset::End` would be resolved at the first
        // fetch, and what is written before that would be skipped.
        let mut ends = Vec::new();
        for partition in 0..partitions {
            ends.push(self.end_offset(topic, partition).await?);
        }
        group::tail(&client_config(&self.settings), topic, &ends)
    }
}
