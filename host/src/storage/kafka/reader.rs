//! Reading one partition from an offset with a dedicated, group-less
//! consumer (assign, poll, unassign), on a blocking thread.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

use super::{REQUEST_TIMEOUT, unavailable};
use crate::event::StoredEvent;
use crate::storage::StorageError;
use streamplug_wire::kafka_binding::{Record, from_record};

/// The stored event in a consumed message (CloudEvents binding).
pub(super) fn stored_event(msg: &impl Message) -> StoredEvent {
    let partition = u32::try_from(msg.partition()).unwrap_or(0);
    let offset = u64::try_from(msg.offset()).unwrap_or(0);
    let record = Record {
        key: msg.key().map(<[u8]>::to_vec),
        headers: msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        value: msg.payload().map(<[u8]>::to_vec),
    };
    StoredEvent {
        partition,
        offset,
        seq: super::order::append_time_us(msg),
        event: from_record(msg.topic(), partition, offset, &record),
    }
}

/// Read up to `limit` records of one partition from `from`, stopping at the
/// high watermark seen when the read started.
pub(super) fn read_blocking(
    reader: &Mutex<BaseConsumer>,
    topic: &str,
    partition: u32,
    from: u64,
    limit: usize,
) -> Result<Vec<StoredEvent>, StorageError> {
    let reader = reader.lock().unwrap_or_else(PoisonError::into_inner);
    let p = i32::try_from(partition).unwrap_or(0);
    let (_, high) = reader
        .fetch_watermarks(topic, p, REQUEST_TIMEOUT)
        .map_err(unavailable)?;
    let high = u64::try_from(high).unwrap_or(0);
    if from >= high || limit == 0 {
        return Ok(Vec::new());
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, p, Offset::Offset(i64::try_from(from).unwrap_or(0)))
        .map_err(unavailable)?;
    reader.assign(&tpl).map_err(unavailable)?;
    let wanted = usize::try_from(high - from)
        .unwrap_or(usize::MAX)
        .min(limit);
    let mut out = Vec::with_capacity(wanted);
    let deadline = std::time::Instant::now() + REQUEST_TIMEOUT;
    while out.len() < wanted && std::time::Instant::now() < deadline {
        match reader.poll(Duration::from_millis(100)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            // Connection trouble (maybe left over from an earlier outage):
            // librdkafka reconnects by itself; keep polling until the deadline.
            Some(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown,
            ))) => continue,
            Some(Err(e)) => return Err(unavailable(e)),
            Some(Ok(msg)) => {
                let offset = u64::try_from(msg.offset()).unwrap_or(0);
                if offset < from {
                    continue;
                }
                out.push(stored_event(&msg));
            }
        }
    }
    let _ = reader.unassign();
    Ok(out)
}
