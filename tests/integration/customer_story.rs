//! One customer, one story: a shop's backend posts a customer's profile
//! and, right after it, the customer's order, on different topics. crm-sync
//! reads both topics and must see the profile (with the phone number)
//! before the order, for every customer, on both backends: each order is
//! confirmed by exactly one SMS and one email.

use std::collections::BTreeMap;

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::engagement::{Doubles, crm_settings, crm_sync_plugin};
use streamplug_tests::{Backend, TestGateway, eventually, free_port};

const CUSTOMERS: usize = 50;

fn profile(customer: &str) -> Value {
    json!({"type": "customer.updated", "customer": customer,
           "data": {"name": format!("Shopper {customer}"), "email": format!("{customer}@example.com"),
                    "phone": "41793026727"}})
}

fn placed(customer: &str, order: &str) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {"order": order,
           "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}})
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_customers_posting_profile_then_order_get_fifty_confirmations_each_once(
    #[case] backend: Backend,
) {
    let Doubles { sf, ib, account } = Doubles::start().await.unwrap();
    let port = free_port().unwrap();
    let plugins = format!(
        "{}{}",
        crm_settings(&sf, &ib),
        crm_sync_plugin(
            &sf,
            &ib,
            &account,
            port,
            5,
            &["customer-interactions", "order-events"]
        )
    );
    let gw = TestGateway::on_port(backend, port, &plugins).await.unwrap();
    for i in 0..CUSTOMERS {
        let customer = format!("c{i}");
        for event in [profile(&customer), placed(&customer, &format!("o-{i}"))] {
            let a = gw.post(&event).await.unwrap();
            assert_eq!(a.status, 202, "{}", a.json);
        }
    }
    eventually("every order to be confirmed by SMS and email", || async {
        Ok((ib.sent().len() >= 2 * CUSTOMERS).then_some(()))
    })
    .await
    .unwrap();
    // Everything the plugin has to do is done once the orders reached the
    // CRM; then no message may be missing or repeated.
    eventually("every order to reach the CRM", || async {
        Ok((sf.records("Order").len() >= CUSTOMERS).then_some(()))
    })
    .await
    .unwrap();
    let mut per_order: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for m in ib.sent() {
        let order = m
            .text
            .split_whitespace()
            .find(|w| w.starts_with("o-"))
            .unwrap_or_default()
            .trim_end_matches([',', '.', ':'])
            .to_owned();
        *per_order.entry((order, m.channel)).or_default() += 1;
    }
    for i in 0..CUSTOMERS {
        for channel in ["sms", "email"] {
            assert_eq!(
                per_order.get(&(format!("o-{i}"), channel)),
                Some(&1),
                "order o-{i} by {channel}: {per_order:?}"
            );
        }
    }
    assert_eq!(ib.sent().len(), 2 * CUSTOMERS);
    gw.stop().await;
}
