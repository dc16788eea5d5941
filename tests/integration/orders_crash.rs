//! An order killed in the middle, on both logs: a child gateway is
//! SIGKILLed while the payment double holds its answer, first to the
//! authorisation, then to the capture; after each restart the retried call
//! is the provider's replay (one intent, one capture) and the stock is held
//! once.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::orders::{Shop, WEBHOOK_SECRET, order_flow, placed};
use streamplug_tests::stripe::{Intent, Stripe};
use streamplug_tests::{
    Backend, ChildGateway, Stores, TEST_KEY, TestGateway, config_on, eventually, free_port,
    keyed_client,
};

/// Wait until the double holds an intent for which `done` is true.
async fn intent_where(shop_stripe: &Stripe, done: impl Fn(&Intent) -> bool) -> Intent {
    eventually("the provider to act", || async {
        Ok(shop_stripe.intents().into_iter().find(|i| done(i)))
    })
    .await
    .unwrap()
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_killed_mid_payment_resumes_without_paying_twice_or_losing_stock(
    #[case] backend: Backend,
) {
    let stores = Stores::start(backend).unwrap();
    let data = tempfile::tempdir().unwrap();
    let stripe = Stripe::start().await.unwrap();
    let port = free_port().unwrap();
    stripe.send_webhooks_to(
        &format!("http://127.0.0.1:{port}/v1/webhooks/stripe"),
        WEBHOOK_SECRET,
    );
    let config = config_on(&stores, data.path(), &order_flow(&stripe, 600_000, port))
        .unwrap()
        .replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
            1,
        );
    let client = keyed_client(TEST_KEY).unwrap();
    let post = |child: &ChildGateway, event: Value| {
        let request = client.post(format!("{}/v1/events", child.url)).json(&event);
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 202);
        }
    };

    // Killed while the provider authorises: the intent exists there, the
    // gateway never heard back.
    let child = ChildGateway::start(&config, port).await.unwrap();
    post(
        &child,
        json!({"type": "stock.set", "data": {"product": "sofa", "quantity": 3}}),
    )
    .await;
    stripe.hold_answers();
    post(
        &child,
        placed("kim", "k-1", "sofa", 1, 899.0, "pm_card_visa"),
    )
    .await;
    intent_where(&stripe, |i| i.status == "requires_capture").await;
    child.kill();
    stripe.release();

    let gw = TestGateway::start(&config).await.unwrap();
    let shop = Shop::attach(gw, stripe);
    assert_eq!(
        shop.outcome("k-1").await.unwrap()["type"],
        "order.confirmed"
    );
    assert_eq!(shop.stripe.intents().len(), 1, "authorised once");
    let creates: Vec<_> = shop
        .stripe
        .received()
        .into_iter()
        .filter(|r| r.route == "POST /v1/payment_intents")
        .collect();
    assert_eq!(creates.len(), 2, "{creates:?}");
    assert!(
        creates[1].replayed && creates[0].idempotency_key == creates[1].idempotency_key,
        "{creates:?}"
    );
    assert_eq!(
        shop.available("sofa").await.unwrap(),
        Some(2),
        "one unit held, once"
    );
    let Shop { gw, stripe } = shop;
    gw.stop().await;

    // Killed while the provider captures at shipment.
    let child = ChildGateway::start(&config, port).await.unwrap();
    stripe.hold_answers();
    post(
        &child,
        json!({"type": "order.shipped", "customer": "kim", "data": {"order": "k-1"}}),
    )
    .await;
    intent_where(&stripe, |i| i.status == "succeeded").await;
    child.kill();
    stripe.release();

    let gw = TestGateway::start(&config).await.unwrap();
    let shop = Shop::attach(gw, stripe);
    eventually("the capture's event", || async {
        Ok(shop
            .events_of("k-1")
            .await?
            .into_iter()
            .find(|e| e["type"] == "order.payment" && e["data"]["status"] == "captured"))
    })
    .await
    .unwrap();
    let captures: Vec<_> = shop
        .stripe
        .received()
        .into_iter()
        .filter(|r| r.route.ends_with("/capture"))
        .collect();
    assert_eq!(captures.len(), 2, "{captures:?}");
    assert!(captures[1].replayed, "{captures:?}");
    assert_eq!(
        shop.stripe.intents()[0].amount_received,
        89_900,
        "captured once"
    );
    assert_eq!(shop.available("sofa").await.unwrap(), Some(2));
    shop.gw.stop().await;
}
