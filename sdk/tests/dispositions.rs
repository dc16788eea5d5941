//! The Rust SDK against `sdk/host-errors.json`, the one table of which host
//! errors retry; the Python and JavaScript SDKs are held to the same table
//! by `tests/integration/sdk_rules.rs`.

// The whole file is test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use streamplug_sdk::HandleError;
use streamplug_sdk::bindings::streamplug::plugin::command::CommandError;
use streamplug_sdk::bindings::streamplug::plugin::journal::JournalError;
use streamplug_sdk::bindings::streamplug::plugin::kv::KvError;
use streamplug_sdk::bindings::streamplug::plugin::producer::PublishError;
use streamplug_sdk::bindings::streamplug::plugin::push::PushError;
use streamplug_sdk::bindings::streamplug::plugin::timer::TimerError;
use streamplug_sdk::http::{HttpError, status_retries};
use wasip2::http::types::{ErrorCode, FieldSizePayload};

fn classify(host: &str, code: ErrorCode) -> HttpError {
    HttpError::from_code(host, code)
}

const TABLE: &str = include_str!("../host-errors.json");
/// The text of every file of `wit/`, so an interface added later cannot
/// be left out of the table.
fn wit_files() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn table() -> Value {
    serde_json::from_str(TABLE).unwrap()
}

/// `variant <name> { <case>, <case>(<payload>), ... }` of a WIT file.
fn variants(wit: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = wit;
    while let Some(at) = rest.find("variant ") {
        let after = &rest[at + "variant ".len()..];
        let (name, body) = after.split_once('{').unwrap();
        let (body, tail) = body.split_once('}').unwrap();
        let cases = body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .map(|l| l.split(['(', ',']).next().unwrap().trim().to_owned())
            .collect();
        out.push((name.trim().to_owned(), cases));
        rest = tail;
    }
    out
}

fn disposition(e: HandleError) -> &'static str {
    match e {
        HandleError::Retry(_) => "retry",
        HandleError::Reject(_) => "reject",
    }
}

fn rust(interface: &str, case: &str) -> HandleError {
    let s = || "x".to_owned();
    match (interface, case) {
        ("kv-error", "quota-exceeded") => KvError::QuotaExceeded(1).into(),
        ("kv-error", "invalid-key") => KvError::InvalidKey(s()).into(),
        ("kv-error", "unavailable") => KvError::Unavailable(s()).into(),
        ("kv-error", "other") => KvError::Other(s()).into(),
        ("journal-error", "invalid-step") => JournalError::InvalidStep(s()).into(),
        ("journal-error", "too-large") => JournalError::TooLarge(1).into(),
        ("journal-error", "unavailable") => JournalError::Unavailable(s()).into(),
        ("publish-error", "topic-not-granted") => PublishError::TopicNotGranted(s()).into(),
        ("publish-error", "invalid-event") => PublishError::InvalidEvent(s()).into(),
        ("publish-error", "too-many-publishes") => PublishError::TooManyPublishes(1).into(),
        ("publish-error", "other") => PublishError::Other(s()).into(),
        ("push-error", "channel-not-granted") => PushError::ChannelNotGranted(s()).into(),
        ("push-error", "invalid-message") => PushError::InvalidMessage(s()).into(),
        ("push-error", "too-many-pushes") => PushError::TooManyPushes(1).into(),
        ("push-error", "other") => PushError::Other(s()).into(),
        ("command-error", "not-a-command") => CommandError::NotACommand(s()).into(),
        ("command-error", "invalid-reason") => CommandError::InvalidReason(s()).into(),
        ("timer-error", "too-many") => TimerError::TooMany(1).into(),
        ("timer-error", "invalid-name") => TimerError::InvalidName(s()).into(),
        ("timer-error", "too-large") => TimerError::TooLarge(1).into(),
        ("timer-error", "unavailable") => TimerError::Unavailable(s()).into(),
        _ => panic!("{interface}.{case}: a case this test does not know; add it"),
    }
}

#[test]
fn the_table_lists_every_error_case_of_the_wit() {
    let table = table();
    let mut listed: Vec<(String, Vec<String>)> = table["wit"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_object().unwrap().keys().cloned().collect()))
        .collect();
    // Every host error: the `*-error` variants, but for the plugin's own
    // answers (`handle-error`, `query-error`), which it returns to the host.
    let mut declared: Vec<(String, Vec<String>)> = wit_files()
        .iter()
        .flat_map(|w| variants(w))
        .filter(|(name, _)| {
            name.ends_with("-error") && !["handle-error", "query-error"].contains(&name.as_str())
        })
        .map(|(name, mut cases)| {
            cases.sort();
            (name, cases)
        })
        .collect();
    listed.sort();
    declared.sort();
    assert_eq!(listed, declared);
}

#[test]
fn host_errors_retry_as_the_table_says() {
    for (interface, cases) in table()["wit"].as_object().unwrap() {
        for (case, expected) in cases.as_object().unwrap() {
            assert_eq!(
                disposition(rust(interface, case)),
                expected,
                "{interface}.{case}"
            );
        }
    }
}

fn http_code(name: &str) -> ErrorCode {
    let size = || FieldSizePayload {
        field_name: None,
        field_size: None,
    };
    match name {
        "HTTP-request-denied" => ErrorCode::HttpRequestDenied,
        "HTTP-request-method-invalid" => ErrorCode::HttpRequestMethodInvalid,
        "HTTP-request-URI-invalid" => ErrorCode::HttpRequestUriInvalid,
        "HTTP-request-URI-too-long" => ErrorCode::HttpRequestUriTooLong,
        "HTTP-request-header-size" => ErrorCode::HttpRequestHeaderSize(Some(size())),
        "HTTP-request-header-section-size" => ErrorCode::HttpRequestHeaderSectionSize(None),
        "HTTP-request-body-size" => ErrorCode::HttpRequestBodySize(None),
        "HTTP-response-body-size" => ErrorCode::HttpResponseBodySize(None),
        "destination-IP-prohibited" => ErrorCode::DestinationIpProhibited,
        "configuration-error" => ErrorCode::ConfigurationError,
        other => panic!("{other}: a case this test does not know; add it"),
    }
}

#[test]
fn requests_without_a_response_retry_as_the_table_says() {
    let table = table();
    let http = &table["wasi-http-error-code"];
    assert_eq!(http["otherwise"], "retry");
    for name in http["reject"].as_array().unwrap() {
        let e = classify("h", http_code(name.as_str().unwrap()));
        assert_eq!(disposition(e.into()), "reject", "{name}");
    }
    for transient in [
        ErrorCode::DnsTimeout,
        ErrorCode::ConnectionRefused,
        ErrorCode::ConnectionTimeout,
        ErrorCode::HttpProtocolError,
        ErrorCode::InternalError(None),
    ] {
        let name = format!("{transient:?}");
        assert_eq!(
            disposition(classify("h", transient).into()),
            "retry",
            "{name}"
        );
    }
}

#[test]
fn statuses_retry_as_the_table_says() {
    let table = table();
    let rule = &table["http-status"];
    assert_eq!(rule["retry"], serde_json::json!(["429", "5xx"]));
    assert_eq!(rule["otherwise"], "reject");
    for status in 300..600u16 {
        let expected = status == 429 || status >= 500;
        assert_eq!(status_retries(status), expected, "{status}");
    }
}
