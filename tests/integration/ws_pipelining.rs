//! A session may send event frames without waiting for each answer: up to
//! `websocket.max_frames_in_flight` are placed in the log in the order they
//! arrived while earlier ones wait for their commit, and the answers (acks
//! and errors) come back in frame order.

use futures::SinkExt as _;
use rstest::rstest;
use serde_json::json;
use streamplug_tests::{Backend, Stores, TestGateway, config_on, next_frame, send_json};
use tokio_tungstenite::tungstenite::Message;

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_sent_back_to_back_are_answered_and_logged_in_frame_order(#[case] backend: Backend) {
    let stores = Stores::start(backend).unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings =
        "[websocket]\nrate_per_sec = 1000\nrate_burst = 1000\nmax_frames_in_flight = 8\n";
    let gw = TestGateway::start(&config_on(&stores, data.path(), settings).unwrap())
        .await
        .unwrap();
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    let ids: Vec<String> = (0..40).map(|i| format!("pipelined-{i}")).collect();
    let bad = 20;
    for (i, id) in ids.iter().enumerate() {
        if i == bad {
            ws.send(Message::Text("{not json".into())).await.unwrap();
        } else {
            let frame = json!({"specversion": "1.0", "id": id, "source": "/web/shop",
                               "type": "product.viewed", "data": {"product": format!("p{i}")}});
            send_json(&mut ws, &frame).await.unwrap();
        }
    }
    for (i, id) in ids.iter().enumerate() {
        let answer = next_frame(&mut ws).await.unwrap();
        if i == bad {
            assert_eq!(answer["kind"], "error", "frame {i}: {answer}");
        } else {
            assert_eq!(answer["kind"], "ack", "frame {i}: {answer}");
            assert_eq!(answer["events"][0]["id"], json!(id), "frame {i}");
        }
    }
    let logged: Vec<String> = gw
        .events("customer-interactions")
        .await
        .unwrap()
        .iter()
        .filter(|e| e["event"]["subject"] == "alice")
        .map(|e| e["event"]["id"].as_str().unwrap().to_owned())
        .collect();
    let sent: Vec<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != bad)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(logged, sent);
    gw.stop().await;
}
