//! `order.place`: a shopper's checkout, decided on the customer's worker.
//! The page names the products and quantities; the prices are the shop's
//! (`stock.set`), never the page's. A product without a price is not for
//! sale; lines in different currencies, or no payment method where payment
//! is taken, are refused; an order id already used is a conflict. An
//! accepted checkout publishes `order.placed`, which the order's flow then
//! takes like any other.

use streamplug_sdk::vocabulary::{OrderPlace, OrderPlaced, OrderPlacedOrderItem};
use streamplug_sdk::{Event, HandleError, command, kv, publish};

use crate::OrderProcessor;
use crate::stock;

/// Marks an order id a checkout has used (before its `order.placed` is
/// handled, so that a second checkout of the same id in the same batch is
/// refused too).
fn used_key(id: &str) -> String {
    format!("checkout:{id}")
}

impl OrderProcessor {
    pub(crate) fn checkout(&self, customer: &str, event: &Event) -> Result<(), HandleError> {
        let request: OrderPlace = event.json()?;
        let id = request.order.as_str();
        let known: Option<serde_json::Value> = kv::get_json(&crate::order_key(id))?;
        if known.is_some() || kv::get(&used_key(id))?.is_some() {
            return Ok(command::refuse_conflict(&format!(
                "order {id} was already placed"
            ))?);
        }
        if self.provider.is_some() && request.payment_method.is_none() {
            return Ok(command::refuse_invalid("choose a payment method")?);
        }
        let mut items = Vec::with_capacity(request.items.len());
        let mut currency: Option<String> = None;
        let mut total = 0.0;
        for item in &request.items {
            let Some(price) = stock::price(&item.product)? else {
                let why = format!("{} is not for sale", item.product);
                return Ok(command::refuse_invalid(&why)?);
            };
            if currency.get_or_insert_with(|| price.currency.clone()) != &price.currency {
                return Ok(command::refuse_invalid(
                    "the products are priced in different currencies; order them separately",
                )?);
            }
            // Quantities are at most 1000 by the type: exact as an f64.
            let line = price.price * item.quantity as f64;
            total += line;
            items.push(OrderPlacedOrderItem {
                price: price.price,
                product: item.product.clone(),
                quantity: item.quantity,
            });
        }
        let placed = OrderPlaced {
            currency: currency.unwrap_or_default(),
            items,
            order: id.to_owned(),
            payment_method: request.payment_method,
            total: (total * 100.0).round() / 100.0,
        };
        kv::set(&used_key(id), b"1")?;
        publish::to(&self.topic, OrderPlaced::TYPE)
            .subject(customer)
            .json(&placed)?
            .send()?;
        Ok(())
    }
}
