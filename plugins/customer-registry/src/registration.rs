//! What a registration asks for, and whether it may have it.

use serde::Deserialize;
use serde_json::{Value, json};

/// The data of `customer.register`.
#[derive(Debug, Clone, Deserialize)]
pub struct Registration {
    /// E-mail address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Phone number (E.164).
    #[serde(default)]
    pub phone: Option<String>,
    /// Preferred language.
    #[serde(default)]
    pub locale: Option<String>,
    /// Whether the customer agreed to marketing messages.
    #[serde(default)]
    pub marketing_consent: Option<bool>,
}

impl Registration {
    /// The data of the `customer.registered` it becomes, under `email`
    /// (the address in lower case).
    pub fn registered(&self, email: &str) -> Value {
        let mut data = json!({"email": email, "name": self.name});
        if let Some(phone) = &self.phone {
            data["phone"] = json!(phone);
        }
        if let Some(locale) = &self.locale {
            data["locale"] = json!(locale);
        }
        if let Some(consent) = self.marketing_consent {
            data["marketing_consent"] = json!(consent);
        }
        data
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
        let r: Registration = serde_json::from_value(
            json!({"email": "A@X.io", "name": "Ann", "marketing_consent": false}),
        )
        .unwrap();
        assert_eq!(
            r.registered("a@x.io"),
            json!({"email": "a@x.io", "name": "Ann", "marketing_consent": false})
        );
    }
}
