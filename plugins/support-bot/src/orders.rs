//! A customer's orders as the bot knows them, kept up to date from
//! `order-events` (placed, paid, shipped, delivered, cancelled).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Orders remembered per customer (the newest).
pub const MAX_ORDERS: usize = 20;

/// One order's latest state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    /// Order id.
    pub order: String,
    /// `placed`, `paid`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    /// Products ordered.
    #[serde(default)]
    pub items: Vec<String>,
    /// Total, when known.
    #[serde(default)]
    pub total: Option<f64>,
    /// Currency of the total.
    #[serde(default)]
    pub currency: Option<String>,
    /// Carrier, once shipped.
    #[serde(default)]
    pub carrier: Option<String>,
    /// Tracking number, once shipped.
    #[serde(default)]
    pub tracking: Option<String>,
    /// Expected delivery, once shipped.
    #[serde(default)]
    pub eta: Option<String>,
    /// Why it was cancelled.
    #[serde(default)]
    pub reason: Option<String>,
    /// When the latest status came.
    #[serde(default)]
    pub updated: Option<String>,
}

/// A customer's recent orders, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Orders {
    /// The orders.
    pub orders: Vec<OrderState>,
}

impl Orders {
    /// Apply an `order.*` event (`data` in the vocabulary's shape).
    pub fn apply(&mut self, ty: &str, data: &Value, time: Option<&str>) {
        let Some(status) = ty.strip_prefix("order.") else {
            return;
        };
        let Some(id) = data["order"].as_str() else {
            return;
        };
        let text = |k: &str| data[k].as_str().map(str::to_owned);
        let index = match self.orders.iter().position(|o| o.order == id) {
            Some(i) => i,
            None => {
                self.orders.push(OrderState {
                    order: id.to_owned(),
                    status: String::new(),
                    items: Vec::new(),
                    total: None,
                    currency: None,
                    carrier: None,
                    tracking: None,
                    eta: None,
                    reason: None,
                    updated: None,
                });
                if self.orders.len() > MAX_ORDERS {
                    self.orders.remove(0);
                }
                self.orders.len() - 1
            }
        };
        let order = &mut self.orders[index];
        // A late `placed` never undoes a later status.
        if status != "placed" || order.status.is_empty() {
            order.status = status.to_owned();
        }
        if status == "placed" {
            order.items = data["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["product"].as_str().map(str::to_owned))
                .collect();
            order.total = data["total"].as_f64();
            order.currency = text("currency");
        }
        for (field, value) in [
            (&mut order.carrier, text("carrier")),
            (&mut order.tracking, text("tracking")),
            (&mut order.eta, text("eta")),
            (&mut order.reason, text("reason")),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        order.updated = time.map(str::to_owned).or(order.updated.take());
    }

    /// The order named, or the latest one.
    pub fn find(&self, order: Option<&str>) -> Option<&OrderState> {
        match order {
            Some(id) => self
                .orders
                .iter()
                .find(|o| o.order.eq_ignore_ascii_case(id) || o.order.ends_with(&format!("-{id}"))),
            None => self.orders.last(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_accumulate_per_order() {
        let mut o = Orders::default();
        o.apply(
            "order.placed",
            &json!({"order": "o-1", "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}),
            Some("t1"),
        );
        o.apply(
            "order.shipped",
            &json!({"order": "o-1", "carrier": "DHL", "tracking": "JD0001", "eta": "2026-11-26"}),
            Some("t2"),
        );
        o.apply(
            "order.placed",
            &json!({"order": "o-2", "items": [], "total": 5.0, "currency": "EUR"}),
            Some("t3"),
        );
        let first = o.find(Some("o-1")).unwrap();
        assert_eq!(first.status, "shipped");
        assert_eq!(first.items, ["tent"]);
        assert_eq!(first.tracking.as_deref(), Some("JD0001"));
        assert_eq!(o.find(None).unwrap().order, "o-2", "the latest");
        assert_eq!(o.find(Some("1")).unwrap().order, "o-1", "by number");
        assert!(o.find(Some("o-9")).is_none());
    }

    #[test]
    fn a_late_placed_event_does_not_undo_a_later_status() {
        let mut o = Orders::default();
        o.apply("order.shipped", &json!({"order": "o-1"}), None);
        o.apply(
            "order.placed",
            &json!({"order": "o-1", "items": [{"product": "x"}]}),
            None,
        );
        assert_eq!(o.find(None).unwrap().status, "shipped");
        assert_eq!(o.find(None).unwrap().items, ["x"]);
    }

    #[test]
    fn only_the_newest_orders_are_kept() {
        let mut o = Orders::default();
        for i in 0..30 {
            o.apply("order.placed", &json!({"order": format!("o-{i}")}), None);
        }
        assert_eq!(o.orders.len(), MAX_ORDERS);
        assert_eq!(o.orders[0].order, "o-10");
    }
}
