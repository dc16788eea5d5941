//! order-processor: an orchestrator per order, and the owner of stock per
//! product.
//!
//! - **Order state** from the order events (KV `order:<id>`), and the
//!   decision on `order.cancel.requested` (the support bot's "cancel"
//!   intent and the shop's order page): accepted until the order ships
//!   (`order.cancelled`), refused as a conflict after, refused as invalid
//!   for an order the customer does not have.
//! - **Orchestration** ([`flow`]), when `stock_topic` or `payments_url`
//!   is configured: `order.placed` → stock reserved per line on the
//!   product's worker ([`stock`], re-keyed onto `stock_topic`) → the total
//!   authorised at a provider with Stripe's PaymentIntents shape
//!   ([`payment`]; its signed webhooks arrive as `webhook.received` from
//!   endpoint `payments_webhook`, [`provider_webhook`]) → `order.confirmed`;
//!   or compensation and `order.rejected` / `order.expired` (a durable
//!   timer of `payment_timeout_ms`). Capture at `order.shipped`, refund
//!   when cancelled after capture. Steps are pushed on `push_channel`.
//! - **Checkout** ([`checkout`]): the command `order.place` from the
//!   shopper's page, priced from the shop's catalogue (`stock.set`),
//!   becomes `order.placed`.
//! - **Queries**: `orders/<customer>` (that customer's recent orders) and
//!   `stock/<product>` (units available).
//!
//! The order events, the commands and `stock.reserved`/`stock.refused`
//! are keyed by the customer; the stock requests by the product.

pub mod announce;
mod checkout;
pub mod flow;
pub mod money;
pub mod order;
pub mod payment;
pub mod provider_webhook;
pub mod stock;

use serde::{Deserialize, Serialize};
use streamplug_sdk::query::{self, Query, QueryError};
use streamplug_sdk::vocabulary::{
    OrderCancelRequested, OrderCancelled, OrderPlace, OrderPlaced, PaymentNotified, StockRefused,
    StockReleaseRequested, StockReserveRequested, StockReserved, StockSet, WebhookReceived,
};
use streamplug_sdk::{Event, HandleError, Plugin, command, kv, publish, timer};

use order::{Cancellation, OrderState};
use payment::Provider;
use stock::Stock;

/// The plugin's `[plugins.config]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the order events it makes go (`order.cancelled`,
    /// `order.confirmed`, ..., `stock.reserved`, `payment.notified`).
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Where stock requests go, keyed by product; unset: stock is not kept.
    #[serde(default)]
    pub stock_topic: Option<String>,
    /// The payment provider's API base (`https://api.stripe.com`); unset:
    /// no payment is taken.
    #[serde(default)]
    pub payments_url: Option<String>,
    /// The shop's page a shopper returns to after authenticating a payment
    /// at the provider (its `return_url`); unset: the page confirms with the
    /// provider's script instead.
    #[serde(default)]
    pub payment_return_url: Option<String>,
    /// The webhook endpoint the provider's events arrive through.
    #[serde(default = "default_payments_webhook")]
    pub payments_webhook: String,
    /// How long an order waits for its payment before it expires.
    #[serde(default = "default_payment_timeout_ms")]
    pub payment_timeout_ms: u64,
    /// The channel each step is pushed on; unset: no pushes.
    #[serde(default)]
    pub push_channel: Option<String>,
}

fn default_topic() -> String {
    "order-events".into()
}

fn default_payments_webhook() -> String {
    "stripe".into()
}

/// Fifteen minutes.
fn default_payment_timeout_ms() -> u64 {
    15 * 60_000
}

/// The plugin.
pub struct OrderProcessor {
    topic: String,
    stock_topic: Option<String>,
    provider: Option<Provider>,
    payments_webhook: String,
    payment_timeout_ms: u64,
    push_channel: Option<String>,
}

fn order_key(id: &str) -> String {
    format!("order:{id}")
}

fn index_key(customer: &str) -> String {
    format!("orders-of:{customer}")
}

/// How many of a customer's orders `orders/<customer>` lists.
const INDEXED: usize = 50;

impl OrderProcessor {
    fn orchestrates(&self) -> bool {
        self.stock_topic.is_some() || self.provider.is_some()
    }

