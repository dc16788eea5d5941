//! Who a customer is, as the shop's events tell it, and the Contact fields
//! that follow from it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A customer's name and contact details (from `customer.updated`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone (international digits).
    #[serde(default)]
    pub phone: Option<String>,
}

impl Profile {
    /// Fold a newer update in: fields it carries replace the known ones.
    pub fn merge(&mut self, update: Self) {
        self.name = update.name.or(self.name.take());
        self.email = update.email.or(self.email.take());
        self.phone = update.phone.or(self.phone.take());
    }

    /// The Contact body of an upsert for `customer`: `LastName` (required
    /// on create) is the name when known, else the customer id.
    pub fn contact_fields(&self, customer: &str) -> Value {
        let mut contact = json!({ "LastName": self.name.as_deref().unwrap_or(customer) });
        if let Some(email) = &self.email {
            contact["Email"] = json!(email);
        }
        if let Some(phone) = &self.phone {
            contact["MobilePhone"] = json!(phone);
        }
        contact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_merge_and_become_contact_fields() {
        let mut p = Profile {
            name: Some("Alice".into()),
            email: Some("a@example.com".into()),
            phone: None,
        };
        p.merge(Profile {
            name: None,
            email: Some("alice@example.com".into()),
            phone: Some("41793026727".into()),
        });
        assert_eq!(
            p.contact_fields("c-1"),
            json!({"LastName": "Alice", "Email": "alice@example.com", "MobilePhone": "41793026727"})
        );
        assert_eq!(
            Profile::default().contact_fields("c-1"),
            json!({"LastName": "c-1"})
        );
    }
}
