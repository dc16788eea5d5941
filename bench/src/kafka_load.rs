//! The ceiling of the Kafka path: rdkafka producing straight to the same
//! broker the gateway writes to, with the gateway's producer settings
//! (idempotent, `acks=all`) and the same ~300-byte events as values. Each
//! worker keeps one send in flight and waits for its delivery report, so
//! `workers` is the number of messages librdkafka has to batch at once.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::meter::{self, Measured, Timing};
use crate::payload;

const TOPIC: &str = "bench-raw-producer";

/// Produce to a fresh 4-partition topic on `bootstrap` with `workers`
/// sends in flight.
pub async fn raw_producer(bootstrap: &str, workers: usize, timing: Timing) -> Result<Measured> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    admin
        .create_topics(
            &[NewTopic::new(TOPIC, 4, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .context("creating the topic")?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .create()?;
    let setup = format!("{workers} sends in flight, idempotent, acks=all, 4 partitions");
    meter::run(
        "raw rdkafka producer (baseline)",
        setup,
        workers,
        timing,
        move |meter, worker| {
            let producer = producer.clone();
            let values: Vec<(String, Vec<u8>)> = (0..64u64)
                .map(|i| {
                    let customer = payload::customer(worker as u64 * 7 + i);
                    let value = payload::view(None, &customer, i).to_string().into_bytes();
                    (customer, value)
                })
                .collect();
            async move {
                let mut latencies = meter::histogram()?;
                for (key, value) in values.iter().cycle() {
                    if !meter.running() {
                        break;
                    }
                    let started = Instant::now();
                    let record = FutureRecord::to(TOPIC).key(key).payload(value);
                    match producer.send(record, Duration::from_secs(10)).await {
                        Ok(_) => meter.record(&mut latencies, started, 1),
                        Err(_) => meter.error(),
                    }
                }
                Ok(latencies)
            }
        },
    )
    .await
}
