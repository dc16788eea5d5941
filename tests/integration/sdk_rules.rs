//! The Python and JavaScript SDKs follow the rules the Rust SDK follows:
//! which host errors retry (the one table, sdk/host-errors.json; the Rust
//! SDK is held to it by sdk/tests/dispositions.rs) and how config values
//! are read into a plugin's typed configuration. Each SDK's own modules
//! answer, run by its language (tests/sdk_rules/).

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use streamplug_tests::workspace_root;

/// Ask `program script sdk_dir` each question (one JSON line each); the
/// answers in order.
fn ask(program: &str, script: &str, sdk_dir: &str, questions: &[Value]) -> Vec<Value> {
    let root = workspace_root();
    let mut child = Command::new(program)
        .arg(root.join("tests/sdk_rules").join(script))
        .arg(root.join(sdk_dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    for q in questions {
        writeln!(stdin, "{q}").unwrap();
    }
    drop(stdin);
    let answers: Vec<Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(child.wait().unwrap().success(), "{program} {script} failed");
    assert_eq!(answers.len(), questions.len(), "{program} {script}");
    answers
}

fn python(questions: &[Value]) -> Vec<Value> {
    ask(
        "python3",
        "python_sdk.py",
        "sdk/python/streamplug",
        questions,
    )
}

fn javascript(questions: &[Value]) -> Vec<Value> {
    ask("node", "js_sdk.mjs", "sdk/js/streamplug", questions)
}

fn table() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("sdk/host-errors.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `kv-error` → `KvError`, as the Python bindings name their classes.
fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect()
}

#[test]
fn every_sdk_retries_the_host_errors_the_table_names() {
    let table = table();
    let mut questions = Vec::new();
    let mut expected = Vec::new();
    for (variant, cases) in table["wit"].as_object().unwrap() {
        for (case, disposition) in cases.as_object().unwrap() {
            questions.push(json!({
                "ask": "wit", "variant": variant, "case": case,
                "class": camel(variant), "class_case": camel(case),
            }));
            let retries = disposition == "retry";
            expected.push(json!({ "retries": retries, "from_wit": retries }));
        }
    }
    assert_eq!(python(&questions), expected, "Python");
    assert_eq!(javascript(&questions), expected, "JavaScript");
}

#[test]
fn the_python_sdk_retries_requests_without_a_response_as_the_table_says() {
    let table = table();
    let http = &table["wasi-http-error-code"];
    assert_eq!(http["otherwise"], "retry");
    let refused: Vec<&str> = http["reject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    // As the bindings name them, and as the WIT does.
    let transient = [
        "DnsTimeout",
        "ConnectionRefused",
        "HTTP-protocol-error",
        "internal-error",
    ];
    let generated: Vec<String> = refused.iter().map(|c| c.replace('-', "")).collect();
    let codes: Vec<&str> = refused
        .iter()
        .copied()
        .chain(generated.iter().map(String::as_str))
        .chain(transient)
        .collect();
    let questions: Vec<Value> = codes
        .iter()
        .map(|c| json!({ "ask": "http-code", "code": c }))
        .collect();
    let answers = python(&questions);
    for (code, answer) in codes.iter().zip(answers) {
        let retries = transient.contains(code);
        assert_eq!(answer, json!({ "retries": retries }), "{code}");
    }
}

#[test]
fn every_sdk_retries_the_statuses_the_table_names() {
    let table = table();
    assert_eq!(table["http-status"]["retry"], json!(["429", "5xx"]));
    let statuses: Vec<u16> = (400..600).collect();
    let questions: Vec<Value> = statuses
        .iter()
        .map(|s| json!({ "ask": "status", "status": s }))
        .collect();
    let expected: Vec<Value> = statuses
        .iter()
        .map(|&s| json!({ "retries": s == 429 || s >= 500 }))
        .collect();
    assert_eq!(python(&questions), expected, "Python");
    assert_eq!(javascript(&questions), expected, "JavaScript");
}

/// One config, read by each SDK: `Ok` with the values, or an error that
/// holds `names` (the key and, for a bad value, the value).
struct Case {
    values: Value,
    outcome: Result<Value, &'static [&'static str]>,
}

#[test]
fn every_sdk_reads_config_values_into_a_typed_config_the_same_way() {
    let fields = json!([
        { "name": "url", "kind": "string", "required": true },
        { "name": "retries", "kind": "integer", "default": 2 },
        { "name": "ratio", "kind": "number", "default": 0.5 },
        { "name": "types", "kind": "list", "default": ["a"] },
        { "name": "verbose", "kind": "boolean", "default": false },
        { "name": "sender", "kind": "string" },
    ]);
    let cases = [
        Case {
            values: json!({ "url": "https://crm.example" }),
            outcome: Ok(json!({
                "url": "https://crm.example", "retries": 2, "ratio": 0.5,
                "types": ["a"], "verbose": false, "sender": null,
            })),
        },
        Case {
            values: json!({
                "url": "u", "retries": "5", "ratio": "1.5", "types": "x,y",
                "verbose": "true", "sender": "Shop",
            }),
            outcome: Ok(json!({
                "url": "u", "retries": 5, "ratio": 1.5, "types": ["x", "y"],
                "verbose": true, "sender": "Shop",
            })),
        },
        Case {
            values: json!({ "retries": "5" }),
            outcome: Err(&["`url` is required"]),
        },
        Case {
            values: json!({ "url": "u", "retries": "many" }),
            outcome: Err(&["many", "retries"]),
        },
        Case {
            values: json!({ "url": "u", "verbose": "yes" }),
            outcome: Err(&["yes", "verbose"]),
        },
        Case {
            values: json!({ "url": "u", "retry": "5" }),
            outcome: Err(&["unknown field `retry`"]),
        },
    ];
    let questions: Vec<Value> = cases
        .iter()
        .map(|c| json!({ "ask": "config", "fields": fields, "values": c.values }))
        .collect();
    for (sdk, answers) in [
        ("Python", python(&questions)),
        ("JavaScript", javascript(&questions)),
    ] {
        for (case, answer) in cases.iter().zip(answers) {
            match &case.outcome {
                Ok(values) => assert_eq!(answer, json!({ "ok": values }), "{sdk}: {}", case.values),
                Err(names) => {
                    let error = answer["error"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{sdk}: {} was accepted: {answer}", case.values));
                    for name in *names {
                        assert!(error.contains(name), "{sdk}: {error} does not name {name}");
                    }
                }
            }
        }
    }
}
