//! Push log tailers: one task per push-log partition reads new pushes and
//! hands each to the local sessions of its customer. Every gateway instance
//! runs its own tailers over the whole push log, so a push written on any
//! instance reaches the instance that holds the customer's sessions.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::frames::PushFrame;
use super::hub::Hub;
use crate::storage::EventLog;

/// Pushes read per step.
const CHUNK: usize = 256;

/// Start a tailer for every partition of `topic`, from its current end.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    log: Arc<dyn EventLog>,
    hub: Arc<Hub>,
    topic: String,
    shutdown: watch::Receiver<bool>,
) {
    for partition in 0..log.partitions(&topic).unwrap_or(0) {
        let (log, hub, topic, mut shutdown) =
            (log.clone(), hub.clone(), topic.clone(), shutdown.clone());
        tasks.spawn(async move {
            let mut changes = log.changes();
            let mut next = log.end_offset(&topic, partition).await.unwrap_or(0);
            loop {
                if *shutdown.borrow() {
                    return;
                }
                changes.borrow_and_update();
                match log.read(&topic, partition, next, CHUNK).await {
                    Ok(batch) if !batch.is_empty() => {
                        for stored in &batch {
                            if let Some(customer) = &stored.event.subject {
                                hub.deliver(customer, &PushFrame::from_stored(stored));
                            }
                            next = stored.offset + 1;
                        }
                    }
                    Ok(_) => {
                        tokio::select! {
                            _ = changes.changed() => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                    Err(e) => {
                        tracing::warn!(%topic, partition, error = %e, "cannot read the push log");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }
}
