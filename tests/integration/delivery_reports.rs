//! CPaaS engagement tracked end to end: Infobip posts delivery reports to
//! the gateway's webhook, and they become `message.status` events for the
//! customer the message was about.

use serde_json::{Value, json};
use streamplug_tests::TestGateway;
use streamplug_tests::infobip::{API_KEY, Infobip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infobip_delivery_reports_become_message_status_events() {
    let ib = Infobip::start().await.unwrap();
    let gw = TestGateway::with_plugins("[webhooks]\ninfobip_token = \"hook-secret-1\"\n")
        .await
        .unwrap();
    let hook = format!(
        "{}/v1/webhooks/infobip?channel=sms&token=hook-secret-1",
        gw.url
    );
    let sent: Value = gw
        .client
        .post(format!("{}/sms/3/messages", ib.url))
        .header("authorization", format!("App {API_KEY}"))
        .json(
            &json!({"messages": [{"sender": "Shop", "destinations": [{"to": "41793026727"}],
            "content": {"text": "Order o-1 confirmed"},
            "webhooks": {"delivery": {"url": hook}, "contentType": "application/json",
                         "callbackData": r#"{"customer":"alice","order":"o-1"}"#}}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = gw.wait_for_events("engagement-events", 1).await.unwrap();
    let event = &events[0]["event"];
    assert_eq!(event["type"], "message.status");
    assert_eq!(event["subject"], "alice");
    assert_eq!(event["data"]["message"], sent["messages"][0]["messageId"]);
    assert_eq!(event["data"]["status"], "DELIVERED");
    assert_eq!(event["data"]["detail"], "DELIVERED_TO_HANDSET");
    assert_eq!(event["data"]["order"], "o-1");
    assert_eq!(event["data"]["channel"], "sms");
    assert_eq!(ib.reports_delivered(), 1, "answered 2xx once written");

    // Without the token, or with a report that is not one: a problem, nothing written.
    let post = |url: String, body: Value| gw.client.post(url).json(&body).send();
    let open = post(
        format!("{}/v1/webhooks/infobip", gw.url),
        json!({"results": [{"messageId": "x", "status": {"groupName": "DELIVERED"}}]}),
    )
    .await
    .unwrap();
    assert_eq!(open.status(), 401);
    assert_eq!(open.headers()["content-type"], "application/problem+json");
    let empty = post(hook.clone(), json!({"results": []})).await.unwrap();
    assert_eq!(empty.status(), 400);
    let unnamed = post(
        hook,
        json!({"results": [{"status": {"groupName": "DELIVERED"}}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        unnamed.status(),
        422,
        "a report without a message id is invalid"
    );
    assert_eq!(gw.events("engagement-events").await.unwrap().len(), 1);
    gw.stop().await;
}
