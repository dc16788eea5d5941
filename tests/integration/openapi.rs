//! The published contract: a running gateway serves the OpenAPI document
//! docs/openapi.json holds, and answers as it says (a typed receipt, a
//! problem body for an error, a WebSocket route refusing a plain GET with
//! one).

use serde_json::{Value, json};
use streamplug_tests::{Backend, TestGateway, view, workspace_root};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_the_published_document_and_answers_as_it_says() {
    let gw = TestGateway::on(Backend::Embedded, "").await.unwrap();
    let served = gw.get("/v1/openapi.json").await.unwrap();
    assert_eq!(served.status, 200);
    let published: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("docs/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        served.json, published,
        "served document differs from docs/openapi.json"
    );

    // A receipt carries what the IngestReceipt schema requires.
    let receipt = gw.post(&view("c-1", "tent")).await.unwrap();
    assert_eq!(receipt.status, 202);
    let required = &published["components"]["schemas"]["IngestReceipt"]["required"];
    for field in required.as_array().unwrap() {
        assert!(
            receipt.json.get(field.as_str().unwrap()).is_some(),
            "{field}: {}",
            receipt.json
        );
    }

    // An error is a problem body, with the fields the Problem schema requires.
    let bad = gw.post(&json!({"type": "product.viewed"})).await.unwrap();
    assert_eq!(bad.status, 422);
    let documented = &published["paths"]["/v1/events"]["post"]["responses"]["422"];
    assert!(documented.is_object(), "422 is documented");
    assert_eq!(bad.headers["content-type"], "application/problem+json");
    for field in published["components"]["schemas"]["Problem"]["required"]
        .as_array()
        .unwrap()
    {
        assert!(
            bad.json.get(field.as_str().unwrap()).is_some(),
            "{field}: {}",
            bad.json
        );
    }

    // The session route, asked without an upgrade, answers with a problem too.
    let plain = gw.get("/v1/ws").await.unwrap();
    assert_eq!(plain.status, 400, "{}", plain.json);
    assert_eq!(plain.headers["content-type"], "application/problem+json");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_reads_bodies_as_the_documents_describe_them() {
    let gw = TestGateway::on(Backend::Embedded, "").await.unwrap();
    let structured = |id: &str| {
        json!({"specversion": "1.0", "id": id, "source": "/shop", "type": "cart.item_added",
               "subject": "c-1", "data": {"product": "tent", "quantity": 2.0}})
    };
    // CloudEvents HTTP binding: one event as application/cloudevents+json,
    // a batch as application/cloudevents-batch+json, not the other way.
    for (media, body) in [
        ("application/cloudevents+json", json!([structured("a")])),
        ("application/cloudevents-batch+json", structured("b")),
    ] {
        let a = gw
            .post_raw(media, serde_json::to_vec(&body).unwrap())
            .await
            .unwrap();
        assert_eq!(a.status, 400, "{media}: {}", a.json);
        assert_eq!(a.headers["content-type"], "application/problem+json");
    }
    let one = gw
        .post_raw(
            "application/cloudevents+json",
            serde_json::to_vec(&structured("c")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(one.status, 202, "{}", one.json);
    // `2.0` is the integer 2 (JSON Schema's reading); stored as 2.
    let stored = gw
        .wait_for_events("customer-interactions", 1)
        .await
        .unwrap();
    assert_eq!(stored[0]["event"]["data"]["quantity"], json!(2));
    assert!(stored[0]["event"]["data"]["quantity"].is_u64());

    // A handshake whose key is not base64 of 16 bytes is refused (RFC 6455
    // 4.2.1), with a problem body.
    let bad_key = gw
        .client
        .get(format!("{}/v1/ws", gw.url))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "not-a-key")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 400);
    assert_eq!(
        bad_key.headers()["content-type"],
        "application/problem+json"
    );
    gw.stop().await;
}