    fn cancel(&self, customer: &str, event: &Event) -> Result<(), HandleError> {
        let request: OrderCancelRequested = event.json()?;
        let key = order_key(&request.order);
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
                    order: request.order.clone(),
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
                    self.fold(&mut state, &request.order, OrderCancelled::TYPE)?;
                    kv::set_json(&key, &state)?;
                }
            }
        }
        Ok(())
    }

    /// Fold an order event into `state`, and act on a shipment or a
    /// cancellation of an orchestrated order.
    fn fold(&self, state: &mut OrderState, id: &str, ty: &str) -> Result<bool, HandleError> {
        let was_shipped = state.has_shipped();
        if !state.apply(ty) {
            return Ok(false);
        }
        if state.orchestrated {
            match ty {
                "order.shipped" => self.shipped(state, id)?,
                "order.cancelled" => self.cancelled(state, id, was_shipped)?,
                _ => {}
            }
        }
        Ok(true)
    }

    /// `order.placed`: a new order is recorded (and orchestrated); a copy
    /// of one already known changes nothing.
    fn placed(&self, customer: &str, event: &Event) -> Result<(), HandleError> {
        let placed: OrderPlaced = event.json()?;
        let key = order_key(&placed.order);
        // A stored order always has a status: this one is known already.
        if kv::get(&key)?.is_some() {
            return Ok(());
        }
        let mut state = OrderState::new(customer);
        state.advance("placed");
        let mut index: Vec<String> = kv::get_json(&index_key(customer))?.unwrap_or_default();
        index.retain(|o| o != &placed.order);
        index.push(placed.order.clone());
        let excess = index.len().saturating_sub(INDEXED);
        index.drain(..excess);
        kv::set_json(&index_key(customer), &index)?;
        if self.orchestrates() {
            self.place(&mut state, &placed)?;
        }
        kv::set_json(&key, &state)
    }

    /// Load order `id` of `customer`, let `step` change it, store it.
    fn with_order(
        &self,
        customer: &str,
        id: &str,
        step: impl FnOnce(&Self, &mut OrderState) -> Result<(), HandleError>,
    ) -> Result<(), HandleError> {
        let key = order_key(id);
        let Some(mut state) = kv::get_json::<OrderState>(&key)? else {
            return Ok(());
        };
        if state.customer != customer {
            return Ok(());
        }
        step(self, &mut state)?;
        kv::set_json(&key, &state)
    }

    fn customer_event(&self, customer: &str, event: &Event) -> Result<(), HandleError> {
        match event.ty() {
            OrderCancelRequested::TYPE => self.cancel(customer, event),
            OrderPlace::TYPE => self.checkout(customer, event),
            OrderPlaced::TYPE => self.placed(customer, event),
            StockReserveRequested::TYPE => self.stock().reserve(customer, event),
            StockReleaseRequested::TYPE => self.stock().release(event),
            StockReserved::TYPE => {
                let answer: StockReserved = event.json()?;
                self.with_order(customer, &answer.order, |p, s| {
                    p.line_answered(s, &answer.order, &answer.product, true)
                })
            }
            StockRefused::TYPE => {
                let answer: StockRefused = event.json()?;
                self.with_order(customer, &answer.order, |p, s| {
                    p.line_answered(s, &answer.order, &answer.product, false)
                })
            }
            PaymentNotified::TYPE => {
                let notified: PaymentNotified = event.json()?;
                self.with_order(customer, &notified.order, |p, s| {
                    p.payment_notified(s, &notified)
                })
            }
            timer::TYPE => {
                let Some(id) = event.timer_name().and_then(flow::expiring_order) else {
                    return Ok(());
                };
                self.with_order(customer, id, |p, s| p.expire(s, id))
            }
            ty if ty.starts_with("order.") => {
                let data: serde_json::Value = event.json()?;
                let Some(id) = data["order"].as_str() else {
                    return Ok(());
                };
                let key = order_key(id);
                let mut state: OrderState =
                    kv::get_json(&key)?.unwrap_or_else(|| OrderState::new(customer));
                if self.fold(&mut state, id, ty)? {
                    kv::set_json(&key, &state)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn stock(&self) -> Stock<'_> {
        Stock {
            answers: &self.topic,
        }
    }
}

/// One order in the `orders` query's answer.
#[derive(Debug, Serialize)]
struct Listed {
    order: String,
    #[serde(flatten)]
    state: OrderState,
}

impl Plugin for OrderProcessor {
    type Config = Settings;

    fn init(config: Settings) -> Result<Self, String> {
        Ok(Self {
            topic: config.topic,
            stock_topic: config.stock_topic.filter(|t| !t.is_empty()),
            provider: config
                .payments_url
                .filter(|u| !u.is_empty())
                .map(|u| Provider::new(&u, config.payment_return_url.filter(|r| !r.is_empty()))),
            payments_webhook: config.payments_webhook,
            payment_timeout_ms: config.payment_timeout_ms,
            push_channel: config.push_channel.filter(|c| !c.is_empty()),
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        match (event.ty(), event.subject().map(str::to_owned)) {
            (StockSet::TYPE, _) => self.stock().set(&event),
            (WebhookReceived::TYPE, _) => {
                let received: WebhookReceived = event.json()?;
                if received.webhook != self.payments_webhook {
                    return Ok(());
                }
                provider_webhook::notified(&self.topic, &event)
            }
            (_, Some(customer)) => self.customer_event(&customer, &event),
            (_, None) => Ok(()),
        }
    }

    fn query(&self, q: &Query) -> Result<Vec<u8>, QueryError> {
        let unavailable = |e: HandleError| QueryError::Unavailable(format!("{e:?}"));
        match q.name.as_str() {
            "stock" => stock::level(&q.key),
            "orders" => {
                let ids: Vec<String> = kv::get_json(&index_key(&q.key))
                    .map_err(unavailable)?
                    .ok_or_else(|| QueryError::NotFound(format!("`{}` has no orders", q.key)))?;
                let mut orders = Vec::with_capacity(ids.len());
                for id in ids.into_iter().rev() {
                    if let Some(state) = kv::get_json(&order_key(&id)).map_err(unavailable)? {
                        orders.push(Listed { order: id, state });
                    }
                }
                query::json(&orders)
            }
            other => Err(QueryError::UnknownQuery(other.to_owned())),
        }
    }
}

streamplug_sdk::export_plugin!(OrderProcessor);
