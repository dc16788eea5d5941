//! The Infobip double answers like Infobip, and posts delivery reports to
//! the webhook a message names, as the real service does.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use streamplug_tests::eventually;
use streamplug_tests::infobip::{API_KEY, Fault, Infobip};
use streamplug_tests::local_server::LocalServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_infobip_double_sends_validates_and_reports_delivery() {
    let ib = Infobip::start().await.unwrap();
    // A webhook receiver for delivery reports.
    let reports: Arc<Mutex<Vec<Value>>> = Arc::default();
    let store = reports.clone();
    let app = axum::Router::new().route(
        "/reports",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let receiver = LocalServer::start(app).await.unwrap();
    let hook = format!("{}/reports", receiver.url);

    let client = reqwest::Client::new();
    let send = |body: Value, key: &str| {
        client
            .post(format!("{}/sms/3/messages", ib.url))
            .header("authorization", format!("App {key}"))
            .json(&body)
            .send()
    };
    let sms = json!({"messages": [{"sender": "Shop", "destinations": [{"to": "41793026727"}],
        "content": {"text": "Order o-1 confirmed"},
        "webhooks": {"delivery": {"url": hook}, "contentType": "application/json", "callbackData": "order:o-1"}}]});
    let unauthorized = send(sms.clone(), "wrong").await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(
        unauthorized.json::<Value>().await.unwrap()["requestError"]["serviceException"]["messageId"],
        "UNAUTHORIZED"
    );
    let ok = send(sms.clone(), API_KEY).await.unwrap();
    assert_eq!(ok.status(), 200);
    let ok: Value = ok.json().await.unwrap();
    assert_eq!(ok["messages"][0]["status"]["groupName"], "PENDING");
    assert_eq!(ok["messages"][0]["destination"], "41793026727");
    let invalid = send(
        json!({"messages": [{"destinations": [{"to": "not-a-number"}], "content": {"text": ""}}]}),
        API_KEY,
    )
    .await
    .unwrap();
    assert_eq!(invalid.status(), 400);
    let errors = &invalid.json::<Value>().await.unwrap()["requestError"]["serviceException"]["validationErrors"];
    assert!(
        errors["messages[0].destinations[0].to"].is_array(),
        "{errors}"
    );
    ib.fail_next(1, Fault::TooManyRequests);
    assert_eq!(send(sms, API_KEY).await.unwrap().status(), 429);

    let report = eventually("the delivery report", || async {
        Ok(reports.lock().unwrap().first().cloned())
    })
    .await
    .unwrap();
    let result = &report["results"][0];
    assert_eq!(result["messageId"], ok["messages"][0]["messageId"]);
    assert_eq!(result["status"]["groupName"], "DELIVERED");
    assert_eq!(result["callbackData"], "order:o-1");

    // Email is multipart/form-data.
    let boundary = "streamplug-boundary";
    let part = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let body = [
        part("from", "Shop <shop@example.com>"),
        part("to", "alice@example.com"),
        part("subject", "Order o-1 confirmed"),
        part("text", "Thanks!"),
        format!("--{boundary}--\r\n"),
    ]
    .concat();
    let email = client
        .post(format!("{}/email/3/send", ib.url))
        .header("authorization", format!("App {API_KEY}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(email.status(), 200);
    let sent = ib.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].channel, "email");
    assert_eq!(sent[1].to, "alice@example.com");
    drop(receiver);
}
