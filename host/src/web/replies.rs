//! Requests waiting for a reply: `POST /v1/events?reply_timeout_ms=N` waits
//! for the first push that its event caused (the push's `causationid`), so a
//! chat widget gets the bot's answer in the same HTTP exchange. Every
//! instance tails the whole push log, so the reply reaches the instance that
//! holds the request whichever instance ran the plugin.
//!
//! Bounded and owned: each wait is a [`ReplyWait`] that removes itself when
//! dropped (the answer came, the wait timed out, or the client went away and
//! the handler was dropped), and one principal holds at most
//! `server.max_reply_waits_per_principal` at once.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use serde_json::Value;
use tokio::sync::oneshot;

use super::problem::Problem;

/// Gauge of requests waiting for a reply on this instance.
pub const WAITING: &str = "streamplug_reply_waiters";

struct Waiter {
    seq: u64,
    owner: Arc<str>,
    tx: oneshot::Sender<Value>,
}

#[derive(Default)]
struct Table {
    by_cause: HashMap<String, Waiter>,
    per_owner: HashMap<Arc<str>, usize>,
}

/// Requests waiting, by the id of the event whose reply they want.
pub struct Replies {
    table: Mutex<Table>,
    next: AtomicU64,
    per_owner: usize,
}

/// Why a wait could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The principal already holds its share of waits.
    #[error("{owner} already waits for {limit} replies (server.max_reply_waits_per_principal)")]
    TooMany {
        /// Who.
        owner: String,
        /// The bound.
        limit: usize,
    },
    /// Another request waits for a reply to the same event id.
    #[error("another request already waits for the reply to event `{0}`")]
    Taken(String),
}

impl WaitError {
    /// 429 or 409.
    pub fn problem(&self) -> Problem {
        match self {
            Self::TooMany { .. } => Problem::rate_limited(self.to_string(), 1),
            Self::Taken(_) => Problem::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                self.to_string(),
            ),
        }
    }
}

/// One registered wait; resolves to the reply, and unregisters on drop.
pub struct ReplyWait {
    replies: Arc<Replies>,
    cause: String,
    seq: u64,
    rx: oneshot::Receiver<Value>,
}

impl Future for ReplyWait {
    type Output = Result<Value, oneshot::error::RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx)
    }
}

impl Drop for ReplyWait {
    fn drop(&mut self) {
        self.replies.remove(&self.cause, Some(self.seq));
    }
}

impl Replies {
    /// No waits yet; each principal may hold `per_owner` at once.
    pub fn new(per_owner: usize) -> Self {
        Self {
            table: Mutex::default(),
            next: AtomicU64::new(0),
            per_owner,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait for the first push caused by event `cause`, on behalf of `owner`
    /// (register before the event is appended, so the reply cannot come first).
    pub fn expect(self: &Arc<Self>, cause: &str, owner: &str) -> Result<ReplyWait, WaitError> {
        let (tx, rx) = oneshot::channel();
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let mut table = self.lock();
        if table.by_cause.contains_key(cause) {
            return Err(WaitError::Taken(cause.to_owned()));
        }
        let owner: Arc<str> = Arc::from(owner);
        let held = table.per_owner.entry(owner.clone()).or_default();
        if *held >= self.per_owner {
            return Err(WaitError::TooMany {
                owner: owner.to_string(),
                limit: self.per_owner,
            });
        }
        *held += 1;
        table
            .by_cause
            .insert(cause.to_owned(), Waiter { seq, owner, tx });
        metrics::gauge!(WAITING).set(table.by_cause.len() as f64);
        Ok(ReplyWait {
            replies: self.clone(),
            cause: cause.to_owned(),
            seq,
            rx,
        })
    }

    /// Remove the wait for `cause` (only the one numbered `seq`, if given).
    fn remove(&self, cause: &str, seq: Option<u64>) -> Option<oneshot::Sender<Value>> {
        let mut table = self.lock();
        let ours = table
            .by_cause
            .get(cause)
            .is_some_and(|w| seq.is_none_or(|s| s == w.seq));
        if !ours {
            return None;
        }
        let waiter = table.by_cause.remove(cause)?;
        if let Some(held) = table.per_owner.get_mut(&waiter.owner) {
            *held -= 1;
            if *held == 0 {
                table.per_owner.remove(&waiter.owner);
            }
        }
        metrics::gauge!(WAITING).set(table.by_cause.len() as f64);
        Some(waiter.tx)
    }

    /// Requests waiting now.
    pub fn len(&self) -> usize {
        self.lock().by_cause.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A push caused by `cause` arrived: hand it to the request waiting for it.
    pub fn offer(&self, cause: &str, push: &str) {
        if let Some(tx) = self.remove(cause, None) {
            let _ = tx.send(serde_json::from_str(push).unwrap_or(Value::Null));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_per_owner_and_freed_when_dropped() {
        let replies = Arc::new(Replies::new(2));
        let a = replies.expect("e1", "key:a").unwrap();
        let b = replies.expect("e2", "key:a").unwrap();
        assert!(matches!(
            replies.expect("e3", "key:a"),
            Err(WaitError::TooMany { .. })
        ));
        assert!(matches!(
            replies.expect("e1", "key:b"),
            Err(WaitError::Taken(_))
        ));
        let other = replies.expect("e3", "key:b").unwrap();
        assert_eq!(replies.len(), 3);
        drop(a);
        drop(b);
        drop(other);
        assert!(replies.is_empty());
        assert!(replies.lock().per_owner.is_empty());
        replies.expect("e1", "key:a").unwrap();
    }
}
