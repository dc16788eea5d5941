//! What checking one ingested event against its type costs: the type's
//! JSON Schema (compiled once when the vocabulary loads) over the data of
//! a 300-byte `order.placed` event, and the whole of reading such an event from its JSON
//! (CloudEvents attributes, bounds, then the schema), as ingest does for
//! every event. Target (issue 22): validation of a 300-byte event at most
//! 2 us.
//!
//! Run: `cargo bench -p streamplug-wire --bench validation`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use streamplug_wire::event::cloudevents::parse_object;
use streamplug_wire::event::vocabulary::Vocabulary;

fn order() -> Value {
    json!({
        "specversion": "1.0", "id": "0193a7c2-5d1e-7b3a-9f00-1a2b3c4d5e6f", "source": "/shop/checkout",
        "type": "order.placed", "subject": "customer-4711",
        "data": {
            "order": "o-2026-000123", "currency": "EUR", "total": 104.7,
            "items": [
                {"product": "sku-trail-shoe-42", "quantity": 1, "price": 89.9},
                {"product": "sku-sock-pack-3", "quantity": 2, "price": 7.4}
            ]
        }
    })
}

fn validation(c: &mut Criterion) {
    let vocabulary = Vocabulary::standard();
    let event = order();
    let data = event["data"].clone();
    let bytes = serde_json::to_vec(&event).unwrap();
    assert!(
        (280..=340).contains(&bytes.len()),
        "a {}-byte event",
        bytes.len()
    );
    vocabulary
        .validate("order.placed", None, Some("customer-4711"), Some(&data), "")
        .unwrap();

    let mut group = c.benchmark_group("validation");
    group.bench_function("schema check, order.placed (300-byte event)", |b| {
        b.iter(|| {
            vocabulary
                .validate(
                    black_box("order.placed"),
                    None,
                    Some("customer-4711"),
                    Some(black_box(&data)),
                    "",
                )
                .unwrap();
        });
    });
    group.bench_function("parse and check, order.placed from its JSON bytes", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_slice(black_box(&bytes)).unwrap();
            let incoming = parse_object(value, "").unwrap();
            vocabulary
                .validate(
                    &incoming.event.ty,
                    incoming.event.header("dataschema"),
                    incoming.event.subject.as_deref(),
                    incoming.data.as_ref(),
                    "",
                )
                .unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);
