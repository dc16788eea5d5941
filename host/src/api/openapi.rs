//! The public API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` declarations (the same declarations the router is built
//! from, so no route is served undescribed) and the types they answer with.
//! Served at `GET /v1/openapi.json`; `streamplug openapi` prints it, and
//! `docs/openapi.json` holds a copy a test keeps equal to it.

use axum::Extension;
use utoipa::{Modify, OpenApi};

use crate::web::openapi_document::{Document, add_bearer_scheme};

/// The document's parts that are not a route: its description, tags and
/// the bearer scheme every authenticated route names.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "streamplug",
        description = "The event gateway's public API: ingest over HTTP (and WebSocket, \
                       described in docs/asyncapi.json), reads, the plugin list, health and \
                       metrics. Errors are RFC 9457 problem details \
                       (`application/problem+json`).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "ingest", description = "Events in: validated, routed, acknowledged once durable"),
        (name = "read", description = "Events, topics and the vocabulary out"),
        (name = "sessions", description = "Customers' live WebSocket sessions"),
        (name = "operations", description = "Health, readiness, metrics, plugins, this document"),
    ),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// `Authorization: Bearer <credential>`: an API key, or a JWT.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        add_bearer_scheme(
            doc,
            "An API key (`sp_…`), or a JWT: a customer's (HS256 from the shop's \
             backend) or staff's (from the identity provider)",
        );
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object))
)]
pub async fn document(Extension(doc): Extension<Document>) -> Document {
    doc
}
