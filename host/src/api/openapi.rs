//! The public API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` declarations (the same declarations the router is built
//! from, so no route is served undescribed) and the types they answer with.
//! Served at `GET /v1/openapi.json`; `streamplug openapi` prints it, and
//! `docs/openapi.json` holds a copy a test keeps equal to it.

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

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
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`sp_…`), or a JWT: a customer's (HS256 from the shop's \
                         backend) or staff's (from the identity provider)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The Infobip delivery report `POST /v1/webhooks/infobip` takes (Infobip's
/// `notifyUrl` callback for SMS and email).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeliveryReport {
    /// One result per message.
    pub results: Vec<Value>,
}

/// The document's JSON, as `GET /v1/openapi.json` serves it.
#[derive(Clone)]
pub struct Document(pub Bytes);

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object))
)]
pub async fn document(Extension(doc): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0).into_response()
}
