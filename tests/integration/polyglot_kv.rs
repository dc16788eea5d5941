//! The Python and JavaScript SDKs' `kv.get_many` / `kv.getMany`, through
//! real components (`tests/polyglot/kv_probe.py`, `kv_probe.js`): values
//! in the order asked, committed and staged ones alike, absent keys as
//! none, and an invalid key as the host error the WIT names.

use serde_json::{Value, json};
use streamplug_tests::{TestGateway, eventually};

fn probe(name: &str, wasm: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "{name}"
wasm = "{wasm}"
subscribe = ["customer-interactions"]

[plugins.limits]
memory_mib = 64
"#
    )
}

fn event(mut data: Value) -> Value {
    data["product"] = json!("p");
    json!({"type": "product.viewed", "customer": "c1", "data": data})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_javascript_sdks_read_several_keys_in_one_call() {
    let gw = TestGateway::with_plugins(&format!(
        "{}{}",
        probe("probe-py", "kv_probe_py.wasm"),
        probe("probe-js", "kv_probe_js.wasm")
    ))
    .await
    .unwrap();
    let first = gw
        .post(&event(json!({"set": {"a": "1", "b": "2"}})))
        .await
        .unwrap();
    assert_eq!(first.status, 202, "{}", first.json);
    let read = gw
        .post(&event(
            json!({"set": {"c": "3"}, "get_many": ["a", "c", "nope", "b"]}),
        ))
        .await
        .unwrap();
    let invalid = gw
        .post(&event(json!({"get_many": ["", "a"]})))
        .await
        .unwrap();
    let id = |answer: &Value| answer["events"][0]["id"].as_str().unwrap().to_owned();
    let (read, invalid) = (id(&read.json), id(&invalid.json));

    for plugin in ["probe-py", "probe-js"] {
        let many = |event: &str| {
            let (gw, key) = (&gw, format!("many:{event}"));
            async move {
                let what = format!("{plugin} to store {key}");
                eventually(&what, || gw.kv(plugin, &key)).await.unwrap()
            }
        };
        assert_eq!(many(&read).await, json!(["1", "3", null, "2"]), "{plugin}");
        assert_eq!(many(&invalid).await, json!("invalid-key"), "{plugin}");
    }
    gw.stop().await;
}
