//! Answering event frames: each frame's `ack` (or `error`) in the order
//! the frames came, the answers already there written to the socket
//! together (frames committed in the same group), and before closing the
//! answers of the frames already placed in the log.

use axum::extract::ws::Message;
use futures::stream::FuturesOrdered;
use futures::{FutureExt as _, StreamExt as _};

use super::{CLOSE_LINGER, Leave, Session};
use crate::web::ingest::{IngestReceipt, PendingReceipt};
use crate::web::problem::Problem;
use crate::ws::frames::{Ack, ErrorFrame, text};

impl Session {
    /// Before closing, answer the frames already placed in the log (their
    /// events are written either way).
    pub(super) async fn answer_queued(&mut self, mut pending: FuturesOrdered<PendingReceipt>) {
        let drain = async {
            while let Some(answer) = pending.next().await {
                if self.answer_ready(answer, &mut pending).await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_LINGER, drain).await;
    }

    /// Answer `first` (the `ack` of a frame whose events are durable, or
    /// its `error`) and the frames after it whose answers are already there
    /// (frames committed in the same group), in order, with one write to
    /// the socket for all of them.
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

    async fn queue_answer(&mut self, answer: Result<IngestReceipt, Problem>) -> Result<(), Leave> {
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
        self.queue_message(Message::Text(frame)).await
    }
}
