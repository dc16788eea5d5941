//! Answering event frames: each frame's `ack` (or `error`) in the order
//! the frames came, the answers already there written to the socket
//! together (frames committed in the same group), and before closing the
//! answers of the frames already placed in the log.

use axum::extract::ws::Message;
use futures::stream::FuturesOrdered;
use futures::{FutureExt as _, SinkExt as _, StreamExt as _};

use super::{CLOSE_LINGER, Leave, Session, slow_consumer};
use crate::api::ingest::{IngestReceipt, PendingReceipt};
use crate::api::problem::Problem;
use crate::ws::frames::{Ack, ErrorFrame, text};

impl Session {
    /// Before closing, answer the frames already placed in the log (their
    /// events are written either way).
    pub(super) async fn answer_queued(&mut self, mut pending: FuturesOrdered<PendingReceipt>) {
        let drain = async {
            while let Some(answer) = pending.next().await {
                if self.answer(answer).await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_LINGER, drain).await;
    }

    /// The `ack` of a frame whose events are durable, or its `error`.
    pub(super) async fn answer(
        &mut self,
        answer: Result<IngestReceipt, Problem>,
    ) -> Result<(), Leave> {
        self.queue_answer(answer).await?;
        self.flush().await
    }

    /// Answer `first` and the frames after it whose answers are already
    /// there (frames committed in the same group), in order, with one
    /// write to the socket for all of them.
    pub(super) async fn answer_ready(
        &mut self,
        first: Result<IngestReceipt, Problem>,
        pending: &mut FuturesOrdered<PendingReceipt>,
    ) -> Result<(), Leave> {
        self.queue_answer(first).await?;
        while let Some(Some(next)) = pending.next().now_or_never() {
            self.queue_answer(next).await?;
        }
        self.flush().await
    }

    /// Queue the answer of a frame to the socket, unflushed.
    pub(super) async fn queue_answer(
        &mut self,
        answer: Result<IngestReceipt, Problem>,
    ) -> Result<(), Leave> {
        let frame = match answer {
            Ok(receipt) => text(&Ack {
                kind: "ack",
                receipt: &receipt,
            }),
            Err(problem) => text(&ErrorFrame {
                kind: "error",
                problem: &problem,
            }),
        };
        let handle = self.registration.handle.clone();
        if handle.is_slow() {
            return Err(slow_consumer());
        }
        tokio::select! {
            fed = self.sink.feed(Message::Text(frame)) => fed.map_err(|_| Leave::Gone),
            () = handle.kicked.notified() => Err(slow_consumer()),
        }
    }

    /// Write what is queued to the socket.
    pub(super) async fn flush(&mut self) -> Result<(), Leave> {
        let handle = self.registration.handle.clone();
        tokio::select! {
            flushed = self.sink.flush() => flushed.map_err(|_| Leave::Gone),
            () = handle.kicked.notified() => Err(slow_consumer()),
        }
    }
}
