//! One customer's view, folded from the events about it: what every team
//! reads about a shopper at a glance. Pure: no host calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Products kept in `recent_views`.
pub const RECENT_VIEWS: usize = 10;
/// Orders kept in `orders`, newest first.
pub const ORDERS: usize = 20;
/// Message ids remembered to count each message once.
const MESSAGE_IDS: usize = 50;

/// Who the customer is and what it agreed to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Preferred language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Marketing consent, when the customer said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_consent: Option<bool>,
    /// Whether it registered (`customer.registered`).
    #[serde(default)]
    pub registered: bool,
}

/// One product in the cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    /// Units.
    pub quantity: i64,
    /// Unit price, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
}

/// One order as the customer's view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Order id.
    pub order: String,
    /// `placed`, `confirmed`, `paid`, `shipped`, `delivered`, `cancelled`,
    /// `rejected` or `expired`.
    pub status: String,
    /// Total in the major unit.
    #[serde(default)]
    pub total: f64,
    /// ISO 4217.
    #[serde(default)]
    pub currency: String,
    /// The payment's last step (`order.payment`'s status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    /// Why it was rejected, expired or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether its total counts in the lifetime value.
    #[serde(default)]
    pub counted: bool,
}

/// The customer's conversations with support.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Support {
    /// Messages the customer sent.
    pub messages: u32,
    /// The last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
    /// The case a human took over, if one was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_case: Option<String>,
}

/// Messages the shop sent the customer (delivery reports).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Messages {
    /// Messages reported on.
    pub sent: u32,
    /// Reported delivered.
    pub delivered: u32,
    /// Reported undeliverable, rejected or expired.
    pub failed: u32,
    /// Recent message ids, to count each message once.
    #[serde(default)]
    pub seen: Vec<String>,
}

/// The whole view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    /// Customer id.
    pub customer: String,
    /// Profile and consent.
    pub profile: Profile,
    /// The cart, by product.
    pub cart: BTreeMap<String, CartLine>,
    /// Products viewed, most recent first.
    pub recent_views: Vec<String>,
    /// Orders, newest first.
    pub orders: Vec<OrderLine>,
    /// Support.
    pub support: Support,
    /// Messages.
    pub messages: Messages,
    /// What its confirmed and paid orders came to, less cancellations.
    pub lifetime_value: f64,
    /// The time of the last event folded in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

fn text(data: &Value, field: &str) -> Option<String> {
    data[field].as_str().map(str::to_owned)
}

/// How far along an order with `status` is; never backwards.
fn progress(status: &str) -> u8 {
    match status {
        "placed" => 1,
        "confirmed" | "paid" => 2,
        "shipped" => 3,
        "delivered" => 4,
        "cancelled" | "rejected" | "expired" => 5,
        _ => 0,
    }
}

impl CustomerView {
    /// The view of `customer` before any event.
    pub fn new(customer: &str) -> Self {
        Self {
            customer: customer.to_owned(),
            ..Self::default()
        }
    }

    /// Fold in an event of type `ty` with `data`; whether the view changed.
    pub fn apply(&mut self, ty: &str, data: &Value) -> bool {
        let before = self.clone();
        match ty {
            "customer.updated" | "customer.registered" => self.profile(ty, data),
            "product.viewed" => self.viewed(data),
            "cart.item_added" | "cart.item_removed" => self.cart(ty, data),
            "support.message" => {
                self.support.messages += 1;
                self.support.last_message = text(data, "text");
            }
            "support.case_opened" => self.support.open_case = text(data, "case"),
            "message.status" => self.message(data),
            "order.placed" => self.placed(data),
            "order.payment" => {
                if let Some(line) = self.order_mut(data) {
                    line.payment = text(data, "status");
                }
            }
            _ => {
                if let Some(status) = ty.strip_prefix("order.") {
                    self.order_status(status, data);
                }
            }
        }
        *self != before
    }

    fn profile(&mut self, ty: &str, data: &Value) {
        let p = &mut self.profile;
        for (field, slot) in [
            ("name", &mut p.name),
            ("email", &mut p.email),
            ("phone", &mut p.phone),
            ("locale", &mut p.locale),
        ] {
            if let Some(v) = text(data, field) {
                *slot = Some(v);
            }
        }
        if let Some(consent) = data["marketing_consent"].as_bool() {
            p.marketing_consent = Some(consent);
        }
        p.registered |= ty == "customer.registered";
    }

    fn viewed(&mut self, data: &Value) {
        let Some(product) = text(data, "product") else {
            return;
        };
        self.recent_views.retain(|p| p != &product);
        self.recent_views.insert(0, product);
        self.recent_views.truncate(RECENT_VIEWS);
    }

    fn cart(&mut self, ty: &str, data: &Value) {
        let Some(product) = text(data, "product") else {
            return;
        };
        let quantity = data["quantity"].as_i64().unwrap_or(1).max(1);
        if ty == "cart.item_added" {
            let line = self.cart.entry(product).or_insert(CartLine {
                quantity: 0,
                price: None,
            });
            line.quantity += quantity;
            if let Some(price) = data["price"].as_f64() {
                line.price = Some(price);
            }
        } else if let Some(line) = self.cart.get_mut(&product) {
            line.quantity -= quantity;
            if line.quantity <= 0 {
                self.cart.remove(&product);
            }
        }
    }

