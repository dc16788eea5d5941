//! `[websocket]`: live sessions, the push log and their limits.

use serde::{Deserialize, Serialize};

/// WebSocket gateway settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocketSettings {
    /// The push log: a topic keyed by customer that every push is written to.
    pub push_topic: String,
    /// Browser origins allowed to open sessions (`https://shop.example`);
    /// a handshake with another `Origin` header is refused with 403. Empty:
    /// any origin (sessions still need a token). Clients that send no
    /// `Origin` (servers, apps) are not browsers and are let through.
    pub allowed_origins: Vec<String>,
    /// Largest inbound message the gateway handles, bytes; a larger one gets
    /// an error frame (four times larger closes the socket with 1009).
    pub max_message_bytes: usize,
    /// Frames queued for one session before it counts as a slow consumer and
    /// is disconnected (it can resume).
    pub send_queue: usize,
    /// Interval of server pings, milliseconds.
    pub ping_interval_ms: u64,
    /// A session that sends nothing (not even a pong) for this long is closed, milliseconds.
    pub idle_timeout_ms: u64,
    /// Live sessions one customer may hold at once.
    pub max_sessions_per_customer: usize,
    /// Event frames of one session placed in the log and not yet answered:
    /// a client may send this many before waiting for an answer (answers
    /// come in frame order); further frames are read once one is answered.
    pub max_frames_in_flight: usize,
    /// Inbound messages per second one connection may send (sustained).
    pub rate_per_sec: u32,
    /// Inbound burst one connection may send.
    pub rate_burst: u32,
    /// Pushes older than this are not replayed on resume; the client is told
    /// history was lost instead, seconds.
    pub retention_secs: u64,
}

impl Default for WebSocketSettings {
    fn default() -> Self {
        Self {
            push_topic: "customer-pushes".into(),
            allowed_origins: Vec::new(),
            max_message_bytes: 64 * 1024,
            send_queue: 256,
            ping_interval_ms: 20_000,
            idle_timeout_ms: 60_000,
            max_sessions_per_customer: 8,
            max_frames_in_flight: 16,
            rate_per_sec: 100,
            rate_burst: 200,
            retention_secs: 24 * 3600,
        }
    }
}
