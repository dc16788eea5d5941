//! What the bot says to an intent, given the customer's orders and the
//! shop's policies; what it cannot resolve it hands to a human.

use crate::intents::Intent;
use crate::orders::{OrderState, Orders};

/// The shop's policies the bot quotes (from the plugin's config).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Days to return an item.
    pub return_days: u32,
    /// Shipping times, e.g. "2-4 business days".
    pub shipping: String,
}

/// The bot's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Say this.
    Answer(String),
    /// A human must take over; `reason` goes into the case subject.
    Escalate {
        /// Why.
        reason: String,
    },
    /// Ask for the order to be cancelled (`order.cancel.requested`, which
    /// the order's processor accepts or refuses); a human takes over when
    /// the bot has no commands topic to ask on.
    Cancel {
        /// The order.
        order: String,
    },
}

fn money(o: &OrderState) -> String {
    match (o.total, &o.currency) {
        (Some(t), Some(c)) => format!(" ({t:.2} {c})"),
        _ => String::new(),
    }
}

fn describe(o: &OrderState) -> String {
    match o.status.as_str() {
        "shipped" => {
            let mut text = format!("Order {} is on its way", o.order);
            if let Some(c) = &o.carrier {
                text.push_str(&format!(" with {c}"));
            }
            if let Some(t) = &o.tracking {
                text.push_str(&format!(", tracking number {t}"));
            }
            if let Some(e) = &o.eta {
                text.push_str(&format!("; expected {e}"));
            }
            text + "."
        }
        "delivered" => format!(
            "Order {} was delivered{}. If you cannot find it, ask me for a human and we will look into it.",
            o.order,
            o.updated
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        ),
        "cancelled" => format!(
            "Order {} was cancelled{}.",
            o.order,
            o.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        "paid" => format!(
            "Order {}{} is paid and being packed; it ships within 1-2 business days.",
            o.order,
            money(o)
        ),
        _ => format!(
            "Order {}{} was received and is being prepared; it ships within 1-2 business days.",
            o.order,
            money(o)
        ),
    }
}

/// Answer `intent`.
pub fn reply(intent: &Intent, orders: &Orders, policy: &Policy) -> Reply {
    match intent {
        Intent::OrderStatus { order } => {
            Reply::Answer(match (orders.find(order.as_deref()), order) {
                (Some(o), _) => describe(o),
                (None, Some(id)) => {
                    format!("I cannot find order {id} on your account. Could you check the number?")
                }
                (None, None) => "I do not see any orders on your account yet.".to_owned(),
            })
        }
        Intent::CancelOrder { order } => match orders.find(order.as_deref()) {
            Some(o) if o.status == "shipped" || o.status == "delivered" => Reply::Answer(format!(
                "Order {} has already shipped, so it cannot be cancelled, but you can return it within {} days of delivery.",
                o.order, policy.return_days
            )),
            Some(o) if o.status == "cancelled" => {
                Reply::Answer(format!("Order {} is already cancelled.", o.order))
            }
            Some(o) => Reply::Cancel {
                order: o.order.clone(),
            },
            None => Reply::Answer(
                "Which order would you like to cancel? Please send its number.".to_owned(),
            ),
        },
        Intent::Returns => Reply::Answer(format!(
            "You can return any item within {} days of delivery for a full refund. Start the return from your order page; the refund reaches you within 5 business days of our receiving it.",
            policy.return_days
        )),
        Intent::ShippingTimes => Reply::Answer(format!(
            "Orders ship within 1-2 business days; delivery takes {}.",
            policy.shipping
        )),
        Intent::Greeting => Reply::Answer(
            "Hi! I can track your orders, explain returns and shipping, or get you a human."
                .to_owned(),
        ),
        Intent::Human => Reply::Escalate {
            reason: "Customer asked for a person".to_owned(),
        },
        Intent::Unknown => Reply::Escalate {
            reason: "Question the assistant could not answer".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        Policy {
            return_days: 30,
            shipping: "2-4 business days".into(),
        }
    }

    fn shipped() -> Orders {
        let mut o = Orders::default();
        o.apply(
            "order.placed",
            &json!({"order": "o-1", "total": 20.0, "currency": "EUR"}),
            None,
        );
        o.apply(
            "order.shipped",
            &json!({"order": "o-1", "carrier": "DHL", "tracking": "JD1", "eta": "Friday"}),
            None,
        );
        o
    }

    #[test]
    fn order_questions_are_answered_from_the_order_state() {
        let r = reply(&Intent::OrderStatus { order: None }, &shipped(), &policy());
        assert_eq!(
            r,
            Reply::Answer(
                "Order o-1 is on its way with DHL, tracking number JD1; expected Friday.".into()
            )
        );
        let r = reply(
            &Intent::OrderStatus {
                order: Some("o-9".into()),
            },
            &shipped(),
            &policy(),
        );
        assert!(matches!(r, Reply::Answer(t) if t.contains("cannot find order o-9")));
        let r = reply(
            &Intent::OrderStatus { order: None },
            &Orders::default(),
            &policy(),
        );
        assert!(matches!(r, Reply::Answer(t) if t.contains("any orders")));
    }

    #[test]
    fn what_the_bot_cannot_do_goes_to_a_human() {
        assert!(matches!(
            reply(&Intent::Human, &Orders::default(), &policy()),
            Reply::Escalate { .. }
        ));
        assert!(matches!(
            reply(&Intent::Unknown, &Orders::default(), &policy()),
            Reply::Escalate { .. }
        ));
        let mut placed = Orders::default();
        placed.apply("order.placed", &json!({"order": "o-2"}), None);
        assert_eq!(
            reply(&Intent::CancelOrder { order: None }, &placed, &policy()),
            Reply::Cancel {
                order: "o-2".into()
            }
        );
        assert!(matches!(
            reply(&Intent::CancelOrder { order: None }, &shipped(), &policy()),
            Reply::Answer(t) if t.contains("30 days")
        ));
    }
}
