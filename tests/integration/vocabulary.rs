//! A deployment's own event types, declared as files only (`[vocabulary]
//! dir`): ingested, validated against their schemas, routed to the topic
//! their file names, keyed by the field it names, and handled by a plugin;
//! listed by `GET /v1/schemas` and described by the gateway's own OpenAPI
//! document. A type file that does not read refuses the start, naming it.

use anyhow::Result;
use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::{Backend, TestGateway, eventually};

const FEEDBACK: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "feedback.submitted",
  "description": "A customer rated the shop.",
  "x-streamplug": {"type": "feedback.submitted", "version": 1, "origin": "customer", "topic": "feedback"},
  "type": "object",
  "properties": {
    "stars": {"type": "integer", "minimum": 1, "maximum": 5, "description": "One to five."},
    "comment": {"type": "string", "maxLength": 2000}
  },
  "required": ["stars"],
  "additionalProperties": false
}"#;

const INVENTORY: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "inventory.adjusted",
  "description": "The stock of a product changed.",
  "x-streamplug": {"type": "inventory.adjusted", "version": 1, "origin": "backend",
                   "topic": "inventory", "key": "/data/sku", "subject": "optional"},
  "type": "object",
  "properties": {"sku": {"type": "string", "minLength": 1}, "delta": {"type": "integer"}},
  "required": ["sku", "delta"]
}"#;

const SUGGESTION: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "description": "A plugin suggested a product.",
  "x-streamplug": {"type": "suggestion.made", "version": 1, "origin": "plugin", "topic": "feedback"},
  "type": "object"
}"#;

fn types_dir(files: &[(&str, &str)]) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text)?;
    }
    Ok(dir)
}

