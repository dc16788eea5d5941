//! The support bot through the real gateway: a shopper's questions over
//! WebSocket answered from the order state, escalation to a Salesforce Case
//! with the history, one Case per conversation (later messages as comments,
//! a new Case once an agent closed it), a lost answer never making a second
//! Case, and a CRM outage retried then dead-lettered.

use serde_json::{Value, json};
use streamplug_tests::engagement::support_bot_plugin;
use streamplug_tests::salesforce::{Fault, Salesforce};
use streamplug_tests::{TestGateway, eventually, pushes, send_json, view};

fn manifest(sf: &Salesforce, max_attempts: u32) -> String {
    format!(
        "{}{}",
        sf.credential_toml("salesforce"),
        support_bot_plugin(sf, max_attempts)
    )
}

async fn place_and_ship(gw: &TestGateway, customer: &str) {
    for event in [
        json!({"type": "customer.updated", "customer": customer, "data": {"name": "Alice Martin", "email": "alice@example.com", "phone": "41793026727"}}),
        json!({"type": "order.placed", "customer": customer, "data": {"order": "o-1001", "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}}),
        json!({"type": "order.shipped", "customer": customer, "data": {"order": "o-1001", "carrier": "DHL", "tracking": "JD014600003SE", "eta": "2026-11-26"}}),
    ] {
        assert_eq!(gw.post(&event).await.unwrap().status, 202);
    }
    eventually("the bot to know the order shipped", || async {
        let orders = gw.kv("support-bot", &format!("orders:{customer}")).await?;
        Ok(orders.filter(|o| o["orders"][0]["status"] == "shipped"))
    })
    .await
    .unwrap();
}

async fn ask(ws: &mut streamplug_tests::Ws, text: &str) -> Value {
    send_json(
        ws,
        &json!({"type": "support.message", "data": {"text": text}}),
    )
    .await
    .unwrap();
    let push = pushes(ws, 1).await.unwrap().remove(0);
    assert_eq!(push["channel"], "support");
    assert_eq!(push["type"], "support.reply");
    push["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_answers_order_questions_and_escalates_to_a_salesforce_case() {
    let sf = Salesforce::start().await.unwrap();
    let gw = TestGateway::with_plugins(&manifest(&sf, 5)).await.unwrap();
    assert_eq!(gw.post(&view("alice", "tent")).await.unwrap().status, 202);
    place_and_ship(&gw, "alice").await;
    let (mut ws, _) = gw.session("alice", None).await.unwrap();

    let reply = ask(&mut ws, "Hi, where is my order?").await;
    assert_eq!(reply["intent"], "order_status");
    let text = reply["text"].as_str().unwrap();
    assert!(
        text.contains("o-1001") && text.contains("DHL") && text.contains("JD014600003SE"),
        "{text}"
    );
    let reply = ask(&mut ws, "How do I return it?").await;
    assert!(
        reply["text"].as_str().unwrap().contains("30 days"),
        "{reply}"
    );
    assert!(sf.records("Case").is_empty(), "nothing escalated yet");

    let reply = ask(&mut ws, "I want to talk to a human please").await;
    assert_eq!(reply["intent"], "human");
    let number = reply["case"].as_str().unwrap().to_owned();
    assert!(reply["text"].as_str().unwrap().contains(&number));
    let cases = sf.records("Case");
    assert_eq!(cases.len(), 1);
    let case = &cases[0].fields;
    assert_eq!(case["CaseNumber"], number.as_str());
    assert_eq!(case["Origin"], "Web");
    let description = case["Description"].as_str().unwrap();
    assert!(description.contains("o-1001 shipped tent"), "{description}");
    assert!(description.contains("product.viewed tent"), "{description}");
    assert!(
        description.contains("chat: Hi, where is my order?"),
        "{description}"
    );
    let contacts = sf.records("Contact");
    assert_eq!(contacts[0].fields["External_Id__c"], "alice");
    assert_eq!(contacts[0].fields["LastName"], "Alice Martin");
    assert_eq!(contacts[0].fields["Email"], "alice@example.com");
    assert_eq!(case["ContactId"], contacts[0].id.as_str());

    // Asking again does not open a second case: the message joins the
    // open one as a comment.
    let again = ask(&mut ws, "hello?? still waiting for a person").await;
    assert_eq!(again["case"], number.as_str());
    assert_eq!(sf.records("Case").len(), 1);
    let comments = sf.records("CaseComment");
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].fields["ParentId"], cases[0].id.as_str());
    assert_eq!(
        comments[0].fields["CommentBody"],
        "hello?? still waiting for a person"
    );
    // A question the bot answers while the case is open joins it too.
    let answered = ask(&mut ws, "How do I return it?").await;
    assert!(answered.get("case").is_none() || answered["case"].is_null());
    assert_eq!(sf.records("CaseComment").len(), 2);

    // An agent closes the case: the conversation is over, and the next
    // escalation opens a new case (the closed one gets no comment).
    sf.update(&cases[0].id, json!({"Status": "Closed"}))
        .unwrap();
    let next = ask(&mut ws, "my parcel arrived broken, I need a person").await;
    let new_number = next["case"].as_str().unwrap();
    assert_ne!(new_number, number, "{next}");
    assert_eq!(sf.records("Case").len(), 2);
    assert_eq!(sf.records("CaseComment").len(), 2);
    // Each case opened was announced once, for the customer's view.
    let opened: Vec<Value> = gw
        .events("support-inquiries")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e["event"].clone())
        .filter(|e| e["type"] == "support.case_opened")
        .collect();
    let numbers: Vec<&Value> = opened.iter().map(|e| &e["data"]["case"]).collect();
    assert_eq!(numbers, [&json!(number), &json!(new_number)], "{opened:?}");
    assert!(opened.iter().all(|e| e["subject"] == "alice"), "{opened:?}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_whose_answer_was_lost_opens_one_case() {
    let sf = Salesforce::start().await.unwrap();
    let gw = TestGateway::with_plugins(&manifest(&sf, 5)).await.unwrap();
    let (mut ws, _) = gw.session("carol", None).await.unwrap();
    // The case is created, but Salesforce's answer never arrives: the
    // event is retried, and the retry finds the case by its key.
    sf.fail_next(1, Fault::LostAnswer);
    let reply = ask(&mut ws, "I want to talk to a human").await;
    let cases = sf.records("Case");
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(reply["case"], cases[0].fields["CaseNumber"]);
    let key = cases[0].fields["Streamplug_Key__c"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(key).is_ok(), "{key}");
    let creates: Vec<_> = sf
        .received()
        .into_iter()
        .filter(|r| r.path == "/composite")
        .collect();
    assert_eq!(creates.len(), 2, "the lost attempt and its retry");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_outage_is_retried_then_dead_lettered_and_nothing_is_lost() {
    let sf = Salesforce::start().await.unwrap();
    let gw = TestGateway::with_plugins(&manifest(&sf, 3)).await.unwrap();
    sf.fail_next(100, Fault::ServerError);
    let a = gw
        .post(&json!({"type": "support.message", "customer": "bob", "data": {"text": "my parcel arrived broken"}}))
        .await
        .unwrap();
    assert_eq!(a.status, 202);
    let dlq = gw.wait_for_events("dlq.support-bot", 1).await.unwrap();
    let reason = dlq[0]["event"]["deadletterreason"].as_str().unwrap();
    assert!(reason.contains("500"), "{reason}");
    assert_eq!(dlq[0]["event"]["deadletterattempts"], "3");
    assert_eq!(
        dlq[0]["event"]["data"]["text"], "my parcel arrived broken",
        "the event itself is kept"
    );
    let composite_calls = sf
        .received()
        .iter()
        .filter(|r| r.path == "/composite")
        .count();
    assert_eq!(composite_calls, 3, "one call per attempt");
    assert!(
        gw.events("customer-pushes").await.unwrap().is_empty(),
        "no reply was pushed for a failed attempt"
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_widget_gets_the_reply_in_the_same_http_exchange() {
    let sf = Salesforce::start().await.unwrap();
    let gw = TestGateway::with_plugins(&manifest(&sf, 5)).await.unwrap();
    place_and_ship(&gw, "carol").await;
    let ask = |body: Value, wait: &str| {
        gw.client
            .post(format!("{}/v1/events?reply_timeout_ms={wait}", gw.url))
            .json(&body)
            .send()
    };
    let answer = ask(
        json!({"type": "support.message", "customer": "carol", "data": {"text": "where is my order?"}}),
        "20000",
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    let reply = &body["reply"];
    assert_eq!(reply["channel"], "support");
    assert_eq!(reply["cause"], body["events"][0]["id"]);
    assert!(
        reply["data"]["text"]
            .as_str()
            .unwrap()
            .contains("JD014600003SE"),
        "{body}"
    );

    // Nothing answers a product view: acknowledged, no reply.
    let quiet = ask(view("carol", "stove"), "300").await.unwrap();
    assert_eq!(quiet.status(), 202);
    let quiet: Value = quiet.json().await.unwrap();
    assert_eq!(quiet["accepted"], 1);
    assert!(quiet["reply"].is_null());

    // With a batch, the reply is the first push any of its events causes.
    let batch = ask(
        json!([
            view("carol", "a"),
            {"type": "support.message", "customer": "carol", "data": {"text": "where is my order?"}},
        ]),
        "20000",
    )
    .await
    .unwrap();
    assert_eq!(batch.status(), 200);
    let batch: Value = batch.json().await.unwrap();
    assert_eq!(batch["accepted"], 2, "{batch}");
    assert_eq!(batch["reply"]["cause"], batch["events"][1]["id"], "{batch}");
    let bad = ask(view("carol", "a"), "soon").await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    gw.stop().await;
}
