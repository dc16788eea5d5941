//! Infobip: SMS (`POST /sms/3/messages`, JSON) and email (`POST
//! /email/3/send`, multipart form) with a delivery-report webhook and
//! `callbackData` naming the customer and order, so the report comes back
//! to the gateway as a `message.status` event about them. The host attaches
//! `Authorization: App <key>`.

use serde_json::{Value, json};
use streamplug_sdk::{HandleError, http};

/// An Infobip account and how messages are sent from it.
#[derive(Debug, Clone)]
pub struct Infobip {
    /// The account's base URL, e.g. `https://xxxxx.api.infobip.com`.
    pub base: String,
    /// SMS sender id.
    pub sms_sender: String,
    /// Email `from` (`Name <address>`); no email without it.
    pub email_from: Option<String>,
    /// The gateway's `/v1/webhooks/infobip` URL (with its token); no
    /// delivery reports without it.
    pub report_url: Option<String>,
}

/// What the message is about, echoed back in its delivery report.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// Customer id.
    pub customer: &'a str,
    /// Order id, when the message is about an order.
    pub order: Option<&'a str>,
}

impl About<'_> {
    fn callback_data(&self) -> String {
        match self.order {
            Some(order) => json!({"customer": self.customer, "order": order}),
            None => json!({"customer": self.customer}),
        }
        .to_string()
    }
}

/// Retry or reject a failed Infobip answer: rate limits and outages are
/// retried; a refused key or an invalid message is rejected with Infobip's
/// reason (and its validation errors).
pub fn classify_failure(status: u16, body: &Value) -> HandleError {
    let exception = &body["requestError"]["serviceException"];
    let mut what = format!(
        "Infobip answered {status} {}: {}",
        exception["messageId"].as_str().unwrap_or_default(),
        exception["text"].as_str().unwrap_or_default()
    );
    if let Some(errors) = exception["validationErrors"].as_object() {
        for (field, problems) in errors {
            what.push_str(&format!("; {field} {problems}"));
        }
    }
    if streamplug_sdk::http::status_retries(status) {
        HandleError::retry(what)
    } else {
        HandleError::reject(what)
    }
}

