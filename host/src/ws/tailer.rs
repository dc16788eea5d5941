//! Push log tailers: one task per push-log partition reads new pushes and
//! hands each to the local sessions of its customer. Every gateway instance
//! tails the whole push log (outside any consumer group), so a push written
//! on any instance reaches the instance that holds the customer's sessions.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::frames::PushFrame;
use super::hub::Hub;
use crate::dispatch::command_outcome;
use crate::stages::{self, Stage};
use crate::storage::{EventLog, PartitionStream, StorageError};

/// Pushes taken per step.
const CHUNK: usize = 256;

/// Start a tailer for every partition of `topic`, from its current end.
pub async fn spawn(
    tasks: &mut JoinSet<()>,
    log: Arc<dyn EventLog>,
    hub: Arc<Hub>,
    topic: &str,
    shutdown: watch::Receiver<bool>,
) -> Result<(), StorageError> {
    for stream in log.tail(topic).await? {
        tasks.spawn(tail(stream, hub.clone(), shutdown.clone()));
    }
    Ok(())
}

async fn tail(
    mut stream: Box<dyn PartitionStream>,
    hub: Arc<Hub>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let batch = tokio::select! {
            batch = stream.next_batch(CHUNK) => batch,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match batch {
            Ok(batch) => {
                for stored in &batch {
                    let frame = PushFrame::from_stored(stored);
                    if let Some(customer) = &stored.event.subject {
                        hub.deliver(customer, &frame);
                        if let Some(waited) = stream.visible_for(stored) {
                            stages::record(Stage::Push, waited);
                        }
                    }
                    if let Some(cause) = stored.event.header("causationid") {
                        if stored.event.ty == command_outcome::OUTCOME_TYPE {
                            let key = command_outcome::reply_key(cause);
                            hub.replies.offer(&key, frame.text.as_str());
                        } else {
                            hub.replies.offer(cause, frame.text.as_str());
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(topics = ?stream.topics(), partition = stream.partition(), error = %e, "cannot read the push log");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
