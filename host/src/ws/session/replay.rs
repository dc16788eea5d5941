//! Replaying what a resume token missed: this customer's pushes from the
//! token up to the end of the log when the session started, with a
//! `history_lost` frame for pushes past the retention window or deleted by
//! the log's retention.

use super::{Leave, REPLAY_CHUNK, Session, close, text};
use crate::ws::frames::{HistoryLost, PushFrame};

impl Session {
    /// Deliver this customer's pushes from `self.next` up to `end`; pushes
    /// older than the retention window are reported as lost, not sent.
    pub(super) async fn replay(&mut self, topic: &str, end: u64) -> Result<(), Leave> {
        let horizon = chrono::Utc::now()
            - chrono::Duration::seconds(
                i64::try_from(self.state.ws.settings.retention_secs).unwrap_or(i64::MAX),
            );
        let mut lost = 0u64;
        while self.next < end {
            let batch = self
                .state
                .log
                .read(topic, self.partition, self.next, REPLAY_CHUNK)
                .await
                .map_err(|e| {
                    Leave::Close(close::GOING_AWAY, format!("push log unavailable: {e}"))
                })?;
            if batch.is_empty() {
                break;
            }
            // Records before the first one read were deleted by the log's
            // retention: say so, with how many there were at most.
            if batch[0].offset > self.next {
                let deleted = batch[0].offset - self.next;
                self.next = batch[0].offset;
                self.report_deleted(deleted).await?;
            }
            for stored in batch.iter().take_while(|s| s.offset < end) {
                self.next = stored.offset + 1;
                if stored.event.subject.as_deref() != Some(self.customer.as_str()) {
                    continue;
                }
                let expired = stored
                    .event
                    .time
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t < horizon);
                if expired {
                    lost += 1;
                    continue;
                }
                self.report_lost(&mut lost).await?;
                self.send(PushFrame::from_stored(stored).text).await?;
            }
        }
        self.report_lost(&mut lost).await
    }

    async fn report_deleted(&mut self, lost: u64) -> Result<(), Leave> {
        let detail = format!(
            "the push log's retention deleted {lost} push(es) of this partition since your resume token; up to that many were yours and cannot be replayed"
        );
        self.send(text(&HistoryLost {
            kind: "history_lost",
            lost,
            detail,
        }))
        .await
    }

    async fn report_lost(&mut self, lost: &mut u64) -> Result<(), Leave> {
        if *lost == 0 {
            return Ok(());
        }
        let frame = HistoryLost {
            kind: "history_lost",
            lost: *lost,
            detail: format!(
                "{lost} push(es) since your resume token are older than the retention window ({} s) and cannot be replayed",
                self.state.ws.settings.retention_secs
            ),
        };
        *lost = 0;
        self.send(text(&frame)).await
    }
}
