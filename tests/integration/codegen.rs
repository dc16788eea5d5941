//! `streamplug schemas codegen`: a deployment's own types, declared as
//! files, become TypeScript that `tsc --strict` holds code to (a right
//! use compiles, a wrong one does not) and Python `TypedDict`s that
//! CPython imports with the required keys the schema names, and a
//! JavaScript module that Node loads with the same. (The standard set's
//! Rust types are the SDK's `vocabulary` module, compiled into every Rust
//! plugin; its Python types are imported by every Python component and its
//! JavaScript module by every JavaScript one, whose `event.typed()` checks
//! with it: `polyglot.rs`.)

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, ensure};
use streamplug_tests::{streamplug_binary, workspace_root};

const FEEDBACK: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "description": "A customer rated an order.",
  "x-streamplug": {"type": "feedback.submitted", "version": 1, "origin": "customer"},
  "type": "object",
  "properties": {
    "stars": {"type": "integer", "minimum": 1, "maximum": 5},
    "mood": {"type": "string", "enum": ["happy", "meh"]},
    "lines": {"type": "array", "items": {"type": "object",
              "properties": {"sku": {"type": "string"}, "ok": {"type": "boolean"}}, "required": ["sku"]}}
  },
  "required": ["stars"]
}"#;

/// The types of a deployment declaring FEEDBACK, in `lang`.
fn generated(dir: &Path, lang: &str) -> Result<String> {
    let types = dir.join("types");
    std::fs::create_dir_all(&types)?;
    std::fs::write(types.join("feedback.json"), FEEDBACK)?;
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!("[vocabulary]\ndir = {:?}\n", types.display().to_string()),
    )?;
    let out = Command::new(streamplug_binary()?)
        .args(["schemas", "codegen", "--lang", lang, "--config"])
        .arg(&config)
        .output()?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Whether `tsc --strict` accepts `code` beside the generated types.
fn tsc_accepts(dir: &Path, code: &str) -> Result<(bool, String)> {
    let tsc = workspace_root().join("sdk/js/node_modules/.bin/tsc");
    let file = dir.join("use.ts");
    std::fs::write(&file, code)?;
    let out = Command::new(&tsc)
        .args(["--noEmit", "--strict"])
        .arg(&file)
        .output()
        .with_context(|| format!("{}: run `make test`, which installs it", tsc.display()))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn typescript_types_hold_code_to_the_schema() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("types.d.ts"), generated(dir.path(), "ts")?)?;
    let right = r#"import type { EventData } from "./types";
const f: EventData["feedback.submitted"] = { stars: 4, mood: "happy", lines: [{ sku: "tent" }] };
console.log(f.stars + 1);
"#;
    let (ok, said) = tsc_accepts(dir.path(), right)?;
    assert!(ok, "{said}");
    for wrong in [
        r#"{ stars: "four" }"#,
        r#"{ mood: "happy" }"#,
        r#"{ stars: 4, mood: "angry" }"#,
        r#"{ stars: 4, lines: [{ ok: true }] }"#,
    ] {
        let code = format!(
            "import type {{ EventData }} from \"./types\";\nconst f: EventData[\"feedback.submitted\"] = {wrong};\nconsole.log(f);\n"
        );
        let (ok, said) = tsc_accepts(dir.path(), &code)?;
        assert!(!ok, "tsc accepted {wrong}");
        assert!(said.contains("error TS"), "{said}");
    }
    Ok(())
}

#[test]
fn python_types_import_with_the_keys_the_schema_requires() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("feedback_types.py"),
        generated(dir.path(), "python")?,
    )?;
    let check = r#"
import feedback_types as t
f = t.EVENT_TYPES["feedback.submitted"]
assert f is t.FeedbackSubmitted
assert f.__required_keys__ == {"stars"}, f.__required_keys__
assert f.__optional_keys__ == {"mood", "lines"}, f.__optional_keys__
assert t.FeedbackSubmittedLinesItem.__required_keys__ == {"sku"}
print("ok")
"#;
    assert_eq!(checked(dir.path(), "python3", &["-c", check])?, "ok");
    Ok(())
}

/// What `program` with `args`, run in `dir`, printed; it must succeed.
fn checked(dir: &Path, program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program).args(args).current_dir(dir).output()?;
    ensure!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn the_javascript_module_loads_with_the_fields_the_schema_requires() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("vocabulary.mjs"),
        generated(dir.path(), "js")?,
    )?;
    let check = r#"
import { EVENT_TYPES } from './vocabulary.mjs';
const f = EVENT_TYPES['feedback.submitted'];
if (f.name !== 'FeedbackSubmitted') throw new Error(f.name);
if (JSON.stringify(f.required) !== '["stars"]') throw new Error(JSON.stringify(f.required));
if (!Object.isFrozen(f.required)) throw new Error('required is writable');
console.log('ok');
"#;
    std::fs::write(dir.path().join("check.mjs"), check)?;
    assert_eq!(checked(dir.path(), "node", &["check.mjs"])?, "ok");
    Ok(())
}
