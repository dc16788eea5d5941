//! `kv.get-many`: several keys in one host call, each read as `get` reads
//! it (the event's own staged writes, committed values, expired and absent
//! keys), on either KV backend; an invalid key or too many keys fail the
//! call with `invalid-key`.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::{Backend, Stores, TestGateway, config_on, recorder_manifest};

fn event(data: Value) -> Value {
    json!({"type": "product.viewed", "customer": "c1", "data": data})
}

fn ids(sent: &Value) -> Vec<String> {
    sent["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_many_reads_each_key_as_get_does(#[case] backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::start(backend).unwrap();
    let config = config_on(&stores, &dir.path().join("data"), &recorder_manifest("")).unwrap();
    let gw = TestGateway::start(&config).await.unwrap();

    // First: a committed value, and one whose time to live runs out.
    let sent = gw
        .post(&json!([event(json!({"product": "p", "remember_ms": 1}))]))
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.json);
    let first = ids(&sent.json).remove(0);
    gw.wait_for_events("audit", 1).await.unwrap();
    // Past the 1 ms time to live (a precondition, not a measurement).
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let keys = [
        format!("seen:{first}"),
        format!("remember:{first}"),
        "order:c1".to_owned(),
        "absent".to_owned(),
        format!("seen:{first}"),
    ];
    let sent = gw
        .post(&json!([
            event(json!({"product": "p", "get_many": keys})),
            event(json!({"product": "p", "get_many": ["", format!("seen:{first}")]})),
            event(json!({"product": "p", "get_many_count": 1025})),
            event(json!({"product": "p", "get_many_count": 1024})),
        ]))
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.json);
    let later = ids(&sent.json);
    gw.wait_for_events("audit", 5).await.unwrap();

    let many = |id: String| {
        let gw = &gw;
        async move { gw.kv("recorder", &format!("many:{id}")).await.unwrap() }
    };
    let read = many(later[0].clone()).await.expect("the values read");
    let read = read.as_array().expect("values, not an error");
    assert_eq!(read.len(), keys.len(), "{read:?}");
    assert_eq!(read[0], json!("1"), "a value committed by an earlier event");
    assert_eq!(read[1], Value::Null, "a value whose time to live ran out");
    // The event's own staged write of `order:c1`: both events' offsets.
    let order: Vec<u64> = serde_json::from_str(read[2].as_str().unwrap()).unwrap();
    assert_eq!(order.len(), 2, "{order:?}");
    assert_eq!(read[3], Value::Null, "a key nobody wrote");
    assert_eq!(read[4], read[0], "a repeated key reads the same");

    let invalid = many(later[1].clone()).await.unwrap();
    assert!(
        invalid
            .as_str()
            .unwrap()
            .contains("InvalidKey(\"keys are 1 to 512 bytes"),
        "{invalid}"
    );
    let too_many = many(later[2].clone()).await.unwrap();
    assert!(
        too_many
            .as_str()
            .unwrap()
            .contains("InvalidKey(\"get-many reads at most 1024 keys a call, not 1025"),
        "{too_many}"
    );
    let most = many(later[3].clone()).await.unwrap();
    let most = most.as_array().expect("1024 keys are allowed");
    assert_eq!(most.len(), 1024);
    assert!(most.iter().all(Value::is_null));
    gw.stop().await;
}
