//! One WebSocket session: welcome, replay from the resume token, then live
//! pushes, inbound event frames, heartbeats and limits until it ends.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures::stream::{FuturesOrdered, SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::Value;

use super::WsState;
use super::frames::{ErrorFrame, PushFrame, ResumeToken, Welcome, close_frame, text};
use super::hub::Registration;

mod answers;
mod pushes;
mod replay;
use crate::web::ingest::{IngestReceipt, PendingReceipt, queue_value};
use crate::web::problem::Problem;

/// Close codes the gateway uses (see docs/websocket.md).
pub mod close {
    /// The server is shutting down; resume elsewhere or later.
    pub const GOING_AWAY: u16 = 1001;
    /// A message above four times `max_message_bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// Nothing received within the idle timeout.
    pub const IDLE: u16 = 4000;
    /// Missing, invalid or expired token.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The session did not keep up with its pushes; resume with the last token.
    pub const SLOW_CONSUMER: u16 = 4408;
    /// The customer has too many live sessions.
    pub const TOO_MANY_SESSIONS: u16 = 4409;

    /// Every code the gateway closes with, and what the client should do
    /// (published in docs/asyncapi.json).
    pub const ALL: &[(u16, &str)] = &[
        (
            GOING_AWAY,
            "the gateway is shutting down: reconnect with the last resume token",
        ),
        (
            TOO_BIG,
            "a message above four times websocket.max_message_bytes: send smaller frames",
        ),
        (
            IDLE,
            "nothing received (not even a pong) within the idle timeout: reconnect with the last token",
        ),
        (
            UNAUTHORIZED,
            "missing, invalid or expired token: get a new token",
        ),
        (
            SLOW_CONSUMER,
            "more pushes were waiting than the send queue holds: reconnect with the last token, which replays them",
        ),
        (
            TOO_MANY_SESSIONS,
            "the customer has too many live sessions: close another",
        ),
    ];
}

/// Pushes read per replay step.
const REPLAY_CHUNK: usize = 512;

/// What woke a live session.
enum Event {
    Leave(Leave),
    Answer(Result<IngestReceipt, Problem>),
    Push(PushFrame),
    Inbound(Option<Result<Message, axum::Error>>),
    Ping,
}

/// Why a session ends.
enum Leave {
    Close(u16, String),
    /// The peer is gone; nothing to send.
    Gone,
}

struct Session {
    state: WsState,
    customer: String,
    /// The customer as a principal, for the ingest path.
    principal: crate::auth::Principal,
    sink: SplitSink<WebSocket, Message>,
    registration: Registration,
    partition: u32,
    /// Next push offset to deliver.
    next: u64,
    /// The connection's inbound rate (none when `rate_per_sec` is 0).
    bucket: Option<governor::DefaultDirectRateLimiter>,
    last_seen: Instant,
}

