//! What an ingest request may write: each event parsed, validated against
//! the vocabulary, authorised for the caller and routed to its topic, or
//! the whole request refused with every field at fault named.

use serde_json::Value;

use super::AppState;
use super::problem::Problem;
use crate::auth::Principal;
use crate::event::Event;
use crate::event::cloudevents::{FieldError, parse_object};
use crate::event::vocabulary::Origin;

/// What form the events of a request take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Structured CloudEvents or the shorthand.
    Any,
    /// One structured CloudEvent (`application/cloudevents+json`): it names
    /// its `specversion`, and so must carry `id` and `source`
    /// ([`parse_object`]).
    Structured,
    /// A batch of structured CloudEvents
    /// (`application/cloudevents-batch+json`): a JSON array of them.
    StructuredBatch,
}

/// Why one event of a request is refused.
enum Refusal {
    /// It breaks the vocabulary (422).
    Invalid(FieldError),
    /// The caller may not send it (403).
    Forbidden(FieldError),
}

/// Validate and route the events in `json` (one event or an array, in
/// `form`), as
/// `principal` may send them: a customer sends customer-origin types about
/// itself only (events without a subject get it), a key or staff the types
/// its scopes name. Events without a trace context of their own get `trace`
/// (the request's). Nothing is written if any event is refused.
pub fn prepare(
    state: &AppState,
    mut json: Value,
    form: Form,
    principal: &Principal,
    trace: &[(String, String)],
) -> Result<Vec<Event>, Problem> {
    let started = std::time::Instant::now();
    // `2.0` is the integer 2, as the types' schemas read it; stored so.
    crate::json_number::integral_as_integers(&mut json);
    let (objects, batch) = match (json, form) {
        (Value::Array(_), Form::Structured) => {
            return Err(Problem::bad_request(
                "an application/cloudevents+json body is one event; send a batch as application/cloudevents-batch+json",
            ));
        }
        (Value::Array(items), _) => (items, true),
        (_, Form::StructuredBatch) => {
            return Err(Problem::bad_request(
                "an application/cloudevents-batch+json body is a JSON array of events",
            ));
        }
        (other, _) => (vec![other], false),
    };
    if objects.is_empty() {
        return Err(Problem::bad_request("the batch is empty"));
    }
    if objects.len() > state.limits.max_batch_events {
        return Err(Problem::too_large(format!(
            "the batch holds {} events; at most {} are accepted (server.max_batch_events)",
            objects.len(),
            state.limits.max_batch_events
        )));
    }
    let total = objects.len();
    let mut events = Vec::with_capacity(total);
    let (mut invalid, mut refused) = (Vec::new(), Vec::new());
    for (i, object) in objects.into_iter().enumerate() {
        let at = if batch {
            format!("/{i}")
        } else {
            String::new()
        };
        match validate_one(state, object, form, &at, principal) {
            Ok(event) => events.push(event),
            Err(Refusal::Invalid(e)) => invalid.push(e),
            Err(Refusal::Forbidden(e)) => refused.push(e),
        }
    }
    if !refused.is_empty() {
        metrics::counter!(super::caller::REFUSED, "reason" => "forbidden").increment(1);
        return Err(Problem::forbidden_events(refused, total));
    }
    if !invalid.is_empty() {
        return Err(Problem::invalid_events(invalid, total));
    }
    if !trace.is_empty() {
        for event in events
            .iter_mut()
            .filter(|e| e.header("traceparent").is_none())
        {
            event.headers.extend(trace.iter().cloned());
        }
    }
    crate::stages::since(crate::stages::Stage::Validate, started);
    Ok(events)
}

fn validate_one(
    state: &AppState,
    object: Value,
    form: Form,
    at: &str,
    principal: &Principal,
) -> Result<Event, Refusal> {
    if form != Form::Any && object.is_object() && object.get("specversion").is_none() {
        return Err(Refusal::Invalid(FieldError::new(
            format!("{at}/specversion"),
            "required: the body is sent as structured CloudEvents",
        )));
    }
    let incoming = parse_object(object, at).map_err(Refusal::Invalid)?;
    let mut event = incoming.event;
    let entry = state.vocabulary.lookup(&event.ty);
    authorize(&mut event, entry.map(|t| t.origin), principal, at).map_err(Refusal::Forbidden)?;
    let version = state
        .vocabulary
        .validate(
            &event.ty,
            event.header("dataschema"),
            event.subject.as_deref(),
            incoming.data.as_ref(),
            at,
        )
        .map_err(Refusal::Invalid)?;
    // During a migration (two versions accepted), the event says which
    // version it was accepted under, so its readers can tell.
    if event.header("dataschema").is_none() && state.vocabulary.versions(&event.ty).nth(1).is_some()
    {
        event
            .headers
            .push(("dataschema".into(), version.schema_uri()));
    }
    // A type keyed by a field of its data (stock by SKU) is ordered by it,
    // whoever sent it and whatever `partitionkey` said.
    if let Some(data) = incoming.data.as_ref()
        && let Some(key) = version.partition_key(data, at)
    {
        event.key = Some(key.map_err(Refusal::Invalid)?);
    }
    let topic = state.router.topic_for(&event.ty).ok_or_else(|| {
        Refusal::Invalid(FieldError::new(
            format!("{at}/type"),
            format!("no route for type `{}`", event.ty),
        ))
    })?;
    event.topic = topic.to_owned();
    Ok(event)
}

/// Whether `principal` may send `event` (of a type sent by `origin`, when
/// the type is known); a customer's event gets the customer as subject and
/// partition key when it names none.
fn authorize(
    event: &mut Event,
    origin: Option<Origin>,
    principal: &Principal,
    at: &str,
) -> Result<(), FieldError> {
    // `plugin:<name>` names what the gateway's plugins emit (their ids are
    // derived from what they handle); nobody outside may claim it.
    if event.source.starts_with("plugin:") {
        return Err(FieldError::new(
            format!("{at}/source"),
            "`plugin:` sources are the gateway's plugins' own; name your producer otherwise",
        ));
    }
    if origin == Some(Origin::Plugin) {
        return Err(FieldError::new(
            format!("{at}/type"),
            format!(
                "`{}` is published by the gateway's plugins only, not sent to it",
                event.ty
            ),
        ));
    }
    let Some(customer) = principal.customer() else {
        let scopes = principal.scopes();
        return if scopes.is_some_and(|s| s.may_ingest(&event.ty)) {
            Ok(())
        } else {
            Err(FieldError::new(
                format!("{at}/type"),
                format!(
                    "{} may not send `{}`: no `ingest:` scope names it",
                    principal.label(),
                    event.ty
                ),
            ))
        };
    };
    if origin == Some(Origin::Backend) {
        return Err(FieldError::new(
            format!("{at}/type"),
            format!(
                "`{}` is sent by the shop's backend, not by a customer",
                event.ty
            ),
        ));
    }
    match event.subject.as_deref() {
        None => event.subject = Some(customer.to_owned()),
        Some(subject) if subject != customer => {
            return Err(FieldError::new(
                format!("{at}/subject"),
                format!(
                    "this token belongs to customer `{customer}`; events about `{subject}` are refused"
                ),
            ));
        }
        Some(_) => {}
    }
    // A customer's events are keyed by the customer, whatever it asked.
    event.key = Some(customer.to_owned());
    Ok(())
}
