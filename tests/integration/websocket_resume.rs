//! Resuming a WebSocket session with a real client: a reconnect with the
//! last resume token replays exactly the missed pushes, in order, across a
//! gateway restart too; a resume from pushes the log no longer has is told
//! that history was lost.

use rstest::rstest;
use serde_json::Value;
use streamplug_tests::{
    Backend, RECOMMEND_MANIFEST, TestGateway, eventually, next_frame, send_json, view,
};

use crate::websocket::{push_ids, pushes};

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_with_the_last_token_replays_exactly_the_missed_pushes_in_order(
    #[case] backend: Backend,
) {
    let gw = TestGateway::on(backend, RECOMMEND_MANIFEST).await.unwrap();
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    send_json(&mut ws, &view("alice", "p0")).await.unwrap();
    send_json(&mut ws, &view("alice", "p1")).await.unwrap();
    let first = pushes(&mut ws, 1).await;
    let token = first[0]["resume"].as_str().unwrap().to_owned();
    drop(ws);

    // While away: three more views (three more pushes), plus bob's traffic.
    for p in ["p2", "p3", "p4"] {
        assert_eq!(gw.post(&view("alice", p)).await.unwrap().status, 202);
        assert_eq!(gw.post(&view("bob", p)).await.unwrap().status, 202);
    }
    let log = gw.wait_for_events("customer-pushes", 6).await.unwrap();
    let missed: Vec<u64> = log
        .iter()
        .filter(|e| e["event"]["subject"] == "alice")
        .map(|e| e["offset"].as_u64().unwrap())
        .filter(|o| *o > first[0]["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(missed.len(), 3, "{log:#?}");

    let (mut ws, welcome) = gw.session("alice", Some(&token)).await.unwrap();
    assert_eq!(welcome["resume"], token.as_str());
    let replayed = pushes(&mut ws, 3).await;
    assert_eq!(
        push_ids(&replayed),
        missed,
        "exactly the missed pushes, in order"
    );
    // Live pushes follow without a duplicate.
    send_json(&mut ws, &view("alice", "p5")).await.unwrap();
    let live = pushes(&mut ws, 1).await;
    assert!(live[0]["seq"].as_u64().unwrap() > *missed.last().unwrap());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_beyond_the_retention_window_is_told_history_was_lost() {
    let plugins = format!("[websocket]\nretention_secs = 0\n{RECOMMEND_MANIFEST}");
    let gw = TestGateway::with_plugins(&plugins).await.unwrap();
    let (first, welcome) = gw.session("alice", None).await.unwrap();
    let token = welcome["resume"].as_str().unwrap().to_owned();
    drop(first);
    gw.post(&view("alice", "p0")).await.unwrap();
    gw.post(&view("alice", "p1")).await.unwrap();
    gw.wait_for_events("customer-pushes", 1).await.unwrap();
    // Push times have millisecond resolution: let them fall behind "now".
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (mut ws, _) = gw.session("alice", Some(&token)).await.unwrap();
    let frame = next_frame(&mut ws).await.unwrap();
    assert_eq!(frame["kind"], "history_lost", "{frame}");
    assert!(frame["lost"].as_u64().unwrap() >= 1);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_from_pushes_the_log_deleted_is_told_history_was_lost() {
    // The push log keeps 300 ms of records (and always its newest).
    let plugins = format!(
        "[storage]\nretention_check_ms = 50\n[topics.customer-pushes]\npartitions = 2\nretention_ms = 300\n{RECOMMEND_MANIFEST}"
    );
    let gw = TestGateway::with_plugins(&plugins).await.unwrap();
    let (first, welcome) = gw.session("alice", None).await.unwrap();
    let token = welcome["resume"].as_str().unwrap().to_owned();
    drop(first);
    for p in ["p0", "p1", "p2", "p3"] {
        gw.post(&view("alice", p)).await.unwrap();
    }
    let pushed = gw
        .wait_for_events("customer-pushes", 2)
        .await
        .unwrap()
        .len();
    eventually("retention to delete all but the newest push", || async {
        Ok((gw.events("customer-pushes").await?.len() == 1).then_some(()))
    })
    .await
    .unwrap();
    // The listing says where the partition starts now: at its newest push.
    let listed = gw.get("/v1/topics").await.unwrap().json;
    let topic = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "customer-pushes")
        .unwrap()
        .clone();
    let sum = |field: &str| -> u64 {
        topic[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_u64().unwrap())
            .sum()
    };
    assert_eq!(sum("start_offsets") + 1, sum("end_offsets"), "{topic}");
    let (mut ws, _) = gw.session("alice", Some(&token)).await.unwrap();
    let frame = next_frame(&mut ws).await.unwrap();
    assert_eq!(frame["kind"], "history_lost", "{frame}");
    assert!(
        frame["lost"].as_u64().unwrap() >= (pushed - 1) as u64,
        "{frame}"
    );
    assert!(
        frame["detail"].as_str().unwrap().contains("retention"),
        "{frame}"
    );
    // What is left is replayed after it.
    let replayed = pushes(&mut ws, 1).await;
    assert_eq!(replayed[0]["data"]["customer"], "alice");
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_survive_a_gateway_restart_and_are_replayed_on_resume(#[case] backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let stores = streamplug_tests::Stores::start(backend).unwrap();
    let config = streamplug_tests::config_on(&stores, dir.path(), RECOMMEND_MANIFEST).unwrap();
    let gw = TestGateway::start(&config).await.unwrap();
    let (first, welcome) = gw.session("alice", None).await.unwrap();
    drop(first);
    for p in ["p0", "p1", "p2"] {
        assert_eq!(gw.post(&view("alice", p)).await.unwrap().status, 202);
    }
    let written = gw.wait_for_events("customer-pushes", 2).await.unwrap();
    gw.stop().await;

    let gw = TestGateway::start(&config).await.unwrap();
    let (mut ws, _) = gw
        .session("alice", welcome["resume"].as_str())
        .await
        .unwrap();
    let replayed = pushes(&mut ws, written.len()).await;
    let ids: Vec<&Value> = replayed.iter().map(|f| &f["id"]).collect();
    let logged: Vec<&Value> = written.iter().map(|e| &e["event"]["id"]).collect();
    assert_eq!(ids, logged);
    gw.stop().await;
}
