//! A full disk is an incident the gateway reports and survives: below
//! `storage.min_free_bytes` ingest is refused before the disk fills; a write
//! that fails anyway (ENOSPC) acknowledges nothing, the gateway reports not
//! ready with the reason, and recovers by itself once space returns, with
//! every acknowledged event there exactly once. On a real small tmpfs.

use std::collections::HashMap;

use serde_json::{Value, json};
use streamplug_tests::tmpfs::Tmpfs;
use streamplug_tests::{Answer, TestGateway, config, eventually};

/// `n` events of about a kilobyte each, for customer `c<i>`.
fn batch(n: usize, tag: usize) -> Value {
    let filler = "x".repeat(1000);
    json!(
        (0..n)
            .map(
                |i| json!({"type": "product.viewed", "customer": format!("c{i}"),
                        "data": {"product": format!("p{tag}-{i}"), "note": filler}})
            )
            .collect::<Vec<_>>()
    )
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.json["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `/readyz`'s status and problem type, once `wanted`.
async fn ready_becomes(gw: &TestGateway, wanted: u16) -> Answer {
    eventually(&format!("/readyz to answer {wanted}"), || async {
        let a = gw.get("/readyz").await?;
        Ok((a.status == wanted).then_some(a))
    })
    .await
    .unwrap()
}

/// Wait for `/readyz` to report the storage's trouble, saying `why`.
async fn not_ready_because(gw: &TestGateway, why: &str) {
    let problem = ready_becomes(gw, 503).await.json;
    let kind = problem["type"].as_str().unwrap_or_default();
    assert!(kind.ends_with("storage-unavailable"), "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(why), "{problem}");
}

async fn start(fs: &Tmpfs, storage: &str) -> TestGateway {
    let text = config(&fs.dir().join("data"), &format!("[storage]\n{storage}")).unwrap();
    TestGateway::start(&text).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_the_free_space_watermark_ingest_is_refused_until_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(&dir.path().join("disk"), 48).unwrap();
    let gw = start(&fs, "min_free_bytes = 16777216\ndisk_check_ms = 50").await;
    assert_eq!(gw.post(&batch(1, 0)).await.unwrap().status, 202);

    let filler = fs.fill(8 << 20).unwrap();
    not_ready_because(&gw, "nearly full").await;
    let refused = gw.post(&batch(1, 1)).await.unwrap();
    assert_eq!(refused.status, 503, "{}", refused.json);
    assert_eq!(refused.headers["retry-after"], "30");

    std::fs::remove_file(filler).unwrap();
    ready_becomes(&gw, 200).await;
    assert_eq!(gw.post(&batch(1, 2)).await.unwrap().status, 202);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_fills_the_disk_loses_nothing_acknowledged_and_the_gateway_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(&dir.path().join("disk"), 48).unwrap();
    // No watermark: the disk really fills under the log.
    let gw = start(&fs, "min_free_bytes = 0\ndisk_check_ms = 50").await;
    assert_eq!(gw.post(&batch(1, 0)).await.unwrap().status, 202);
    fs.fill(2 << 20).unwrap();

    let mut acknowledged = Vec::new();
    let mut refused = None;
    for tag in 1..=200 {
        let a = gw.post(&batch(50, tag)).await.unwrap();
        match a.status {
            202 => acknowledged.extend(ids(&a)),
            503 => {
                refused = Some(a);
                break;
            }
            other => panic!("unexpected {other}: {}", a.json),
        }
    }
    let refused = refused.expect("the disk never filled");
    assert!(
        refused.headers.contains_key("retry-after"),
        "{:?}",
        refused.headers
    );
    not_ready_because(&gw, "could not write").await;
    let while_full = gw.post(&batch(1, 999)).await.unwrap();
    assert_eq!(while_full.status, 503, "{}", while_full.json);

    // Space comes back: the gateway recovers by itself, no restart.
    fs.resize(512).unwrap();
    ready_becomes(&gw, 200).await;
    let after = gw.post(&batch(1, 1000)).await.unwrap();
    assert_eq!(after.status, 202, "{}", after.json);
    acknowledged.extend(ids(&after));

    // Every acknowledged event is in the log, exactly once.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for e in gw.events("customer-interactions").await.unwrap() {
        *seen
            .entry(e["event"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for id in &acknowledged {
        assert_eq!(seen.get(id), Some(&1), "acknowledged event {id}");
    }
    gw.stop().await;
}
