//! The first commands, end to end through the gateway: `customer.register`
//! decided by customer-registry (one customer per e-mail address) and
//! welcomed by crm-sync through the Infobip double, the contact in the
//! Salesforce double; `order.cancel.requested` decided by order-processor
//! (accepted until the order ships), sent to `POST /v1/commands` and by the
//! support bot when a shopper asks it to cancel.

use anyhow::Result;
use serde_json::{Value, json};
use streamplug_tests::engagement::{
    COMMAND_PROCESSORS, Doubles, crm_sync_gateway_with, support_bot_plugin,
};
use streamplug_tests::salesforce::Salesforce;
use streamplug_tests::{TestGateway, eventually, push_on, send_json};

fn register(customer: &str, email: &str) -> Value {
    json!({"type": "customer.register", "customer": customer,
           "data": {"email": email, "name": "Ann Lee", "marketing_consent": true}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_is_accepted_once_per_address_and_welcomed() -> Result<()> {
    let doubles = Doubles::start().await?;
    let gw =
        crm_sync_gateway_with(&doubles, 5, &["customer-interactions"], COMMAND_PROCESSORS).await?;

    let a = gw
        .post_command("", &register("ann", "Ann@Trail.example"))
        .await?;
    assert_eq!(a.status, 200, "{}", a.json);
    let event = &a.json["events"][0];
    assert_eq!(event["type"], "customer.registered", "{}", a.json);
    assert_eq!(event["subject"], "ann", "{}", a.json);
    assert_eq!(event["data"]["email"], "ann@trail.example", "{}", a.json);

    // The same registration again: accepted, nothing new.
    let a = gw
        .post_command("", &register("ann", "ann@trail.example"))
        .await?;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["events"], json!([]), "{}", a.json);
    // The address is ann's; ann has an address.
    let a = gw
        .post_command("", &register("bob", "ann@trail.example"))
        .await?;
    assert_eq!(a.status, 409, "{}", a.json);
    assert!(
        a.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("another customer")),
        "{}",
        a.json
    );
    let a = gw
        .post_command("", &register("ann", "ann.lee@trail.example"))
        .await?;
    assert_eq!(a.status, 409, "{}", a.json);
    // Refused by its schema before anyone decides.
    let a = gw
        .post_command("", &register("cid", "not-an-address"))
        .await?;
    assert_eq!(a.status, 422, "{}", a.json);

    // crm-sync made the contact and sent one welcome email.
    eventually("the contact in Salesforce", || async {
        Ok(doubles.sf.records("Contact").into_iter().find(|c| {
            c.fields.get("Email") == Some(&json!("ann@trail.example"))
                && c.fields.get("LastName") == Some(&json!("Ann Lee"))
        }))
    })
    .await?;
    let welcome = eventually("the welcome email", || async {
        Ok(doubles
            .ib
            .sent()
            .into_iter()
            .find(|s| s.channel == "email" && s.to == "ann@trail.example"))
    })
    .await?;
    assert!(welcome.text.contains("Welcome"), "{welcome:?}");
    let welcomes = doubles
        .ib
        .sent()
        .iter()
        .filter(|s| s.to == "ann@trail.example")
        .count();
    assert_eq!(welcomes, 1);
    gw.stop().await;
    Ok(())
}

fn cancel(order: &str) -> Value {
    json!({"type": "order.cancel.requested", "customer": "alice", "data": {"order": order}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_cancelled_until_it_ships_by_command_or_through_the_bot() -> Result<()> {
    let sf = Salesforce::start().await?;
    let plugins = format!(
        "{}{}{COMMAND_PROCESSORS}",
        sf.credential_toml("salesforce"),
        support_bot_plugin(&sf, 5)
    );
    let gw = TestGateway::with_plugins(&plugins).await?;
    for event in [
        json!({"type": "order.placed", "customer": "alice", "data": {"order": "o-1", "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}}),
        json!({"type": "order.placed", "customer": "alice", "data": {"order": "o-2", "items": [{"product": "mat", "quantity": 1, "price": 29.0}], "total": 29.0, "currency": "EUR"}}),
        json!({"type": "order.shipped", "customer": "alice", "data": {"order": "o-2", "carrier": "DHL", "tracking": "JD1"}}),
        json!({"type": "order.placed", "customer": "bob", "data": {"order": "o-3", "items": [{"product": "mat", "quantity": 1, "price": 29.0}], "total": 29.0, "currency": "EUR"}}),
    ] {
        assert_eq!(gw.post(&event).await?.status, 202);
    }

    // Shipped: refused as a conflict; another's order, or none: invalid.
    let a = gw.post_command("", &cancel("o-2")).await?;
    assert_eq!(a.status, 409, "{}", a.json);
    assert!(
        a.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("shipped")),
        "{}",
        a.json
    );
    for order in ["o-3", "o-9"] {
        let a = gw.post_command("", &cancel(order)).await?;
        assert_eq!(a.status, 422, "{order}: {}", a.json);
    }

    // Asked in the chat: the bot sends the command, the processor accepts
    // it, and the outcome reaches the shopper's session.
    eventually("the bot to know alice's orders", || async {
        let orders = gw.kv("support-bot", "orders:alice").await?;
        Ok(orders.filter(|o| o["orders"].as_array().is_some_and(|a| a.len() == 2)))
    })
    .await?;
    let (mut ws, _) = gw.session("alice", None).await?;
    send_json(
        &mut ws,
        &json!({"type": "support.message", "data": {"text": "Please cancel order o-1"}}),
    )
    .await?;
    let reply = push_on(&mut ws, "support").await?;
    assert_eq!(reply["data"]["cancel_requested"], "o-1", "{reply}");
    let outcome = push_on(&mut ws, "commands").await?;
    assert_eq!(outcome["data"]["status"], "accepted", "{outcome}");
    assert_eq!(
        outcome["data"]["type"], "order.cancel.requested",
        "{outcome}"
    );
    let cancelled = &outcome["data"]["events"][0];
    assert_eq!(cancelled["type"], "order.cancelled", "{outcome}");
    assert_eq!(cancelled["data"]["order"], "o-1", "{outcome}");

    // Cancelled once: a second request is a conflict.
    let a = gw.post_command("", &cancel("o-1")).await?;
    assert_eq!(a.status, 409, "{}", a.json);
    let cancellations = gw
        .events("order-events")
        .await?
        .into_iter()
        .filter(|e| e["event"]["type"] == "order.cancelled")
        .count();
    assert_eq!(cancellations, 1);
    gw.stop().await;
    Ok(())
}