/// `[vocabulary] dir`, and the recorder reading `topics`.
fn settings(dir: &std::path::Path, topics: &str) -> String {
    format!(
        r#"
[vocabulary]
dir = "{}"

[[plugins]]
name = "recorder"
wasm = "fixture_recorder.wasm"
subscribe = [{topics}]
publish = ["audit"]
allowed_hosts = ["http://127.0.0.1:9"]
"#,
        dir.display(),
    )
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread")]
async fn a_type_added_by_files_only_is_ingested_routed_keyed_and_handled(
    #[case] backend: Backend,
) -> Result<()> {
    let dir = types_dir(&[
        ("feedback.submitted.json", FEEDBACK),
        ("inventory.adjusted.json", INVENTORY),
        ("suggestion.made.json", SUGGESTION),
    ])?;
    let gw = TestGateway::on(backend, &settings(dir.path(), r#""feedback", "inventory""#)).await?;

    let a = gw
        .post(&json!({"type": "feedback.submitted", "customer": "c-1", "data": {"stars": 4}}))
        .await?;
    assert_eq!(a.status, 202, "{}", a.json);
    assert_eq!(a.json["events"][0]["topic"], "feedback");
    let feedback_id = a.json["events"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Invalid by the file's schema: refused naming the field, nothing written.
    let a = gw
        .post(&json!({"type": "feedback.submitted", "customer": "c-1", "data": {"stars": 9}}))
        .await?;
    assert_eq!(a.status, 422, "{}", a.json);
    assert_eq!(a.json["errors"][0]["pointer"], "/data/stars", "{}", a.json);
    let a = gw
        .post(&json!({"type": "feedback.submitted", "customer": "c-1", "data": {"stars": 3, "mood": "ok"}}))
        .await?;
    assert_eq!(
        a.status, 422,
        "additionalProperties: false holds: {}",
        a.json
    );

    // Not about a customer, keyed by its SKU whatever `partitionkey` says.
    let a = gw
        .post(&json!({"specversion": "1.0", "id": "inv-1", "source": "/erp", "type": "inventory.adjusted",
                       "partitionkey": "something-else", "data": {"sku": "sku-7", "delta": -2}}))
        .await?;
    assert_eq!(a.status, 202, "{}", a.json);
    let events = gw.wait_for_events("inventory", 1).await?;
    assert_eq!(events[0]["event"]["partitionkey"], "sku-7", "{}", events[0]);
    let a = gw
        .post(&json!({"specversion": "1.0", "id": "inv-2", "source": "/erp", "type": "inventory.adjusted",
                       "data": {"sku": "", "delta": 1}}))
        .await?;
    assert_eq!(a.status, 422, "{}", a.json);

    // Published by plugins only: not even the operator key may send it.
    let a = gw
        .post(&json!({"type": "suggestion.made", "customer": "c-1", "data": {}}))
        .await?;
    assert_eq!(a.status, 403, "{}", a.json);

    // The recorder subscribed to both topics and saw both events.
    for id in [feedback_id.as_str(), "inv-1"] {
        eventually(&format!("the recorder to see {id}"), || async {
            Ok(gw
                .kv("recorder", &format!("seen:{id}"))
                .await?
                .filter(|v| v == &json!(1)))
        })
        .await?;
    }

    let schemas = gw.get("/v1/schemas").await?;
    let listed: Vec<&str> = schemas
        .json
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["type"].as_str())
        .collect();
    for ty in [
        "product.viewed",
        "feedback.submitted",
        "inventory.adjusted",
        "suggestion.made",
    ] {
        assert!(listed.contains(&ty), "{ty} in {listed:?}");
    }
    let doc = gw.get("/v1/openapi.json").await?;
    let components = &doc.json["components"]["schemas"];
    assert!(
        components["feedback.submitted"].is_object(),
        "the served document has the type"
    );
    let variants: Vec<&Value> = components["IncomingEvent"]["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    assert!(variants.iter().any(|v| v["title"] == "inventory.adjusted"));
    gw.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_file_that_does_not_read_refuses_the_start_naming_it() -> Result<()> {
    let broken = FEEDBACK.replace("\"integer\"", "\"integr\"");
    let dir = types_dir(&[("feedback.submitted.json", &broken)])?;
    let refused = TestGateway::with_plugins(&settings(dir.path(), r#""feedback""#)).await;
    let err = format!("{:#}", refused.err().expect("the start is refused"));
    assert!(err.contains("feedback.submitted.json"), "{err}");
    assert!(err.contains("does not compile"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_breaking_change_is_refused_at_start_naming_the_field_and_a_new_version_migrates()
-> Result<()> {
    let data = tempfile::tempdir()?;
    let types = types_dir(&[("feedback.submitted.json", FEEDBACK)])?;
    let toml = streamplug_tests::config(data.path(), &settings(types.path(), r#""feedback""#))?;
    let gw = TestGateway::start(&toml).await?;
    let a = gw
        .post(&json!({"type": "feedback.submitted", "customer": "c-1", "data": {"stars": 5, "comment": "fast"}}))
        .await?;
    assert_eq!(a.status, 202, "{}", a.json);
    gw.stop().await;

    // `comment` removed and `stars` retyped under the same version: events
    // already written no longer fit, so the start is refused.
    let breaking = FEEDBACK
        .replace(
            r#""comment": {"type": "string", "maxLength": 2000}"#,
            r#""tags": {"type": "array"}"#,
        )
        .replace(
            r#""type": "integer", "minimum": 1, "maximum": 5"#,
            r#""type": "string""#,
        );
    std::fs::write(types.path().join("feedback.submitted.json"), &breaking)?;
    let refused = TestGateway::start(&toml).await;
    let err = format!("{:#}", refused.err().expect("the start is refused"));
    for says in [
        "feedback.submitted",
        "/data/comment",
        "removed",
        "/data/stars",
        "version 2",
    ] {
        assert!(err.contains(says), "{says}: {err}");
    }

    // The same change as version 2, beside version 1: both accepted.
    std::fs::write(types.path().join("feedback.submitted.json"), FEEDBACK)?;
    std::fs::write(
        types.path().join("feedback.submitted.v2.json"),
        breaking.replace(r#""version": 1"#, r#""version": 2"#),
    )?;
    let gw = TestGateway::start(&toml).await?;
    let old = gw
        .post(&json!({"type": "feedback.submitted", "customer": "c-1", "data": {"stars": 4}}))
        .await?;
    assert_eq!(old.status, 202, "{}", old.json);
    let new = gw
        .post(&json!({"type": "feedback.submitted", "customer": "c-2", "data": {"stars": "four", "tags": []}}))
        .await?;
    assert_eq!(new.status, 202, "{}", new.json);
    let events = gw.wait_for_events("feedback", 3).await?;
    let schema_of = |customer: &str| {
        events
            .iter()
            .filter(|e| e["event"]["subject"] == customer)
            .filter_map(|e| e["event"]["dataschema"].as_str())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(schema_of("c-2").contains(&"urn:streamplug:schema:feedback.submitted:2".to_owned()));
    assert!(schema_of("c-1").contains(&"urn:streamplug:schema:feedback.submitted:1".to_owned()));
    // Naming a version holds the event to it.
    let a = gw
        .post(&json!({"specversion": "1.0", "id": "f-9", "source": "/app", "type": "feedback.submitted",
                       "subject": "c-3", "dataschema": "urn:streamplug:schema:feedback.submitted:2",
                       "data": {"stars": 4}}))
        .await?;
    assert_eq!(a.status, 422, "{}", a.json);
    assert_eq!(a.json["errors"][0]["pointer"], "/data/stars", "{}", a.json);
    gw.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_cannot_publish_data_its_type_refuses() -> Result<()> {
    let dir = types_dir(&[
        ("feedback.submitted.json", FEEDBACK),
        ("inventory.adjusted.json", INVENTORY),
    ])?;
    let gw = TestGateway::with_plugins(&settings(dir.path(), r#""feedback", "inventory""#)).await?;
    // The recorder, handling a stock change, publishes what the event asks.
    let ask = |id: &str, publish_as: Value| {
        json!({"specversion": "1.0", "id": id, "source": "/erp", "type": "inventory.adjusted",
               "subject": "c-5", "data": {"sku": "sku-1", "delta": 1, "publish_as": publish_as}})
    };
    let cases = [
        (
            "p-bad",
            json!({"type": "feedback.submitted", "data": {"stars": 9}}),
            Some("/stars"),
        ),
        (
            "p-extra",
            json!({"type": "feedback.submitted", "data": {"stars": 2, "x": 1}}),
            Some("x"),
        ),
        (
            "p-good",
            json!({"type": "feedback.submitted", "data": {"stars": 2}}),
            None,
        ),
        (
            "p-own",
            json!({"type": "audit.note", "data": {"anything": true}}),
            None,
        ),
        (
            "p-keyed",
            json!({"type": "inventory.adjusted", "data": {"sku": "sku-9", "delta": -1}}),
            None,
        ),
    ];
    for (id, publish_as, _) in &cases {
        let a = gw.post(&ask(id, publish_as.clone())).await?;
        assert_eq!(a.status, 202, "{}", a.json);
    }
    for (id, _, refused) in &cases {
        let result = eventually(&format!("the recorder to publish for {id}"), || async {
            gw.kv("recorder", &format!("publish:{id}")).await
        })
        .await?;
        let result = result.as_str().unwrap_or_default().to_owned();
        match refused {
            Some(field) => {
                assert!(result.contains("InvalidEvent"), "{id}: {result}");
                assert!(
                    result.contains("feedback.submitted") && result.contains(field),
                    "{id}: {result}"
                );
            }
            None => assert!(result.starts_with("Ok("), "{id}: {result}"),
        }
    }
    // What was refused never reached the topic; what passed did, a keyed
    // type keyed by its field.
    let audit = gw.wait_for_events("audit", 5 + 3).await?;
    let published: Vec<&Value> = audit
        .iter()
        .map(|e| &e["event"])
        .filter(|e| e["type"] != "audit.seen")
        .collect();
    assert_eq!(published.len(), 3, "{published:?}");
    assert!(published.iter().all(|e| e["data"]["stars"] != 9));
    let keyed = published
        .iter()
        .find(|e| e["type"] == "inventory.adjusted")
        .expect("the keyed publish");
    assert_eq!(keyed["partitionkey"], "sku-9", "{keyed}");
    gw.stop().await;
    Ok(())
}
