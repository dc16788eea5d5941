//! The payment provider's webhooks, arriving through the gateway's generic
//! webhook path (`POST /v1/webhooks/<name>`, verified there with the
//! provider's signature) as `webhook.received` keyed by the endpoint. A
//! PaymentIntent event is re-keyed by the customer its metadata names and
//! published as `payment.notified`, so the order's own worker acts on it
//! in order with the order's other events.

use serde_json::Value;
use streamplug_sdk::vocabulary::{PaymentNotified, WebhookReceived};
use streamplug_sdk::{Event, HandleError, publish};

/// Map one verified provider webhook to `payment.notified` on `topic`.
pub fn notified(topic: &str, event: &Event) -> Result<(), HandleError> {
    let received: WebhookReceived = event.json()?;
    let Some(body) = received.body else {
        return Ok(());
    };
    let ty = body["type"].as_str().unwrap_or_default();
    if !ty.starts_with("payment_intent.") {
        return Ok(());
    }
    let intent = &body["data"]["object"];
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let metadata = &intent["metadata"];
    let (Some(order), Some(customer), Some(id), Some(status)) = (
        text(&metadata["order"]),
        text(&metadata["customer"]),
        text(&intent["id"]),
        text(&intent["status"]),
    ) else {
        streamplug_sdk::info!("provider event {ty} names no order of ours; left alone");
        return Ok(());
    };
    let error = &intent["last_payment_error"];
    let notified = PaymentNotified {
        decline_code: text(&error["decline_code"]).or_else(|| text(&error["code"])),
        event: ty.to_owned(),
        message: text(&error["message"]),
        order,
        payment_intent: id,
        status,
    };
    publish::to(topic, PaymentNotified::TYPE)
        .subject(&customer)
        .json(&notified)?
        .send()?;
    Ok(())
}