/// A multipart/form-data body of text fields (Infobip's email API takes no
/// JSON). The boundary is random (128 bits from the host's `wasi:random`,
/// through std's `RandomState`), and drawn again should a field contain it,
/// so no value can end its part early and add fields (RFC 2046 section
/// 5.1.1: it must not occur in the parts); the field names are this
/// plugin's constants.
fn form(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = loop {
        let candidate = format!("streamplug-{:016x}{:016x}", random_u64(), random_u64());
        if !fields.iter().any(|(_, v)| v.contains(&candidate)) {
            break candidate;
        }
    };
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

/// 64 random bits: a fresh SipHash key (std seeds it from the system's
/// randomness) hashing nothing.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

impl Infobip {
    fn report_url(&self, channel: &str) -> Option<String> {
        self.report_url.as_ref().map(|url| {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}channel={channel}")
        })
    }

    fn sent(response: &http::Response) -> Result<String, HandleError> {
        let body: Value = response.json().unwrap_or(Value::Null);
        if !response.is_success() {
            return Err(classify_failure(response.status, &body));
        }
        Ok(body["messages"][0]["messageId"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The SMS request for `text` to `to`, identified by `message_id` (the
    /// same on every attempt, so a repeat is recognisable as one message).
    pub fn sms_request(&self, to: &str, text: &str, about: About<'_>, message_id: &str) -> Value {
        let mut webhooks = json!({"callbackData": about.callback_data()});
        if let Some(url) = self.report_url("sms") {
            webhooks["delivery"] = json!({"url": url});
            webhooks["contentType"] = json!("application/json");
        }
        json!({"messages": [{
            "sender": self.sms_sender,
            "destinations": [{"to": to, "messageId": message_id}],
            "content": {"text": text},
            "webhooks": webhooks,
        }]})
    }

    /// Send an SMS with `message_id`; Infobip's message id.
    pub fn send_sms(
        &self,
        to: &str,
        text: &str,
        about: About<'_>,
        message_id: &str,
    ) -> Result<String, HandleError> {
        let response = http::post(&format!("{}/sms/3/messages", self.base))
            .json(&self.sms_request(to, text, about, message_id))?
            .send()?;
        Self::sent(&response)
    }

    /// Send an email with `message_id` when a sender is configured;
    /// Infobip's message id.
    pub fn send_email(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        about: About<'_>,
        message_id: &str,
    ) -> Result<Option<String>, HandleError> {
        let Some(from) = &self.email_from else {
            return Ok(None);
        };
        // The address, sender and subject become the email's headers.
        for (field, value) in [("to", to), ("from", from.as_str()), ("subject", subject)] {
            if !crate::address::is_header_safe(value) {
                return Err(HandleError::reject(format!(
                    "the email's {field} holds a line break; not sent"
                )));
            }
        }
        let callback = about.callback_data();
        let report = self.report_url("email");
        let mut fields = vec![
            ("from", from.as_str()),
            ("to", to),
            ("subject", subject),
            ("text", text),
            ("callbackData", callback.as_str()),
            ("messageId", message_id),
        ];
        if let Some(url) = &report {
            fields.push(("notifyUrl", url));
            fields.push(("notifyContentType", "application/json"));
        }
        let (content_type, body) = form(&fields);
        let response = http::post(&format!("{}/email/3/send", self.base))
            .header("content-type", &content_type)
            .body(body)
            .send()?;
        Self::sent(&response).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(report: Option<&str>) -> Infobip {
        Infobip {
            base: "https://x.api.infobip.com".into(),
            sms_sender: "Shop".into(),
            email_from: None,
            report_url: report.map(str::to_owned),
        }
    }

    #[test]
    fn sms_asks_for_a_delivery_report_about_the_customer_and_order() {
        let about = About {
            customer: "alice",
            order: Some("o-1"),
        };
        let r = account(Some("https://gw/v1/webhooks/infobip?token=t")).sms_request(
            "41793026727",
            "hi",
            about,
            "m-1",
        );
        let m = &r["messages"][0];
        assert_eq!(m["destinations"][0]["to"], "41793026727");
        assert_eq!(m["destinations"][0]["messageId"], "m-1");
        assert_eq!(m["sender"], "Shop");
        assert_eq!(
            m["webhooks"]["delivery"]["url"],
            "https://gw/v1/webhooks/infobip?token=t&channel=sms"
        );
        let callback: Value =
            serde_json::from_str(m["webhooks"]["callbackData"].as_str().unwrap()).unwrap();
        assert_eq!(callback, json!({"customer": "alice", "order": "o-1"}));
        let quiet = account(None).sms_request("41793026727", "hi", about, "m-2");
        assert!(quiet["messages"][0]["webhooks"].get("delivery").is_none());
    }

    #[test]
    fn limits_and_outages_retry_invalid_messages_reject_with_the_reason() {
        let limited = json!({"requestError": {"serviceException": {"messageId": "TOO_MANY_REQUESTS", "text": "Too many requests"}}});
        assert!(matches!(
            classify_failure(429, &limited),
            HandleError::Retry(_)
        ));
        assert!(matches!(
            classify_failure(500, &Value::Null),
            HandleError::Retry(_)
        ));
        let invalid = json!({"requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Bad request",
            "validationErrors": {"messages[0].destinations[0].to": ["must be a valid phone number"]}}}});
        match classify_failure(400, &invalid) {
            HandleError::Reject(r) => assert!(
                r.contains("must be a valid phone number") && r.contains("BAD_REQUEST"),
                "{r}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_email_form_is_multipart_with_every_field() {
        let (content_type, body) =
            form(&[("from", "Shop <shop@example.com>"), ("to", "a@example.com")]);
        let boundary = content_type.split("boundary=").nth(1).unwrap();
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\na@example.com\r\n"
        )));
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
    }

    #[test]
    fn no_value_can_close_its_part_and_add_a_recipient() {
        let (content_type, _) = form(&[("text", "x")]);
        let first = content_type.split("boundary=").nth(1).unwrap().to_owned();
        let attack = format!(
            "hi\r\n--{first}\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\neve@evil.example"
        );
        let (content_type, body) = form(&[("to", "alice@example.com"), ("text", &attack)]);
        let boundary = content_type.split("boundary=").nth(1).unwrap();
        let body = String::from_utf8(body).unwrap();
        assert!(!attack.contains(boundary));
        let parts = body.matches(&format!("--{boundary}\r\n")).count();
        assert_eq!(parts, 2, "only the two fields given");
    }
}
