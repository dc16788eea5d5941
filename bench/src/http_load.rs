//! HTTP ingest load: each worker holds one keep-alive HTTP/1.1 connection
//! (hyper's client connection, no pool in between) and sends `POST
//! /v1/events` back to back, a single event or a batch per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::meter::{self, Measured, Meter, Timing};
use crate::payload;
use crate::target::Target;

/// Request bodies each worker cycles through (made before the clock runs).
const BODIES: u64 = 64;

/// Run `connections` workers posting `batch` events a request to `target`
/// (with its API key, when it has one).
pub async fn ingest(
    name: &str,
    target: &Target,
    connections: usize,
    batch: usize,
    timing: Timing,
) -> Result<Measured> {
    let setup = format!("{connections} connections, {batch} event(s) a request");
    let addr = target.addr;
    let authorization: Option<Arc<str>> =
        target.key.as_deref().map(|k| format!("Bearer {k}").into());
    meter::run(name, setup, connections, timing, move |meter, worker| {
        let bodies: Vec<Bytes> = (0..BODIES)
            .map(|n| payload::body(worker, n, batch))
            .collect();
        post_until_done(addr, authorization.clone(), meter, bodies, batch as u64)
    })
    .await
}

async fn post_until_done(
    addr: SocketAddr,
    authorization: Option<Arc<str>>,
    meter: Arc<Meter>,
    bodies: Vec<Bytes>,
    events: u64,
) -> Result<Histogram<u64>> {
    let mut sender = connect(addr).await?;
    let mut latencies = meter::histogram()?;
    let host = addr.to_string();
    for body in bodies.iter().cycle() {
        if !meter.running() {
            break;
        }
        sender.ready().await.context("connection closed")?;
        let mut request = http::Request::post("/v1/events")
            .header(http::header::HOST, &host)
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(value) = &authorization {
            request = request.header(http::header::AUTHORIZATION, value.as_ref());
        }
        let request = request.body(Full::new(body.clone()))?;
        let started = Instant::now();
        let answer = sender.send_request(request).await?;
        tally(
            &meter,
            &mut latencies,
            started,
            events,
            "POST /v1/events",
            answer,
        )
        .await?;
    }
    Ok(latencies)
}

/// One keep-alive HTTP/1.1 connection to `addr`, without a pool between.
pub async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Count `answer` to a request sent at `started` carrying `events`: a
/// success in `latencies`, a 5xx or 429 as an error; anything else ends
/// the run, naming `what` was asked.
pub async fn tally(
    meter: &Meter,
    latencies: &mut Histogram<u64>,
    started: Instant,
    events: u64,
    what: &str,
    answer: http::Response<hyper::body::Incoming>,
) -> Result<()> {
    let status = answer.status();
    let body = answer.into_body().collect().await?.to_bytes();
    if status.is_success() {
        meter.record(latencies, started, events);
    } else if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
        meter.error();
    } else {
        bail!(
            "{what} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}
