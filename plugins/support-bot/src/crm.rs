//! Escalation to Salesforce Service Cloud: one composite request (all or
//! none) upserts the customer's Contact by external id, creates the Case
//! with the recent history, and reads back its case number. The host
//! attaches the OAuth token; errors map to retry (limits, outages, expired
//! sessions) or reject (validation).

use serde_json::{Value, json};
use streamplug_sdk::{HandleError, http};

/// Where the org is and how contacts are keyed.
#[derive(Debug, Clone)]
pub struct Crm {
    /// Instance URL, e.g. `https://mydomain.my.salesforce.com`.
    pub base: String,
    /// REST API version, e.g. `v64.0`.
    pub version: String,
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

/// Who the customer is, as far as the bot knows.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Salesforce error codes worth trying again later.
const TRANSIENT: &[&str] = &[
    "REQUEST_LIMIT_EXCEEDED",
    "SERVER_UNAVAILABLE",
    "UNABLE_TO_LOCK_ROW",
    "INVALID_SESSION_ID",
];

/// The first real error of a Salesforce error array (not `PROCESSING_HALTED`).
fn first_error(body: &Value) -> Option<(String, String)> {
    body.as_array()?
        .iter()
        .map(|e| {
            (
                e["errorCode"].as_str().unwrap_or_default().to_owned(),
                e["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .find(|(code, _)| code != "PROCESSING_HALTED")
}

/// Retry or reject for a failed Salesforce answer.
pub fn classify_failure(status: u16, body: &Value) -> HandleError {
    let (code, message) = first_error(body).unwrap_or_default();
    let what = format!("Salesforce answered {status} {code}: {message}");
    if status == 401 || status == 429 || status >= 500 || TRANSIENT.contains(&code.as_str()) {
        HandleError::retry(what)
    } else {
        HandleError::reject(what)
    }
}

impl Crm {
    fn url(&self, path: &str) -> String {
        format!("/services/data/{}/{path}", self.version)
    }

    /// Create a case for `customer` with `subject` and `description`.
    pub fn create_case(
        &self,
        customer: &str,
        profile: &Profile,
        subject: &str,
        description: &str,
    ) -> Result<CaseRef, HandleError> {
        let last_name = profile.name.clone().unwrap_or_else(|| customer.to_owned());
        let mut contact = json!({ "LastName": last_name });
        if let Some(email) = &profile.email {
            contact["Email"] = json!(email);
        }
        if let Some(phone) = &profile.phone {
            contact["MobilePhone"] = json!(phone);
        }
        let request = json!({
            "allOrNone": true,
            "compositeRequest": [
                {"method": "PATCH", "referenceId": "contact",
                 "url": self.url(&format!("sobjects/Contact/{}/{customer}", self.external_id_field)),
                 "body": contact},
                {"method": "POST", "referenceId": "case", "url": self.url("sobjects/Case"),
                 "body": {"Subject": subject, "Description": description, "Origin": "Web",
                          "Status": "New", "Priority": "Medium", "ContactId": "@{contact.id}",
                          "SuppliedName": profile.name, "SuppliedEmail": profile.email}},
                {"method": "GET", "referenceId": "read", "url": self.url("sobjects/Case/@{case.id}")}
            ]
        });
        let response = http::post(&format!("{}{}", self.base, self.url("composite")))
            .json(&request)?
            .send()?;
        let body: Value = response.json().unwrap_or(Value::Null);
        if !response.is_success() {
            return Err(classify_failure(response.status, &body));
        }
        let results = body["compositeResponse"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(failed) = results.iter().find(|r| {
            r["httpStatusCode"].as_u64().is_some_and(|s| s >= 400)
                && first_error(&r["body"]).is_some()
        }) {
            let status =
                u16::try_from(failed["httpStatusCode"].as_u64().unwrap_or(400)).unwrap_or(400);
            return Err(classify_failure(status, &failed["body"]));
        }
        let read = results
            .iter()
            .find(|r| r["referenceId"] == "read")
            .map(|r| &r["body"])
            .ok_or_else(|| HandleError::retry("Salesforce answered without the case"))?;
        Ok(CaseRef {
            id: read["Id"].as_str().unwrap_or_default().to_owned(),
            number: read["CaseNumber"].as_str().unwrap_or_default().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outages_and_sessions_retry_validation_rejects() {
        let limit = json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]);
        assert!(matches!(
            classify_failure(403, &limit),
            HandleError::Retry(_)
        ));
        assert!(matches!(
            classify_failure(429, &Value::Null),
            HandleError::Retry(_)
        ));
        assert!(matches!(
            classify_failure(503, &Value::Null),
            HandleError::Retry(_)
        ));
        assert!(matches!(
            classify_failure(401, &Value::Null),
            HandleError::Retry(_)
        ));
        let invalid = json!([{"errorCode": "PROCESSING_HALTED", "message": "rolled back"},
                             {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]"}]);
        match classify_failure(400, &invalid) {
            HandleError::Reject(r) => assert!(r.contains("REQUIRED_FIELD_MISSING"), "{r}"),
            other => panic!("{other:?}"),
        }
    }
}
