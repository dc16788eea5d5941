//! What the public API and the admin API share in serving their OpenAPI
//! documents: the document serialised once at start and answered as
//! bytes, and the bearer scheme their authenticated routes name.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

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

/// `routes` as a router and their description, with `document` (the route
/// serving the description) as a router of its own, so only it carries the
/// document, and its own description merged in.
pub fn split_with_document<S: Clone + Send + Sync + 'static>(
    routes: OpenApiRouter<S>,
    document: OpenApiRouter<S>,
) -> (Router<S>, Router<S>, OpenApi) {
    let (routes, mut doc) = routes.split_for_parts();
    let (document, document_doc) = document.split_for_parts();
    doc.merge(document_doc);
    (routes, document, doc)
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