    fn message(&mut self, data: &Value) {
        let Some(id) = text(data, "message") else {
            return;
        };
        let m = &mut self.messages;
        if !m.seen.contains(&id) {
            m.sent += 1;
            m.seen.push(id);
            let excess = m.seen.len().saturating_sub(MESSAGE_IDS);
            m.seen.drain(..excess);
        }
        match data["status"].as_str() {
            Some("DELIVERED") => m.delivered += 1,
            Some("UNDELIVERABLE" | "REJECTED" | "EXPIRED") => m.failed += 1,
            _ => {}
        }
    }

    fn order_mut(&mut self, data: &Value) -> Option<&mut OrderLine> {
        let id = data["order"].as_str()?;
        self.orders.iter_mut().find(|o| o.order == id)
    }

    fn placed(&mut self, data: &Value) {
        let Some(id) = text(data, "order") else {
            return;
        };
        if self.orders.iter().any(|o| o.order == id) {
            return;
        }
        // What was ordered leaves the cart.
        for item in data["items"].as_array().into_iter().flatten() {
            if let Some(product) = item["product"].as_str() {
                self.cart.remove(product);
            }
        }
        self.orders.insert(
            0,
            OrderLine {
                order: id,
                status: "placed".into(),
                total: data["total"].as_f64().unwrap_or_default(),
                currency: text(data, "currency").unwrap_or_default(),
                payment: None,
                reason: None,
                counted: false,
            },
        );
        self.orders.truncate(ORDERS);
    }

    fn order_status(&mut self, status: &str, data: &Value) {
        if progress(status) == 0 {
            return;
        }
        let Some(line) = self.order_mut(data) else {
            return;
        };
        if progress(status) <= progress(&line.status) {
            return;
        }
        line.status = status.to_owned();
        if let Some(reason) = text(data, "reason") {
            line.reason = Some(reason);
        }
        let total = line.total;
        if progress(status) == 5 {
            if line.counted {
                line.counted = false;
                self.lifetime_value -= total;
            }
        } else if progress(status) >= 2 && !line.counted {
            line.counted = true;
            self.lifetime_value += total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fold(events: &[(&str, Value)]) -> CustomerView {
        let mut v = CustomerView::new("vera");
        for (ty, data) in events {
            v.apply(ty, data);
        }
        v
    }

    #[test]
    fn the_view_follows_the_customers_events() {
        let v = fold(&[
            (
                "customer.registered",
                json!({"name": "Vera", "email": "v@x.example", "marketing_consent": true}),
            ),
            ("product.viewed", json!({"product": "tent"})),
            ("product.viewed", json!({"product": "mat"})),
            ("product.viewed", json!({"product": "tent"})),
            (
                "cart.item_added",
                json!({"product": "tent", "price": 199.0}),
            ),
            ("cart.item_added", json!({"product": "mat", "quantity": 2})),
            (
                "cart.item_removed",
                json!({"product": "mat", "quantity": 2}),
            ),
            ("cart.item_added", json!({"product": "stove"})),
            (
                "order.placed",
                json!({"order": "o-1", "total": 199.0, "currency": "EUR", "items": [{"product": "tent"}]}),
            ),
            (
                "order.payment",
                json!({"order": "o-1", "status": "authorised"}),
            ),
            ("order.confirmed", json!({"order": "o-1"})),
            (
                "order.placed",
                json!({"order": "o-2", "total": 20.0, "currency": "EUR", "items": []}),
            ),
            ("order.confirmed", json!({"order": "o-2"})),
            (
                "order.cancelled",
                json!({"order": "o-2", "reason": "changed my mind"}),
            ),
            ("order.paid", json!({"order": "o-2"})),
            (
                "message.status",
                json!({"message": "m-1", "status": "PENDING"}),
            ),
            (
                "message.status",
                json!({"message": "m-1", "status": "DELIVERED"}),
            ),
            ("support.message", json!({"text": "where is it?"})),
            (
                "support.case_opened",
                json!({"case": "00001001", "reason": "asked for a human"}),
            ),
        ]);
        assert_eq!(v.profile.name.as_deref(), Some("Vera"));
        assert!(v.profile.registered && v.profile.marketing_consent == Some(true));
        assert_eq!(v.recent_views, ["tent", "mat"]);
        assert_eq!(v.cart.keys().collect::<Vec<_>>(), ["stove"]);
        assert_eq!(v.orders[1].status, "confirmed");
        assert_eq!(v.orders[1].payment.as_deref(), Some("authorised"));
        assert_eq!(v.orders[0].status, "cancelled");
        assert!(
            (v.lifetime_value - 199.0).abs() < 1e-9,
            "{}",
            v.lifetime_value
        );
        assert_eq!((v.messages.sent, v.messages.delivered), (1, 1));
        assert_eq!(v.support.messages, 1);
        assert_eq!(v.support.open_case.as_deref(), Some("00001001"));
    }

    #[test]
    fn an_event_that_changes_nothing_says_so() {
        let mut v = fold(&[(
            "order.placed",
            json!({"order": "o-1", "total": 5.0, "currency": "EUR"}),
        )]);
        assert!(!v.apply("order.placed", &json!({"order": "o-1", "total": 5.0})));
        assert!(!v.apply("order.shipped", &json!({"order": "o-404"})));
        assert!(!v.apply("webhook.received", &json!({})));
        assert!(v.apply("order.shipped", &json!({"order": "o-1"})));
    }
}
