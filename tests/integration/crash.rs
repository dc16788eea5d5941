//! A SIGKILL under load: every event acknowledged before the kill is in the
//! log exactly once after a restart that needs no manual step, and every
//! plugin effect is there exactly once too (the embedded log commits a
//! batch's publishes, state and offset together).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rstest::rstest;
use serde_json::json;
use streamplug_tests::{
    Backend, ChildGateway, Stores, TEST_KEY, TestGateway, config_on, eventually, free_port,
    keyed_client, recorder_manifest,
};

/// Count how often each id occurs.
fn counts<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for id in ids {
        *seen.entry(id.to_owned()).or_default() += 1;
    }
    seen
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_under_load_loses_no_acknowledged_event_and_repeats_no_effect(
    #[case] backend: Backend,
) {
    let stores = Stores::start(backend).unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let config = config_on(&stores, data.path(), &recorder_manifest(""))
        .unwrap()
        .replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
            1,
        );
    let child = ChildGateway::start(&config, port).await.unwrap();

    // Four clients post batches of 20 as fast as they are answered.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for client_no in 0..4 {
        let (url, acknowledged) = (child.url.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            let client = keyed_client(TEST_KEY).unwrap();
            for round in 0.. {
                let batch: Vec<_> = (0..20)
                    .map(|i| {
                        json!({"type": "product.viewed", "customer": format!("c{}", i % 7),
                                    "data": {"product": format!("p{client_no}-{round}-{i}")}})
                    })
                    .collect();
                let Ok(r) = client
                    .post(format!("{url}/v1/events"))
                    .json(&batch)
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != 202 {
                    return;
                }
                let Ok(body) = r.json::<serde_json::Value>().await else {
                    return;
                };
                let ids = body["events"].as_array().into_iter().flatten();
                acknowledged
                    .lock()
                    .unwrap()
                    .extend(ids.map(|e| e["id"].as_str().unwrap().to_owned()));
            }
        }));
    }
    eventually("a few hundred events acknowledged", || async {
        Ok((acknowledged.lock().unwrap().len() >= 400).then_some(()))
    })
    .await
    .unwrap();
    // Killed with requests in flight.
    child.kill();
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    // The restart needs nothing done by hand.
    let gw = TestGateway::start(&config).await.unwrap();
    let logged = gw.events("customer-interactions").await.unwrap();
    let in_log = counts(logged.iter().map(|e| e["event"]["id"].as_str().unwrap()));
    for id in &acknowledged {
        assert_eq!(in_log.get(id), Some(&1), "acknowledged event {id}");
    }
    // Every logged event is handled, and its effect (one audit event) is
    // there once: none lost, none repeated by the redelivery.
    let audited = eventually("every logged event to be handled", || async {
        let audit = gw.events("audit").await?;
        Ok((audit.len() >= logged.len()).then_some(audit))
    })
    .await
    .unwrap();
    let effects = counts(
        audited
            .iter()
            .map(|e| e["event"]["data"]["id"].as_str().unwrap()),
    );
    for id in in_log.keys() {
        assert_eq!(effects.get(id), Some(&1), "the effect of {id}");
    }
    assert_eq!(audited.len(), logged.len());
    gw.stop().await;
}
