//! crm-sync through the real gateway against the Salesforce and Infobip
//! doubles: contacts, orders and notable interactions upserted (and not
//! twice for a retried or replayed event), order confirmations by SMS and email
//! whose delivery reports come back as events and end up in the CRM;
//! limits and expired sessions retried, validation errors and outages
//! dead-lettered with nothing lost.

use serde_json::{Value, json};
use streamplug_tests::engagement::{Doubles, crm_sync_gateway};
use streamplug_tests::infobip::{self, Infobip};
use streamplug_tests::salesforce::{Fault, Salesforce};
use streamplug_tests::{TestGateway, eventually};

struct World {
    sf: Salesforce,
    ib: Infobip,
    gw: TestGateway,
}

async fn world(max_attempts: u32) -> World {
    let doubles = Doubles::start().await.unwrap();
    let topics = ["customer-interactions", "order-events", "engagement-events"];
    let gw = crm_sync_gateway(&doubles, max_attempts, &topics)
        .await
        .unwrap();
    let Doubles { sf, ib, .. } = doubles;
    World { sf, ib, gw }
}

fn profile(customer: &str, email: &str) -> Value {
    json!({"type": "customer.updated", "customer": customer,
           "data": {"name": "Alice Martin", "email": email, "phone": "41793026727"}})
}

fn placed(customer: &str, order: &str) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {"order": order,
           "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}})
}

