//! Salesforce REST for streamplug plugins, over the SDK's outbound HTTP.
//!
//! A [`Composite`] request bundles up to 25 subrequests in one API call
//! (all or none), later ones referring to earlier results with
//! `@{reference.field}`. The host attaches the OAuth token of the credential
//! the plugin's manifest binds to the org's origin and refreshes it on a
//! 401, so a plugin never holds a secret. Failures map to a delivery
//! disposition ([`classify_failure`]): API limits, outages and expired
//! sessions are retried; validation errors dead-letter the event with
//! Salesforce's reason.

mod contact;
mod failure;

pub use contact::Profile;
pub use failure::{classify_failure, first_error};

use std::collections::BTreeMap;

use serde_json::{Value, json};
use streamplug_sdk::{HandleError, http};

/// Salesforce accepts at most this many subrequests in one composite call.
pub const MAX_SUBREQUESTS: usize = 25;

/// The REST API version a plugin uses unless its config says otherwise.
pub const DEFAULT_API_VERSION: &str = "v64.0";

/// The external-id field on Contact (and Order) unless configured: the
/// shop's customer (and order) id.
pub const DEFAULT_EXTERNAL_ID: &str = "External_Id__c";

/// [`DEFAULT_API_VERSION`], for `#[serde(default = ...)]`.
pub fn default_api_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}

/// [`DEFAULT_EXTERNAL_ID`], for `#[serde(default = ...)]`.
pub fn default_external_id() -> String {
    DEFAULT_EXTERNAL_ID.to_owned()
}

/// An org's REST endpoint.
#[derive(Debug, Clone)]
pub struct Salesforce {
    /// Instance URL, e.g. `https://mydomain.my.salesforce.com`.
    pub base: String,
    /// REST API version, e.g. `v64.0`.
    pub version: String,
}

impl Salesforce {
    /// The org at instance URL `salesforce_url` (the config value: an
    /// `http(s)` URL; a trailing `/` is dropped).
    pub fn new(salesforce_url: &str, version: String) -> Result<Self, String> {
        if !(salesforce_url.starts_with("https://") || salesforce_url.starts_with("http://")) {
            return Err(format!(
                "salesforce_url must be the org's instance URL (http or https), not `{salesforce_url}`"
            ));
        }
        Ok(Self {
            base: salesforce_url.trim_end_matches('/').to_owned(),
            version,
        })
    }
}

/// Percent-encode a path segment (an external id value may hold anything).
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A composite request being built.
#[derive(Debug, Clone)]
#[must_use = "a composite request does nothing until sent"]
pub struct Composite {
    version: String,
    subrequests: Vec<Value>,
}

impl Composite {
    fn path(&self, rest: &str) -> String {
        format!("/services/data/{}/{rest}", self.version)
    }

    fn push(mut self, method: &str, reference: &str, url: String, body: Option<Value>) -> Self {
        let mut sub = json!({"method": method, "referenceId": reference, "url": url});
        if let Some(body) = body {
            sub["body"] = body;
        }
        self.subrequests.push(sub);
        self
    }

    /// Insert or update the `object` whose external-id `field` is `value`.
    pub fn upsert(
        self,
        reference: &str,
        object: &str,
        field: &str,
        value: &str,
        body: Value,
    ) -> Self {
        let url = self.path(&format!("sobjects/{object}/{field}/{}", segment(value)));
        self.push("PATCH", reference, url, Some(body))
    }

    /// Create an `object`.
    pub fn create(self, reference: &str, object: &str, body: Value) -> Self {
        let url = self.path(&format!("sobjects/{object}"));
        self.push("POST", reference, url, Some(body))
    }

    /// Read the `object` with `id` (may be a `@{ref.id}` reference).
    pub fn read(self, reference: &str, object: &str, id: &str) -> Self {
        let url = self.path(&format!("sobjects/{object}/{id}"));
        self.push("GET", reference, url, None)
    }

    /// Subrequests so far.
    pub fn len(&self) -> usize {
        self.subrequests.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.subrequests.is_empty()
    }
}

/// The bodies of a successful composite call, by reference id.
#[derive(Debug, Clone, Default)]
pub struct Results(BTreeMap<String, Value>);

impl Results {
    /// The body answered to `reference`.
    pub fn get(&self, reference: &str) -> Option<&Value> {
        self.0.get(reference)
    }

    /// The record id answered to `reference` (`id` of a create or upsert,
    /// `Id` of a read).
    pub fn id(&self, reference: &str) -> Option<&str> {
        let body = self.get(reference)?;
        body["id"].as_str().or(body["Id"].as_str())
    }
}

