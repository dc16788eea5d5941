//! `POST /v1/webhooks/infobip?channel=sms|email[&token=…]`: Infobip's
//! delivery reports become `message.status` events, so engagement is
//! tracked end to end. A report names the customer (and order) through the
//! `callbackData` the sender set: a JSON object `{"customer": …, "order": …}`.
//! The answer is `200` only once the events are durably written, so Infobip
//! retries a report the gateway could not take. The endpoint is off unless
//! `webhooks.infobip_token` is set; it then writes `message.status` only.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::web::AppState;
use crate::web::extract::QueryParams;
use crate::web::ingest::ingest_value;
use crate::web::problem::Problem;

/// Query parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// `sms` (default) or `email`.
    #[serde(default)]
    pub channel: Option<String>,
    /// Must equal `webhooks.infobip_token` when one is configured.
    #[serde(default)]
    pub token: Option<String>,
}

/// One report as a `message.status` event in the shorthand form.
fn to_event(report: &Value, channel: &str) -> Value {
    let callback: Value = report["callbackData"]
        .as_str()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let error = report["error"]["name"]
        .as_str()
        .filter(|n| *n != "NO_ERROR")
        .map(str::to_owned);
    let mut data = json!({
        "message": text(&report["messageId"]).unwrap_or_default(),
        "channel": channel,
        "status": text(&report["status"]["groupName"]).unwrap_or_default(),
    });
    for (field, value) in [
        ("to", text(&report["to"])),
        ("detail", text(&report["status"]["name"])),
        ("error", error),
        ("done_at", text(&report["doneAt"])),
        ("order", text(&callback["order"])),
    ] {
        if let Some(v) = value {
            data[field] = json!(v);
        }
    }
    let mut event = json!({"type": "message.status", "data": data});
    if let Some(customer) = text(&callback["customer"]) {
        event["customer"] = json!(customer);
    }
    event
}

/// Who a verified report writes as: `message.status` only.
fn sender() -> std::sync::Arc<crate::auth::ApiKey> {
    static SENDER: std::sync::OnceLock<std::sync::Arc<crate::auth::ApiKey>> =
        std::sync::OnceLock::new();
    SENDER
        .get_or_init(|| {
            crate::auth::ApiKey::internal(
                "infobip-webhook",
                crate::auth::Scopes::single(crate::auth::Scope::Ingest("message.status".into())),
            )
        })
        .clone()
}

/// Infobip delivery reports (the `notifyUrl` of SMS and email sends).
#[utoipa::path(
    post,
    path = "/v1/webhooks/infobip",
    tag = "ingest",
    params(WebhookQuery),
    request_body = crate::api::openapi::DeliveryReport,
    responses(
        (status = 200, description = "Each result became a `message.status` event, durable", body = crate::web::ingest::IngestReceipt),
        (status = 400, description = "Not a delivery report", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The webhook token is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The webhook is off (no `webhooks.infobip_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A copy of a report is being written now; send it again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A result does not make a valid `message.status` event", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log does not take writes now", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn infobip(
    State(state): State<AppState>,
    query: Result<QueryParams<WebhookQuery>, Problem>,
    body: Result<axum::Json<Value>, JsonRejection>,
) -> Response {
    let query = match query {
        Ok(QueryParams(q)) => q,
        Err(problem) => return problem.into_response(),
    };
    // Deny by default: the endpoint writes events about customers, so it
    // is off until a token is configured.
    let Some(expected) = &state.webhook_token else {
        return Problem::not_found(
            "the Infobip webhook is off: set webhooks.infobip_token and put it in the notifyUrl",
        )
        .into_response();
    };
    let given = query.token.as_deref().unwrap_or_default();
    if !crate::auth::same(given.as_bytes(), expected.as_bytes()) {
        return crate::web::caller::unauthorized(&crate::auth::AuthError::Invalid(
            "the webhook token is missing or wrong".into(),
        ))
        .into_response();
    }
    let channel = query.channel.unwrap_or_else(|| "sms".into());
    if channel != "sms" && channel != "email" {
        return Problem::bad_request("channel must be sms or email").into_response();
    }
    let report = match body {
        Ok(axum::Json(v)) => v,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let Some(results) = report["results"].as_array().filter(|r| !r.is_empty()) else {
        return Problem::bad_request("a delivery report has a non-empty `results` array")
            .into_response();
    };
    let events: Vec<Value> = results.iter().map(|r| to_event(r, &channel)).collect();
    let sender = Principal::Key(sender());
    match ingest_value(&state, Value::Array(events), &sender, &[]).await {
        Ok(receipt) => (StatusCode::OK, axum::Json(receipt)).into_response(),
        Err(problem) => problem.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_becomes_a_message_status_event_for_its_customer() {
        let report = json!({"messageId": "m-1", "to": "41793026727", "doneAt": "2026-11-23T16:10:02.000+0000",
            "status": {"groupName": "UNDELIVERABLE", "name": "UNDELIVERABLE_NOT_DELIVERED"},
            "error": {"name": "EC_ABSENT_SUBSCRIBER"},
            "callbackData": r#"{"customer":"alice","order":"o-1"}"#});
        let event = to_event(&report, "sms");
        assert_eq!(event["customer"], "alice");
        assert_eq!(event["data"]["order"], "o-1");
        assert_eq!(event["data"]["status"], "UNDELIVERABLE");
        assert_eq!(event["data"]["error"], "EC_ABSENT_SUBSCRIBER");
        let anonymous = to_event(
            &json!({"messageId": "m-2", "status": {"groupName": "DELIVERED"}, "error": {"name": "NO_ERROR"}}),
            "email",
        );
        assert!(anonymous.get("customer").is_none());
        assert!(anonymous["data"].get("error").is_none());
    }
}
