//! Generic inbound webhooks (`POST /v1/webhooks/{name}`): each endpoint
//! verifies its sender as configured (Stripe's signature with its
//! tolerance, a plain HMAC, basic auth, a bearer token, a URL token), and a
//! verified request becomes one `webhook.received` event that a plugin
//! maps to domain events: here Infobip's delivery reports, which crm-sync
//! publishes as `message.status`, the host knowing nothing of their format.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};
use streamplug_tests::TestGateway;
use streamplug_tests::engagement::{Doubles, HOOK_TOKEN, crm_sync_gateway};
use streamplug_tests::infobip::API_KEY;
use streamplug_wire::webhook_signature::{hmac_hex, stripe_header};

const STRIPE_SECRET: &str = "whsec_test_0123456789";
const HMAC_SECRET: &str = "hmac-secret-0123";

const ENDPOINTS: &str = r#"
[webhooks.endpoints.payments]
verify = "stripe"
secret = "whsec_test_0123456789"
[webhooks.endpoints.warehouse]
verify = "hmac-sha256"
secret = "hmac-secret-0123"
header = "X-Hub-Signature-256"
[webhooks.endpoints.erp]
verify = "basic"
secret = "erp:erp-password-1"
[webhooks.endpoints.reviews]
verify = "bearer"
secret = "reviews-token-123"
"#;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// POST `body` to endpoint `name` with `headers`; the status and JSON answer.
async fn deliver(
    gw: &TestGateway,
    name: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut request = gw
        .client
        .post(format!("{}/v1/webhooks/{name}", gw.url))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (header, value) in headers {
        request = request.header(*header, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_webhooks_are_written_and_forged_or_replayed_ones_refused() {
    let gw = TestGateway::with_plugins(ENDPOINTS).await.unwrap();
    let event = br#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}"#;
    let signed = |secret: &str, t: u64| vec![("stripe-signature", stripe_header(secret, t, event))];

    let (status, receipt) = deliver(&gw, "payments", &signed(STRIPE_SECRET, now()), event).await;
    assert_eq!(status, 200, "{receipt}");
    // Stripe retries a delivery it saw no 2xx for: the same body is the
    // same event, answered and not written again.
    let (status, again) = deliver(&gw, "payments", &signed(STRIPE_SECRET, now()), event).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["events"][0]["duplicate"], true, "{again}");

    let refusals = [
        ("forged", signed("whsec_someone_else", now())),
        ("replayed", signed(STRIPE_SECRET, now() - 3600)),
        ("unsigned", vec![]),
    ];
    for (what, headers) in refusals {
        let (status, problem) = deliver(&gw, "payments", &headers, event).await;
        assert_eq!(status, 401, "{what}: {problem}");
        if what == "replayed" {
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains("tolerance"), "{detail}");
        }
    }
    // A body changed after signing.
    let tampered = br#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_2"}}}"#;
    let (status, _) = deliver(&gw, "payments", &signed(STRIPE_SECRET, now()), tampered).await;
    assert_eq!(status, 401);

    let stock = br#"{"sku":"tent","delta":-2}"#;
    let github = format!("sha256={}", hmac_hex(HMAC_SECRET, stock));
    let (status, _) = deliver(&gw, "warehouse", &[("x-hub-signature-256", github)], stock).await;
    assert_eq!(status, 200);
    let wrong = format!("sha256={}", hmac_hex("hmac-secret-9999", stock));
    let (status, _) = deliver(&gw, "warehouse", &[("x-hub-signature-256", wrong)], stock).await;
    assert_eq!(status, 401);

    let basic = |c: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(c)
        )
    };
    let invoice = b"<invoice id=\"i-1\"/>";
    let (status, _) = deliver(
        &gw,
        "erp",
        &[("authorization", basic("erp:erp-password-1"))],
        invoice,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = deliver(
        &gw,
        "erp",
        &[("authorization", basic("erp:erp-password-2"))],
        invoice,
    )
    .await;
    assert_eq!(status, 401);
    let review = br#"{"product":"tent","stars":5}"#;
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let (status, _) = deliver(&gw, "reviews", &bearer("reviews-token-123"), review).await;
    assert_eq!(status, 200);
    let (status, _) = deliver(&gw, "reviews", &bearer("reviews-token-12"), review).await;
    assert_eq!(status, 401);
    let (status, problem) = deliver(&gw, "nobody", &bearer("reviews-token-123"), review).await;
    assert_eq!(status, 404, "{problem}");

    // Four verified deliveries, one event each, keyed by the endpoint.
    let written = gw.events("webhooks").await.unwrap();
    let by_endpoint = |name: &str| {
        written
            .iter()
            .map(|r| &r["event"])
            .find(|e| e["data"]["webhook"] == name)
            .unwrap_or_else(|| panic!("no event from {name} in {written:?}"))
            .clone()
    };
    assert_eq!(written.len(), 4, "{written:?}");
    let payment = by_endpoint("payments");
    assert_eq!(payment["type"], "webhook.received");
    assert_eq!(payment["source"], "/webhooks/payments");
    let sent: Value = serde_json::from_slice(event).unwrap();
    assert_eq!(payment["data"]["body"], sent);
    assert_eq!(by_endpoint("warehouse")["data"]["body"]["sku"], "tent");
    // Not JSON: kept as it came, in base64.
    let erp = by_endpoint("erp");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(erp["data"]["body_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, invoice);
    for record in &written {
        assert_eq!(
            record["event"]["partitionkey"], record["event"]["data"]["webhook"],
            "{record}"
        );
    }
    // Nobody may send the type itself: it is what the gateway writes.
    let claimed = gw
        .post(&json!({"type": "webhook.received", "data": {"webhook": "payments", "received_at": "2026-12-05T00:00:00Z"}}))
        .await
        .unwrap();
    assert_eq!(claimed.status, 403, "{}", claimed.json);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infobip_delivery_reports_arrive_as_webhooks_and_crm_sync_maps_them() {
    let doubles = Doubles::start().await.unwrap();
    let gw = crm_sync_gateway(&doubles, 3, &["engagement-events"])
        .await
        .unwrap();
    let ib = &doubles.ib;
    let hook = format!(
        "{}/v1/webhooks/infobip?channel=sms&token={HOOK_TOKEN}",
        gw.url
    );
    let send = |callback: &str| {
        gw.client
            .post(format!("{}/sms/3/messages", ib.url))
            .header("authorization", format!("App {API_KEY}"))
            .json(
                &json!({"messages": [{"sender": "Shop", "destinations": [{"to": "41793026727"}],
                "content": {"text": "Order o-1 confirmed"},
                "webhooks": {"delivery": {"url": hook}, "contentType": "application/json",
                             "callbackData": callback}}]}),
            )
            .send()
    };
    let sent: Value = send(r#"{"customer":"alice","order":"o-1"}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = gw.wait_for_events("engagement-events", 1).await.unwrap();
    let status = &events[0]["event"];
    assert_eq!(status["type"], "message.status");
    assert_eq!(status["subject"], "alice");
    assert_eq!(status["source"], "plugin:crm-sync");
    assert_eq!(status["data"]["message"], sent["messages"][0]["messageId"]);
    assert_eq!(status["data"]["status"], "DELIVERED");
    assert_eq!(status["data"]["detail"], "DELIVERED_TO_HANDSET");
    assert_eq!(status["data"]["order"], "o-1");
    assert_eq!(status["data"]["channel"], "sms");
    assert_eq!(ib.reports_delivered(), 1, "answered 2xx once written");
    // The token is the secret: it is not written with the delivery.
    let received = gw.wait_for_events("webhooks", 1).await.unwrap();
    assert_eq!(
        received[0]["event"]["data"]["query"],
        json!({"channel": "sms"})
    );
    assert!(!received[0].to_string().contains(HOOK_TOKEN));

    // Without the token: refused, nothing written.
    let open = gw
        .client
        .post(format!("{}/v1/webhooks/infobip?channel=sms", gw.url))
        .json(
            &json!({"results": [{"messageId": "x", "status": {"groupName": "DELIVERED"},
            "callbackData": r#"{"customer":"mallory"}"#}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 401);
    assert_eq!(open.headers()["content-type"], "application/problem+json");
    // A report about no customer is written as delivered but maps to no
    // status; the plugin does not fail on it.
    send("not json").await.unwrap();
    let received = gw.wait_for_events("webhooks", 2).await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(ib.reports_delivered(), 2);
    // The next report still maps: crm-sync went past the one it skipped.
    send(r#"{"customer":"bob","order":"o-2"}"#).await.unwrap();
    let events = gw.wait_for_events("engagement-events", 2).await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events.iter().any(|e| e["event"]["subject"] == "bob"),
        "{events:?}"
    );
    assert!(
        gw.events("dlq.crm-sync")
            .await
            .unwrap_or_default()
            .is_empty()
    );
    gw.stop().await;
}
