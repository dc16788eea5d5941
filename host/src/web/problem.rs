//! RFC 9457 problem details: every error answer is `application/problem+json`
//! naming what is wrong and, for input errors, which field.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::event::cloudevents::FieldError;

/// Most field errors listed in one answer.
const MAX_ERRORS: usize = 20;

/// One problem answer (RFC 9457), served as `application/problem+json`.
#[derive(Debug, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, fixed summary of the kind.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// Field-level errors, with JSON pointers into the request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    #[serde(skip)]
    retry_after: Option<u32>,
    #[serde(skip)]
    challenge: bool,
}

/// The answer of a route that needs a credential, when it has none or a
/// refused one (`WWW-Authenticate: Bearer`), for the OpenAPI document.
#[derive(utoipa::ToResponse)]
#[response(
    description = "No credential, or a refused one",
    content_type = "application/problem+json"
)]
pub struct Unauthorized(pub Problem);

/// One invalid field.
#[derive(Debug, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct FieldProblem {
    /// JSON pointer to the field.
    pub pointer: String,
    /// What is wrong with it.
    pub detail: String,
}

impl Problem {
    /// A problem of `status` with a kind slug and details.
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: format!("https://streamplug.dev/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            challenge: false,
        }
    }

    /// 401 with `WWW-Authenticate: Bearer`: no credential, or one refused.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        );
        p.challenge = true;
        p
    }

    /// 415: the body is not sent as a media type the route takes.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    /// 403: the caller is known but not granted this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 403 naming the events (JSON pointers) the caller may not send.
    pub fn forbidden_events(errors: Vec<FieldError>, total: usize) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            field_summary(&errors, total, "are not allowed to this caller"),
        )
        .with_fields(errors)
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(detail: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            detail,
        );
        p.retry_after = Some(retry_after_secs.max(1));
        p
    }

    /// 400: the body is not what the endpoint takes.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Malformed request",
            detail,
        )
    }

    /// 422: events that do not follow the vocabulary.
    pub fn invalid_events(errors: Vec<FieldError>, total: usize) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-event",
            "Invalid event",
            field_summary(&errors, total, "are invalid"),
        )
        .with_fields(errors)
    }

    /// This problem with `errors` listed (at most [`MAX_ERRORS`]).
    fn with_fields(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors
            .into_iter()
            .take(MAX_ERRORS)
            .map(|e| FieldProblem {
                pointer: e.pointer,
                detail: e.message,
            })
            .collect();
        self
    }

    /// 413.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
            detail,
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 409 with `Retry-After`: a copy of the event (same `source` and `id`)
    /// is being written by another request right now (as Stripe answers a
    /// concurrent request with the same `Idempotency-Key`).
    pub fn in_progress(detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::CONFLICT,
            "in-progress",
            "Request in progress",
            detail,
        );
        p.retry_after = Some(1);
        p
    }

    /// 503 with `Retry-After`: the write was not acknowledged; try again
    /// (with the same event `id`, so a copy that did land is recognised).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
            detail,
        );
        p.retry_after = Some(1);
        p
    }

    /// 503 with `Retry-After`: the storage takes no writes now (the disk is
    /// nearly full, or a write failed and the store is recovering); `then`
    /// ends the detail.
    pub fn storage(trouble: &crate::storage::Trouble, then: &str) -> Self {
        let mut p = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage-unavailable",
            "Storage unavailable",
            format!("{trouble}{then}"),
        );
        p.retry_after = Some(match trouble {
            crate::storage::Trouble::LowDisk { .. } => 30,
            crate::storage::Trouble::WriteFailed(_) => 5,
        });
        p
    }
}

/// "N of M event(s) <what>; nothing was written. First: <error>".
fn field_summary(errors: &[FieldError], total: usize, what: &str) -> String {
    format!(
        "{} of {total} event(s) {what}; nothing was written. First: {}",
        errors.len(),
        errors.first().map(ToString::to_string).unwrap_or_default()
    )
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let challenge = self.challenge;
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // The rest of an oversized body is never read, so the connection
        // cannot carry another request: say so, or a client reusing it
        // sees its next request fail with the connection closed under it.
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_body_closes_the_connection_and_other_problems_keep_it() {
        let too_large = Problem::too_large("big").into_response();
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.headers()[header::CONNECTION], "close");
        assert_eq!(
            too_large.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bad = Problem::bad_request("no").into_response();
        assert!(bad.headers().get(header::CONNECTION).is_none());
    }
}
