//! Escalation to Salesforce Service Cloud: one composite request (all or
//! none) upserts the customer's Contact by external id, creates the Case
//! with the recent history, and reads back its case number.

use salesforce_client::{Profile, Salesforce};
use serde_json::json;
use streamplug_sdk::HandleError;

/// The org and how contacts are keyed.
#[derive(Debug, Clone)]
pub struct Crm {
    /// The org.
    pub org: Salesforce,
    /// External-id field of Contact holding the customer id.
    pub external_id_field: String,
}

/// A created case.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseRef {
    /// Record id (`500...`).
    pub id: String,
    /// The number shown to people.
    pub number: String,
}

impl Crm {
    /// Create a case for `customer` with `subject` and `description`.
    pub fn create_case(
        &self,
        customer: &str,
        profile: &Profile,
        subject: &str,
        description: &str,
    ) -> Result<CaseRef, HandleError> {
        let request = self
            .org
            .composite()
            .upsert(
                "contact",
                "Contact",
                &self.external_id_field,
                customer,
                profile.contact_fields(customer),
            )
            .create(
                "case",
                "Case",
                json!({"Subject": subject, "Description": description, "Origin": "Web",
                       "Status": "New", "Priority": "Medium", "ContactId": "@{contact.id}",
                       "SuppliedName": profile.name, "SuppliedEmail": profile.email}),
            )
            .read("read", "Case", "@{case.id}");
        let results = self.org.send(request)?;
        let read = results
            .get("read")
            .ok_or_else(|| HandleError::retry("Salesforce answered without the case"))?;
        Ok(CaseRef {
            id: read["Id"].as_str().unwrap_or_default().to_owned(),
            number: read["CaseNumber"].as_str().unwrap_or_default().to_owned(),
        })
    }
}
