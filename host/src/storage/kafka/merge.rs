//! A stream over one partition index of the topics a plugin reads, merged
//! by append time the way Kafka Streams synchronises a task's inputs: the
//! next record handed out is the earliest head among the inputs, and an
//! input with nothing fetched holds the others back until the broker says
//! it is caught up (its high watermark is where the stream stands) or its
//! records arrive, at most `max_task_idle_ms`. A record appended before
//! another was produced (the backend waited for the first's ack) is in the
//! watermark read after the second arrived, so a customer's events come out
//! in the order they were written, whichever topic they are on.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use super::stream::{PartitionInput, StopOnDrop};
use super::{REQUEST_TIMEOUT, unavailable};
use crate::event::StoredEvent;
use crate::storage::{PartitionStream, StorageError};

/// Counter of merges that went on without an input that was still behind.
pub const MERGE_TIMEOUTS: &str = "streamplug_merge_idle_timeouts_total";

/// Longest sleep while an input is behind, between watermark checks.
const BEHIND_POLL: Duration = Duration::from_millis(20);

struct Input<C: ConsumerContext + 'static> {
    source: PartitionInput<C>,
    buffered: VecDeque<StoredEvent>,
    /// Nothing of this input appended before this time (µs) is unfetched.
    clear_until: u64,
    /// Since when the broker has said this input holds unfetched records.
    behind_since: Option<Instant>,
}

/// One partition index of one or more topics of a Kafka consumer.
pub(super) struct KafkaStream<C: ConsumerContext + 'static> {
    topics: Vec<String>,
    partition: u32,
    inputs: Vec<Input<C>>,
    consumer: Weak<BaseConsumer<C>>,
    max_idle: Duration,
    started: bool,
    _stop: Option<Arc<StopOnDrop>>,
}

impl<C: ConsumerContext + 'static> KafkaStream<C> {
    /// A stream over `inputs` (one partition index, topics in the order
    /// their ties are broken in).
    pub(super) fn new(
        consumer: &Arc<BaseConsumer<C>>,
        inputs: Vec<PartitionInput<C>>,
        max_idle: Duration,
        stop: Option<Arc<StopOnDrop>>,
    ) -> Option<Self> {
        let partition = inputs.first()?.partition;
        Some(Self {
            topics: inputs.iter().map(|i| i.topic.clone()).collect(),
            partition,
            inputs: inputs
                .into_iter()
                .map(|source| Input {
                    source,
                    buffered: VecDeque::new(),
                    clear_until: 0,
                    behind_since: None,
                })
                .collect(),
            consumer: Arc::downgrade(consumer),
            max_idle,
            started: false,
            _stop: stop,
        })
    }

    /// The earliest head, if no empty input may still hold an earlier
    /// record: `Ok(index)` to hand out, `Err(blocking inputs)` otherwise.
    fn next_head(&self) -> Option<Result<usize, Vec<usize>>> {
        let (at, head) = self
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(i, input)| input.buffered.front().map(|e| (i, e.seq)))
            .min_by_key(|(i, seq)| (*seq, *i))?;
        let blocking: Vec<usize> = self
            .inputs
            .iter()
            .enumerate()
            .filter(|(_, input)| input.buffered.is_empty() && input.clear_until < head)
            .map(|(i, _)| i)
            .collect();
        Some(if blocking.is_empty() {
            Ok(at)
        } else {
            Err(blocking)
        })
    }

    /// Ask the broker whether the blocking inputs hold records not yet
    /// fetched; `true` if one was cleared (caught up, or waited on long
    /// enough), so the merge can go on.
    async fn check_behind(&mut self, blocking: &[usize], head: u64) -> Result<bool, StorageError> {
        let mut cleared = false;
        for &i in blocking {
            let asked_at = now_us();
            let high = self.watermark(&self.inputs[i].source.topic).await?;
            let input = &mut self.inputs[i];
            if high <= input.source.next {
                input.clear_until = asked_at;
                input.behind_since = None;
                cleared = true;
            } else if input
                .behind_since
                .get_or_insert_with(Instant::now)
                .elapsed()
                >= self.max_idle
            {
                tracing::warn!(topic = %input.source.topic, partition = self.partition, "an input stayed behind past max_task_idle_ms; going on without it");
                metrics::counter!(MERGE_TIMEOUTS).increment(1);
                input.clear_until = head;
                input.behind_since = None;
                cleared = true;
            }
        }
        Ok(cleared)
    }

    /// The high watermark of `topic`'s partition, from the broker.
    async fn watermark(&self, topic: &str) -> Result<u64, StorageError> {
        let consumer = self
            .consumer
            .upgrade()
            .ok_or_else(|| unavailable("the consumer is closed"))?;
        let (topic, partition) = (topic.to_owned(), i32::try_from(self.partition).unwrap_or(0));
        let (_, high) = tokio::task::spawn_blocking(move || {
            consumer.fetch_watermarks(&topic, partition, REQUEST_TIMEOUT)
        })
        .await
        .map_err(unavailable)?
        .map_err(unavailable)?;
        Ok(u64::try_from(high).unwrap_or(0))
    }

    /// Wait until an input signals new records, or `limit` passed.
    async fn wait(&self, limit: Option<Duration>) {
        let signals = self
            .inputs
            .iter()
            .map(|i| Box::pin(i.source.ready.notified()));
        let any = futures::future::select_all(signals);
        match limit {
            Some(limit) => drop(tokio::time::timeout(limit, any).await),
            None => drop(any.await),
        }
    }
}

fn now_us() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0)
}

#[async_trait]
impl<C: ConsumerContext + 'static> PartitionStream for KafkaStream<C> {
    fn topics(&self) -> &[String] {
        &self.topics
    }

    fn partition(&self) -> u32 {
        self.partition
    }

    /// Since its append time (the gateway's producer stamps it just
    /// before the send, so this includes the broker's acknowledgement).
    fn visible_for(&self, event: &StoredEvent) -> Option<std::time::Duration> {
        (event.seq > 0)
            .then(|| std::time::Duration::from_micros(now_us().saturating_sub(event.seq)))
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<StoredEvent>, StorageError> {
        if !self.started {
            for input in &mut self.inputs {
                input.source.start().await?;
            }
            self.started = true;
        }
        let max = max.max(1);
        loop {
            for input in &mut self.inputs {
                let room = max.saturating_sub(input.buffered.len());
                input.source.take(room, &mut input.buffered)?;
            }
            let mut out = Vec::new();
            let mut behind = None;
            while out.len() < max {
                match self.next_head() {
                    None => break,
                    Some(Ok(i)) => out.extend(self.inputs[i].buffered.pop_front()),
                    Some(Err(blocking)) => {
                        behind = Some(blocking);
                        break;
                    }
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            match behind {
                None => self.wait(None).await,
                Some(blocking) => {
                    let head = self
                        .inputs
                        .iter()
                        .filter_map(|i| i.buffered.front().map(|e| e.seq))
                        .min()
                        .unwrap_or(0);
                    if !self.check_behind(&blocking, head).await? {
                        self.wait(Some(BEHIND_POLL)).await;
                    }
                }
            }
        }
    }
}
