//! Plugins in other languages than Rust, built from source by the test
//! command with the registry toolchains, running in the gateway through the
//! same paths as the Rust plugins.
//!
//! Python: `examples/fraud-flagger` (componentize-py and the Python SDK in
//! `sdk/python`); JavaScript: `examples/cart-nudger` (componentize-js and
//! the JavaScript SDK in `sdk/js`); each with the manifest from its
//! `plugin.toml`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use streamplug_tests::local_server::LocalServer;
use streamplug_tests::{TestGateway, eventually, example_manifest, push_on};

fn order(customer: &str, order: &str, total: f64) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {
        "order": order, "items": [{"product": "p1", "quantity": 1, "price": total}],
        "total": total, "currency": "EUR"}})
}

/// Orders that get flagged: mallory's fourth within the hour (`m-4`), and
/// whale's too large first one (`w-1`).
fn fast_and_large() -> Vec<Value> {
    let mut events: Vec<Value> = (1..=4)
        .map(|i| order("mallory", &format!("m-{i}"), 80.0))
        .collect();
    events.push(order("whale", "w-1", 900.0));
    events
}

fn cancelled(customer: &str, order: &str) -> Value {
    json!({"type": "order.cancelled", "customer": customer, "data": {"order": order}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_flags_risky_orders() {
    let gw = TestGateway::with_plugins(&format!(
        "[topics.risk-alerts]\npartitions = 1\n{}",
        example_manifest("fraud-flagger")
    ))
    .await
    .unwrap();
    let mut events = fast_and_large();
    events.extend([
        order("flaky", "f-1", 20.0),
        cancelled("flaky", "f-1"),
        order("flaky", "f-2", 20.0),
        cancelled("flaky", "f-2"),
        order("flaky", "f-3", 20.0),
    ]);
    events.push(order("alice", "a-1", 50.0));
    for event in &events {
        let a = gw.post(event).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }

    let alerts = gw.wait_for_events("risk-alerts", 3).await.unwrap();
    let mut flagged: Vec<(String, String)> = alerts
        .iter()
        .map(|e| {
            assert_eq!(e["event"]["type"], "order.flagged", "{e}");
            let data = &e["event"]["data"];
            (
                data["order"].as_str().unwrap().to_owned(),
                data["reasons"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        [
            ("f-3".to_owned(), "2 cancelled orders before".to_owned()),
            (
                "m-4".to_owned(),
                "4 orders within an hour (limit 3)".to_owned()
            ),
            (
                "w-1".to_owned(),
                "first order of 900.00 EUR exceeds 500.00".to_owned()
            ),
        ]
    );
    // Every event handled (the last one too), none dead-lettered.
    eventually("alice's order to be handled", || async {
        gw.kv("fraud-flagger", "customer:alice").await
    })
    .await
    .unwrap();
    assert!(gw.events("dlq.fraud-flagger").await.unwrap().is_empty());
    assert_eq!(gw.events("risk-alerts").await.unwrap().len(), 3);
    let logged = gw.gateway.loader.logs().read("fraud-flagger", 0, 100);
    assert!(
        logged
            .iter()
            .any(|l| l.level == "warn" && l.message.contains("order m-4 of mallory flagged")),
        "{logged:?}"
    );
    gw.stop().await;
}

/// A webhook receiver: every request's `Idempotency-Key` and body; the
/// first request is answered only after `first_delay` (its answer lost to
/// a client with a shorter timeout).
struct Hook {
    server: LocalServer,
    received: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Hook {
    async fn start(first_delay: Duration) -> Hook {
        let received: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let seen = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                    let seen = seen.clone();
                    async move {
                        let key = headers
                            .get("idempotency-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let first = {
                            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                            seen.push((key, body.0));
                            seen.len() == 1
                        };
                        if first {
                            tokio::time::sleep(first_delay).await;
                        }
                        "ok"
                    }
                },
            ),
        );
        Hook {
            server: LocalServer::start(app).await.unwrap(),
            received,
        }
    }

    fn received(&self) -> Vec<(String, Value)> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_notifies_the_risk_team_once_per_flagged_order() {
    // The first notification is answered only after the plugin gave up
    // on it (10 s against its 6 s timeout): that event is attempted again,
    // with the same idempotency key. The limits are generous because the
    // whole call counts against them, and a CPython call in a debug gateway
    // can take seconds while the rest of the suite loads both cores.
    let hook = Hook::start(Duration::from_secs(10)).await;
    let manifest = example_manifest("fraud-flagger")
        .replace(
            r#"allowed_hosts = ["https://hooks.slack.com"]"#,
            &format!(r#"allowed_hosts = ["{}"]"#, hook.server.url),
        )
        .replace(
            "# notify_url =",
            &format!("notify_url = \"{}/hook\"\n# was:", hook.server.url),
        )
        .replace(
            "memory_mib = 64",
            "memory_mib = 64\ntimeout_ms = 6000\ncpu_ms = 3000",
        );
    let gw =
        TestGateway::with_plugins(&format!("[topics.risk-alerts]\npartitions = 1\n{manifest}"))
            .await
            .unwrap();
    for event in &fast_and_large() {
        assert_eq!(gw.post(event).await.unwrap().status, 202);
    }
    if let Err(e) = gw.wait_for_events("risk-alerts", 2).await {
        let dead = gw.events("dlq.fraud-flagger").await;
        panic!(
            "{e:#}; dead-lettered: {dead:?}; the hook received {:?}",
            hook.received()
        );
    }
    let received = eventually("both flagged orders to be posted", || async {
        let r = hook.received();
        let orders: std::collections::BTreeSet<String> = r
            .iter()
            .map(|(_, body)| body["order"].as_str().unwrap_or_default().to_owned())
            .collect();
        Ok((orders.len() == 2).then_some(r))
    })
    .await
    .unwrap();
    let mut keys: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (key, body) in &received {
        assert!(uuid::Uuid::parse_str(key).is_ok(), "{key}");
        assert!(body["text"].as_str().unwrap().contains("flagged"), "{body}");
        keys.entry(body["order"].as_str().unwrap().to_owned())
            .or_default()
            .push(key.clone());
    }
    // Each order has one key; the lost answer's retry carried it again.
    for (order, order_keys) in &keys {
        assert!(
            order_keys.windows(2).all(|w| w[0] == w[1]),
            "{order}: {order_keys:?}"
        );
    }
    assert_ne!(keys["m-4"][0], keys["w-1"][0]);
    assert_eq!(
        received.len(),
        3,
        "one retry, for the lost answer: {received:?}"
    );
    assert_eq!(
        gw.events("risk-alerts").await.unwrap().len(),
        2,
        "alerts published once"
    );
    gw.stop().await;
}

/// A CloudEvent of `customer` at `minute` minutes past 10:00.
fn at(minute: u32, customer: &str, ty: &str, data: Value) -> Value {
    json!({"specversion": "1.0", "id": format!("{customer}-{ty}-{minute}"), "source": "/web/shop",
           "type": ty, "subject": customer, "time": format!("2026-11-30T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60),
           "datacontenttype": "application/json", "data": data})
}

fn added(minute: u32, customer: &str, product: &str, quantity: u32, price: f64) -> Value {
    at(
        minute,
        customer,
        "cart.item_added",
        json!({"product": product, "quantity": quantity, "price": price}),
    )
}

fn visit(minute: u32, customer: &str) -> Value {
    at(minute, customer, "page.viewed", json!({"page": "/"}))
}

/// Milliseconds since the epoch of `minute` past 10:00 (the nudger's clock).
fn millis(minute: u32) -> i64 {
    1_796_032_800_000 + i64::from(minute) * 60_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_plugin_reminds_customers_of_abandoned_carts() {
    let gw = TestGateway::with_plugins(&example_manifest("cart-nudger"))
        .await
        .unwrap();
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    let events = [
        // alice leaves two products for 44 minutes, comes back twice, then
        // changes her cart.
        added(0, "alice", "tent", 1, 199.0),
        added(1, "alice", "pegs", 2, 4.5),
        at(10, "alice", "product.viewed", json!({"product": "stove"})),
        visit(45, "alice"),
        visit(50, "alice"),
        added(51, "alice", "stove", 1, 39.0),
        // bob orders what he put in his cart.
        added(0, "bob", "tent", 1, 199.0),
        at(
            5,
            "bob",
            "order.placed",
            json!({"order": "b-1", "total": 199.0, "currency": "EUR",
            "items": [{"product": "tent", "quantity": 1, "price": 199.0}]}),
        ),
        visit(60, "bob"),
        added(61, "bob", "lamp", 1, 15.0),
        // carol empties her cart.
        added(0, "carol", "tent", 1, 199.0),
        at(2, "carol", "cart.item_removed", json!({"product": "tent"})),
        visit(60, "carol"),
        added(61, "carol", "lamp", 1, 15.0),
    ];
    for event in &events {
        let a = gw.post(event).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }

    let push = push_on(&mut ws, "notifications").await.unwrap();
    assert_eq!(push["type"], "cart.reminder", "{push}");
    assert_eq!(
        push["data"]["text"], "You left 2 items in your cart",
        "{push}"
    );
    assert_eq!(push["data"]["total"], 208.0, "{push}");
    assert_eq!(push["cause"], "alice-page.viewed-45", "{push}");

    // Every customer's last event handled (it changed the cart after the
    // visits), so every visit before it was too.
    for customer in ["alice", "bob", "carol"] {
        eventually(&format!("{customer}'s last change"), || async {
            let cart = gw.kv("cart-nudger", &format!("cart:{customer}")).await?;
            Ok(cart.filter(|c| c["updated"] == millis(if customer == "alice" { 51 } else { 61 })))
        })
        .await
        .unwrap();
    }
    let abandoned = gw.events("engagement-events").await.unwrap();
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    let event = &abandoned[0]["event"];
    assert_eq!(event["type"], "cart.abandoned");
    assert_eq!(event["subject"], "alice");
    assert_eq!(
        event["data"],
        // JavaScript numbers: whole ones come back as integers.
        json!({"customer": "alice", "total": 208, "idle_minutes": 44, "items": [
            {"product": "tent", "quantity": 1, "price": 199},
            {"product": "pegs", "quantity": 2, "price": 4.5}]})
    );
    let alice = gw.kv("cart-nudger", "cart:alice").await.unwrap().unwrap();
    assert_eq!(
        alice["reminded"], false,
        "a changed cart can be reminded of again: {alice}"
    );
    assert!(gw.events("dlq.cart-nudger").await.unwrap().is_empty());
    let logged = gw.gateway.loader.logs().read("cart-nudger", 0, 100);
    assert!(
        logged
            .iter()
            .any(|l| l.level == "info"
                && l.message == "reminded alice of a cart of 208 idle for 44 min"),
        "{logged:?}"
    );
    gw.stop().await;
}

/// `cart.item_added` as a deployment might loosen it: `product` no longer
/// required (the standard schema otherwise).
const LOOSE_CART_ITEM_ADDED: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "description": "A customer put a product in the cart.",
  "x-streamplug": {"type": "cart.item_added", "version": 1, "origin": "customer"},
  "type": "object",
  "properties": {
    "product": {"type": "string", "minLength": 1},
    "quantity": {"type": ["integer", "null"], "minimum": 1},
    "price": {"type": ["number", "null"], "minimum": 0}
  }
}"#;

/// The JavaScript component carries the vocabulary it was built with
/// (`sdk/js/streamplug/vocabulary.js`): when the gateway's schema lets
/// through data that vocabulary does not allow, `event.typed()` rejects the
/// event naming the field, and the events around it are handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_plugin_rejects_data_its_vocabulary_does_not_allow() {
    let types = tempfile::tempdir().unwrap();
    std::fs::write(
        types.path().join("cart.item_added.json"),
        LOOSE_CART_ITEM_ADDED,
    )
    .unwrap();
    let settings = format!(
        "[vocabulary]\ndir = {:?}\n\n{}",
        types.path().display().to_string(),
        example_manifest("cart-nudger")
    );
    let gw = TestGateway::with_plugins(&settings).await.unwrap();
    for event in [
        added(0, "dora", "tent", 1, 199.0),
        at(1, "dora", "cart.item_added", json!({"quantity": 2})),
        added(2, "dora", "pegs", 2, 4.5),
    ] {
        let a = gw.post(&event).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }
    let dlq = gw.wait_for_events("dlq.cart-nudger", 1).await.unwrap();
    let event = &dlq[0]["event"];
    assert_eq!(event["id"], "dora-cart.item_added-1", "{event}");
    assert_eq!(
        event["deadletterreason"],
        "rejected: cart.item_added: data has no `product`, which CartItemAdded requires",
        "{event}"
    );
    eventually("dora's cart after the rejected event", || async {
        let cart = gw.kv("cart-nudger", "cart:dora").await?;
        Ok(cart.filter(|c| c["updated"] == millis(2)))
    })
    .await
    .unwrap();
    let cart = gw.kv("cart-nudger", "cart:dora").await.unwrap().unwrap();
    assert_eq!(
        cart["items"],
        json!({"tent": {"quantity": 1, "price": 199}, "pegs": {"quantity": 2, "price": 4.5}})
    );
    gw.stop().await;
}
