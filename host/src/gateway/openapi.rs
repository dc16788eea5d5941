//! The gateway's OpenAPI document: the public API's routes with the
//! WebSocket gateway's merged in, as the running gateway serves it at
//! `GET /v1/openapi.json`. `docs/openapi.json` holds a copy (`make docs`),
//! which a test keeps equal to it.

/// The document, for the standard vocabulary (a gateway serves the one
/// for its own at `GET /v1/openapi.json`).
pub fn openapi() -> serde_json::Value {
    crate::api::openapi(
        crate::ws::openapi(),
        crate::event::vocabulary::Vocabulary::standard(),
    )
}

/// The document as `docs/openapi.json` holds it: pretty JSON, one newline
/// at the end.
pub fn openapi_json() -> String {
    crate::docs_file::pretty_json(&openapi())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn docs_openapi_json_matches_the_code() {
        crate::docs_file::assert_current("openapi.json", &super::openapi_json());
    }

    #[test]
    fn the_document_is_openapi_3_1_and_describes_every_route_with_its_errors() {
        let doc: Value = serde_json::from_str(&super::openapi_json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for (path, method) in [
            ("/v1/events", "post"),
            ("/v1/webhooks/{name}", "post"),
            ("/v1/ws", "get"),
            ("/v1/dev/tokens", "post"),
            ("/v1/topics", "get"),
            ("/v1/topics/{topic}/events", "get"),
            ("/v1/schemas", "get"),
            ("/v1/plugins", "get"),
            ("/v1/openapi.json", "get"),
            ("/demo", "get"),
            ("/healthz", "get"),
            ("/readyz", "get"),
            ("/metrics", "get"),
        ] {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
        // Every error an authenticated route gives is a problem body.
        let ingest = &paths["/v1/events"]["post"];
        assert_eq!(ingest["security"][0]["bearer"], serde_json::json!([]));
        for status in [
            "400", "401", "403", "409", "413", "415", "422", "429", "503",
        ] {
            let content = &ingest["responses"][status]["content"];
            assert!(
                content["application/problem+json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("/Problem")),
                "{status}: {content}"
            );
        }
        // The documented bounds are the code's.
        assert_eq!(
            doc["components"]["schemas"]["TokenRequest"]["properties"]["ttl_secs"]["maximum"],
            serde_json::json!(crate::config::DEFAULT_DEV_TOKEN_MAX_TTL_SECS)
        );
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "IngestReceipt",
            "Problem",
            "DeploymentView",
            "TopicInfo",
            "ReadResult",
        ] {
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