/// Send one close frame and end.
pub(super) async fn refuse(mut socket: WebSocket, code: u16, reason: String) {
    let frame = close_frame(code, &reason);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

/// Serve a session of `customer`.
pub(super) async fn run(
    socket: WebSocket,
    state: WsState,
    customer: String,
    resume: Option<String>,
) {
    let registration = match state.ws.hub.register(&customer) {
        Ok(r) => r,
        Err(e) => return refuse(socket, close::TOO_MANY_SESSIONS, e.to_string()).await,
    };
    let (sink, mut stream) = socket.split();
    let settings = &state.ws.settings;
    let mut session = Session {
        bucket: crate::rate::limiter(settings.rate_per_sec, settings.rate_burst),
        partition: state
            .log
            .partition_of(&settings.push_topic, &customer)
            .unwrap_or(0),
        state: state.clone(),
        principal: crate::auth::Principal::Customer(customer.clone()),
        customer,
        sink,
        registration,
        next: 0,
        last_seen: Instant::now(),
    };
    let leave = match session.start(resume).await {
        Ok(()) => session.serve(&mut stream).await,
        Err(leave) => leave,
    };
    if let Leave::Close(code, reason) = leave {
        session.close(&mut stream, code, reason).await;
    }
}

/// How long a closing session waits to send its close frame, and then for
/// the peer's close reply.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

impl Session {
    /// Send the close frame, then wait briefly for the peer's.
    async fn close(&mut self, stream: &mut SplitStream<WebSocket>, code: u16, reason: String) {
        tracing::debug!(customer = %self.customer, code, %reason, "session closed");
        let frame = close_frame(code, &reason);
        let sent =
            tokio::time::timeout(CLOSE_LINGER, self.sink.send(Message::Close(Some(frame)))).await;
        if matches!(sent, Ok(Ok(()))) {
            // Closing handshake (RFC 6455 section 7.1.1): let the peer read
            // what is still queued for it (pings included) and answer with its
            // own close, so it sees our code and reason rather than a reset.
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                while let Some(Ok(msg)) = stream.next().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }

    /// Welcome, then replay what the resume token missed.
    async fn start(&mut self, resume: Option<String>) -> Result<(), Leave> {
        let topic = self.state.ws.settings.push_topic.clone();
        let end = self
            .state
            .log
            .end_offset(&topic, self.partition)
            .await
            .map_err(|e| Leave::Close(close::GOING_AWAY, format!("push log unavailable: {e}")))?;
        self.next = end;
        let mut bad_token = None;
        if let Some(token) = resume {
            match ResumeToken::parse(&token) {
                Some(t) if t.partition == self.partition && t.offset <= end => self.next = t.offset,
                _ => bad_token = Some(token),
            }
        }
        let welcome = Welcome {
            kind: "welcome",
            session: self.registration.handle.id,
            customer: &self.customer,
            resume: ResumeToken {
                partition: self.partition,
                offset: self.next,
            }
            .to_string(),
        };
        self.send(text(&welcome)).await?;
        if let Some(token) = bad_token {
            let problem = Problem::bad_request(format!(
                "resume token `{token}` does not belong to this customer's push log; only new pushes will follow"
            ));
            self.send_problem(&problem).await?;
        }
        self.replay(&topic, end).await
    }

    /// Live: pushes, inbound frames, heartbeats, limits, shutdown. Event
    /// frames are pipelined: up to `max_frames_in_flight` are placed in the
    /// log in arrival order while earlier ones wait for their commit, and
    /// answered in that order.
    async fn serve(&mut self, stream: &mut SplitStream<WebSocket>) -> Leave {
        let settings = self.state.ws.settings.clone();
        let mut ping =
            tokio::time::interval(Duration::from_millis(settings.ping_interval_ms.max(1)));
        ping.tick().await;
        let idle = Duration::from_millis(settings.idle_timeout_ms);
        let mut shutdown = self.state.ws.shutdown.clone();
        let handle = self.registration.handle.clone();
        let in_flight = settings.max_frames_in_flight.max(1);
        let mut pending: FuturesOrdered<PendingReceipt> = FuturesOrdered::new();
        loop {
            let event = tokio::select! {
                biased;
                () = stopped(&mut shutdown) => Event::Leave(Leave::Close(close::GOING_AWAY, "server shutting down; resume with your last token".into())),
                () = handle.kicked.notified() => Event::Leave(slow_consumer()),
                Some(answer) = pending.next(), if !pending.is_empty() => Event::Answer(answer),
                frame = handle.next_push() => Event::Push(frame),
                msg = stream.next(), if pending.len() < in_flight => Event::Inbound(msg),
                _ = ping.tick() => Event::Ping,
            };
            let step = match event {
                Event::Leave(leave) => Err(leave),
                Event::Answer(answer) => self.answer_ready(answer, &mut pending).await,
                Event::Push(frame) => self.push(frame).await,
                Event::Inbound(msg) => self.inbound(msg, &settings, &mut pending).await,
                Event::Ping if self.last_seen.elapsed() > idle => Err(Leave::Close(
                    close::IDLE,
                    format!("idle for more than {} ms", settings.idle_timeout_ms),
                )),
                Event::Ping => self.send_message(Message::Ping(Default::default())).await,
            };
            if let Err(leave) = step {
                if matches!(leave, Leave::Close(..)) {
                    self.answer_queued(pending).await;
                }
                return leave;
            }
        }
    }

    async fn inbound(
        &mut self,
        msg: Option<Result<Message, axum::Error>>,
        settings: &crate::config::WebSocketSettings,
        pending: &mut FuturesOrdered<PendingReceipt>,
    ) -> Result<(), Leave> {
        let msg = match msg {
            None => return Err(Leave::Gone),
            Some(Err(e)) => {
                let reason = e.to_string();
                return Err(
                    if reason.contains("too long")
                        || reason.contains("Space limit")
                        || reason.contains("too big")
                    {
                        Leave::Close(close::TOO_BIG, format!("message too big: {reason}"))
                    } else {
                        Leave::Gone
                    },
                );
            }
            Some(Ok(msg)) => msg,
        };
        self.last_seen = Instant::now();
        match msg {
            Message::Text(body) => {
                let answer = self.event_frame(body.as_str(), settings).await;
                pending.push_back(answer);
                Ok(())
            }
            Message::Binary(_) => {
                let p = Problem::new(
                    axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported frame",
                    "send events as JSON text frames",
                );
                // After the answers of the frames before it.
                pending.push_back(Box::pin(std::future::ready(Err(p))));
                Ok(())
            }
            Message::Close(_) => Err(Leave::Gone),
            Message::Ping(_) | Message::Pong(_) => Ok(()),
        }
    }

    /// One client frame: rate limit, size limit, JSON, then the same ingest
    /// path as `POST /v1/events`, up to the events' place in the log; the
    /// answer resolves once they are durable.
    async fn event_frame(
        &mut self,
        body: &str,
        settings: &crate::config::WebSocketSettings,
    ) -> PendingReceipt {
        let refused = if self.bucket.as_ref().is_some_and(|b| b.check().is_err()) {
            Problem::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many messages",
                format!(
                    "this connection may send {} messages a second (bursts of {}); the frame was dropped",
                    settings.rate_per_sec, settings.rate_burst
                ),
            )
        } else if body.len() > settings.max_message_bytes {
            Problem::too_large(format!(
                "the frame is {} bytes; at most {} are accepted (websocket.max_message_bytes)",
                body.len(),
                settings.max_message_bytes
            ))
        } else {
            let queued = match serde_json::from_str::<Value>(body) {
                Err(e) => Err(Problem::bad_request(format!("the frame is not JSON: {e}"))),
                Ok(json) => queue_value(&self.state, json, &self.principal, &[]).await,
            };
            match queued {
                Ok(answer) => return answer,
                Err(problem) => problem,
            }
        };
        Box::pin(std::future::ready(Err(refused)))
    }

    /// An `error` frame carrying `problem`; the session stays open.
    async fn send_problem(&mut self, problem: &Problem) -> Result<(), Leave> {
        self.send(text(&ErrorFrame {
            kind: "error",
            problem,
        }))
        .await
    }

    async fn send(&mut self, text: Utf8Bytes) -> Result<(), Leave> {
        self.send_message(Message::Text(text)).await
    }

    /// Send (queue, then write out), unless the hub declares this session
    /// slow while the socket is blocked (a peer that stopped reading).
    async fn send_message(&mut self, msg: Message) -> Result<(), Leave> {
        self.queue_message(msg).await?;
        self.flush().await
    }

    /// Queue a message to the socket, unflushed, unless the session is slow.
    async fn queue_message(&mut self, msg: Message) -> Result<(), Leave> {
        let handle = self.registration.handle.clone();
        if handle.is_slow() {
            return Err(slow_consumer());
        }
        tokio::select! {
            fed = self.sink.feed(msg) => fed.map_err(|_| Leave::Gone),
            () = handle.kicked.notified() => Err(slow_consumer()),
        }
    }

    /// Write what is queued to the socket.
    async fn flush(&mut self) -> Result<(), Leave> {
        let handle = self.registration.handle.clone();
        tokio::select! {
            flushed = self.sink.flush() => flushed.map_err(|_| Leave::Gone),
            () = handle.kicked.notified() => Err(slow_consumer()),
        }
    }
}

/// Resolves once shutdown is signalled (without holding the watch's lock).
async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn slow_consumer() -> Leave {
    Leave::Close(
        close::SLOW_CONSUMER,
        "slow consumer: too many undelivered pushes; reconnect with your last resume token".into(),
    )
}
