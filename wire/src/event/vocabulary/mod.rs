//! The event vocabulary: every event type the gateway accepts at ingest,
//! each read from a type file ([`super::type_file`]: a JSON Schema of its
//! `data` with its metadata). The shipped e-commerce types are the
//! standard set, built into the binary from `wire/event-types/`; their
//! reference (`docs/events.md`), `GET /v1/schemas`, the published API
//! documents and the validation at ingest all come from the same files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::field_error::FieldError;
use super::schema_check::CompiledSchema;
pub use super::type_file::{Kind, Origin, SubjectRule, TypeFile, TypeFileError};
pub use published::TypeSchema;

mod published;

/// The standard set: file name and text of each type file, in the order
/// the reference lists them.
const STANDARD_FILES: &[(&str, &str)] = &[
    (
        "page.viewed.json",
        include_str!("../../../event-types/page.viewed.json"),
    ),
    (
        "product.viewed.json",
        include_str!("../../../event-types/product.viewed.json"),
    ),
    (
        "cart.item_added.json",
        include_str!("../../../event-types/cart.item_added.json"),
    ),
    (
        "cart.item_removed.json",
        include_str!("../../../event-types/cart.item_removed.json"),
    ),
    (
        "customer.updated.json",
        include_str!("../../../event-types/customer.updated.json"),
    ),
    (
        "customer.register.json",
        include_str!("../../../event-types/customer.register.json"),
    ),
    (
        "customer.registered.json",
        include_str!("../../../event-types/customer.registered.json"),
    ),
    (
        "order.placed.json",
        include_str!("../../../event-types/order.placed.json"),
    ),
    (
        "order.paid.json",
        include_str!("../../../event-types/order.paid.json"),
    ),
    (
        "order.shipped.json",
        include_str!("../../../event-types/order.shipped.json"),
    ),
    (
        "order.delivered.json",
        include_str!("../../../event-types/order.delivered.json"),
    ),
    (
        "order.cancelled.json",
        include_str!("../../../event-types/order.cancelled.json"),
    ),
    (
        "order.place.json",
        include_str!("../../../event-types/order.place.json"),
    ),
    (
        "order.cancel.requested.json",
        include_str!("../../../event-types/order.cancel.requested.json"),
    ),
    (
        "order.confirmed.json",
        include_str!("../../../event-types/order.confirmed.json"),
    ),
    (
        "order.rejected.json",
        include_str!("../../../event-types/order.rejected.json"),
    ),
    (
        "order.expired.json",
        include_str!("../../../event-types/order.expired.json"),
    ),
    (
        "order.payment.json",
        include_str!("../../../event-types/order.payment.json"),
    ),
    (
        "payment.notified.json",
        include_str!("../../../event-types/payment.notified.json"),
    ),
    (
        "stock.set.json",
        include_str!("../../../event-types/stock.set.json"),
    ),
    (
        "stock.reserve.requested.json",
        include_str!("../../../event-types/stock.reserve.requested.json"),
    ),
    (
        "stock.release.requested.json",
        include_str!("../../../event-types/stock.release.requested.json"),
    ),
    (
        "stock.reserved.json",
        include_str!("../../../event-types/stock.reserved.json"),
    ),
    (
        "stock.refused.json",
        include_str!("../../../event-types/stock.refused.json"),
    ),
    (
        "support.message.json",
        include_str!("../../../event-types/support.message.json"),
    ),
    (
        "support.case_opened.json",
        include_str!("../../../event-types/support.case_opened.json"),
    ),
    (
        "message.status.json",
        include_str!("../../../event-types/message.status.json"),
    ),
    (
        "webhook.received.json",
        include_str!("../../../event-types/webhook.received.json"),
    ),
];

/// One event type of the vocabulary.
#[derive(Debug)]
pub struct EventType {
    /// The CloudEvents `type`.
    pub name: String,
    /// The version of its schema.
    pub version: u32,
    /// Who may send it.
    pub origin: Origin,
    /// An event or a command.
    pub kind: Kind,
    /// The topic its file names, if any (an exact `[routes]` entry wins).
    pub topic: Option<String>,
    /// The JSON pointer into the event of its partition key (`/data/...`),
    /// when not the customer.
    pub key: Option<String>,
    /// Whether its events must name a customer.
    pub subject: SubjectRule,
    /// What it means, one sentence.
    pub description: String,
    schema: CompiledSchema,
}

