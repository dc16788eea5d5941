//! The customer-engagement scenario end to end, through one gateway with
//! the three first-party plugins, a real WebSocket client, and the
//! Salesforce and Infobip doubles: a shopper browses and orders over
//! WebSocket and gets recommendations, asks where the order is and gets
//! the answer pushed, asks for a human and a Case appears with their
//! history; the CRM holds the Contact, Order and interactions; the order
//! confirmation SMS is delivered and its report comes back as an event.

use serde_json::{Value, json};
use streamplug_tests::engagement::{Doubles, engagement_plugins};
use streamplug_tests::{TestGateway, Ws, ack, eventually, free_port, push_on, send_json, view};

async fn say(ws: &mut Ws, text: &str) -> Value {
    send_json(
        ws,
        &json!({"type": "support.message", "data": {"text": text}}),
    )
    .await
    .unwrap();
    push_on(ws, "support").await.unwrap()["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_browses_orders_asks_and_is_handed_to_a_human_with_the_crm_in_sync() {
    let Doubles { sf, ib, account } = Doubles::start().await.unwrap();
    let port = free_port().unwrap();
    let plugins = engagement_plugins(&sf, &ib, &account, port);
    let gw = TestGateway::with_plugins_on_port(port, &plugins)
        .await
        .unwrap();

    // Other shoppers looked at the tent together with a lantern.
    for customer in ["bob", "carol"] {
        for product in ["tent", "lantern"] {
            assert_eq!(gw.post(&view(customer, product)).await.unwrap().status, 202);
        }
    }
    // The shop's backend registers Alice; she browses over WebSocket.
    let registered = json!({"type": "customer.updated", "customer": "alice",
        "data": {"name": "Alice Martin", "email": "alice@example.com", "phone": "41793026727"}});
    assert_eq!(gw.post(&registered).await.unwrap().status, 202);
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    send_json(&mut ws, &view("alice", "tent")).await.unwrap();
    let recommendation = push_on(&mut ws, "recommendations").await.unwrap();
    let products = recommendation["data"]["products"].to_string();
    assert!(
        products.contains("lantern"),
        "seen together with the tent: {products}"
    );
    // The frontend waits for each event's ack (it is on disk then).
    send_json(
        &mut ws,
        &json!({"type": "cart.item_added", "data": {"product": "tent", "quantity": 1, "price": 199.0}}),
    )
    .await
    .unwrap();
    ack(&mut ws).await.unwrap();
    // At checkout the shop's backend places the order (a customer may not).
    let placed = json!({"type": "order.placed", "customer": "alice", "data": {"order": "o-1001",
        "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}});
    assert_eq!(gw.post(&placed).await.unwrap().status, 202);
    // The warehouse ships it.
    let shipped = json!({"type": "order.shipped", "customer": "alice",
        "data": {"order": "o-1001", "carrier": "DHL", "tracking": "JD014600003SE", "eta": "2026-11-26"}});
    assert_eq!(gw.post(&shipped).await.unwrap().status, 202);
    eventually("the bot to know the order shipped", || async {
        let orders = gw.kv("support-bot", "orders:alice").await?;
        Ok(orders.filter(|o| o["orders"][0]["status"] == "shipped"))
    })
    .await
    .unwrap();

    let answer = say(&mut ws, "Hi! Where is my order?").await;
    assert_eq!(answer["intent"], "order_status");
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains("o-1001") && text.contains("JD014600003SE"),
        "{text}"
    );

    let handed_over = say(&mut ws, "The tent pole is bent, I want to talk to a person").await;
    let number = handed_over["case"].as_str().unwrap().to_owned();
    let cases = sf.records("Case");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].text("CaseNumber"), number);
    let description = cases[0].text("Description");
    for seen in [
        "product.viewed tent",
        "o-1001 shipped tent",
        "chat: Hi! Where is my order?",
    ] {
        assert!(description.contains(seen), "{seen} in {description}");
    }

    // The CRM: one Contact both plugins keep, the Order, the interactions,
    // and the confirmation's delivery.
    let tasks = eventually(
        "the CRM to hold the shipment and both deliveries",
        || async {
            let tasks = sf.records("Task");
            let delivered = ["SMS", "EMAIL"].iter().all(|channel| {
                let subject = format!("{channel} delivered (order o-1001)");
                tasks.iter().any(|t| t.text("Subject") == subject)
            });
            let shipped = sf
                .records("Order")
                .iter()
                .any(|o| o.text("Shop_Status__c") == "Shipped");
            Ok((delivered && shipped).then_some(tasks))
        },
    )
    .await
    .unwrap();
    let contacts = sf.records("Contact");
    assert_eq!(contacts.len(), 1, "both plugins upsert the same contact");
    let contact = &contacts[0];
    assert_eq!(contact.text("External_Id__c"), "alice");
    assert_eq!(contact.text("MobilePhone"), "41793026727");
    assert_eq!(cases[0].text("ContactId"), contact.id);
    let order = &sf.records("Order")[0];
    assert_eq!(order.text("External_Id__c"), "o-1001");
    assert_eq!(order.text("Shop_Status__c"), "Shipped");
    assert_eq!(order.text("BillToContactId"), contact.id);
    let subjects: Vec<&str> = tasks.iter().map(|t| t.text("Subject")).collect();
    for expected in [
        "Added tent to cart",
        "Chat: Hi! Where is my order?",
        "EMAIL delivered (order o-1001)",
    ] {
        assert!(subjects.contains(&expected), "{expected} in {subjects:?}");
    }
    let sms = ib.sent().into_iter().find(|m| m.channel == "sms").unwrap();
    assert_eq!(sms.to, "41793026727");
    assert!(sms.text.contains("o-1001"), "{}", sms.text);
    let reports = gw.events("engagement-events").await.unwrap();
    let report = reports
        .iter()
        .map(|r| &r["event"])
        .find(|e| e["data"]["message"] == sms.message_id.as_str())
        .unwrap();
    assert_eq!(report["type"], "message.status");
    assert_eq!(report["subject"], "alice");
    assert_eq!(report["data"]["status"], "DELIVERED");
    assert!(
        gw.events("dlq.crm-sync")
            .await
            .unwrap_or_default()
            .is_empty()
    );
    gw.stop().await;
}
