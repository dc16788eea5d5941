//! Requests waiting for a reply: `POST /v1/events?reply_timeout_ms=N` waits
//! for the first push that its event caused (the push's `causationid`), so a
//! chat widget gets the bot's answer in the same HTTP exchange. Every
//! instance tails the whole push log, so the reply reaches the instance that
//! holds the request whichever instance ran the plugin.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::oneshot;

use super::frames::PushFrame;

/// Requests waiting, by the id of the event whose reply they want.
#[derive(Default)]
pub struct Replies {
    waiting: Mutex<HashMap<String, oneshot::Sender<Value>>>,
}

impl Replies {
    /// Wait for the first push caused by event `cause` (register before the
    /// event is appended, so the reply cannot come first).
    pub fn expect(&self, cause: &str) -> oneshot::Receiver<Value> {
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(cause.to_owned(), tx);
        rx
    }

    /// Stop waiting for `cause` (the request gave up).
    pub fn forget(&self, cause: &str) {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(cause);
    }

    /// A push caused by `cause` arrived: hand it to the request waiting for it.
    pub fn offer(&self, cause: &str, frame: &PushFrame) {
        let waiter = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(cause);
        if let Some(tx) = waiter {
            let _ = tx.send(serde_json::from_str(frame.text.as_str()).unwrap_or(Value::Null));
        }
    }
}
