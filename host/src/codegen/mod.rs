//! Types for plugin authors from the vocabulary's schemas
//! (`streamplug schemas codegen --lang rust|python|ts`): each event type's
//! `data` as a Rust struct (serde), a Python `TypedDict` or a TypeScript
//! interface, so a plugin reads and writes the events it handles with
//! names and types its compiler or checker knows.
//!
//! The schemas are read once into a small model ([`Model`]: named record
//! types, fields, shapes) that each language's writer renders. What the
//! model does not express (`oneOf`, `not`, bounds, patterns) stays the
//! gateway's to check: such a value is the language's "any JSON" type, and
//! bounds become documentation.

pub mod javascript;
pub mod python;
pub mod rust;
pub mod typescript;

use serde_json::{Map, Value};

use crate::event::vocabulary::{EventType, Vocabulary};

/// The languages types are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust structs deriving serde's `Serialize` and `Deserialize`.
    Rust,
    /// Python `TypedDict`s (what `event.json()` returns, typed).
    Python,
    /// TypeScript interfaces.
    Ts,
    /// The JavaScript module beside the TypeScript declarations: each
    /// event type's data type name and required fields, for run time.
    Js,
}

/// The source text of `vocabulary`'s types in `lang`.
pub fn generate(vocabulary: &Vocabulary, lang: Lang) -> String {
    let model = Model::of(vocabulary);
    match lang {
        Lang::Rust => rust::render(&model),
        Lang::Python => python::render(&model),
        Lang::Ts => typescript::render(&model),
        Lang::Js => javascript::render(&model),
    }
}

/// Each event type with the records of its accepted versions, oldest
/// first, in the order the types first appear.
pub fn event_records(model: &Model) -> Vec<(&str, Vec<&Record>)> {
    let mut groups: Vec<(&str, Vec<&Record>)> = Vec::new();
    for record in &model.records {
        let Some(ty) = record.event_type.as_deref() else {
            continue;
        };
        match groups.iter_mut().find(|(name, _)| *name == ty) {
            Some((_, versions)) => versions.push(record),
            None => groups.push((ty, vec![record])),
        }
    }
    groups
}

/// What a value is.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A string; `values` when the schema lists them (`enum`).
    String { values: Vec<String> },
    /// An integer.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// Any JSON value.
    Any,
    /// A list of one shape.
    List(Box<Shape>),
    /// An object of string keys to one shape.
    Map(Box<Shape>),
    /// The record type of that name.
    Record(String),
    /// The shape, or `null`.
    Nullable(Box<Shape>),
}

/// One field of a record.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its JSON name.
    pub name: String,
    /// What the schema says of it.
    pub doc: Option<String>,
    /// Its value.
    pub shape: Shape,
    /// Whether every value has it.
    pub required: bool,
}

/// A named object type.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its name in the generated code (`OrderPlaced`, `OrderPlacedItem`).
    pub name: String,
    /// What the schema says of it.
    pub doc: Option<String>,
    /// The event type whose `data` it is, for the types of the vocabulary.
    pub event_type: Option<String>,
    /// Its fields, in the schema's order.
    pub fields: Vec<Field>,
}

/// Every record type of a vocabulary, in order.
#[derive(Debug, Default)]
pub struct Model {
    /// The records, each after those it uses.
    pub records: Vec<Record>,
}

/// `order.cancel.requested` → `OrderCancelRequested`; a version after the
/// first gets `V<n>`.
pub fn type_name(event_type: &str, version: u32) -> String {
    let mut name = pascal(event_type);
    if version > 1 {
        name.push_str(&format!("V{version}"));
    }
    name
}

/// Words split on anything not a letter or digit, each capitalised.
fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

impl Model {
    /// The model of every type of `vocabulary` (every accepted version).
    pub fn of(vocabulary: &Vocabulary) -> Self {
        let mut model = Self::default();
        // Older versions first (a stable sort keeps the files' order), so
        // the last record of a type is its newest version.
        let mut types: Vec<&EventType> = vocabulary.types().iter().collect();
        types.sort_by_key(|t| t.version);
        for t in types {
            model.add_type(t);
        }
        model
    }

    fn add_type(&mut self, t: &EventType) {
        let root = type_name(&t.name, t.version);
        let schema = t.data_schema();
        let defs = schema.get("$defs").and_then(Value::as_object);
        let mut builder = Builder {
            root: &root,
            defs,
            records: Vec::new(),
        };
        let fields = builder.fields(schema, &root);
        // The records a type uses come before it (deepest first), so a
        // language that needs a name defined before its use has it.
        self.records.append(&mut builder.records);
        self.records.push(Record {
            name: root.clone(),
            doc: Some(t.description.clone()),
            event_type: Some(t.name.clone()),
            fields,
        });
    }
}

/// Reads one type's schema into records.
struct Builder<'a> {
    root: &'a str,
    defs: Option<&'a Map<String, Value>>,
    records: Vec<Record>,
}

impl Builder<'_> {
    /// The fields of the object schema `schema`, nested objects becoming
    /// records named after `owner` and the field.
    fn fields(&mut self, schema: &Value, owner: &str) -> Vec<Field> {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return Vec::new();
        };
        properties
            .iter()
            .map(|(name, property)| Field {
                name: name.clone(),
                doc: doc_of(property),
                shape: self.shape(property, &format!("{owner}{}", pascal(name))),
                required: required.contains(&name.as_str()),
            })
            .collect()
    }

    /// The shape of `schema`; an object with properties becomes the record
    /// `name`.
    fn shape(&mut self, schema: &Value, name: &str) -> Shape {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return self.referenced(reference);
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let nullable = types.contains(&"null");
        let named: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
        let shape = match named.as_slice() {
            ["string"] => Shape::String {
                values: schema["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            },
            ["integer"] => Shape::Integer,
            ["number"] => Shape::Number,
            ["boolean"] => Shape::Boolean,
            ["array"] => Shape::List(Box::new(match schema.get("items") {
                Some(items) => self.shape(items, &format!("{name}Item")),
                None => Shape::Any,
            })),
            ["object"] => self.object(schema, name),
            _ => Shape::Any,
        };
        if nullable && shape != Shape::Any {
            Shape::Nullable(Box::new(shape))
        } else {
            shape
        }
    }

    fn object(&mut self, schema: &Value, name: &str) -> Shape {
        if schema.get("properties").is_some() {
            let fields = self.fields(schema, name);
            self.records.push(Record {
                name: name.to_owned(),
                doc: doc_of(schema),
                event_type: None,
                fields,
            });
            return Shape::Record(name.to_owned());
        }
        match schema.get("additionalProperties") {
            Some(values @ Value::Object(_)) => {
                Shape::Map(Box::new(self.shape(values, &format!("{name}Value"))))
            }
            _ => Shape::Map(Box::new(Shape::Any)),
        }
    }

    /// The shape a `#/$defs/<name>` reference names: its record, made once.
    fn referenced(&mut self, reference: &str) -> Shape {
        let Some(def) = reference.strip_prefix("#/$defs/") else {
            return Shape::Any;
        };
        let Some(schema) = self.defs.and_then(|defs| defs.get(def)) else {
            return Shape::Any;
        };
        let name = format!("{}{}", self.root, pascal(def));
        if self.records.iter().any(|r| r.name == name) {
            return Shape::Record(name);
        }
        self.shape(&schema.clone(), &name)
    }
}

/// The schema's `description`, with its bounds when it has any.
fn doc_of(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;