impl Salesforce {
    /// Start a composite request (all or none).
    pub fn composite(&self) -> Composite {
        Composite {
            version: self.version.clone(),
            subrequests: Vec::new(),
        }
    }

    /// The `fields` of record `id` of `object` (`GET
    /// /sobjects/{object}/{id}?fields=...`); `None` when it does not exist
    /// (deleted, or never was).
    pub fn get(
        &self,
        object: &str,
        id: &str,
        fields: &[&str],
    ) -> Result<Option<Value>, HandleError> {
        let url = format!(
            "{}/services/data/{}/sobjects/{}/{}?fields={}",
            self.base,
            self.version,
            segment(object),
            segment(id),
            fields.join(",")
        );
        let response = http::get(&url).send()?;
        let body: Value = response.json().unwrap_or(Value::Null);
        match response.status {
            404 => Ok(None),
            _ if response.is_success() => Ok(Some(body)),
            status => Err(classify_failure(status, &body)),
        }
    }

    /// Create a record of `object` with `fields` (`POST /sobjects/{object}`);
    /// its id.
    pub fn create(&self, object: &str, fields: &Value) -> Result<String, HandleError> {
        let url = format!(
            "{}/services/data/{}/sobjects/{}",
            self.base,
            self.version,
            segment(object)
        );
        let response = http::post(&url).json(fields)?.send()?;
        let body: Value = response.json().unwrap_or(Value::Null);
        if !response.is_success() {
            return Err(classify_failure(response.status, &body));
        }
        body["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| HandleError::retry("Salesforce created the record without an id"))
    }

    /// Send `request` in one API call. Any failed subrequest fails the whole
    /// (nothing was written) with the disposition of its error.
    pub fn send(&self, request: Composite) -> Result<Results, HandleError> {
        if request.len() > MAX_SUBREQUESTS {
            return Err(HandleError::reject(format!(
                "a composite request holds at most {MAX_SUBREQUESTS} subrequests, not {}",
                request.len()
            )));
        }
        let url = format!("{}/services/data/{}/composite", self.base, self.version);
        let response = http::post(&url)
            .json(&json!({"allOrNone": true, "compositeRequest": request.subrequests}))?
            .send()?;
        let body: Value = response.json().unwrap_or(Value::Null);
        if !response.is_success() {
            return Err(classify_failure(response.status, &body));
        }
        let answers = body["compositeResponse"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(failed) = answers.iter().find(|r| {
            r["httpStatusCode"].as_u64().is_some_and(|s| s >= 400)
                && first_error(&r["body"]).is_some()
        }) {
            let status =
                u16::try_from(failed["httpStatusCode"].as_u64().unwrap_or(400)).unwrap_or(400);
            return Err(classify_failure(status, &failed["body"]));
        }
        if answers.len() != request.subrequests.len() {
            return Err(HandleError::retry(format!(
                "Salesforce answered {} of {} subrequests",
                answers.len(),
                request.subrequests.len()
            )));
        }
        Ok(Results(
            answers
                .into_iter()
                .map(|mut r| {
                    let reference = r["referenceId"].as_str().unwrap_or_default().to_owned();
                    (reference, r["body"].take())
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Salesforce {
        Salesforce {
            base: "https://example.my.salesforce.com".into(),
            version: "v64.0".into(),
        }
    }

    #[test]
    fn subrequests_carry_versioned_urls_and_encoded_external_ids() {
        let c = org()
            .composite()
            .upsert(
                "contact",
                "Contact",
                "External_Id__c",
                "a b/c",
                json!({"LastName": "X"}),
            )
            .create("task", "Task", json!({"WhoId": "@{contact.id}"}))
            .read("read", "Task", "@{task.id}");
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.subrequests[0]["url"],
            "/services/data/v64.0/sobjects/Contact/External_Id__c/a%20b%2Fc"
        );
        assert_eq!(c.subrequests[0]["method"], "PATCH");
        assert_eq!(c.subrequests[1]["body"]["WhoId"], "@{contact.id}");
        assert_eq!(
            c.subrequests[2]["url"],
            "/services/data/v64.0/sobjects/Task/@{task.id}"
        );
        assert!(c.subrequests[2].get("body").is_none());
    }

    #[test]
    fn results_give_ids_of_writes_and_reads() {
        let results = Results(BTreeMap::from([
            ("contact".to_owned(), json!({"id": "003A", "success": true})),
            (
                "read".to_owned(),
                json!({"Id": "500B", "CaseNumber": "00001001"}),
            ),
        ]));
        assert_eq!(results.id("contact"), Some("003A"));
        assert_eq!(results.id("read"), Some("500B"));
        assert_eq!(results.id("missing"), None);
    }
}
