//! The double's webhook events: each event the ledger made, posted in
//! order to the configured endpoint with `Stripe-Signature: t=...,v1=...`
//! (HMAC-SHA256 of `"<t>.<body>"` with the endpoint's secret), retried a
//! few times while the receiver does not answer 2xx.

use serde_json::json;

use super::Shared;

/// Post the webhook events made so far, signed, one by one in order.
pub(super) async fn deliver_due(shared: &Shared) {
    let (due, target) = {
        let mut inner = shared.lock();
        let due = std::mem::take(&mut inner.ledger.due);
        (due, inner.webhook.clone())
    };
    let Some((url, secret)) = target else {
        return;
    };
    for (ty, object) in due {
        let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
        let created = chrono_now();
        let event = json!({
            "id": id, "object": "event", "api_version": "2024-06-20", "type": ty,
            "created": created, "livemode": false, "pending_webhooks": 1,
            "data": {"object": object},
        });
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let signature = streamplug_wire::webhook_signature::stripe_header(&secret, created, &body);
        for _ in 0..20 {
            let sent = shared
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("stripe-signature", &signature)
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                shared.lock().webhooks_sent += 1;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

fn chrono_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
