//! Producing records: each event in the CloudEvents binary binding, with
//! its append time ([`super::order`]) and the partition of the log's
//! partitioner, acknowledged by the broker (`acks=all`).

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;

use super::{KafkaLog, order, unavailable};
use crate::event::Event;
use crate::storage::{EventLog, Position, StorageError};
use streamplug_wire::kafka_binding::to_record;

impl KafkaLog {
    /// Produce `events` and wait for the broker's acknowledgement of each;
    /// their positions in order.
    pub(super) async fn produce(&self, events: Vec<Event>) -> Result<Vec<Position>, StorageError> {
        for e in &events {
            if self.partitions(&e.topic).is_none() {
                return Err(StorageError::UnknownTopic(e.topic.clone()));
            }
        }
        let queue_timeout = Duration::from_millis(self.settings.delivery_timeout_ms);
        let sends = events.iter().map(|event| {
            let record = to_record(event);
            async move {
                let append_time = order::next_append_time_us().to_string();
                let mut headers =
                    OwnedHeaders::new_with_capacity(record.headers.len() + 1).insert(Header {
                        key: order::APPEND_TIME_HEADER,
                        value: Some(append_time.as_bytes()),
                    });
                for (key, value) in &record.headers {
                    headers = headers.insert(Header {
                        key,
                        value: Some(value),
                    });
                }
                let mut kafka = FutureRecord::<[u8], [u8]>::to(&event.topic).headers(headers);
                if let Some(key) = &record.key {
                    kafka = kafka.key(key.as_slice());
                }
                // Placed by the partitioner every reader uses, not left to
                // librdkafka's view of the partition count.
                if let Some(partition) = event
                    .key
                    .as_deref()
                    .and_then(|key| self.partition_of(&event.topic, key))
                {
                    kafka = kafka.partition(i32::try_from(partition).unwrap_or(0));
                }
                if let Some(value) = &record.value {
                    kafka = kafka.payload(value.as_slice());
                }
                self.producer
                    .send(kafka, queue_timeout)
                    .await
                    .map(|delivery| Position {
                        topic: event.topic.clone(),
                        partition: u32::try_from(delivery.partition).unwrap_or(0),
                        offset: u64::try_from(delivery.offset).unwrap_or(0),
                    })
                    .map_err(|(e, _)| {
                        unavailable(format!("the broker did not acknowledge the write: {e}"))
                    })
            }
        });
        futures::future::join_all(sends)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
    }
}
