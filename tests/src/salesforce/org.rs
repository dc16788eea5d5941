//! The records of the fake Salesforce org and the REST operations on them,
//! with the real response and error shapes (upsert by external id, create,
//! read, validation errors). The HTTP layer and composite requests call
//! [`Org::apply`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// A record: its type, id and fields.
#[derive(Debug, Clone)]
pub struct Record {
    /// sObject type (`Contact`, `Case`, ...).
    pub object: String,
    /// 18-character id.
    pub id: String,
    /// Field values.
    pub fields: Map<String, Value>,
}

impl Record {
    /// The text of field `name` (empty when absent or not text).
    pub fn text(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The org's data.
#[derive(Debug, Clone, Default)]
pub struct Org {
    /// Records in creation order.
    pub records: Vec<Record>,
    counter: u64,
    case_numbers: u64,
}

/// A REST answer: status and JSON body (`Null` for 204).
pub type Answer = (u16, Value);

fn error(status: u16, code: &str, message: &str, fields: &[&str]) -> Answer {
    (
        status,
        json!([{"message": message, "errorCode": code, "fields": fields}]),
    )
}

fn id_prefix(object: &str) -> &'static str {
    match object {
        "Account" => "001",
        "Contact" => "003",
        "Case" => "500",
        "Order" => "801",
        "Task" => "00T",
        "CaseComment" => "00a",
        _ => "a00",
    }
}

const CASE_STATUS: &[&str] = &["New", "Working", "Escalated", "Closed"];
const CASE_ORIGIN: &[&str] = &["Web", "Email", "Phone", "Chat"];
const ORDER_STATUS: &[&str] = &["Draft", "Activated"];
const TASK_STATUS: &[&str] = &[
    "Not Started",
    "In Progress",
    "Completed",
    "Waiting on someone else",
    "Deferred",
];

/// The restricted picklists the double enforces, by object.
fn picklists(object: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match object {
        "Case" => &[("Status", CASE_STATUS), ("Origin", CASE_ORIGIN)],
        "Order" => &[("Status", ORDER_STATUS)],
        "Task" => &[("Status", TASK_STATUS)],
        _ => &[],
    }
}

/// Fields Salesforce requires when a record of `object` is created.
fn required(object: &str) -> &'static [&'static str] {
    match object {
        "Contact" => &["LastName"],
        "Order" => &["AccountId", "EffectiveDate", "Status"],
        "CaseComment" => &["ParentId"],
        _ => &[],
    }
}

fn plausible_email(v: &str) -> bool {
    v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !v.contains(' ')
    })
}

impl Org {
    /// Records of `object`.
    pub fn of(&self, object: &str) -> Vec<&Record> {
        self.records.iter().filter(|r| r.object == object).collect()
    }

