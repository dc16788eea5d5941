//! What a registration asks for, and whether it may have it.

use streamplug_sdk::vocabulary::{CustomerRegister, CustomerRegistered};

/// The `customer.registered` data a registration `r` becomes, under
/// `email` (its address in lower case).
pub fn registered(r: CustomerRegister, email: &str) -> CustomerRegistered {
    CustomerRegistered {
        email: email.to_owned(),
        name: r.name,
        phone: r.phone,
        locale: r.locale,
        marketing_consent: r.marketing_consent,
    }
}

/// What becomes of a registration.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// A new customer: record and announce it.
    Register,
    /// This customer already holds this address: nothing changes.
    AlreadyDone,
    /// Refused as a conflict, for this reason.
    Refuse(String),
}

/// Decide `customer`'s registration under `email`, given who holds the
/// address now (`holder`) and the address the customer is registered
/// under (`registered`).
pub fn decide(
    customer: &str,
    email: &str,
    holder: Option<&str>,
    registered: Option<&str>,
) -> Decision {
    match (holder, registered) {
        (Some(other), _) if other != customer => {
            Decision::Refuse(format!("{email} is registered to another customer"))
        }
        (_, Some(address)) if address != email => Decision::Refuse(format!(
            "{customer} is already registered under another address; change it with customer.updated"
        )),
        (Some(_), _) => Decision::AlreadyDone,
        (None, _) => Decision::Register,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_customer_per_address_and_one_address_per_registration() {
        assert_eq!(decide("c-1", "a@x.io", None, None), Decision::Register);
        assert_eq!(
            decide("c-1", "a@x.io", Some("c-1"), Some("a@x.io")),
            Decision::AlreadyDone
        );
        let Decision::Refuse(why) = decide("c-2", "a@x.io", Some("c-1"), None) else {
            panic!("another customer's address was taken");
        };
        assert!(why.contains("another customer"), "{why}");
        let Decision::Refuse(why) = decide("c-1", "b@x.io", None, Some("a@x.io")) else {
            panic!("a second address was taken");
        };
        assert!(why.contains("customer.updated"), "{why}");
    }

    #[test]
    fn the_registered_event_carries_what_was_given() {
        let r: CustomerRegister = serde_json::from_value(
            serde_json::json!({"email": "A@X.io", "name": "Ann", "marketing_consent": false}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(registered(r, "a@x.io")).unwrap(),
            serde_json::json!({"email": "a@x.io", "name": "Ann", "marketing_consent": false})
        );
    }
}
