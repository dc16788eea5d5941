//! Escalation to Salesforce Service Cloud: one composite request (all or
//! none) upserts the customer's Contact by external id, creates the Case
//! with the recent history, and reads back its case number. A Case is the
//! customer's conversation until an agent closes it: its state is read back
//! (`IsClosed`, which Salesforce derives from the status), and later
//! messages are added to it as CaseComments.

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
    /// External-id field of Case holding the escalation's idempotency key,
    /// so a create whose answer was lost finds its case on the retry.
    pub case_key_field: String,
}

/// A created case.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseRef {
    /// Record id (`500...`).
    pub id: String,
    /// The number shown to people.
    pub number: String,
}

/// Whether a case is still open for more of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseState {
    /// Open: later messages join it.
    Open,
    /// Closed or resolved by an agent, or deleted: the next escalation
    /// starts a new case.
    Closed,
}

impl Crm {
    /// Whether case `id` is open, as Salesforce says now.
    pub fn case_state(&self, id: &str) -> Result<CaseState, HandleError> {
        Ok(match self.org.get("Case", id, &["Status", "IsClosed"])? {
            Some(case) if case["IsClosed"] != json!(true) => CaseState::Open,
            _ => CaseState::Closed,
        })
    }

    /// Add `text` from the customer to case `id` as a comment; its id.
    pub fn add_comment(&self, id: &str, text: &str) -> Result<String, HandleError> {
        self.org.create(
            "CaseComment",
            &json!({"ParentId": id, "CommentBody": text, "IsPublished": false}),
        )
    }

    /// Create the case keyed `key` for `customer` with `subject` and
    /// `description` (upserted by `key`: the same key never makes two).
    pub fn create_case(
        &self,
        key: &str,
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
            .upsert(
                "case",
                "Case",
                &self.case_key_field,
                key,
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
