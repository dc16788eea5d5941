//! Faults the Salesforce double injects, and the session check every data
//! request passes first.

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{Shared, lock};

/// A fault the next data requests get.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// 403 `REQUEST_LIMIT_EXCEEDED` (the org's API limit).
    RequestLimit,
    /// 429 Too Many Requests.
    TooManyRequests,
    /// 500 `UNKNOWN_EXCEPTION`.
    ServerError,
    /// Answer normally, but only after this long.
    Slow(Duration),
    /// Carry the request out, then lose the answer: 503
    /// `SERVER_UNAVAILABLE` (a timeout or a dropped connection, as the
    /// client sees it).
    LostAnswer,
}

/// Whether the answer to an admitted request is lost after it took effect.
pub(super) type AnswerLost = bool;

/// The answer a client gets when the answer was lost.
pub(super) fn lost_answer() -> (u16, Value) {
    (
        503,
        json!([{"message": "Service unavailable", "errorCode": "SERVER_UNAVAILABLE"}]),
    )
}

/// Check the session and take a pending fault; `Err` is the answer to send.
pub(super) async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<AnswerLost, (u16, Value)> {
    let fault = {
        let mut inner = lock(shared);
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !bearer.is_some_and(|t| inner.tokens.contains(t)) {
            return Err((
                401,
                json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
            ));
        }
        inner.api_calls += 1;
        inner.faults.pop_front()
    };
    match fault {
        None => Ok(false),
        Some(Fault::LostAnswer) => Ok(true),
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            Ok(false)
        }
        Some(Fault::RequestLimit) => Err((
            403,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
        )),
        Some(Fault::TooManyRequests) => Err((
            429,
            json!([{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
        )),
        Some(Fault::ServerError) => Err((
            500,
            json!([{"message": "An unexpected error occurred.", "errorCode": "UNKNOWN_EXCEPTION"}]),
        )),
    }
}
