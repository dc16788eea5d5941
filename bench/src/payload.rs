//! The events the harness sends: ~250-byte `product.viewed` CloudEvents for
//! 1,000 customers and 200 products (so the recommender's state and pushes
//! look like a shop's, not one hot key).

use serde_json::{Value, json};

/// Customers the events are spread over.
pub const CUSTOMERS: u64 = 1000;

/// Customer id of number `n`.
pub fn customer(n: u64) -> String {
    format!("customer-{:04}", n % CUSTOMERS)
}

/// Event number `i` of `customer`, with id `id` (the gateway assigns one
/// when it is `None`).
pub fn view(id: Option<&str>, customer: &str, i: u64) -> Value {
    let mut event = json!({
        "type": "product.viewed",
        "source": "/web/shop",
        "subject": customer,
        "time": "2026-11-23T10:15:00Z",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "data": {
            "product": format!("sku-{:05}", (i * 7919) % 200),
            "category": "outdoor",
            "price": 19.9 + (i % 50) as f64
        }
    });
    if let Some(id) = id {
        event["id"] = id.into();
    }
    event
}

/// The body of one request: a single event, or an array of `batch` events.
pub fn body(worker: usize, n: u64, batch: usize) -> bytes::Bytes {
    let one = |k: u64| {
        let i = n * batch as u64 + k;
        let c = customer(worker as u64 * 7 + i);
        view(None, &c, i)
    };
    let value = if batch == 1 {
        one(0)
    } else {
        Value::Array((0..batch as u64).map(one).collect())
    };
    bytes::Bytes::from(value.to_string())
}
