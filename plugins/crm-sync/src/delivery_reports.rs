//! Infobip's delivery reports, as they arrive through the gateway's generic
//! webhook (`POST /v1/webhooks/<name>`, a `webhook.received` event), become
//! `message.status` events about the customer the message was about. The
//! customer and order come back in the `callbackData` this plugin set when
//! it sent the message (`{"customer": …, "order": …}`); the channel in the
//! `channel` query parameter of the report URL it gave Infobip.
//!
//! A report that names no customer or no message is not about one of this
//! plugin's messages: it is skipped with a warning (the whole delivery
//! stays on the webhook topic, nothing is lost), the others are published.

use serde_json::{Value, json};

/// The `message.status` data and customer of one report, or why it cannot
/// be one.
pub fn status_of(report: &Value, channel: &str) -> Result<(String, Value), String> {
    let callback: Value = report["callbackData"]
        .as_str()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let message = text(&report["messageId"]).ok_or("a report without a `messageId`")?;
    let customer = text(&callback["customer"])
        .ok_or_else(|| format!("report {message}: its callbackData names no customer"))?;
    let status = text(&report["status"]["groupName"])
        .ok_or_else(|| format!("report {message}: no `status.groupName`"))?;
    let error = report["error"]["name"]
        .as_str()
        .filter(|n| *n != "NO_ERROR")
        .map(str::to_owned);
    let mut data = json!({"message": message, "channel": channel, "status": status});
    for (field, value) in [
        ("to", text(&report["to"])),
        ("detail", text(&report["status"]["name"])),
        ("error", error),
        ("done_at", text(&report["doneAt"])),
        ("order", text(&callback["order"])),
    ] {
        if let Some(v) = value {
            data[field] = json!(v);
        }
    }
    Ok((customer, data))
}

/// The reports of a `webhook.received` event's data from endpoint
/// `webhook`, with their channel; none when it came from another endpoint
/// or holds no `results`.
pub fn reports<'a>(received: &'a Value, webhook: &str) -> Option<(&'a [Value], &'a str)> {
    if received["webhook"].as_str() != Some(webhook) {
        return None;
    }
    let results = received["body"]["results"].as_array()?;
    let channel = received["query"]["channel"]
        .as_str()
        .filter(|c| matches!(*c, "sms" | "email" | "whatsapp"))
        .unwrap_or("sms");
    Some((results.as_slice(), channel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_becomes_a_message_status_for_its_customer() {
        let report = json!({"messageId": "m-1", "to": "41793026727", "doneAt": "2026-11-23T16:10:02.000+0000",
            "status": {"groupName": "UNDELIVERABLE", "name": "UNDELIVERABLE_NOT_DELIVERED"},
            "error": {"name": "EC_ABSENT_SUBSCRIBER"},
            "callbackData": r#"{"customer":"alice","order":"o-1"}"#});
        let (customer, data) = status_of(&report, "sms").unwrap();
        assert_eq!(customer, "alice");
        assert_eq!(data["order"], "o-1");
        assert_eq!(data["status"], "UNDELIVERABLE");
        assert_eq!(data["detail"], "UNDELIVERABLE_NOT_DELIVERED");
        assert_eq!(data["error"], "EC_ABSENT_SUBSCRIBER");
        let ok = json!({"messageId": "m-2", "status": {"groupName": "DELIVERED"},
            "error": {"name": "NO_ERROR"}, "callbackData": r#"{"customer":"bob"}"#});
        let (_, data) = status_of(&ok, "email").unwrap();
        assert!(data.get("error").is_none() && data.get("order").is_none());
        assert_eq!(data["channel"], "email");
    }

    #[test]
    fn reports_about_nobody_or_nothing_are_refused_with_the_reason() {
        let anonymous = json!({"messageId": "m-3", "status": {"groupName": "DELIVERED"}});
        assert!(
            status_of(&anonymous, "sms")
                .unwrap_err()
                .contains("no customer")
        );
        let unnamed =
            json!({"status": {"groupName": "DELIVERED"}, "callbackData": r#"{"customer":"a"}"#});
        assert!(
            status_of(&unnamed, "sms")
                .unwrap_err()
                .contains("messageId")
        );
    }

    #[test]
    fn only_the_configured_endpoint_s_reports_are_read() {
        let received = json!({"webhook": "infobip", "query": {"channel": "email"},
            "body": {"results": [{"messageId": "m-1"}]}});
        let (results, channel) = reports(&received, "infobip").unwrap();
        assert_eq!((results.len(), channel), (1, "email"));
        assert!(reports(&received, "stripe").is_none());
        let odd = json!({"webhook": "infobip", "query": {"channel": "<script>"}, "body": {"results": []}});
        assert_eq!(reports(&odd, "infobip").unwrap().1, "sms");
        assert!(
            reports(
                &json!({"webhook": "infobip", "body_base64": "eA=="}),
                "infobip"
            )
            .is_none()
        );
    }
}
