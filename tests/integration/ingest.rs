//! HTTP ingest: acknowledgement after the durable append, and clear errors
//! that write nothing.

use rstest::rstest;
use serde_json::json;
use streamplug_tests::{Backend, TestGateway, view};

async fn gateway(backend: Backend) -> TestGateway {
    TestGateway::on(backend, "").await.unwrap()
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_event_is_acknowledged_with_its_position_and_readable(
    #[case] backend: Backend,
) {
    let gw = gateway(backend).await;
    let a = gw
        .post(&json!({
            "specversion": "1.0", "id": "evt-1", "source": "/web/shop", "type": "order.placed",
            "subject": "c-42", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "data": {"order": "o-1", "items": [{"product": "p1", "quantity": 2, "price": 10.0}],
                     "total": 20.0, "currency": "EUR"}
        }))
        .await
        .unwrap();
    assert_eq!(a.status, 202, "{}", a.json);
    let pos = &a.json["events"][0];
    assert_eq!(pos["id"], "evt-1");
    assert_eq!(pos["topic"], "order-events");
    let events = gw.events("order-events").await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["partition"], pos["partition"]);
    assert_eq!(events[0]["offset"], pos["offset"]);
    let e = &events[0]["event"];
    assert_eq!(e["subject"], "c-42");
    assert_eq!(e["source"], "/web/shop");
    assert_eq!(e["data"]["total"], 20.0);
    assert_eq!(
        e["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_routed_by_type_and_keeps_per_customer_order(#[case] backend: Backend) {
    let gw = gateway(backend).await;
    let batch: Vec<_> = (0..20)
        .map(|i| view(&format!("c{}", i % 3), &format!("p{i}")))
        .chain([json!({"type": "support.message", "customer": "c0", "data": {"text": "where is my order?"}})])
        .collect();
    let a = gw.post(&json!(batch)).await.unwrap();
    assert_eq!(a.status, 202, "{}", a.json);
    assert_eq!(a.json["accepted"], 21);
    assert_eq!(gw.events("customer-interactions").await.unwrap().len(), 20);
    assert_eq!(gw.events("support-inquiries").await.unwrap().len(), 1);
    // Per customer, offsets follow request order.
    let events = gw.events("customer-interactions").await.unwrap();
    for c in ["c0", "c1", "c2"] {
        let products: Vec<u64> = events
            .iter()
            .filter(|e| e["event"]["subject"] == c)
            .map(|e| {
                e["event"]["data"]["product"].as_str().unwrap()[1..]
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(
            products.windows(2).all(|w| w[0] < w[1]),
            "{c}: {products:?}"
        );
    }
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing(#[case] backend: Backend) {
    let gw = gateway(backend).await;
    let problem = |status: u16, json: &serde_json::Value| {
        assert_eq!(json["status"], status, "{json}");
        assert!(
            json["type"].as_str().unwrap().starts_with("https://"),
            "{json}"
        );
        assert!(!json["detail"].as_str().unwrap().is_empty(), "{json}");
    };

    let a = gw
        .post_raw("application/json", b"{not json".to_vec())
        .await
        .unwrap();
    assert_eq!(a.status, 400);
    problem(400, &a.json);
    assert_eq!(a.headers["content-type"], "application/problem+json");

    let a = gw.post_raw("text/plain", b"hello".to_vec()).await.unwrap();
    assert_eq!(a.status, 415);
    problem(415, &a.json);

    let big = vec![b' '; 2 * 1024 * 1024];
    let a = gw.post_raw("application/json", big).await.unwrap();
    assert_eq!(a.status, 413);
    problem(413, &a.json);

    // One bad event spoils the batch: nothing of it is written.
    let a = gw
        .post(&json!([view("c1", "p1"), {"type": "cart.item_added", "customer": "c1", "data": {"product": "p", "price": -3}}]))
        .await
        .unwrap();
    assert_eq!(a.status, 422);
    problem(422, &a.json);
    assert_eq!(a.json["errors"][0]["pointer"], "/1/data/price");

    let a = gw
        .post(&json!({"type": "product.teleported", "customer": "c", "data": {}}))
        .await
        .unwrap();
    assert_eq!(a.status, 422);
    assert_eq!(a.json["errors"][0]["pointer"], "/type");

    let a = gw
        .post(&json!({"type": "product.viewed", "data": {"product": "p"}}))
        .await
        .unwrap();
    assert_eq!(a.status, 422);
    assert_eq!(a.json["errors"][0]["pointer"], "/subject");

    let a = gw.post(&json!([])).await.unwrap();
    assert_eq!(a.status, 400);

    let topics = gw.get("/v1/topics").await.unwrap();
    for t in topics.json.as_array().unwrap() {
        let total: u64 = t["end_offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_u64().unwrap())
            .sum();
        assert_eq!(total, 0, "{t}");
    }
    let a = gw.get("/v1/topics/nope/events").await.unwrap();
    assert_eq!(a.status, 404);
    problem(404, &a.json);
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_schemas_and_metrics_are_served(#[case] backend: Backend) {
    let gw = gateway(backend).await;
    assert_eq!(gw.get("/healthz").await.unwrap().status, 200);
    assert_eq!(gw.get("/readyz").await.unwrap().status, 200);
    let schemas = gw.get("/v1/schemas").await.unwrap().json;
    let order = schemas
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "order.placed")
        .unwrap();
    let required = order["data"]["required"].as_array().unwrap();
    assert!(required.contains(&json!("currency")), "{order}");
    gw.post(&view("c1", "p1")).await.unwrap();
    let metrics = streamplug_tests::metrics_text(&gw.client, &gw.url)
        .await
        .unwrap();
    assert!(
        metrics.contains("streamplug_ingest_events_total"),
        "{metrics}"
    );
    // Where the event's time went: its validation and its append are
    // histograms with buckets (stage by stage), which the load harness reads.
    for stage in ["validate", "append"] {
        assert!(
            metrics.contains(&format!(
                "streamplug_stage_seconds_count{{stage=\"{stage}\"}}"
            )),
            "{metrics}"
        );
    }
    assert!(
        metrics.contains("streamplug_stage_seconds_bucket{stage=\"append\",le=\"0.001\"}"),
        "{metrics}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn the_embedded_stores_checkpoints_are_measured() {
    let gw = gateway(Backend::Embedded).await;
    // A checkpoint follows the first group after 100 ms of logged groups,
    // once that group is answered.
    gw.post(&view("c1", "p1")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    gw.post(&view("c1", "p2")).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let checkpoints = gw
            .metric("streamplug_storage_checkpoint_seconds_count")
            .await
            .unwrap();
        if checkpoints >= 1.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no checkpoint measured"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    gw.stop().await;
}
