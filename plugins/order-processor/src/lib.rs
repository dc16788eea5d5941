//! order-processor: keeps each order's state from the order events and
//! decides `order.cancel.requested`, the command of the support bot's
//! "cancel" intent and of the shop's order page.
//!
//! The command and the order events are keyed by the customer, so the
//! plugin (subscribed to both topics, merged per partition) sees a
//! customer's cancellation request after every event of that customer's
//! orders written before it. A request is
//!
//! - accepted while the order has not shipped: it publishes
//!   `order.cancelled` (with the customer's reason), which the CRM, the
//!   recommender and the bot read like any cancellation;
//! - refused as a conflict once the order has shipped, been delivered or
//!   cancelled already;
//! - refused as invalid for an order the customer does not have (another
//!   customer's order looks the same as none).
//!
//! KV `order:<id>` holds the order's customer and status. Config: `topic`,
//! where `order.cancelled` goes (`order-events`; granted in the manifest's
//! `publish`).

pub mod order;

use serde::Deserialize;
use streamplug_sdk::vocabulary::{OrderCancelRequested, OrderCancelled};
use streamplug_sdk::{Event, HandleError, Plugin, command, kv, publish};

use order::{Cancellation, OrderState};

/// The plugin's `[plugins.config]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where `order.cancelled` is published.
    #[serde(default = "default_topic")]
    pub topic: String,
}

fn default_topic() -> String {
    "order-events".into()
}

/// The plugin.
pub struct OrderProcessor {
    topic: String,
}

impl OrderProcessor {
    fn cancel(&self, customer: &str, event: &Event) -> Result<(), HandleError> {
        let request: OrderCancelRequested = event.json()?;
        let key = format!("order:{}", request.order);
        let state: Option<OrderState> = kv::get_json(&key)?;
        match order::may_cancel(state.as_ref(), customer, &request.order) {
            Cancellation::Refused {
                conflict: true,
                why,
            } => command::refuse_conflict(&why)?,
            Cancellation::Refused {
                conflict: false,
                why,
            } => command::refuse_invalid(&why)?,
            Cancellation::Accepted => {
                let reason = request
                    .reason
                    .unwrap_or_else(|| "cancelled at the customer's request".into());
                let cancelled = OrderCancelled {
                    order: request.order,
                    reason: Some(reason),
                    carrier: None,
                    eta: None,
                    tracking: None,
                };
                publish::to(&self.topic, OrderCancelled::TYPE)
                    .subject(customer)
                    .json(&cancelled)?
                    .send()?;
                if let Some(mut state) = state {
                    state.apply("order.cancelled");
                    kv::set_json(&key, &state)?;
                }
            }
        }
        Ok(())
    }
}

impl Plugin for OrderProcessor {
    type Config = Settings;

    fn init(config: Settings) -> Result<Self, String> {
        Ok(Self {
            topic: config.topic,
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        let Some(customer) = event.subject().map(str::to_owned) else {
            return Ok(());
        };
        if event.ty() == OrderCancelRequested::TYPE {
            return self.cancel(&customer, &event);
        }
        if !event.ty().starts_with("order.") {
            return Ok(());
        }
        let data: serde_json::Value = event.json()?;
        let Some(id) = data["order"].as_str() else {
            return Ok(());
        };
        let key = format!("order:{id}");
        let mut state: OrderState =
            kv::get_json(&key)?.unwrap_or_else(|| OrderState::new(&customer));
        if state.apply(event.ty()) {
            kv::set_json(&key, &state)?;
        }
        Ok(())
    }
}

streamplug_sdk::export_plugin!(OrderProcessor);
