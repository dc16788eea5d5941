//! Group offsets on the broker: committed for Kafka tooling (lag, consumer
//! groups) through the plugin's live group member, under its generation,
//! or a standalone consumer of the group.

use std::sync::{Arc, PoisonError, Weak};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

use super::settings::client_config;
use super::{KafkaLog, unavailable};
use crate::storage::{ConsumerCommit, StorageError};

impl KafkaLog {
    /// Commit the next offsets for `group` through its live member (under the
    /// member's generation), or a standalone consumer of the group.
    pub(super) async fn commit_offset(&self, commit: &ConsumerCommit) -> Result<(), StorageError> {
        let mut tpl = TopicPartitionList::new();
        for at in &commit.offsets {
            tpl.add_partition_offset(
                &at.topic,
                i32::try_from(at.partition).unwrap_or(0),
                Offset::Offset(i64::try_from(at.next).unwrap_or(i64::MAX)),
            )
            .map_err(unavailable)?;
        }
        let member = self
            .members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&commit.group)
            .and_then(Weak::upgrade);
        match member {
            Some(member) => commit_blocking(member, tpl).await,
            None => commit_blocking(self.group(&commit.group)?, tpl).await,
        }
    }

    /// A consumer that reads and commits offsets of `group` (not subscribed:
    /// offsets are committed for explicit partitions).
    pub(super) fn group(&self, group: &str) -> Result<Arc<BaseConsumer>, StorageError> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = groups.get(group) {
            return Ok(c.clone());
        }
        let consumer: BaseConsumer = client_config(&self.settings)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .map_err(unavailable)?;
        let consumer = Arc::new(consumer);
        groups.insert(group.to_owned(), consumer.clone());
        Ok(consumer)
    }
}

async fn commit_blocking<C: ConsumerContext + 'static>(
    consumer: Arc<BaseConsumer<C>>,
    tpl: TopicPartitionList,
) -> Result<(), StorageError> {
    tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)
}
