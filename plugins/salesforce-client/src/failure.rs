//! Salesforce error answers as delivery dispositions.

use serde_json::Value;
use streamplug_sdk::HandleError;
use streamplug_sdk::http::status_retries;

/// Error codes worth trying again later.
const TRANSIENT: &[&str] = &[
    "REQUEST_LIMIT_EXCEEDED",
    "SERVER_UNAVAILABLE",
    "UNABLE_TO_LOCK_ROW",
    "INVALID_SESSION_ID",
];

/// The first real error (`errorCode`, `message`) of a Salesforce error
/// array, skipping the `PROCESSING_HALTED` of rolled-back siblings.
pub fn first_error(body: &Value) -> Option<(String, String)> {
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

/// Retry or reject a failed Salesforce answer: limits (403
/// `REQUEST_LIMIT_EXCEEDED`, 429), outages (5xx), locks and expired
/// sessions (the host refreshes the token) are retried; anything else
/// (validation, missing fields, bad picklist values) is rejected with the
/// reason.
pub fn classify_failure(status: u16, body: &Value) -> HandleError {
    let (code, message) = first_error(body).unwrap_or_default();
    let what = format!("Salesforce answered {status} {code}: {message}");
    if status == 401 || status_retries(status) || TRANSIENT.contains(&code.as_str()) {
        HandleError::retry(what)
    } else {
        HandleError::reject(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
