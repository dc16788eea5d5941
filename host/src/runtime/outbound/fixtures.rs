//! Answers to outbound requests for offline runs (`streamplug plugin
//! test --fixtures`): a JSON list of rules, the first whose method, URL and
//! request body match answers. A URL ending in `*` matches every URL it is
//! a prefix of; `body_contains` asks for a piece of the request body (for
//! APIs with one endpoint for many requests, such as Salesforce's
//! composite resource).
//!
//! ```json
//! [{"method": "POST", "url": "https://api.infobip.com/sms/3/messages",
//!   "status": 200, "body": {"messages": [{"messageId": "m-1"}]}},
//!  {"url": "https://crm.example/services/data/*", "body_contains": "\"Task\"", "status": 200},
//!  {"url": "https://crm.example/services/data/*", "status": 204}]
//! ```
//!
//! A JSON `body` is sent as JSON (`content-type: application/json` unless
//! the rule's `headers` say otherwise), a string body as it is.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::RecordedResponse;

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The method it answers (any when absent).
    pub method: Option<String>,
    /// The URL it answers; a trailing `*` makes it a prefix.
    pub url: String,
    /// A piece of text the request body must hold.
    pub body_contains: Option<String>,
    /// The answer's status.
    #[serde(default = "ok")]
    pub status: u16,
    /// The answer's headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The answer's body.
    #[serde(default)]
    pub body: Option<Value>,
}

fn ok() -> u16 {
    200
}

impl Fixture {
    fn matches(&self, method: &str, url: &str, body: &[u8]) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let url_ok = match self.url.strip_suffix('*') {
            Some(prefix) => url.starts_with(prefix),
            None => url == self.url,
        };
        let body_ok = self.body_contains.as_deref().is_none_or(|piece| {
            piece.is_empty() || body.windows(piece.len()).any(|w| w == piece.as_bytes())
        });
        method_ok && url_ok && body_ok
    }

    fn response(&self) -> Result<RecordedResponse, String> {
        let status = http::StatusCode::from_u16(self.status).map_err(|_| {
            format!(
                "`{}`: status {} is not an HTTP status",
                self.url, self.status
            )
        })?;
        let mut headers = http::HeaderMap::new();
        let body = match &self.body {
            None => Bytes::new(),
            Some(Value::String(text)) => Bytes::from(text.clone()),
            Some(json) => {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                Bytes::from(json.to_string())
            }
        };
        for (name, value) in &self.headers {
            let name = http::HeaderName::try_from(name.as_str())
                .map_err(|e| format!("`{}`: header `{name}`: {e}", self.url))?;
            let value = http::HeaderValue::try_from(value.as_str())
                .map_err(|e| format!("`{}`: header `{name}`: {e}", self.url))?;
            headers.insert(name, value);
        }
        Ok(RecordedResponse {
            status,
            headers,
            body,
        })
    }
}

/// The rules of a fixtures file, checked when read.
#[derive(Debug, Clone, Default)]
pub struct HttpFixtures {
    rules: Vec<(Fixture, RecordedResponse)>,
}

impl HttpFixtures {
    /// Parse a fixtures file's text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let rules: Vec<Fixture> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let rules = rules
            .into_iter()
            .map(|f| f.response().map(|r| (f, r)))
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// The answer of the first rule matching `method`, `url` and `body`.
    pub fn answer(&self, method: &str, url: &str, body: &[u8]) -> Option<RecordedResponse> {
        self.rules
            .iter()
            .find(|(f, _)| f.matches(method, url, body))
            .map(|(_, r)| r.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_rule_answers_and_a_star_makes_a_prefix() {
        let fixtures = HttpFixtures::from_json(
            r#"[{"method": "post", "url": "https://sms.example/send", "status": 201, "body": {"id": "m-1"}},
                {"url": "https://crm.example/*", "status": 204, "headers": {"x-limit": "5"}, "body": "done"}]"#,
        )
        .unwrap();
        let sms = fixtures
            .answer("POST", "https://sms.example/send", b"")
            .unwrap();
        assert_eq!(sms.status, 201);
        assert_eq!(sms.headers["content-type"], "application/json");
        assert_eq!(&sms.body[..], br#"{"id":"m-1"}"#);
        assert!(
            fixtures
                .answer("GET", "https://sms.example/send", b"")
                .is_none()
        );
        let crm = fixtures
            .answer("PATCH", "https://crm.example/Contact/a", b"")
            .unwrap();
        assert_eq!((crm.status.as_u16(), &crm.body[..]), (204, &b"done"[..]));
        assert_eq!(crm.headers["x-limit"], "5");
        assert!(
            fixtures
                .answer("GET", "https://other.example/", b"")
                .is_none()
        );
    }

    #[test]
    fn a_rule_can_ask_for_a_piece_of_the_body() {
        let fixtures = HttpFixtures::from_json(
            r#"[{"url": "https://crm/composite", "body_contains": "\"Task\"", "status": 201},
                {"url": "https://crm/composite", "status": 200}]"#,
        )
        .unwrap();
        let task = br#"{"compositeRequest":[{"url":"/sobjects/Task/x"},{"body":{"type":"Task"}}]}"#;
        assert_eq!(
            fixtures
                .answer("POST", "https://crm/composite", task)
                .unwrap()
                .status,
            201
        );
        assert_eq!(
            fixtures
                .answer("POST", "https://crm/composite", b"{}")
                .unwrap()
                .status,
            200
        );
    }

    #[test]
    fn a_bad_rule_is_named() {
        let e = HttpFixtures::from_json(r#"[{"url": "https://a/", "status": 1000}]"#).unwrap_err();
        assert!(e.contains("`https://a/`: status 1000"), "{e}");
        let e = HttpFixtures::from_json(r#"[{"uri": "https://a/"}]"#).unwrap_err();
        assert!(e.contains("unknown field `uri`"), "{e}");
    }
}
