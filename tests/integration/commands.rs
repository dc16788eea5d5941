//! Commands: a type declared `"kind": "command"` goes to the one plugin
//! whose manifest lists it in `commands`, and `POST /v1/commands` answers
//! with what that plugin decided: 200 with the events it produced, 409 or
//! 422 with its reason for refusing, 500 when it failed on the command, 202
//! when it has not decided in time. The outcome is also pushed to the
//! customer's sessions (channel `commands`), so a WebSocket client that
//! sends a command as an event frame gets the same answer.

use anyhow::Result;
use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::{Backend, TestGateway, eventually, push_on, send_json};

/// A command the recorder processes, one nobody processes, and an event
/// on the same topic.
const TYPES: &[(&str, &str)] = &[
    (
        "voucher.redeem.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "Please redeem this voucher.",
            "x-streamplug": {"type": "voucher.redeem", "version": 1, "origin": "customer",
                             "kind": "command", "topic": "vouchers"},
            "type": "object", "properties": {"code": {"type": "string", "minLength": 1}},
            "required": ["code"]}"#,
    ),
    (
        "voucher.cancel.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "Please cancel this voucher.",
            "x-streamplug": {"type": "voucher.cancel", "version": 1, "origin": "customer",
                             "kind": "command", "topic": "vouchers"},
            "type": "object"}"#,
    ),
    (
        "voucher.viewed.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "A voucher was looked at.",
            "x-streamplug": {"type": "voucher.viewed", "version": 1, "origin": "customer",
                             "topic": "vouchers"},
            "type": "object"}"#,
    ),
];

fn settings(dir: &std::path::Path) -> String {
    format!(
        r#"
[vocabulary]
dir = "{}"

[[plugins]]
name = "recorder"
wasm = "fixture_recorder.wasm"
subscribe = ["vouchers"]
commands = ["voucher.redeem"]
publish = ["audit"]
allowed_hosts = ["http://127.0.0.1:9"]
[plugins.retry]
max_attempts = 2
initial_backoff_ms = 2000
"#,
        dir.display(),
    )
}

fn redeem(data: Value) -> Value {
    json!({"type": "voucher.redeem", "customer": "c-1", "data": data})
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread")]
async fn a_command_is_answered_with_its_processor_s_decision(
    #[case] backend: Backend,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (name, text) in TYPES {
        std::fs::write(dir.path().join(name), text)?;
    }
    let gw = TestGateway::on(backend, &settings(dir.path())).await?;

    // Accepted: the answer lists what the processor published.
    let a = gw.post_command("", &redeem(json!({"code": "A"}))).await?;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["status"], "accepted", "{}", a.json);
    let command = a.json["command"].as_str().unwrap_or_default().to_owned();
    let events = a.json["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{}", a.json);
    assert_eq!(
        (&events[0]["type"], &events[0]["topic"]),
        (&json!("audit.seen"), &json!("audit"))
    );
    assert_eq!(events[0]["data"]["id"], command.as_str(), "{}", a.json);

    // Refused for a conflict, and as invalid: the reason comes back; the
    // refused command's publishes are dropped, its KV writes kept.
    let a = gw
        .post_command(
            "",
            &redeem(json!({"code": "B", "refuse": "conflict", "reason": "already redeemed"})),
        )
        .await?;
    assert_eq!(a.status, 409, "{}", a.json);
    assert_eq!(a.json["detail"], "already redeemed", "{}", a.json);
    let a = gw
        .post_command(
            "",
            &redeem(json!({"code": "C", "refuse": "invalid", "reason": "no such voucher"})),
        )
        .await?;
    assert_eq!(a.status, 422, "{}", a.json);
    assert_eq!(a.json["detail"], "no such voucher", "{}", a.json);
    assert_eq!(
        a.headers["content-type"], "application/problem+json",
        "{}",
        a.json
    );
    let audited: Vec<Value> = gw.wait_for_events("audit", 1).await?;
    let audited_ids: Vec<&Value> = audited.iter().map(|e| &e["event"]["data"]["id"]).collect();
    assert_eq!(audited_ids, vec![&json!(command)], "only the accepted one");

    // Failed for good (dead-lettered): 500 with the reason.
    let a = gw
        .post_command(
            "",
            &redeem(json!({"code": "D", "reject": "voucher store is corrupt"})),
        )
        .await?;
    assert_eq!(a.status, 500, "{}", a.json);
    assert!(
        a.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("voucher store is corrupt")),
        "{}",
        a.json
    );

    // Not decided within the wait: 202, pending.
    let a = gw
        .post_command(
            "timeout_ms=200",
            &redeem(json!({"code": "E", "hold": true})),
        )
        .await?;
    assert_eq!(a.status, 202, "{}", a.json);
    assert_eq!(a.json["status"], "pending", "{}", a.json);

    // Not commands, or not one: refused before anything is written.
    let a = gw
        .post_command(
            "",
            &json!({"type": "voucher.viewed", "customer": "c-1", "data": {}}),
        )
        .await?;
    assert_eq!(a.status, 422, "{}", a.json);
    assert_eq!(a.json["errors"][0]["pointer"], "/type", "{}", a.json);
    let a = gw
        .post_command("", &json!([redeem(json!({"code": "F"}))]))
        .await?;
    assert_eq!(a.status, 400, "{}", a.json);
    let a = gw.post_command("", &redeem(json!({}))).await?;
    assert_eq!(a.status, 422, "the command's own schema holds: {}", a.json);
    let a = gw
        .post_command(
            "",
            &json!({"type": "voucher.cancel", "customer": "c-1", "data": {}}),
        )
        .await?;
    assert_eq!(a.status, 503, "nobody processes it: {}", a.json);

    // Only the processor may refuse, and only a command.
    let a = gw
        .post(&json!({"type": "voucher.viewed", "customer": "c-1",
                       "data": {"refuse": "conflict", "reason": "no"}}))
        .await?;
    assert_eq!(a.status, 202, "{}", a.json);
    let viewed = a.json["events"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    eventually("the recorder to try refusing an event", || async {
        gw.kv("recorder", &format!("refuse:{viewed}")).await
    })
    .await
    .and_then(|v| {
        anyhow::ensure!(v.as_str().is_some_and(|s| s.contains("NotACommand")), "{v}");
        Ok(())
    })?;

    // A command sent over a session: its outcome is pushed on `commands`.
    let (mut ws, _) = gw.session("c-1", None).await?;
    let mut command = redeem(json!({"code": "G", "refuse": "conflict", "reason": "used"}));
    command["id"] = json!("ws-command-1");
    send_json(&mut ws, &command).await?;
    let push = loop {
        let push = push_on(&mut ws, "commands").await?;
        if push["data"]["command"] == "ws-command-1" {
            break push;
        }
    };
    assert_eq!(push["type"], "command.outcome", "{push}");
    assert_eq!(
        (&push["data"]["status"], &push["data"]["reason"]),
        (&json!("refused"), &json!("used")),
        "{push}"
    );
    gw.stop().await;
    Ok(())
}
