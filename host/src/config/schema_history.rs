//! The data schemas a gateway last accepted, kept as
//! `<data_dir>/schemas/<type>@<version>.json`, so a type file changed since
//! is checked at start against the schema its events were written under:
//! the same version must still accept them (the schema registry's BACKWARD
//! rule, `streamplug_wire::event::compatibility`); a breaking change needs
//! a new version, and then both are accepted while producers move.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ConfigError;
use crate::event::compatibility;
use crate::event::vocabulary::{EventType, Vocabulary};

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("schemas")
}

fn file(data_dir: &Path, t: &EventType) -> PathBuf {
    dir(data_dir).join(format!("{}@{}.json", t.name, t.version))
}

fn io(path: &Path, e: &std::io::Error) -> ConfigError {
    ConfigError::Invalid {
        setting: "vocabulary".into(),
        reason: format!("{}: {e}", path.display()),
    }
}

/// Refuse a type whose schema changed incompatibly with the one recorded
/// for its version under `data_dir` (nothing recorded: nothing to check).
pub fn check(data_dir: &Path, vocabulary: &Vocabulary) -> Result<(), ConfigError> {
    for t in vocabulary.types() {
        let path = file(data_dir, t);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&path, &e)),
        };
        // A record that does not parse was not written by us: start afresh.
        let Ok(previous) = serde_json::from_str::<Value>(&text) else {
            tracing::warn!(path = %path.display(), "an unreadable schema record is replaced");
            continue;
        };
        let found = compatibility::backward(&previous, t.data_schema());
        if !found.is_empty() {
            let what: Vec<String> = found.iter().map(ToString::to_string).collect();
            return Err(ConfigError::Invalid {
                setting: format!("vocabulary: `{}` version {}", t.name, t.version),
                reason: format!(
                    "the schema changed so that events already written under it no longer fit ({}); \
                     give the new schema version {} (both versions are then accepted while producers move)",
                    what.join("; "),
                    t.version + 1
                ),
            });
        }
    }
    Ok(())
}

/// Record every type's schema under `data_dir`, for the next start's
/// [`check`].
pub fn record(data_dir: &Path, vocabulary: &Vocabulary) -> Result<(), ConfigError> {
    let schemas = dir(data_dir);
    std::fs::create_dir_all(&schemas).map_err(|e| io(&schemas, &e))?;
    for t in vocabulary.types() {
        let path = file(data_dir, t);
        let text = serde_json::to_string_pretty(t.data_schema()).unwrap_or_default();
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &text).map_err(|e| io(&tmp, &e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(version: u32, properties: &str) -> Vocabulary {
        let text = format!(
            r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "Feedback.", "type": "object",
            "x-streamplug": {{"type": "feedback.submitted", "version": {version}, "origin": "customer"}},
            "properties": {properties}}}"#
        );
        Vocabulary::from_files([("f.json", text.as_str())]).unwrap()
    }

    #[test]
    fn a_compatible_change_passes_a_breaking_one_is_refused_naming_the_field_a_new_version_passes()
    {
        let data = tempfile::tempdir().unwrap();
        let v1 = vocabulary(
            1,
            r#"{"stars": {"type": "integer"}, "comment": {"type": "string"}}"#,
        );
        check(data.path(), &v1).unwrap();
        record(data.path(), &v1).unwrap();
        let wider = vocabulary(
            1,
            r#"{"stars": {"type": "integer"}, "comment": {"type": "string"}, "mood": {"type": "string"}}"#,
        );
        check(data.path(), &wider).unwrap();
        record(data.path(), &wider).unwrap();
        let broken = vocabulary(
            1,
            r#"{"stars": {"type": "string"}, "mood": {"type": "string"}}"#,
        );
        let err = check(data.path(), &broken).unwrap_err().to_string();
        for says in [
            "feedback.submitted",
            "/data/stars",
            "/data/comment",
            "removed",
            "version 2",
        ] {
            assert!(err.contains(says), "{says}: {err}");
        }
        let next = vocabulary(2, r#"{"stars": {"type": "string"}}"#);
        check(data.path(), &next).unwrap();
        record(data.path(), &next).unwrap();
        assert!(
            data.path()
                .join("schemas/feedback.submitted@1.json")
                .is_file()
        );
        assert!(
            data.path()
                .join("schemas/feedback.submitted@2.json")
                .is_file()
        );
    }
}
