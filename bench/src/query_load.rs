//! Query load: workers each hold one keep-alive HTTP/1.1 connection and ask
//! the recommender's `recommendations` query (`GET /v1/plugins/recommend/
//! queries/recommendations/<customer>`) back to back, over customers whose
//! state the harness wrote first; meanwhile HTTP ingest keeps the plugins
//! handling events, so the query is measured under load. The query reads
//! KV: the customer's profile, the neighbour tables of its recent products
//! and the popularity shards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::Full;

use crate::meter::{self, Measured, Meter, Timing};
use crate::target::Target;
use crate::{http_load, payload};

/// Customers whose state is written before the clock runs.
const SEEDED: u64 = 200;
/// Views written per seeded customer.
const VIEWS_EACH: u64 = 5;

/// The query latency under `ingest_connections` of concurrent HTTP ingest,
/// and that ingest.
pub async fn under_ingest(
    target: &Target,
    connections: usize,
    ingest_connections: usize,
    timing: Timing,
) -> Result<Vec<Measured>> {
    seed(target).await?;
    let addr = target.addr;
    let authorization: Option<Arc<str>> =
        target.key.as_deref().map(|k| format!("Bearer {k}").into());
    let setup = format!(
        "{connections} connections, {SEEDED} customers, while {ingest_connections} connections ingest"
    );
    let queries = meter::run(
        "query (recommend, reads KV)",
        setup,
        connections,
        timing,
        move |meter, worker| ask_until_done(addr, authorization.clone(), meter, worker),
    );
    let ingest = http_load::ingest(
        "http ingest during queries",
        target,
        ingest_connections,
        1,
        timing,
    );
    let (queries, ingest) = tokio::join!(queries, ingest);
    Ok(vec![queries?, ingest?])
}

fn path(customer: &str) -> String {
    format!("/v1/plugins/recommend/queries/recommendations/{customer}")
}

/// Write `VIEWS_EACH` views of each of `SEEDED` customers, then wait until
/// the recommender has handled the last one.
async fn seed(target: &Target) -> Result<()> {
    let client = reqwest::Client::new();
    let key = target.key.clone().unwrap_or_default();
    // Round after round, every customer views another product (five
    // different ones each), so the last event is the last customer's.
    let events: Vec<_> = (0..VIEWS_EACH)
        .flat_map(|k| (0..SEEDED).map(move |c| (c, c * VIEWS_EACH + k)))
        .map(|(c, i)| payload::view(None, &payload::customer(c), i))
        .collect();
    for chunk in events.chunks(100) {
        let answer = client
            .post(format!("{}/v1/events", target.url()))
            .bearer_auth(&key)
            .json(chunk)
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("seeding answered {}", answer.status());
        }
    }
    let last = payload::customer(SEEDED - 1);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = client
            .get(format!("{}{}", target.url(), path(&last)))
            .bearer_auth(&key)
            .send()
            .await?;
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        let seen = body["based_on"].as_array().map_or(0, Vec::len);
        if status.is_success() && seen as u64 >= VIEWS_EACH {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the recommender did not handle the seeded views: {status} {body}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn ask_until_done(
    addr: SocketAddr,
    authorization: Option<Arc<str>>,
    meter: Arc<Meter>,
    worker: usize,
) -> Result<Histogram<u64>> {
    let mut sender = http_load::connect(addr).await?;
    let mut latencies = meter::histogram()?;
    let host = addr.to_string();
    let paths: Vec<String> = (0..SEEDED)
        .map(|n| path(&payload::customer((n * 13 + worker as u64) % SEEDED)))
        .collect();
    for p in paths.iter().cycle() {
        if !meter.running() {
            break;
        }
        sender.ready().await.context("connection closed")?;
        let mut request = http::Request::get(p.as_str()).header(http::header::HOST, &host);
        if let Some(value) = &authorization {
            request = request.header(http::header::AUTHORIZATION, value.as_ref());
        }
        let request = request.body(Full::new(Bytes::new()))?;
        let started = Instant::now();
        let answer = sender.send_request(request).await?;
        http_load::tally(
            &meter,
            &mut latencies,
            started,
            1,
            &format!("GET {p}"),
            answer,
        )
        .await?;
    }
    Ok(latencies)
}
