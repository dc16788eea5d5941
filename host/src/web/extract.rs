//! The extractors of the APIs' handlers: each refuses with a problem body
//! naming what is wrong, never axum's plain-text rejection. JSON bodies
//! (other than events, which the ingest pipeline parses itself) are read
//! as JSON Schema reads them, so an integral float is an integer
//! ([`crate::json_number`]).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::problem::Problem;

/// A JSON body of type `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let axum::Json(mut value) = axum::Json::<Value>::from_request(request, state)
            .await
            .map_err(rejection_problem)?;
        crate::json_number::integral_as_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(JsonBody)
            .map_err(|e| {
                let at = e.path().to_string();
                Problem::bad_request(format!("the body at `{at}`: {}", e.into_inner()))
            })
    }
}

fn rejection_problem(rejection: JsonRejection) -> Problem {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(rejection.body_text()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            Problem::unsupported_media_type("send the body as application/json")
        }
        _ => Problem::bad_request(format!("the body is not JSON: {}", rejection.body_text())),
    }
}

/// A query string of type `T`.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}

/// Path parameters of type `T`.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| Self(p))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}
