//! Idempotent ingest: an event's (`source`, `id`) is written once within
//! the idempotency window, whoever sends it again and on whichever
//! instance; structured CloudEvents must name both.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::{Backend, Stores, TestGateway, config_on};

fn order(id: &str, source: &str) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": source, "type": "order.placed",
        "subject": "c-7",
        "data": {"order": id, "items": [{"product": "p1", "quantity": 1, "price": 5.0}],
                 "total": 5.0, "currency": "EUR"}
    })
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_retried_three_times_writes_one_event(#[case] backend: Backend) {
    let gw = TestGateway::on(backend, "").await.unwrap();
    let first = gw.post(&order("o-1", "/shop/backend")).await.unwrap();
    assert_eq!(first.status, 202, "{}", first.json);
    assert_eq!(first.json["events"][0]["duplicate"], false);
    for _ in 0..3 {
        let again = gw.post(&order("o-1", "/shop/backend")).await.unwrap();
        assert_eq!(again.status, 202, "{}", again.json);
        let (a, b) = (&first.json["events"][0], &again.json["events"][0]);
        assert_eq!(b["duplicate"], true, "{}", again.json);
        assert_eq!(
            (&a["partition"], &a["offset"]),
            (&b["partition"], &b["offset"])
        );
    }
    // The same id from another source is another event; a batch repeating
    // an id writes it once.
    let other = gw.post(&order("o-1", "/shop/pos")).await.unwrap();
    assert_eq!(
        other.json["events"][0]["duplicate"], false,
        "{}",
        other.json
    );
    let batch = gw
        .post(&json!([
            order("o-2", "/shop/backend"),
            order("o-2", "/shop/backend")
        ]))
        .await
        .unwrap();
    assert_eq!(batch.status, 202, "{}", batch.json);
    let (a, b) = (&batch.json["events"][0], &batch.json["events"][1]);
    assert_eq!(
        (a["duplicate"].clone(), b["duplicate"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(a["offset"], b["offset"]);

    let held = gw.events("order-events").await.unwrap();
    assert_eq!(
        held.len(),
        3,
        "o-1 twice (two sources) and o-2 once: {held:#?}"
    );
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_cloudevents_without_id_or_source_are_refused(#[case] backend: Backend) {
    let gw = TestGateway::on(backend, "").await.unwrap();
    for missing in ["id", "source"] {
        let mut event = order("o-9", "/shop/backend");
        event.as_object_mut().unwrap().remove(missing);
        let a = gw.post(&event).await.unwrap();
        assert_eq!(a.status, 422, "{}", a.json);
        assert_eq!(
            a.json["errors"][0]["pointer"],
            format!("/{missing}"),
            "{}",
            a.json
        );
    }
    // Sent as structured CloudEvents, an object must name its specversion.
    let mut event = order("o-9", "/shop/backend");
    event.as_object_mut().unwrap().remove("specversion");
    let a = gw
        .post_raw(
            "application/cloudevents+json",
            serde_json::to_vec(&event).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 422, "{}", a.json);
    assert_eq!(a.json["errors"][0]["pointer"], "/specversion", "{}", a.json);
    // Nobody outside may pose as a plugin (their emissions' ids are
    // derived, and would be suppressed as duplicates).
    let a = gw.post(&order("o-9", "plugin:recommend")).await.unwrap();
    assert_eq!(a.status, 403, "{}", a.json);
    assert_eq!(a.json["errors"][0]["pointer"], "/source", "{}", a.json);
    // The shorthand still gets a generated id and source.
    let a = gw
        .post(&json!({"type": "product.viewed", "customer": "c-7", "data": {"product": "p1"}}))
        .await
        .unwrap();
    assert_eq!(a.status, 202, "{}", a.json);
    assert!(gw.events("order-events").await.unwrap().is_empty());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_sent_to_another_instance_is_recognised_on_kafka() {
    let stores = Stores::start(Backend::Kafka).unwrap();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestGateway::start(&config_on(&stores, dir_a.path(), "").unwrap())
        .await
        .unwrap();
    let b = TestGateway::start(&config_on(&stores, dir_b.path(), "").unwrap())
        .await
        .unwrap();
    let first = a.post(&order("o-5", "/shop/backend")).await.unwrap();
    assert_eq!(first.status, 202, "{}", first.json);
    let again = b.post(&order("o-5", "/shop/backend")).await.unwrap();
    assert_eq!(again.status, 202, "{}", again.json);
    assert_eq!(again.json["events"][0]["duplicate"], true, "{}", again.json);
    assert_eq!(
        again.json["events"][0]["offset"],
        first.json["events"][0]["offset"]
    );
    assert_eq!(b.events("order-events").await.unwrap().len(), 1);
    a.stop().await;
    b.stop().await;
}
