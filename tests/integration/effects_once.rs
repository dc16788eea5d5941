//! Effectively-once external effects: crm-sync's confirmation SMS and email
//! are journal steps, so whatever fails between them (the email provider,
//! or the gateway itself, killed with SIGKILL) a customer gets one SMS and
//! one email per order, each with the step's stable message id.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::engagement::{Doubles, crm_settings, crm_sync_plugin};
use streamplug_tests::infobip::{Fault, Infobip};
use streamplug_tests::{
    Backend, ChildGateway, Stores, TEST_KEY, TestGateway, config_on, eventually, free_port,
    keyed_client,
};

fn profile() -> Value {
    json!({"type": "customer.updated", "id": "profile-1", "source": "/shop/backend",
           "specversion": "1.0", "subject": "alice",
           "data": {"name": "Alice Martin", "email": "alice@example.com", "phone": "41793026727"}})
}

fn placed() -> Value {
    json!({"type": "order.placed", "id": "order-1", "source": "/shop/backend", "specversion": "1.0",
           "subject": "alice", "data": {"order": "o-1",
           "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}})
}

fn crm_sync(doubles: &Doubles, port: u16) -> String {
    format!(
        "{}{}",
        crm_settings(&doubles.sf, &doubles.ib),
        crm_sync_plugin(
            &doubles.sf,
            &doubles.ib,
            &doubles.account,
            port,
            10,
            &["customer-interactions", "order-events"]
        )
    )
}

/// One SMS and one email went out for the order, each once, with the
/// same message id on every attempt (a UUID from the journal).
async fn confirmed_once(ib: &Infobip) {
    eventually("the confirmation email", || async {
        Ok(ib.sent().iter().any(|m| m.channel == "email").then_some(()))
    })
    .await
    .unwrap();
    let sent = ib.sent();
    let sms: Vec<_> = sent.iter().filter(|m| m.channel == "sms").collect();
    let email: Vec<_> = sent.iter().filter(|m| m.channel == "email").collect();
    assert_eq!((sms.len(), email.len()), (1, 1), "{sent:?}");
    for m in [sms[0], email[0]] {
        assert!(uuid::Uuid::parse_str(&m.message_id).is_ok(), "{m:?}");
    }
    assert_ne!(sms[0].message_id, email[0].message_id);
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_failing_after_the_sms_does_not_send_the_sms_again(#[case] backend: Backend) {
    let doubles = Doubles::start().await.unwrap();
    let port = free_port().unwrap();
    doubles.ib.fail_next_on("email", 2, Fault::ServerError);
    let gw = TestGateway::on_port(backend, port, &crm_sync(&doubles, port))
        .await
        .unwrap();
    for e in [profile(), placed()] {
        assert_eq!(gw.post(&e).await.unwrap().status, 202);
    }
    confirmed_once(&doubles.ib).await;
    assert_eq!(
        doubles.ib.received("email"),
        3,
        "two failed attempts, then the email"
    );
    assert_eq!(doubles.ib.received("sms"), 1);
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_between_the_sms_and_the_email_sends_one_sms_after_restart(
    #[case] backend: Backend,
) {
    let doubles = Doubles::start().await.unwrap();
    let port = free_port().unwrap();
    let stores = Stores::start(backend).unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = config_on(&stores, data.path(), &crm_sync(&doubles, port))
        .unwrap()
        .replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
            1,
        );
    // The email request hangs: the SMS is out, the event not committed.
    doubles.ib.fail_next_on("email", 1, Fault::Hang);
    let child = ChildGateway::start(&config, port).await.unwrap();
    let client = keyed_client(TEST_KEY).unwrap();
    for e in [profile(), placed()] {
        let r = client
            .post(format!("{}/v1/events", child.url))
            .json(&e)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    eventually("the SMS to go out and the email to hang", || async {
        Ok((doubles.ib.received("email") >= 1).then_some(()))
    })
    .await
    .unwrap();
    assert_eq!(doubles.ib.received("sms"), 1);
    child.kill();

    // Restarted on the same data: the order event is delivered again.
    let gw = TestGateway::start(&config).await.unwrap();
    confirmed_once(&doubles.ib).await;
    assert_eq!(doubles.ib.received("sms"), 1, "the SMS was not sent again");
    gw.stop().await;
}
