//! The live sessions of this gateway instance, by customer. Pushes are
//! delivered to a session through its bounded queue; a session whose queue
//! is full is a slow consumer and is told to leave (it can resume).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, mpsc, watch};

use super::frames::PushFrame;
use super::replies::Replies;

/// Gauge of open sessions.
pub const SESSIONS: &str = "streamplug_ws_sessions";
/// Counter of sessions cut for being slow.
pub const SLOW_CONSUMERS: &str = "streamplug_ws_slow_consumers_total";

/// One session as the hub sees it.
pub struct SessionHandle {
    /// Session id.
    pub id: u64,
    queue: mpsc::Sender<PushFrame>,
    slow: AtomicBool,
    /// Woken when the session must leave for being slow.
    pub kicked: Notify,
}

impl SessionHandle {
    /// Whether the hub found this session's queue full.
    pub fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Acquire)
    }
}

/// Why a session could not join.
#[derive(Debug, thiserror::Error)]
#[error("customer already has {0} live sessions (websocket.max_sessions_per_customer)")]
pub struct TooManySessions(pub usize);

/// The sessions of this instance.
pub struct Hub {
    sessions: Mutex<HashMap<String, Vec<Arc<SessionHandle>>>>,
    next_id: AtomicU64,
    max_per_customer: usize,
    queue: usize,
    live: watch::Sender<usize>,
    /// HTTP requests waiting for the push their event causes.
    pub replies: Replies,
}

/// Membership of one session; leaving the hub when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    customer: String,
    /// The session's handle.
    pub handle: Arc<SessionHandle>,
    /// Pushes for this session.
    pub pushes: mpsc::Receiver<PushFrame>,
}

impl Hub {
    /// A hub allowing `max_per_customer` sessions with queues of `queue` frames.
    pub fn new(max_per_customer: usize, queue: usize) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            max_per_customer,
            queue: queue.max(1),
            live: watch::channel(0).0,
            replies: Replies::default(),
        }
    }

    /// Join as a session of `customer`.
    pub fn register(self: &Arc<Self>, customer: &str) -> Result<Registration, TooManySessions> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let list = sessions.entry(customer.to_owned()).or_default();
        if list.len() >= self.max_per_customer {
            return Err(TooManySessions(list.len()));
        }
        let (tx, rx) = mpsc::channel(self.queue);
        let handle = Arc::new(SessionHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            queue: tx,
            slow: AtomicBool::new(false),
            kicked: Notify::new(),
        });
        list.push(handle.clone());
        drop(sessions);
        self.live.send_modify(|n| *n += 1);
        metrics::gauge!(SESSIONS).increment(1);
        Ok(Registration {
            hub: self.clone(),
            customer: customer.to_owned(),
            handle,
            pushes: rx,
        })
    }

    /// Queue `frame` for every live session of `customer`.
    pub fn deliver(&self, customer: &str, frame: &PushFrame) {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        for session in sessions.get(customer).into_iter().flatten() {
            let full = matches!(
                session.queue.try_send(frame.clone()),
                Err(mpsc::error::TrySendError::Full(_))
            );
            // First overflow: count it and tell the session to leave.
            if full && !session.slow.swap(true, Ordering::AcqRel) {
                metrics::counter!(SLOW_CONSUMERS).increment(1);
                session.kicked.notify_one();
            }
        }
    }

    /// Live sessions of `customer`.
    pub fn sessions_of(&self, customer: &str) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(customer)
            .map_or(0, Vec::len)
    }

    /// Wait until no session is left.
    pub async fn drained(&self) {
        let mut live = self.live.subscribe();
        let _ = live.wait_for(|n| *n == 0).await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sessions = self
            .hub
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = sessions.get_mut(&self.customer) {
            list.retain(|s| s.id != self.handle.id);
            if list.is_empty() {
                sessions.remove(&self.customer);
            }
        }
        drop(sessions);
        self.hub.live.send_modify(|n| *n = n.saturating_sub(1));
        metrics::gauge!(SESSIONS).decrement(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(offset: u64) -> PushFrame {
        PushFrame {
            partition: 0,
            offset,
            text: axum::extract::ws::Utf8Bytes::from_static("{}"),
        }
    }

    #[tokio::test]
    async fn pushes_reach_every_session_of_the_customer_and_no_other() {
        let hub = Arc::new(Hub::new(4, 8));
        let mut a1 = hub.register("a").unwrap();
        let mut a2 = hub.register("a").unwrap();
        let mut b = hub.register("b").unwrap();
        hub.deliver("a", &frame(1));
        assert_eq!(a1.pushes.recv().await.unwrap().offset, 1);
        assert_eq!(a2.pushes.recv().await.unwrap().offset, 1);
        assert!(b.pushes.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_session_slow_and_sessions_are_capped() {
        let hub = Arc::new(Hub::new(1, 2));
        let r = hub.register("a").unwrap();
        assert!(hub.register("a").is_err());
        for i in 0..3 {
            hub.deliver("a", &frame(i));
        }
        assert!(r.handle.is_slow());
        drop(r);
        assert_eq!(hub.sessions_of("a"), 0);
        hub.drained().await;
    }
}