async fn post_all(gw: &TestGateway, events: &[Value]) {
    for e in events {
        let a = gw.post(e).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_orders_and_interactions_reach_salesforce_and_orders_are_confirmed() {
    let World { sf, ib, gw } = world(5).await;
    let cart = json!({"type": "cart.item_added", "customer": "alice", "id": "cart-evt-1",
                      "data": {"product": "tent", "quantity": 1, "price": 199.0}});
    post_all(
        &gw,
        &[
            profile("alice", "alice@example.com"),
            json!({"type": "product.viewed", "customer": "alice", "data": {"product": "tent"}}),
            cart.clone(),
            placed("alice", "o-1001"),
            json!({"type": "order.shipped", "customer": "alice", "data": {"order": "o-1001", "carrier": "DHL", "tracking": "JD014600003SE"}}),
        ],
    )
    .await;

    // Both confirmations are delivered, reported to the gateway's webhook,
    // and recorded as tasks.
    let tasks = eventually("the delivery reports to be recorded as tasks", || async {
        let tasks = sf.records("Task");
        Ok((tasks.len() >= 3).then_some(tasks))
    })
    .await
    .unwrap();
    let subjects: Vec<&str> = tasks.iter().map(|t| t.text("Subject")).collect();
    assert!(subjects.contains(&"Added tent to cart"), "{subjects:?}");
    assert!(
        subjects.contains(&"SMS delivered (order o-1001)"),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"EMAIL delivered (order o-1001)"),
        "{subjects:?}"
    );
    assert_eq!(tasks.len(), 3, "views are not notable: {subjects:?}");

    let contacts = sf.records("Contact");
    assert_eq!(contacts.len(), 1);
    let contact = &contacts[0];
    assert_eq!(contact.text("External_Id__c"), "alice");
    assert_eq!(contact.text("LastName"), "Alice Martin");
    assert_eq!(contact.text("Email"), "alice@example.com");
    assert_eq!(contact.text("MobilePhone"), "41793026727");
    assert!(tasks.iter().all(|t| t.text("WhoId") == contact.id.as_str()));

    let orders = sf.records("Order");
    assert_eq!(orders.len(), 1, "placed and shipped update one order");
    let order = &orders[0];
    assert_eq!(order.text("External_Id__c"), "o-1001");
    assert_eq!(order.text("Shop_Status__c"), "Shipped");
    assert_eq!(order.text("Tracking_Number__c"), "DHL JD014600003SE");
    assert_eq!(order.text("BillToContactId"), contact.id.as_str());
    assert_eq!(order.text("Status"), "Draft");
    assert!(order.text("Description").contains("1 x tent (199.00)"));

    let sent = ib.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let sms = sent.iter().find(|m| m.channel == "sms").unwrap();
    assert_eq!(sms.to, "41793026727");
    assert!(
        sms.text.contains("o-1001") && sms.text.contains("Alice Martin"),
        "{}",
        sms.text
    );
    let email = sent.iter().find(|m| m.channel == "email").unwrap();
    assert_eq!(email.to, "alice@example.com");
    assert!(
        email.text.starts_with("Your order o-1001"),
        "{}",
        email.text
    );

    let reports = gw.events("engagement-events").await.unwrap();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r["event"]["type"], "message.status");
        assert_eq!(r["event"]["subject"], "alice");
        assert_eq!(r["event"]["data"]["order"], "o-1001");
        assert_eq!(r["event"]["data"]["status"], "DELIVERED");
    }

    // A retried event (same id) is recognised at ingest and not written
    // again; a replayed order (a new event of the same order) is synced
    // again and writes nothing new.
    let composites = |sf: &Salesforce| {
        sf.received()
            .iter()
            .filter(|r| r.path == "/composite")
            .count()
    };
    let before = composites(&sf);
    let again = gw.post(&cart).await.unwrap();
    assert_eq!(again.json["events"][0]["duplicate"], true, "{}", again.json);
    post_all(&gw, &[placed("alice", "o-1001")]).await;
    eventually("the replayed order to be synced again", || async {
        Ok((composites(&sf) > before).then_some(()))
    })
    .await
    .unwrap();
    assert_eq!(sf.records("Task").len(), 3);
    assert_eq!(sf.records("Order").len(), 1);
    assert_eq!(ib.sent().len(), 2, "an order is confirmed once");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_details_that_are_no_address_get_no_message() {
    let World { sf, ib, gw } = world(5).await;
    post_all(
        &gw,
        &[
            json!({"type": "customer.updated", "customer": "mallory", "data": {
                "name": "Mallory", "phone": "call me maybe",
                "email": "m@example.com, eve@evil.example\r\nBcc: eve@evil.example"}}),
            placed("mallory", "o-666"),
        ],
    )
    .await;
    let orders = eventually("the order to reach Salesforce", || async {
        let orders = sf.records("Order");
        Ok((!orders.is_empty()).then_some(orders))
    })
    .await
    .unwrap();
    assert_eq!(orders[0].text("External_Id__c"), "o-666");
    eventually("the order to be handled", || async {
        gw.kv("crm-sync", "order:o-666").await
    })
    .await
    .unwrap();
    assert!(ib.sent().is_empty(), "{:?}", ib.sent());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_expired_sessions_are_retried_validation_errors_dead_lettered() {
    let World { sf, ib, gw } = world(5).await;
    post_all(&gw, &[profile("bob", "bob@example.com")]).await;
    eventually("bob's contact", || async {
        Ok((!sf.records("Contact").is_empty()).then_some(()))
    })
    .await
    .unwrap();
    let tokens = sf.tokens_issued();
    sf.expire_sessions();
    sf.fail_next(1, Fault::RequestLimit);
    sf.fail_next(1, Fault::TooManyRequests);
    ib.fail_next(1, infobip::Fault::TooManyRequests);
    post_all(&gw, &[placed("bob", "o-2001")]).await;
    eventually("bob's order after the retries", || async {
        Ok((!ib.sent().is_empty()).then_some(()))
    })
    .await
    .unwrap();
    assert!(
        sf.tokens_issued() > tokens,
        "a new token after the session expired"
    );
    let statuses: Vec<u16> = sf
        .received()
        .iter()
        .filter(|r| r.path == "/composite")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 401, 403, 429, 200, 200], "{statuses:?}");
    assert_eq!(sf.records("Order").len(), 1, "retries upsert one order");
    assert_eq!(ib.sent().iter().filter(|m| m.channel == "sms").count(), 1);

    // Salesforce refuses the address: dead-lettered at once with its reason,
    // and the next customer's events still flow.
    post_all(
        &gw,
        &[
            profile("carol", "carol-at-example"),
            profile("dave", "dave@example.com"),
        ],
    )
    .await;
    let dlq = gw.wait_for_events("dlq.crm-sync", 1).await.unwrap();
    let event = &dlq[0]["event"];
    let reason = event["deadletterreason"].as_str().unwrap();
    assert!(
        reason.contains("INVALID_EMAIL_ADDRESS") && reason.contains("carol-at-example"),
        "{reason}"
    );
    assert_eq!(
        event["deadletterattempts"], "1",
        "validation errors are not retried"
    );
    assert_eq!(event["subject"], "carol");
    eventually("dave's contact", || async {
        Ok(sf
            .records("Contact")
            .iter()
            .any(|c| c.text("External_Id__c") == "dave")
            .then_some(()))
    })
    .await
    .unwrap();
    assert!(
        !sf.records("Contact")
            .iter()
            .any(|c| c.text("External_Id__c") == "carol")
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_outage_is_retried_then_dead_lettered_and_nothing_is_lost() {
    let World { sf, ib, gw } = world(3).await;
    sf.fail_next(3, Fault::ServerError);
    post_all(&gw, &[placed("erin", "o-3001")]).await;
    let dlq = gw.wait_for_events("dlq.crm-sync", 1).await.unwrap();
    let event = &dlq[0]["event"];
    assert_eq!(event["deadletterattempts"], "3");
    assert!(
        event["deadletterreason"]
            .as_str()
            .unwrap()
            .contains("500 UNKNOWN_EXCEPTION")
    );
    assert_eq!(event["data"]["order"], "o-3001", "the event itself is kept");
    assert_eq!(event["data"]["items"][0]["product"], "tent");
    assert!(
        ib.sent().is_empty(),
        "no confirmation for an order the CRM did not take"
    );

    // Once Salesforce is back, the next order goes through.
    post_all(&gw, &[placed("erin", "o-3002")]).await;
    eventually("the next order", || async {
        Ok((!sf.records("Order").is_empty()).then_some(()))
    })
    .await
    .unwrap();
    assert_eq!(sf.records("Order")[0].text("External_Id__c"), "o-3002");
    gw.stop().await;
}