    fn find_by(&self, object: &str, field: &str, value: &str) -> Vec<usize> {
        self.records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.object == object && r.fields.get(field).and_then(Value::as_str) == Some(value)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn new_id(&mut self, object: &str) -> String {
        self.counter += 1;
        format!("{}{:012}AAA", id_prefix(object), self.counter)
    }

    fn validate(
        &self,
        object: &str,
        fields: &Map<String, Value>,
        creating: bool,
    ) -> Result<(), Answer> {
        if fields.contains_key("Id") {
            return Err(error(
                400,
                "INVALID_FIELD",
                "The Id field should not be specified in the sobject data.",
                &[],
            ));
        }
        if creating {
            let missing: Vec<&str> = required(object)
                .iter()
                .copied()
                .filter(|f| fields.get(*f).is_none_or(Value::is_null))
                .collect();
            if !missing.is_empty() {
                return Err(error(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    &format!("Required fields are missing: [{}]", missing.join(", ")),
                    &missing,
                ));
            }
        }
        for (field, allowed) in picklists(object) {
            if let Some(v) = fields.get(*field)
                && !v.as_str().is_some_and(|s| allowed.contains(&s))
            {
                return Err(error(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    &format!("{field}: bad value for restricted picklist field: {v}"),
                    &[field],
                ));
            }
        }
        if let Some(email) = fields.get("Email").and_then(Value::as_str)
            && !plausible_email(email)
        {
            return Err(error(
                400,
                "INVALID_EMAIL_ADDRESS",
                &format!("Email: invalid email address: {email}"),
                &["Email"],
            ));
        }
        // Lookups must name a record of the right object.
        for (field, target) in [("AccountId", "Account"), ("ParentId", "Case")] {
            if object == "Case" && field == "ParentId" {
                continue;
            }
            if let Some(id) = fields.get(field).and_then(Value::as_str)
                && !self
                    .records
                    .iter()
                    .any(|r| r.object == target && r.id == id)
            {
                return Err(error(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    &format!("invalid cross reference id: {id}"),
                    &[field],
                ));
            }
        }
        if fields.contains_key("IsClosed") {
            return Err(error(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Unable to create/update fields: IsClosed. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                &["IsClosed"],
            ));
        }
        Ok(())
    }

    fn create(&mut self, object: &str, mut fields: Map<String, Value>) -> Answer {
        if let Err(e) = self.validate(object, &fields, true) {
            return e;
        }
        if object == "Case" {
            self.case_numbers += 1;
            fields.insert(
                "CaseNumber".into(),
                json!(format!("{:08}", 1000 + self.case_numbers)),
            );
            fields.entry("Status").or_insert(json!("New"));
        }
        let id = self.new_id(object);
        self.records.push(Record {
            object: object.to_owned(),
            id: id.clone(),
            fields,
        });
        (201, json!({"id": id, "success": true, "errors": []}))
    }

    fn upsert(
        &mut self,
        object: &str,
        field: &str,
        value: &str,
        fields: Map<String, Value>,
    ) -> Answer {
        if fields.contains_key(field) {
            return error(
                400,
                "INVALID_FIELD",
                &format!(
                    "The external id field {field} should not be specified in the sobject data."
                ),
                &[field],
            );
        }
        let matches = self.find_by(object, field, value);
        match matches.as_slice() {
            [] => {
                let mut fields = fields;
                fields.insert(field.to_owned(), json!(value));
                let (status, mut body) = self.create(object, fields);
                if status == 201 {
                    body["created"] = json!(true);
                }
                (status, body)
            }
            [i] => {
                if let Err(e) = self.validate(object, &fields, false) {
                    return e;
                }
                let record = &mut self.records[*i];
                record.fields.extend(fields);
                (
                    200,
                    json!({"id": record.id, "success": true, "errors": [], "created": false}),
                )
            }
            several => (
                300,
                json!(
                    several
                        .iter()
                        .map(|i| format!(
                            "/services/data/v64.0/sobjects/{object}/{}",
                            self.records[*i].id
                        ))
                        .collect::<Vec<_>>()
                ),
            ),
        }
    }

    fn read(&self, object: &str, id: &str) -> Answer {
        match self
            .records
            .iter()
            .find(|r| r.object == object && r.id == id)
        {
            Some(r) => {
                let mut body = r.fields.clone();
                if object == "Case" {
                    // Derived by Salesforce from the status.
                    let closed = body.get("Status").and_then(Value::as_str) == Some("Closed");
                    body.insert("IsClosed".into(), json!(closed));
                }
                body.insert("attributes".into(), json!({"type": object, "url": format!("/services/data/v64.0/sobjects/{object}/{id}")}));
                body.insert("Id".into(), json!(id));
                (200, Value::Object(body))
            }
            None => error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            ),
        }
    }

    /// Change fields of record `id` directly, as a person in the org
    /// would (an agent closing a case); whether it exists.
    pub fn update(&mut self, id: &str, fields: Map<String, Value>) -> bool {
        match self.records.iter_mut().find(|r| r.id == id) {
            Some(r) => {
                r.fields.extend(fields);
                true
            }
            None => false,
        }
    }

    /// Create a record directly (test set-up); its id.
    pub fn seed(&mut self, object: &str, fields: Map<String, Value>) -> Option<String> {
        let (_, body) = self.create(object, fields);
        body["id"].as_str().map(str::to_owned)
    }

    /// Apply one REST request (`path` after `/services/data/vNN.N`).
    pub fn apply(&mut self, method: &str, path: &str, body: &Value) -> Answer {
        let decoded: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .map(super::decode)
            .collect();
        let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
        let fields = || body.as_object().cloned().ok_or(());
        match (method, segments.as_slice()) {
            ("POST", ["sobjects", object]) => match fields() {
                Ok(f) => self.create(object, f),
                Err(()) => error(
                    400,
                    "JSON_PARSER_ERROR",
                    "The request body is not a JSON object",
                    &[],
                ),
            },
            ("PATCH", ["sobjects", object, field, value]) => match fields() {
                Ok(f) => self.upsert(object, field, value, f),
                Err(()) => error(
                    400,
                    "JSON_PARSER_ERROR",
                    "The request body is not a JSON object",
                    &[],
                ),
            },
            ("GET", ["sobjects", object, id]) => self.read(object, id),
            _ => error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            ),
        }
    }
}

/// Replace `@{ref.field}` references with values of earlier composite results.
pub fn resolve_references(text: &str, results: &BTreeMap<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let reference = &after[..end];
        let value = reference
            .split_once('.')
            .and_then(|(r, field)| results.get(r).and_then(|body| body.get(field)))
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}
