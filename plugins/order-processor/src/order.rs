//! One order's state as the order events tell it, and whether it may
//! still be cancelled.

use serde::{Deserialize, Serialize};

/// What the plugin keeps about an order (KV `order:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    /// The customer who placed it.
    pub customer: String,
    /// `placed`, `paid`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
}

/// How far along an order with `status` is: a status never goes back
/// (the storefront's and the warehouse's events may arrive out of order).
fn progress(status: &str) -> u8 {
    match status {
        "placed" => 1,
        "paid" => 2,
        "shipped" => 3,
        "delivered" => 4,
        "cancelled" => 5,
        _ => 0,
    }
}

impl OrderState {
    /// An order of `customer` about which nothing is known yet.
    pub fn new(customer: &str) -> Self {
        Self {
            customer: customer.to_owned(),
            status: String::new(),
        }
    }

    /// Fold in an event of type `ty` (`order.<status>`); whether the state
    /// changed.
    pub fn apply(&mut self, ty: &str) -> bool {
        let Some(status) = ty.strip_prefix("order.") else {
            return false;
        };
        if progress(status) == 0 || progress(status) <= progress(&self.status) {
            return false;
        }
        self.status = status.to_owned();
        true
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
        assert_eq!(s.status, "shipped");
        assert!(s.apply("order.delivered"));
        assert!(!s.apply("order.cancel.requested"));
    }

    #[test]
    fn an_order_may_be_cancelled_until_it_ships_and_only_by_its_customer() {
        for status in ["placed", "paid"] {
            assert_eq!(
                may_cancel(Some(&order(status)), "alice", "o-1"),
                Cancellation::Accepted
            );
        }
        for status in ["shipped", "delivered", "cancelled"] {
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
}
