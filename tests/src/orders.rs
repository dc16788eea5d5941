//! The order flow's setup: order-processor orchestrating orders against
//! the payment double, its webhooks arriving through the gateway's
//! `stripe` endpoint, as the integration tests run it.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::stripe::Stripe;
use crate::{Backend, TestGateway, eventually};

/// The signing secret of the gateway's `stripe` webhook endpoint.
pub const WEBHOOK_SECRET: &str = "whsec_streamplugOrderFlowTest0001";

/// The gateway's settings for the flow: the double's credential, its
/// webhook endpoint, and order-processor reserving stock on `stock` and
/// taking payment at `stripe`, expiring unpaid orders after `timeout_ms`;
/// a shopper who must authenticate returns to the demo page of the
/// gateway on `port`.
pub fn order_flow(stripe: &Stripe, timeout_ms: u64, port: u16) -> String {
    format!(
        r#"{credential}
[webhooks.endpoints.stripe]
verify = "stripe"
secret = "{WEBHOOK_SECRET}"

[[plugins]]
name = "order-processor"
wasm = "order_processor.wasm"
subscribe = ["commands", "order-events", "stock", "webhooks"]
types = ["order.*", "stock.*", "payment.notified", "webhook.received"]
commands = ["order.cancel.requested", "order.place"]
publish = ["order-events", "stock"]
push_channels = ["orders"]
allowed_hosts = ["{url}"]
credentials = {{ "{url}" = "stripe" }}
[plugins.retry]
max_attempts = 8
initial_backoff_ms = 20
[plugins.config]
stock_topic = "stock"
payments_url = "{url}"
payment_timeout_ms = "{timeout_ms}"
payment_return_url = "http://127.0.0.1:{port}/demo"
push_channel = "orders"
"#,
        credential = stripe.credential_toml("stripe"),
        url = stripe.url,
    )
}

/// customer-view's plugin table, pushing on `view`.
pub const CUSTOMER_VIEW: &str = r#"
[[plugins]]
name = "customer-view"
wasm = "customer_view.wasm"
subscribe = ["customer-interactions", "order-events", "support-inquiries", "engagement-events"]
push_channels = ["view"]
"#;

/// A shop: the payment double and a gateway running the flow against it,
/// the double's webhooks posted to the gateway.
pub struct Shop {
    /// The gateway.
    pub gw: TestGateway,
    /// The payment provider.
    pub stripe: Stripe,
}

impl Shop {
    /// Start both on `backend`.
    pub async fn start(backend: Backend, timeout_ms: u64) -> Result<Self> {
        Self::start_with(backend, timeout_ms, "").await
    }

    /// [`Shop::start`], with the plugin tables of `others` beside the flow.
    pub async fn start_with(backend: Backend, timeout_ms: u64, others: &str) -> Result<Self> {
        let stripe = Stripe::start().await?;
        let port = crate::free_port()?;
        stripe.send_webhooks_to(
            &format!("http://127.0.0.1:{port}/v1/webhooks/stripe"),
            WEBHOOK_SECRET,
        );
        let plugins = format!("{}{others}", order_flow(&stripe, timeout_ms, port));
        let gw = TestGateway::on_port(backend, port, &plugins).await?;
        Ok(Self { gw, stripe })
    }

    /// A shop of a gateway already started against `stripe`.
    pub fn attach(gw: TestGateway, stripe: Stripe) -> Self {
        Self { gw, stripe }
    }

    /// Set `product`'s stock and wait until the flow knows it.
    pub async fn stock(&self, product: &str, quantity: i64) -> Result<()> {
        let set = json!({"type": "stock.set", "data": {"product": product, "quantity": quantity}});
        let a = self.gw.post(&set).await?;
        anyhow::ensure!(a.status == 202, "stock.set: {} {}", a.status, a.json);
        eventually(&format!("{product} to have {quantity} units"), || async {
            Ok((self.available(product).await? == Some(quantity)).then_some(()))
        })
        .await
    }

    /// Units of `product` available now (the `stock` query), if known.
    pub async fn available(&self, product: &str) -> Result<Option<i64>> {
        let a = self
            .gw
            .get(&format!(
                "/v1/plugins/order-processor/queries/stock/{product}"
            ))
            .await?;
        match a.status {
            200 => Ok(a.json["available"].as_i64()),
            404 => Ok(None),
            other => anyhow::bail!("stock query: {other} {}", a.json),
        }
    }

    /// The order-processor's events about order `id` so far, in order.
    pub async fn events_of(&self, id: &str) -> Result<Vec<Value>> {
        Ok(self
            .gw
            .events("order-events")
            .await?
            .into_iter()
            .map(|e| e["event"].clone())
            .filter(|e| e["data"]["order"] == id)
            .collect())
    }

    /// How order `id` ended: its `order.confirmed`, `order.rejected` or
    /// `order.expired` event, once there is one.
    pub async fn outcome(&self, id: &str) -> Result<Value> {
        eventually(&format!("the outcome of {id}"), || async {
            Ok(self.events_of(id).await?.into_iter().find(is_outcome))
        })
        .await
        .with_context(|| format!("order {id}"))
    }
}

/// Whether `event` says how an order ended.
pub fn is_outcome(event: &Value) -> bool {
    matches!(
        event["type"].as_str(),
        Some("order.confirmed" | "order.rejected" | "order.expired")
    )
}

/// An `order.placed` of one line.
pub fn placed(
    customer: &str,
    order: &str,
    product: &str,
    quantity: u32,
    price: f64,
    payment_method: &str,
) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {
        "order": order, "currency": "EUR", "total": price * f64::from(quantity),
        "items": [{"product": product, "quantity": quantity, "price": price}],
        "payment_method": payment_method,
    }})
}
