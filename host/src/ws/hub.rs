//! The live sessions of this gateway instance, by customer. Pushes are
//! delivered to a session through its bounded queue; a session whose queue
//! is full is a slow consumer and is told to leave (it can resume).
//!
//! The queue is a `VecDeque` under a mutex with a `Notify`, not a tokio
//! channel: a tokio `mpsc` channel allocates its first block of 32 slots
//! (1.5 KiB of `PushFrame`s) when it is made, and most sessions sit idle;
//! an empty `VecDeque` holds no allocation (docs/BENCHMARKS.md, idle memory).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, watch};

use super::frames::PushFrame;
use crate::web::replies::Replies;

/// Gauge of open sessions.
pub const SESSIONS: &str = "streamplug_ws_sessions";
/// Counter of sessions cut for being slow.
pub const SLOW_CONSUMERS: &str = "streamplug_ws_slow_consumers_total";

/// One session as the hub sees it.
pub struct SessionHandle {
    /// Session id.
    pub id: u64,
    /// Pushes not yet taken by the session, at most the hub's
    /// `queue_capacity`.
    queue: Mutex<VecDeque<PushFrame>>,
    /// Woken when a push is queued.
    queued: Notify,
    slow: AtomicBool,
    /// Woken when the session must leave for being slow.
    pub kicked: Notify,
}

impl SessionHandle {
    /// Whether the hub found this session's queue full.
    pub fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Acquire)
    }

    /// The next push queued for this session, waiting for one. Cancel safe:
    /// a push leaves the queue only in the poll that returns it.
    pub async fn next_push(&self) -> PushFrame {
        loop {
            if let Some(frame) = self.try_next_push() {
                return frame;
            }
            // A push queued since the check left a permit: no lost wake-up.
            self.queued.notified().await;
        }
    }

    /// The next push queued for this session, if one is there now.
    pub fn try_next_push(&self) -> Option<PushFrame> {
        self.lock_queue().pop_front()
    }

    /// Queue `frame`; false when `capacity` frames are already waiting.
    fn offer(&self, frame: PushFrame, capacity: usize) -> bool {
        let mut queue = self.lock_queue();
        if queue.len() >= capacity {
            return false;
        }
        queue.push_back(frame);
        drop(queue);
        self.queued.notify_one();
        true
    }

    fn lock_queue(&self) -> MutexGuard<'_, VecDeque<PushFrame>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
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
    queue_capacity: usize,
    live: watch::Sender<usize>,
    /// HTTP requests waiting for the push their event causes.
    pub replies: Arc<Replies>,
}

/// Membership of one session; leaving the hub when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    customer: String,
    /// The session's handle (its pushes: [`SessionHandle::next_push`]).
    pub handle: Arc<SessionHandle>,
}

impl Hub {
    /// A hub allowing `max_per_customer` sessions with queues of `queue`
    /// frames, and `reply_waits` waiting requests per principal.
    pub fn new(max_per_customer: usize, queue: usize, reply_waits: usize) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            max_per_customer,
            queue_capacity: queue.max(1),
            live: watch::channel(0).0,
            replies: Arc::new(Replies::new(reply_waits)),
        }
    }

    /// Join as a session of `customer`.
    pub fn register(self: &Arc<Self>, customer: &str) -> Result<Registration, TooManySessions> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let list = sessions.entry(customer.to_owned()).or_default();
        if list.len() >= self.max_per_customer {
            return Err(TooManySessions(list.len()));
        }
        let handle = Arc::new(SessionHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
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
        })
    }

    /// Queue `frame` for every live session of `customer`.
    pub fn deliver(&self, customer: &str, frame: &PushFrame) {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        for session in sessions.get(customer).into_iter().flatten() {
            let full = !session.offer(frame.clone(), self.queue_capacity);
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
        let hub = Arc::new(Hub::new(4, 8, 8));
        let a1 = hub.register("a").unwrap();
        let a2 = hub.register("a").unwrap();
        let b = hub.register("b").unwrap();
        hub.deliver("a", &frame(1));
        hub.deliver("a", &frame(2));
        for a in [&a1, &a2] {
            assert_eq!(a.handle.next_push().await.offset, 1);
            assert_eq!(a.handle.next_push().await.offset, 2);
        }
        assert!(b.handle.lock_queue().is_empty());
    }

    #[tokio::test]
    async fn a_waiting_session_wakes_for_a_push_and_a_cancelled_wait_loses_nothing() {
        let hub = Arc::new(Hub::new(1, 4, 8));
        let r = hub.register("a").unwrap();
        // Cancelled wait (as when another select! branch wins).
        let cancelled =
            tokio::time::timeout(std::time::Duration::from_millis(10), r.handle.next_push()).await;
        assert!(cancelled.is_err());
        let waiting = tokio::spawn({
            let handle = r.handle.clone();
            async move { handle.next_push().await.offset }
        });
        tokio::task::yield_now().await;
        hub.deliver("a", &frame(7));
        assert_eq!(waiting.await.unwrap(), 7);
        hub.deliver("a", &frame(8));
        assert_eq!(r.handle.next_push().await.offset, 8);
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_session_slow_and_sessions_are_capped() {
        let hub = Arc::new(Hub::new(1, 2, 8));
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
