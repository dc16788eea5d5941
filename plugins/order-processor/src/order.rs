//! One order's state as the order events and the orchestration tell it,
//! and whether it may still be cancelled.

use serde::{Deserialize, Serialize};

/// Where one line's reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    /// Asked for, no answer yet.
    Pending,
    /// The units are held for the order.
    Reserved,
    /// Not enough units.
    Refused,
    /// Held, then given back.
    Released,
}

/// One line of an orchestrated order: a product and its units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Product id (SKU).
    pub product: String,
    /// Units.
    pub quantity: i64,
    /// Its reservation.
    pub state: LineState,
}

/// The order's payment at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The PaymentIntent (`pi_...`).
    pub intent: String,
    /// `order.payment`'s words: `processing`, `authorised`,
    /// `action_required`, `declined`, `captured`, `cancelled`, `refunded`.
    pub status: String,
}

impl Payment {
    /// Whether money is held or may still be (cancelling it gives it back).
    pub fn is_open(&self) -> bool {
        matches!(
            self.status.as_str(),
            "processing" | "authorised" | "action_required" | "declined"
        )
    }
}

/// What the plugin keeps about an order (KV `order:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    /// The customer who placed it.
    pub customer: String,
    /// `placed`, `confirmed`, `paid`, `shipped`, `delivered`, or the ends
    /// `cancelled`, `rejected`, `expired`.
    pub status: String,
    /// Whether the plugin reserves stock and takes payment for it (the
    /// orchestration was on when it was placed).
    #[serde(default)]
    pub orchestrated: bool,
    /// Its lines (orchestrated orders), one per product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// The total in the currency's smallest unit.
    #[serde(default)]
    pub amount: i64,
    /// ISO 4217, upper case.
    #[serde(default)]
    pub currency: String,
    /// What pays for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// Its payment, once one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    /// Why it ended, when it was rejected or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How far along an order with `status` is: a status never goes back
/// (the storefront's and the warehouse's events may arrive out of order).
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

impl OrderState {
    /// An order of `customer` about which nothing is known yet.
    pub fn new(customer: &str) -> Self {
        Self {
            customer: customer.to_owned(),
            status: String::new(),
            orchestrated: false,
            lines: Vec::new(),
            amount: 0,
            currency: String::new(),
            payment_method: None,
            payment: None,
            reason: None,
        }
    }

    /// Fold in an event of type `ty` (`order.<status>`); whether the state
    /// changed.
    pub fn apply(&mut self, ty: &str) -> bool {
        let Some(status) = ty.strip_prefix("order.") else {
            return false;
        };
        self.advance(status)
    }

    /// Move to `status` unless the order is as far or further; whether it
    /// moved.
    pub fn advance(&mut self, status: &str) -> bool {
        if progress(status) == 0 || progress(status) <= progress(&self.status) {
            return false;
        }
        self.status = status.to_owned();
        true
    }

    /// Whether the order has ended (cancelled, rejected, expired).
    pub fn has_ended(&self) -> bool {
        progress(&self.status) == 5
    }

    /// Whether its goods have left the warehouse.
    pub fn has_shipped(&self) -> bool {
        matches!(self.status.as_str(), "shipped" | "delivered")
    }

    /// The line of `product`.
    pub fn line_mut(&mut self, product: &str) -> Option<&mut Line> {
        self.lines.iter_mut().find(|l| l.product == product)
    }

    /// Whether every line's units are held.
    pub fn all_reserved(&self) -> bool {
        self.lines.iter().all(|l| l.state == LineState::Reserved)
    }
}

/// Whether a cancellation is accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Cancellation {
    /// Yes: the order has not shipped.
    Accepted,
    /// No; `conflict` when the order's state forbids it (409), otherwise
    /// the request itself is wrong (422).
    Refused {
        /// The state forbids it.
        conflict: bool,
        /// Why, for the customer.
        why: String,
    },
}

/// May `customer` cancel order `id`, whose state is `state`?
pub fn may_cancel(state: Option<&OrderState>, customer: &str, id: &str) -> Cancellation {
    let refuse = |conflict: bool, why: String| Cancellation::Refused { conflict, why };
    let Some(state) = state.filter(|s| s.customer == customer && !s.status.is_empty()) else {
        return refuse(false, format!("there is no order {id} of yours"));
    };
    match state.status.as_str() {
        "shipped" | "delivered" => refuse(
            true,
            format!("order {id} has shipped, so it cannot be cancelled; return it once it arrives"),
        ),
        "cancelled" => refuse(true, format!("order {id} is already cancelled")),
        "rejected" | "expired" => refuse(true, format!("order {id} was {}", state.status)),
        _ => Cancellation::Accepted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: &str) -> OrderState {
        let mut s = OrderState::new("alice");
        s.apply(&format!("order.{status}"));
        s
    }

    #[test]
    fn a_status_never_goes_back() {
        let mut s = order("shipped");
        assert!(!s.apply("order.paid"));
        assert!(!s.apply("order.confirmed"));
        assert_eq!(s.status, "shipped");
        assert!(s.apply("order.delivered"));
        assert!(!s.apply("order.cancel.requested"));
        assert!(!s.apply("order.payment"));
        let mut r = order("rejected");
        assert!(r.has_ended());
        assert!(!r.apply("order.confirmed"));
    }

    #[test]
    fn an_order_may_be_cancelled_until_it_ships_and_only_by_its_customer() {
        for status in ["placed", "paid", "confirmed"] {
            assert_eq!(
                may_cancel(Some(&order(status)), "alice", "o-1"),
                Cancellation::Accepted
            );
        }
        for status in ["shipped", "delivered", "cancelled", "rejected", "expired"] {
            assert!(matches!(
                may_cancel(Some(&order(status)), "alice", "o-1"),
                Cancellation::Refused { conflict: true, .. }
            ));
        }
        for (state, customer) in [(Some(order("placed")), "bob"), (None, "alice")] {
            let Cancellation::Refused { conflict, why } =
                may_cancel(state.as_ref(), customer, "o-1")
            else {
                panic!("someone else's order, or none, was cancelled");
            };
            assert!(!conflict && why.contains("no order o-1"), "{why}");
        }
    }

    #[test]
    fn a_state_written_before_orchestration_still_reads() {
        let old: OrderState =
            serde_json::from_str(r#"{"customer":"alice","status":"paid"}"#).unwrap();
        assert_eq!(old.status, "paid");
        assert!(!old.orchestrated && old.lines.is_empty() && old.payment.is_none());
    }
}
