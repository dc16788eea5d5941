//! What the public API and the admin API share in serving their OpenAPI
//! documents: the document serialised once at start and answered as
//! bytes, and the bearer scheme their authenticated routes name.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// A document's JSON, as its route serves it (only that route's router
/// carries it).
#[derive(Clone)]
pub struct Document(Bytes);

impl Document {
    /// `doc`, serialised.
    pub fn of(doc: &impl serde::Serialize) -> Self {
        Self(serde_json::to_vec(doc).unwrap_or_default().into())
    }
}

impl IntoResponse for Document {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

/// Add the `bearer` security scheme (`Authorization: Bearer …`) that
/// authenticated routes name, described as `what` the credential is.
pub fn add_bearer_scheme(doc: &mut OpenApi, what: &str) {
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what))
                    .build(),
            ),
        );
}
