//! Outbound HTTP from Python and JavaScript plugins, offline: the same stock
//! lookup written with the Python SDK's `sp.http` (over
//! `wasi:http/outgoing-handler`, world `plugin-http`) and with JavaScript's
//! `fetch` (inside a journal step), answered by one fixtures file through
//! `streamplug plugin test`.
//! The first event's lookup has an answer; the second's gets the harness's
//! 503, which the plugin turns into a retry.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{componentize_js, componentize_py, plugin_test, repo, scratch};

/// A fresh directory for one test's plugin project.
fn project(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("harness-http")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run the stock plugin built at `dir/p.wasm` on two product views (and
/// `more` events), check what it did with the stock service's answers, and
/// return the report.
async fn stock_lookups_are_answered_by_the_fixtures(dir: &Path, more: &str) -> Value {
    let manifest = scratch(
        "stock.toml",
        "name = \"stock\"\nsubscribe = [\"customer-interactions\"]\npublish = [\"stock-signals\"]\nallowed_hosts = [\"https://stock.example.com\"]\n[limits]\nmemory_mib = 64\n[config]\nstock_service = \"https://stock.example.com/v1\"\n",
    );
    let events = scratch(
        &format!("stock-{}.jsonl", dir.file_name().unwrap().display()),
        &format!(
            "{{\"type\":\"product.viewed\",\"customer\":\"a\",\"data\":{{\"product\":\"tent\"}}}}\n{{\"type\":\"product.viewed\",\"customer\":\"a\",\"data\":{{\"product\":\"stove\"}}}}\n{more}"
        ),
    );
    let fixtures = scratch(
        "stock.fixtures.json",
        r#"[{"method": "POST", "url": "https://stock.example.com/v1/stock/tent", "body": {"available": 3}}]"#,
    );
    let wasm = dir.join("p.wasm").display().to_string();
    let (out, ended) = plugin_test(&[
        &wasm,
        "--manifest",
        &manifest,
        "--events",
        &events,
        "--fixtures",
        &fixtures,
        "--json",
    ])
    .await;
    assert_eq!(ended, Ok(()), "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let tent = &report["events"][0];
    assert_eq!(tent["outcome"], "ok", "{tent}");
    assert_eq!(
        tent["publishes"][0]["data"],
        serde_json::json!({"product": "tent", "available": 3})
    );
    let call = &tent["http"][0];
    assert_eq!(
        (&call["method"], &call["url"]),
        (
            &Value::from("POST"),
            &Value::from("https://stock.example.com/v1/stock/tent")
        ),
        "{tent}"
    );
    assert_eq!(call["body"], "{\"customer\":\"a\"}", "{tent}");
    let stove = &report["events"][1];
    assert_eq!(stove["outcome"], "retry", "{stove}");
    assert!(
        stove["reason"]
            .as_str()
            .unwrap()
            .contains("stock service answered 503"),
        "{stove}"
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_calls_granted_hosts_through_the_fixtures() {
    let dir = project("python");
    std::fs::write(
        dir.join("app.py"),
        r#"import streamplug as sp


class Stock(sp.Plugin):
    def handle(self, event: sp.Event) -> None:
        product = event.json()["product"]
        if product == "gift-card":  # balances live elsewhere: not granted
            sp.http.get("https://giftcards.example.net/v1/balance")
        service = sp.config.get("stock_service")
        answer = sp.http.post(f"{service}/stock/{product}",
                              json={"customer": event.subject}, timeout=5)
        if not answer.ok:
            raise sp.Retry(f"stock service answered {answer.status}")
        sp.publish("stock-signals", "product.stock_seen",
                   {"product": product, "available": answer.json()["available"]},
                   subject=event.subject)


Handler = sp.export(Stock)
"#,
    )
    .unwrap();
    componentize_py(&dir, "plugin-http");
    let more =
        "{\"type\":\"product.viewed\",\"customer\":\"a\",\"data\":{\"product\":\"gift-card\"}}\n";
    let report = stock_lookups_are_answered_by_the_fixtures(&dir, more).await;
    // A host the manifest does not grant: refused by the gateway, and the
    // SDK's HostError rejects the event (no retry can mend it).
    let gift = &report["events"][2];
    assert_eq!(gift["outcome"], "reject", "{gift}");
    let reason = gift["reason"].as_str().unwrap();
    assert!(
        reason.contains("GET https://giftcards.example.net/v1/balance: http-request-denied"),
        "{gift}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_plugin_fetches_from_granted_hosts_through_the_fixtures() {
    let dir = project("javascript");
    std::fs::create_dir_all(dir.join("streamplug")).unwrap();
    for entry in std::fs::read_dir(repo("sdk/js/streamplug")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            dir.join("streamplug").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("app.js"),
        r#"import * as sp from './streamplug/index.js';
export const handler = sp.plugin({
  async handle(event) {
    const { product } = event.json();
    // A journal step: a retried event would get the recorded answer.
    const available = await sp.journal.run(`stock:${product}`, async (key) => {
      const answer = await fetch(`https://stock.example.com/v1/stock/${product}`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ customer: event.subject }),
      });
      if (!answer.ok) throw new sp.Retry(`stock service answered ${answer.status}`);
      return (await answer.json()).available;
    });
    sp.publish('stock-signals', 'product.stock_seen', { product, available }, { subject: event.subject });
  },
});
"#,
    )
    .unwrap();
    // With outbound HTTP: only the HTTP-server export left out.
    componentize_js(&dir, &repo("wit"), &["fetch-event"]);
    stock_lookups_are_answered_by_the_fixtures(&dir, "").await;
}
