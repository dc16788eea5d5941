//! Stripe's error bodies, as the double answers them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// An answer: HTTP status and JSON body.
pub type Answer = (u16, Value);

/// Stripe's error body.
pub fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) -> Answer {
    let mut error = json!({"type": kind, "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    (status, json!({"error": error}))
}

/// 400: a required parameter is missing.
pub fn missing(param: &str) -> Answer {
    error(
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some(param),
        &format!("Missing required param: {param}."),
    )
}

/// 404: no intent has that id.
pub fn no_such_intent(id: &str) -> Answer {
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("intent"),
        &format!("No such payment_intent: '{id}'"),
    )
}

/// 400: the intent (its API object) is not in a status that allows
/// `action`.
pub fn unexpected_state(intent: Value, action: &str) -> Answer {
    let (status, mut body) = error(
        400,
        "invalid_request_error",
        Some("payment_intent_unexpected_state"),
        None,
        &format!(
            "This PaymentIntent could not be {action} because it has a status of {}.",
            intent["status"].as_str().unwrap_or_default()
        ),
    );
    body["error"]["payment_intent"] = intent;
    (status, body)
}

/// Parameter `name` as an integer, if given.
pub fn integer(params: &BTreeMap<String, String>, name: &str) -> Result<Option<i64>, Answer> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            error(
                400,
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                Some(name),
                &format!("Invalid integer: {v}"),
            )
        }),
    }
}