impl EventType {
    fn from_file(file: &str, text: &str) -> Result<Self, TypeFileError> {
        let t = TypeFile::parse(file, text)?;
        let schema = CompiledSchema::compile(t.schema).map_err(|reason| TypeFileError {
            file: file.to_owned(),
            reason,
        })?;
        Ok(Self {
            name: t.name,
            version: t.version,
            origin: t.origin,
            kind: t.kind,
            topic: t.topic,
            key: t.key,
            subject: t.subject,
            description: t.description,
            schema,
        })
    }

    /// The partition key its `key` pointer names in `data` (valid data of
    /// this type; the event at `at`), or `None` when the type is keyed by
    /// the customer. A string is the key as it is, a number or boolean as
    /// JSON writes it; anything else is refused naming the pointer.
    pub fn partition_key(&self, data: &Value, at: &str) -> Option<Result<String, FieldError>> {
        let pointer = self.key.as_deref()?;
        let inner = pointer.strip_prefix("/data").unwrap_or(pointer);
        Some(match data.pointer(inner) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
            _ => Err(FieldError::new(
                format!("{at}{pointer}"),
                format!(
                    "`{}` events are keyed by `{pointer}`: a non-empty string, number or boolean",
                    self.name
                ),
            )),
        })
    }

    /// The JSON Schema (2020-12) of this type's `data`, as its file has it.
    pub fn data_schema(&self) -> &Value {
        self.schema.schema()
    }

    /// The URI naming this version's schema, for an event's `dataschema`:
    /// the file's `$id` when it has one, else
    /// `urn:streamplug:schema:<type>:<version>`.
    pub fn schema_uri(&self) -> String {
        match self.data_schema().get("$id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => format!("urn:streamplug:schema:{}:{}", self.name, self.version),
        }
    }
}

/// A set of event types, each compiled once.
#[derive(Debug, Default)]
pub struct Vocabulary {
    types: Vec<EventType>,
    /// Each type's versions, as indices into `types`, newest first.
    by_name: HashMap<String, Vec<usize>>,
}

