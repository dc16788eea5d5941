//! The Python and JavaScript SDKs follow the rules the Rust SDK follows:
//! which host errors retry (the one table, sdk/host-errors.json; the Rust
//! SDK is held to it by sdk/tests/dispositions.rs) and how config values
//! are read into a plugin's typed configuration. Each SDK's own modules
//! answer, run by its language (tests/sdk_rules/). The same holds for the
//! packed encoding of KV values: each SDK writes the bytes the Rust SDK
//! writes and reads the Rust SDK's.

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
    // Written from a thread: answers are read meanwhile, so a large answer
    // does not block the child while the questions are still being sent.
    let mut stdin = child.stdin.take().unwrap();
    let text: String = questions.iter().map(|q| format!("{q}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let answers: Vec<Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    writer.join().unwrap().unwrap();
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

/// Values each SDK's packed encoding writes as the Rust SDK does. Left out
/// on purpose: integral floats (JavaScript has one number type and writes
/// `2.0` as the integer 2, which the Rust SDK reads as `2.0`) and integers
/// beyond 2^53 (not exact in a JavaScript number).
fn packable() -> Vec<Value> {
    let long = |n: usize| "x".repeat(n);
    let table: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("p-{i:03}"), json!(0.25 + f64::from(i))))
        .collect();
    vec![
        json!(null),
        json!(true),
        json!(false),
        json!([0, 1, 127, 128, 255, 256, 65_535, 65_536, 4_294_967_295u64]),
        json!([4_294_967_296u64, 9_007_199_254_740_991u64]),
        json!([
            -1,
            -32,
            -33,
            -128,
            -129,
            -32_768,
            -32_769,
            -2_147_483_648i64
        ]),
        json!([-2_147_483_649i64, -9_007_199_254_740_991i64]),
        json!([2.5, -0.125, 1e300, 0.1, 1.0e-7]),
        json!(["", long(31), long(32), long(255), long(256), long(65_536)]),
        json!("Grüße aus dem Laden 🛒"),
        json!((0..15).collect::<Vec<_>>()),
        json!((0..16).collect::<Vec<_>>()),
        json!((0..70_000).map(|i| i % 100).collect::<Vec<_>>()),
        Value::Object(table.clone().into_iter().take(15).collect()),
        Value::Object(table),
        json!({"recent": [1_764_496_800.5, 1_764_497_100.25], "orders": 2, "cancelled": 0,
               "items": {"tent": {"quantity": 1, "price": 199.5}}, "reminded": false}),
    ]
}

#[test]
fn every_sdk_writes_and_reads_the_packed_bytes_of_the_rust_sdk() {
    let values = packable();
    let rust: Vec<String> = values
        .iter()
        .map(|v| hex::encode(streamplug_sdk::packed::encode(v).unwrap()))
        .collect();
    let questions: Vec<Value> = values
        .iter()
        .zip(&rust)
        .map(|(value, rust)| json!({ "ask": "pack", "value": value, "rust": rust }))
        .collect();
    for (sdk, answers) in [
        ("Python", python(&questions)),
        ("JavaScript", javascript(&questions)),
    ] {
        for ((value, rust), answer) in values.iter().zip(&rust).zip(answers) {
            let shown = &value.to_string()[..value.to_string().len().min(80)];
            assert_eq!(
                answer["hex"],
                json!(rust),
                "{sdk} packs {shown} differently"
            );
            assert_eq!(&answer["decoded"], value, "{sdk} reads {shown} back wrong");
        }
    }
}

#[test]
fn every_sdk_reads_json_values_and_rejects_damaged_ones() {
    let packed = streamplug_sdk::packed::encode(&json!({"a": [1, 2, 3]})).unwrap();
    let cases = [
        // What `set_json` stored before a plugin moved to the packed encoding.
        (br#"{"a":[1,2,3]}"#.to_vec(), Ok(json!({"a": [1, 2, 3]}))),
        (
            packed[..packed.len() - 1].to_vec(),
            Err("invalid packed value"),
        ),
        (vec![0xC1, 0xC1], Err("invalid packed value")),
        (vec![0x00, 0x01], Err("neither a packed value nor JSON")),
    ];
    let questions: Vec<Value> = cases
        .iter()
        .map(|(bytes, _)| json!({ "ask": "unpack", "hex": hex::encode(bytes) }))
        .collect();
    for (sdk, answers) in [
        ("Python", python(&questions)),
        ("JavaScript", javascript(&questions)),
    ] {
        for ((bytes, expected), answer) in cases.iter().zip(answers) {
            match expected {
                Ok(value) => assert_eq!(answer, json!({ "ok": value }), "{sdk}: {bytes:x?}"),
                Err(words) => {
                    let error = answer["error"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{sdk} read damaged bytes {bytes:x?}: {answer}"));
                    assert!(error.contains(words), "{sdk}: {error}");
                    assert_eq!(answer["rejects"], true, "{sdk}: a PackError rejects");
                }
            }
        }
    }
}
