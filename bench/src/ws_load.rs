//! WebSocket load on `/v1/ws`: ingest (each session sends event frames back
//! to back, one or several unanswered at a time) and end to end (sessions send at a
//! fixed total rate; the time that counts is from sending a product view to
//! receiving the `push` the recommender caused with it, on the same socket).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::meter::{self, Measured, Meter, Timing};
use crate::payload;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One HTTP client (one connection pool) for every session's dev token.
fn token_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

/// Open a session of `customer` (dev token) and read its `welcome`.
pub async fn session(addr: SocketAddr, customer: &str) -> Result<Socket> {
    let token: Value = token_client()
        .post(format!("http://{addr}/v1/dev/tokens"))
        .json(&serde_json::json!({ "customer": customer }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["token"].as_str().context("no token in the answer")?;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws?token={token}"))
        .await
        .context("opening the session")?;
    match next_frame(&mut ws).await? {
        Some(frame) if frame["kind"] == "welcome" => Ok(ws),
        other => bail!("expected a welcome frame, got {other:?}"),
    }
}

/// The next JSON text frame, `None` when the socket closed.
async fn next_frame(ws: &mut Socket) -> Result<Option<Value>> {
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) => return Ok(Some(serde_json::from_str(&text)?)),
            Message::Close(close) => bail!("the gateway closed the session: {close:?}"),
            _ => {}
        }
    }
    Ok(None)
}

/// `sessions` sessions, each keeping `depth` event frames in flight (the
/// next frame goes out when the oldest is answered; answers come in frame
/// order).
pub async fn ingest(
    addr: SocketAddr,
    sessions: usize,
    depth: usize,
    timing: Timing,
) -> Result<Measured> {
    let (name, setup) = if depth <= 1 {
        (
            "ws ingest".to_owned(),
            format!("{sessions} sessions, one event a frame, next frame after the ack"),
        )
    } else {
        (
            format!("ws ingest, {depth} frames in flight"),
            format!("{sessions} sessions, one event a frame, {depth} frames unanswered at a time"),
        )
    };
    meter::run(&name, setup, sessions, timing, move |meter, worker| {
        send_until_done(addr, meter, worker, depth.max(1))
    })
    .await
}

async fn send_until_done(
    addr: SocketAddr,
    meter: Arc<Meter>,
    worker: usize,
    depth: usize,
) -> Result<Histogram<u64>> {
    let customer = payload::customer(worker as u64);
    let mut ws = session(addr, &customer).await?;
    let frames: Vec<String> = (0..64)
        .map(|i| payload::view(None, &customer, worker as u64 + i).to_string())
        .collect();
    let mut frames = frames.iter().cycle();
    let mut latencies = meter::histogram()?;
    let mut sent: std::collections::VecDeque<Instant> = std::collections::VecDeque::new();
    loop {
        while meter.running() && sent.len() < depth {
            let frame = frames.next().context("no frames")?;
            sent.push_back(Instant::now());
            ws.send(Message::text(frame.as_str())).await?;
        }
        let Some(started) = sent.pop_front() else {
            break;
        };
        loop {
            let Some(answer) = next_frame(&mut ws).await? else {
                bail!("the session ended");
            };
            match answer["kind"].as_str() {
                Some("ack") => {
                    meter.record(&mut latencies, started, 1);
                    break;
                }
                Some("error") => {
                    meter.error();
                    break;
                }
                _ => {} // pushes the recommender sends meanwhile
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(latencies)
}

/// `sessions` sessions sending `rate` events a second in all; latency is
/// from sending an event to receiving the push it caused.
pub async fn end_to_end(
    addr: SocketAddr,
    sessions: usize,
    rate: u32,
    timing: Timing,
) -> Result<Measured> {
    let setup = format!(
        "{sessions} sessions, {rate} events/s in all, product view in, recommendation pushed out"
    );
    let per_session = Duration::from_secs_f64(sessions as f64 / f64::from(rate.max(1)));
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted_sent = sent.clone();
    let name = format!("ws end to end @{rate}/s");
    let mut measured = meter::run(&name, setup, sessions, timing, move |meter, worker| {
        round_trips(addr, meter, worker, per_session, counted_sent.clone())
    })
    .await?;
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    measured.setup = format!(
        "{}; {sent} sent in the window, {} pushes back ({:.0}%)",
        measured.setup,
        measured.events,
        100.0 * measured.events as f64 / sent.max(1) as f64
    );
    Ok(measured)
}

async fn round_trips(
    addr: SocketAddr,
    meter: Arc<Meter>,
    worker: usize,
    every: Duration,
    sent_count: Arc<std::sync::atomic::AtomicU64>,
) -> Result<Histogram<u64>> {
    let customer = payload::customer(worker as u64);
    let ws = session(addr, &customer).await?;
    let (mut tx, mut rx) = ws.split();
    let in_flight: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let pending = in_flight.clone();
    let send_meter = meter.clone();
    // Spread the sessions' sends over the interval instead of all at once.
    let offset = every.mul_f64((worker % 100) as f64 / 100.0);
    let sender = tokio::spawn(async move {
        tokio::time::sleep(offset).await;
        let mut tick = tokio::time::interval(every);
        let mut n = 0u64;
        while send_meter.running() {
            tick.tick().await;
            let id = format!("e2e-{worker}-{n}");
            let frame = payload::view(Some(&id), &customer, worker as u64 * 13 + n).to_string();
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, Instant::now());
            if send_meter.counting() {
                sent_count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            tx.send(Message::text(frame)).await?;
            n += 1;
        }
        anyhow::Ok(tx)
    });
    let mut latencies = meter::histogram()?;
    // Pushes for the last events may come a little after the window.
    let deadline = meter.until() + Duration::from_secs(2);
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline.into(), rx.next()).await {
        let Message::Text(text) = message? else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text)?;
        match frame["kind"].as_str() {
            Some("push") => {
                let cause = frame["cause"].as_str().unwrap_or_default();
                let started = in_flight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(cause);
                if let Some(started) = started
                    && meter.counting_at(started)
                {
                    meter.record_latency(&mut latencies, started.elapsed());
                    meter.count(1);
                }
            }
            Some("error") => meter.error(),
            _ => {}
        }
    }
    let mut tx = sender.await??;
    let _ = tx.close().await;
    Ok(latencies)
}