impl Vocabulary {
    /// The standard e-commerce vocabulary, loaded once per process.
    pub fn standard() -> &'static Self {
        Self::shared_standard()
    }

    /// [`Vocabulary::standard`], shared.
    pub fn shared_standard() -> &'static Arc<Self> {
        static STANDARD: OnceLock<Arc<Vocabulary>> = OnceLock::new();
        STANDARD.get_or_init(|| {
            Arc::new(
                Self::from_files(STANDARD_FILES.iter().copied()).unwrap_or_else(|e| {
                    // The files are ours and a test loads them: never reached.
                    tracing::error!(error = %e, "the standard event vocabulary does not load");
                    Self::default()
                }),
            )
        })
    }

    /// The types of `files` (name and text of each), in order; a type
    /// named again replaces the earlier one in its place.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, TypeFileError> {
        let mut vocabulary = Self::default();
        for (file, text) in files {
            vocabulary.insert(EventType::from_file(file, text)?);
        }
        Ok(vocabulary)
    }

    /// The vocabulary a deployment declares: the standard set (unless
    /// `standard` is false), then every `*.json` file of `dir`, in name
    /// order, each adding a type or replacing one of the same name.
    pub fn load(standard: bool, dir: Option<&Path>) -> Result<Self, TypeFileError> {
        let mut files: Vec<(String, String)> = Vec::new();
        if standard {
            files.extend(
                STANDARD_FILES
                    .iter()
                    .map(|(f, t)| ((*f).to_owned(), (*t).to_owned())),
            );
        }
        if let Some(dir) = dir {
            let refuse = |file: &Path, e: std::io::Error| TypeFileError {
                file: file.display().to_string(),
                reason: e.to_string(),
            };
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| refuse(dir, e))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
                .collect();
            paths.sort();
            for path in paths {
                let text = std::fs::read_to_string(&path).map_err(|e| refuse(&path, e))?;
                files.push((path.display().to_string(), text));
            }
        }
        Self::from_files(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    /// Add `t`, replacing the same version of the same type in its place.
    fn insert(&mut self, t: EventType) {
        match self
            .types
            .iter_mut()
            .find(|old| old.name == t.name && old.version == t.version)
        {
            Some(old) => *old = t,
            None => {
                let versions = self.by_name.entry(t.name.clone()).or_default();
                versions.push(self.types.len());
                self.types.push(t);
                let types = &self.types;
                versions.sort_by_key(|i| std::cmp::Reverse(types[*i].version));
            }
        }
    }

    /// Every type, every accepted version of each, in order.
    pub fn types(&self) -> &[EventType] {
        &self.types
    }

    /// The newest version of the type named `name`, if there is one.
    pub fn lookup(&self, name: &str) -> Option<&EventType> {
        self.versions(name).next()
    }

    /// Whether `name` is a command type ([`Kind::Command`]).
    pub fn is_command(&self, name: &str) -> bool {
        self.lookup(name).is_some_and(|t| t.kind == Kind::Command)
    }

    /// Every accepted version of every command type, in order.
    pub fn command_types(&self) -> impl Iterator<Item = &EventType> {
        self.types.iter().filter(|t| t.kind == Kind::Command)
    }

    /// The accepted versions of the type named `name`, newest first.
    pub fn versions(&self, name: &str) -> impl Iterator<Item = &EventType> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|i| self.types.get(*i))
    }

    /// Validate an ingested event's type, subject and data; the version of
    /// the type it is valid under. An event whose `dataschema` names one of
    /// the type's versions ([`EventType::schema_uri`]) is checked against
    /// that version; any other is checked against each accepted version,
    /// newest first (during a migration both are accepted), and refused
    /// with the newest's reason.
    ///
    /// `at` is the JSON pointer of the event within the request body.
    pub fn validate(
        &self,
        ty: &str,
        dataschema: Option<&str>,
        subject: Option<&str>,
        data: Option<&Value>,
        at: &str,
    ) -> Result<&EventType, FieldError> {
        let Some(newest) = self.lookup(ty) else {
            let mut known: Vec<_> = self.types.iter().map(|t| t.name.as_str()).collect();
            known.dedup();
            return Err(FieldError::new(
                format!("{at}/type"),
                format!(
                    "unknown event type `{ty}`; known types: {}",
                    known.join(", ")
                ),
            ));
        };
        if subject.is_none() && newest.subject == SubjectRule::Required {
            return Err(FieldError::new(
                format!("{at}/subject"),
                format!("`{ty}` needs the customer id in `subject` (or `customer`)"),
            ));
        }
        let Some(data) = data else {
            return Err(FieldError::new(
                format!("{at}/data"),
                "JSON `data` is required for this type",
            ));
        };
        let named = dataschema.and_then(|uri| self.versions(ty).find(|t| t.schema_uri() == uri));
        let at = format!("{at}/data");
        if let Some(t) = named {
            return t.schema.check(data, &at).map(|()| t);
        }
        let mut first_error = None;
        for t in self.versions(ty) {
            match t.schema.check(data, &at) {
                Ok(()) => return Ok(t),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| FieldError::new(at, "invalid")))
    }
}

/// Validate an ingested event against the standard vocabulary
/// ([`Vocabulary::validate`]).
pub fn validate(
    ty: &str,
    subject: Option<&str>,
    data: Option<&Value>,
    at: &str,
) -> Result<(), FieldError> {
    Vocabulary::standard()
        .validate(ty, None, subject, data, at)
        .map(|_| ())
}

/// The standard vocabulary's type named `name`, if there is one.
pub fn lookup(name: &str) -> Option<&'static EventType> {
    Vocabulary::standard().lookup(name)
}

#[cfg(test)]
mod tests;
