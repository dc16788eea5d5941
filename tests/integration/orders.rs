//! Orders end to end, on both logs: order-processor reserves stock on the
//! product's own worker (re-keyed by product onto `stock`), authorises the
//! total at the PaymentIntents double, and confirms, rejects with the
//! reason, or expires the order by its timer, giving back what it held;
//! it captures at shipment and refunds a cancellation after capture (a
//! kill in the middle: `orders_crash`). The
//! double's signed webhooks come back through `POST /v1/webhooks/stripe`.

use std::collections::{BTreeMap, BTreeSet};

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::orders::{Shop, placed};
use streamplug_tests::{Backend, eventually, push_on};

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_customers_racing_for_ten_units_get_exactly_ten_orders(#[case] backend: Backend) {
    let shop = Shop::start(backend, 600_000).await.unwrap();
    shop.stock("tent", 10).await.unwrap();
    let orders: Vec<Value> = (0..100)
        .map(|i| {
            placed(
                &format!("c-{i:03}"),
                &format!("o-{i:03}"),
                "tent",
                1,
                49.0,
                "pm_card_visa",
            )
        })
        .collect();
    shop.gw.post_batch(&orders).await.unwrap();

    let mut outcomes = BTreeMap::new();
    for i in 0..100 {
        let id = format!("o-{i:03}");
        let outcome = shop.outcome(&id).await.unwrap();
        outcomes.insert(id, outcome);
    }
    let confirmed: BTreeSet<&String> = outcomes
        .iter()
        .filter(|(_, e)| e["type"] == "order.confirmed")
        .map(|(id, _)| id)
        .collect();
    let rejected: Vec<&Value> = outcomes
        .values()
        .filter(|e| e["type"] == "order.rejected")
        .collect();
    assert_eq!(confirmed.len(), 10, "{outcomes:#?}");
    assert_eq!(rejected.len(), 90, "{outcomes:#?}");
    for r in &rejected {
        assert_eq!(r["data"]["code"], "out_of_stock", "{r}");
        assert!(
            r["data"]["reason"]
                .as_str()
                .unwrap()
                .contains("tent is out of stock"),
            "{r}"
        );
    }
    assert_eq!(shop.available("tent").await.unwrap(), Some(0));

    // One authorisation per confirmed order, held for capture, none for
    // the refused ones; every idempotency key different.
    let intents = shop.stripe.intents();
    assert_eq!(intents.len(), 10, "{intents:#?}");
    for intent in &intents {
        assert_eq!(intent.status, "requires_capture");
        assert_eq!((intent.amount, intent.currency.as_str()), (4900, "eur"));
        assert_eq!(intent.capture_method, "manual");
        assert!(confirmed.contains(&intent.metadata["order"]), "{intent:?}");
    }
    let keys: BTreeSet<_> = shop
        .stripe
        .received()
        .into_iter()
        .filter_map(|r| r.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 10);
    // Each stock event stayed on its product's partition.
    let stock = shop.gw.events("stock").await.unwrap();
    let partitions: BTreeSet<_> = stock.iter().map(|e| e["partition"].as_u64()).collect();
    assert_eq!(partitions.len(), 1, "{partitions:?}");
    assert_eq!(
        stock.len(),
        1 + 100,
        "the stock.set and one request per order"
    );
    shop.gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_is_declined_confirmed_by_the_shopper_captured_and_refunded(
    #[case] backend: Backend,
) {
    let shop = Shop::start(backend, 600_000).await.unwrap();
    shop.stock("lamp", 1).await.unwrap();

    // Declined: rejected with the issuer's reason, the unit back on sale.
    let declined = placed(
        "dana",
        "d-1",
        "lamp",
        1,
        25.5,
        "pm_card_chargeDeclinedInsufficientFunds",
    );
    shop.gw.post(&declined).await.unwrap();
    let outcome = shop.outcome("d-1").await.unwrap();
    assert_eq!(outcome["type"], "order.rejected", "{outcome}");
    assert_eq!(outcome["data"]["code"], "payment_declined", "{outcome}");
    assert!(
        outcome["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("insufficient funds"),
        "{outcome}"
    );
    eventually("the declined order's unit back", || async {
        Ok((shop.available("lamp").await? == Some(1)).then_some(()))
    })
    .await
    .unwrap();
    let payments: Vec<Value> = shop
        .events_of("d-1")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e["type"] == "order.payment")
        .collect();
    assert_eq!(payments[0]["data"]["status"], "declined", "{payments:?}");
    assert_eq!(
        payments[0]["data"]["decline_code"], "insufficient_funds",
        "{payments:?}"
    );
    let intent = &shop.stripe.intents()[0];
    assert_eq!(
        intent.status, "canceled",
        "a declined intent is not left open"
    );

    // Needs the shopper: a push asks the page to confirm; the provider's
    // signed webhook brings the authorisation back.
    let (mut ws, _) = shop.gw.session("erin", None).await.unwrap();
    let needs = placed(
        "erin",
        "e-1",
        "lamp",
        1,
        25.5,
        "pm_card_threeDSecure2Required",
    );
    shop.gw.post(&needs).await.unwrap();
    let steps = loop {
        let push = push_on(&mut ws, "orders").await.unwrap();
        if push["data"]["step"] == "confirm_payment" {
            break push;
        }
    };
    let intent = steps["data"]["payment"]["intent"]
        .as_str()
        .unwrap()
        .to_owned();
    let bank = steps["data"]["next_action_url"].as_str().unwrap();
    assert!(
        bank.starts_with(&format!("{}/3ds/", shop.stripe.url)),
        "{steps}"
    );
    assert!(
        steps["data"]["client_secret"]
            .as_str()
            .unwrap()
            .starts_with(&intent),
        "{steps}"
    );
    shop.stripe.authenticate(&intent, true).await.unwrap();
    let confirmed = loop {
        let push = push_on(&mut ws, "orders").await.unwrap();
        if push["data"]["step"] == "confirmed" {
            break push;
        }
    };
    assert_eq!(
        confirmed["data"]["payment"]["status"], "authorised",
        "{confirmed}"
    );
    assert_eq!(
        shop.outcome("e-1").await.unwrap()["type"],
        "order.confirmed"
    );
    assert_eq!(shop.available("lamp").await.unwrap(), Some(0));

    // Shipped: captured once. Cancelled after that: refunded, and the
    // shipped unit does not come back.
    let shipped = json!({"type": "order.shipped", "customer": "erin", "data": {"order": "e-1", "carrier": "DHL"}});
    shop.gw.post(&shipped).await.unwrap();
    eventually("the capture", || async {
        Ok(shop
            .stripe
            .intents()
            .into_iter()
            .find(|i| i.id == intent && i.status == "succeeded"))
    })
    .await
    .unwrap();
    let cancelled = json!({"type": "order.cancelled", "customer": "erin", "data": {"order": "e-1", "reason": "lost in transit"}});
    shop.gw.post(&cancelled).await.unwrap();
    let refund = eventually("the refund", || async {
        Ok(shop
            .stripe
            .refunds()
            .into_iter()
            .find(|r| r["payment_intent"] == intent.as_str()))
    })
    .await
    .unwrap();
    assert_eq!(refund["amount"], 2550);
    let statuses: Vec<Value> = eventually("the refund's event", || async {
        let s: Vec<Value> = shop
            .events_of("e-1")
            .await?
            .into_iter()
            .filter(|e| e["type"] == "order.payment")
            .map(|e| e["data"]["status"].clone())
            .collect();
        Ok((s.len() >= 4).then_some(s))
    })
    .await
    .unwrap();
    assert_eq!(
        statuses,
        ["action_required", "authorised", "captured", "refunded"]
    );
    let captures = shop
        .stripe
        .received()
        .iter()
        .filter(|r| r.route.ends_with("/capture"))
        .count();
    assert_eq!(captures, 1);
    assert_eq!(shop.available("lamp").await.unwrap(), Some(0));
    shop.gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_payment_never_completes_expires_and_gives_its_stock_back(
    #[case] backend: Backend,
) {
    let shop = Shop::start(backend, 8000).await.unwrap();
    shop.stock("stove", 2).await.unwrap();
    let waiting = placed(
        "finn",
        "f-1",
        "stove",
        2,
        80.0,
        "pm_card_threeDSecure2Required",
    );
    shop.gw.post(&waiting).await.unwrap();
    let outcome = shop.outcome("f-1").await.unwrap();
    assert_eq!(outcome["type"], "order.expired", "{outcome}");
    assert!(
        outcome["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("did not complete"),
        "{outcome}"
    );
    eventually("the expired order's units back", || async {
        Ok((shop.available("stove").await? == Some(2)).then_some(()))
    })
    .await
    .unwrap();
    let intents = shop.stripe.intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].status, "canceled");
    assert_eq!(intents[0].cancellation_reason.as_deref(), Some("abandoned"));
    // Authenticating now is too late.
    assert!(
        shop.stripe
            .authenticate(&intents[0].id, true)
            .await
            .is_err()
    );
    shop.gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_checks_out_at_the_shops_prices_and_the_order_is_taken(#[case] backend: Backend) {
    let shop = Shop::start(backend, 600_000).await.unwrap();
    let set = json!({"type": "stock.set", "data": {"product": "tent", "quantity": 5, "price": 49.5, "currency": "EUR"}});
    assert_eq!(shop.gw.post(&set).await.unwrap().status, 202);
    shop.stock("mat", 5).await.unwrap(); // in stock, but not priced
    eventually("tent on sale", || async {
        Ok((shop.available("tent").await? == Some(5)).then_some(()))
    })
    .await
    .unwrap();

    // The shopper's own token, as the shop's page sends it.
    let token = shop.gw.token("nora").await.unwrap();
    let checkout = |data: Value| {
        let request = reqwest::Client::new()
            .post(format!("{}/v1/commands", shop.gw.url))
            .bearer_auth(&token)
            .json(&json!({"type": "order.place", "data": data}));
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) = checkout(json!({"order": "n-1", "items": [{"product": "tent", "quantity": 2}], "payment_method": "pm_card_visa"})).await;
    assert_eq!(status, 200, "{answer}");
    let placed = &answer["events"][0];
    assert_eq!(placed["type"], "order.placed", "{answer}");
    assert_eq!(placed["subject"], "nora", "{answer}");
    assert_eq!(
        placed["data"]["total"], 99.0,
        "the shop's price, not the page's: {answer}"
    );
    assert_eq!(
        shop.outcome("n-1").await.unwrap()["type"],
        "order.confirmed"
    );
    assert_eq!(shop.stripe.intents()[0].amount, 9900);

    for (data, status, detail) in [
        (
            json!({"order": "n-1", "items": [{"product": "tent", "quantity": 1}], "payment_method": "pm_card_visa"}),
            409,
            "already placed",
        ),
        (
            json!({"order": "n-2", "items": [{"product": "mat", "quantity": 1}], "payment_method": "pm_card_visa"}),
            422,
            "mat is not for sale",
        ),
        (
            json!({"order": "n-3", "items": [{"product": "tent", "quantity": 1}]}),
            422,
            "payment method",
        ),
        (
            json!({"order": "n-4", "items": [{"product": "tent", "quantity": 1, "price": 0.01}], "payment_method": "pm_card_visa"}),
            422,
            "price",
        ),
    ] {
        let (got, answer) = checkout(data.clone()).await;
        assert_eq!(got, status, "{data}: {answer}");
        assert!(
            answer["detail"].as_str().unwrap().contains(detail),
            "{data}: {answer}"
        );
    }
    shop.gw.stop().await;
}
