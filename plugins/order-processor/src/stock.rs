//! Stock per product, owned by one worker per product: the requests of
//! every customer's orders are re-keyed by product onto the `stock` topic
//! (`stock.reserve.requested`, `stock.release.requested`), so the worker
//! of a product's partition decides them one after another and two orders
//! can never both take the last unit. Answers go back keyed by the
//! customer (`stock.reserved`, `stock.refused`) to the order's worker.
//!
//! KV `stock:<product>`: units available to sell; `price:<product>`: its
//! price; `held:<product>:<order>`: what an order holds (kept 90 days, long
//! past any shipment).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use streamplug_sdk::query::{self, QueryError};
use streamplug_sdk::vocabulary::{
    StockRefused, StockReleaseRequested, StockReserveRequested, StockReserved, StockSet,
};
use streamplug_sdk::{Event, HandleError, kv, publish};

/// How long a reservation's record is kept.
const HELD_FOR: Duration = Duration::from_secs(90 * 24 * 3600);

/// What an order holds of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Held {
    quantity: i64,
}

fn count_key(product: &str) -> String {
    format!("stock:{product}")
}

fn price_key(product: &str) -> String {
    format!("price:{product}")
}

/// What a product sells for (from `stock.set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// Unit price, major unit.
    pub price: f64,
    /// ISO 4217.
    pub currency: String,
}

/// The price of `product`, if the shop set one. It is read by the
/// customer's worker, never written there: the product's worker owns it.
pub fn price(product: &str) -> Result<Option<Price>, HandleError> {
    kv::get_json(&price_key(product))
}

fn held_key(product: &str, order: &str) -> String {
    format!("held:{product}:{order}")
}

fn available(product: &str) -> Result<i64, HandleError> {
    Ok(kv::get_json(&count_key(product))?.unwrap_or(0))
}

/// The stock side of the plugin: `answers` is the topic answers go to.
pub struct Stock<'a> {
    /// Where `stock.reserved` and `stock.refused` are published.
    pub answers: &'a str,
}

impl Stock<'_> {
    /// `stock.set`: the shop says how many units are available to sell,
    /// and at what price.
    pub fn set(&self, event: &Event) -> Result<(), HandleError> {
        let set: StockSet = event.json()?;
        if let (Some(price), Some(currency)) = (set.price, set.currency) {
            kv::set_json(&price_key(&set.product), &Price { price, currency })?;
        }
        kv::set_json(&count_key(&set.product), &set.quantity)
    }

    /// `stock.reserve.requested` of `customer`: hold the units if there
    /// are enough, and answer either way. A request answered before (a
    /// copy) is answered the same without holding twice.
    pub fn reserve(&self, customer: &str, event: &Event) -> Result<(), HandleError> {
        let request: StockReserveRequested = event.json()?;
        let held = held_key(&request.product, &request.order);
        let mut left = available(&request.product)?;
        let already: Option<Held> = kv::get_json(&held)?;
        if already.is_none() && left >= request.quantity {
            left -= request.quantity;
            kv::set_json(&count_key(&request.product), &left)?;
            kv::set_json_with_ttl(
                &held,
                &Held {
                    quantity: request.quantity,
                },
                HELD_FOR,
            )?;
        } else if already.is_none() {
            let refused = StockRefused {
                reason: format!(
                    "{} is out of stock: {} asked for, {left} available",
                    request.product, request.quantity
                ),
                available: left,
                order: request.order,
                product: request.product,
                quantity: request.quantity,
            };
            publish::to(self.answers, StockRefused::TYPE)
                .subject(customer)
                .json(&refused)?
                .send()?;
            return Ok(());
        }
        let reserved = StockReserved {
            available: left,
            order: request.order,
            product: request.product,
            quantity: request.quantity,
        };
        publish::to(self.answers, StockReserved::TYPE)
            .subject(customer)
            .json(&reserved)?
            .send()?;
        Ok(())
    }

    /// `stock.release.requested`: give back what the order holds, once.
    pub fn release(&self, event: &Event) -> Result<(), HandleError> {
        let request: StockReleaseRequested = event.json()?;
        let held = held_key(&request.product, &request.order);
        if let Some(Held { quantity }) = kv::get_json(&held)? {
            let left = available(&request.product)? + quantity;
            kv::set_json(&count_key(&request.product), &left)?;
            kv::delete(&held)?;
        }
        Ok(())
    }
}

/// The `stock` query's answer.
#[derive(Debug, Serialize)]
struct Level<'a> {
    product: &'a str,
    available: i64,
}

/// Query `stock/<product>`: the units available to sell now.
pub fn level(product: &str) -> Result<Vec<u8>, QueryError> {
    let count: Option<i64> =
        kv::get_json(&count_key(product)).map_err(|e| QueryError::Unavailable(format!("{e:?}")))?;
    let available =
        count.ok_or_else(|| QueryError::NotFound(format!("no stock of `{product}` is known")))?;
    query::json(&Level { product, available })
}
