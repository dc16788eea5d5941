//! Writing live pushes: the push the session's queue hands out, and the
//! pushes queued behind it, with one write to the socket (a busy session
//! pays one `write` for a burst, not one a push); a push the replay
//! already delivered is left out.

use axum::extract::ws::Message;

use super::{Leave, Session};
use crate::ws::frames::PushFrame;

/// Most pushes written to the socket together: inbound frames still get
/// their turn between bursts.
const PUSHES_PER_WRITE: usize = 64;

impl Session {
    /// Write `first` and the pushes queued behind it (up to
    /// [`PUSHES_PER_WRITE`]) with one write to the socket.
    pub(super) async fn push(&mut self, first: PushFrame) -> Result<(), Leave> {
        let handle = self.registration.handle.clone();
        let mut queued = 0;
        let mut next = Some(first);
        while let Some(frame) = next {
            // Left out if the replay delivered it already.
            if frame.partition != self.partition || frame.offset >= self.next {
                self.next = frame.offset + 1;
                self.queue_message(Message::Text(frame.text)).await?;
                queued += 1;
            }
            next = if queued < PUSHES_PER_WRITE {
                handle.try_next_push()
            } else {
                None
            };
        }
        if queued == 0 {
            return Ok(());
        }
        self.flush().await
    }
}
