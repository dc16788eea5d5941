//! customer-view, on both logs: a customer's events (profile, views, cart,
//! an order taken end to end through order-processor and the payment
//! double, a support message, a delivery report) fold into one view that
//! the query answers to the customer itself and to staff, not to another
//! customer, and that is pushed to the customer's sessions as it changes.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::orders::{CUSTOMER_VIEW, Shop, placed};
use streamplug_tests::{Backend, eventually, push_on};

fn event(ty: &str, data: Value) -> Value {
    json!({"type": ty, "customer": "vera", "data": data})
}

/// What the view says, without the bookkeeping fields.
fn shown(view: &Value) -> Value {
    let mut v = view.clone();
    v.as_object_mut().map(|o| o.remove("updated_at"));
    v["messages"].as_object_mut().map(|o| o.remove("seen"));
    for order in v["orders"].as_array_mut().into_iter().flatten() {
        order.as_object_mut().map(|o| o.remove("counted"));
    }
    v
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_view_matches_the_events_sent_and_only_its_readers_see_it(
    #[case] backend: Backend,
) {
    let shop = Shop::start_with(backend, 600_000, CUSTOMER_VIEW)
        .await
        .unwrap();
    let gw = &shop.gw;
    shop.stock("tent", 3).await.unwrap();
    let (mut ws, _) = gw.session("vera", None).await.unwrap();
    for e in [
        event(
            "customer.updated",
            json!({"name": "Vera Lind", "email": "vera@trail.example"}),
        ),
        event("product.viewed", json!({"product": "tent"})),
        event("product.viewed", json!({"product": "mat"})),
        event("product.viewed", json!({"product": "tent"})),
        event(
            "cart.item_added",
            json!({"product": "tent", "price": 199.0}),
        ),
        event(
            "cart.item_added",
            json!({"product": "mat", "quantity": 2, "price": 29.0}),
        ),
        event(
            "cart.item_removed",
            json!({"product": "mat", "quantity": 1}),
        ),
        placed("vera", "v-1", "tent", 1, 199.0, "pm_card_visa"),
        event(
            "support.message",
            json!({"text": "When does my tent ship?", "session": "s-1"}),
        ),
        event(
            "message.status",
            json!({"message": "m-1", "channel": "sms", "status": "DELIVERED", "order": "v-1"}),
        ),
    ] {
        let a = gw.post(&e).await.unwrap();
        assert_eq!(a.status, 202, "{e}: {}", a.json);
    }
    assert_eq!(
        shop.outcome("v-1").await.unwrap()["type"],
        "order.confirmed"
    );
    let shipped = event("order.shipped", json!({"order": "v-1", "carrier": "DHL"}));
    assert_eq!(gw.post(&shipped).await.unwrap().status, 202);

    let expected = json!({
        "customer": "vera",
        "profile": {"name": "Vera Lind", "email": "vera@trail.example", "registered": false},
        "cart": {"mat": {"quantity": 1, "price": 29.0}},
        "recent_views": ["tent", "mat"],
        "orders": [{"order": "v-1", "status": "shipped", "total": 199.0, "currency": "EUR", "payment": "captured"}],
        "support": {"messages": 1, "last_message": "When does my tent ship?"},
        "messages": {"sent": 1, "delivered": 1, "failed": 0},
        "lifetime_value": 199.0,
    });
    // Staff (the test key) read any view.
    let view = eventually("the view to catch up", || async {
        let a = gw
            .get("/v1/plugins/customer-view/queries/view/vera")
            .await?;
        Ok((a.status == 200 && shown(&a.json) == expected).then_some(a.json))
    })
    .await
    .unwrap_or_else(|e| panic!("{e}: expected {expected:#}"));
    assert!(view["updated_at"].is_string(), "{view}");

    // The customer reads its own view, not another's.
    let client = reqwest::Client::new();
    let ask = |customer: &str| {
        let url = format!(
            "{}/v1/plugins/customer-view/queries/view/{customer}",
            gw.url
        );
        let client = client.clone();
        async move {
            let token = gw.token("vera").await.unwrap();
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ask("vera").await, 200);
    assert_eq!(ask("walt").await, 403);

    // The session was told of each change; the last push is the view.
    let pushed = loop {
        let push = push_on(&mut ws, "view").await.unwrap();
        assert_eq!(push["type"], "customer.view", "{push}");
        if shown(&push["data"]) == expected {
            break push;
        }
    };
    assert_eq!(pushed["data"], view);
    shop.gw.stop().await;
}
