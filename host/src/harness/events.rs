//! The events file of an offline run: one event per line (JSON Lines), in
//! the forms the ingest API accepts (structured CloudEvents or the
//! `{"type", "customer", "data"}` shorthand). Events of the vocabulary are
//! validated as ingest validates them; others (what plugins publish, such
//! as `order.flagged`) pass as they are. Blank lines and lines starting with
//! `//` are skipped.

use serde_json::Value;

use crate::event::StoredEvent;
use crate::event::cloudevents::parse_object;
use crate::event::vocabulary;
use crate::routing::Router;

/// One event of the file.
#[derive(Debug, Clone)]
pub struct EventLine {
    /// Its line number (from 1).
    pub line: usize,
    /// The event as the plugin gets it: routed to its topic, at partition 0
    /// and the offset of its place in the file.
    pub stored: StoredEvent,
}

/// Read `text`. An event without an `id` gets `line-N`, so runs are
/// repeatable; its topic is the one the gateway's default routes give its
/// type, else `fallback_topic` (the plugin's first subscription).
pub fn read(text: &str, router: &Router, fallback_topic: &str) -> Result<Vec<EventLine>, String> {
    let mut events = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with("//") {
            continue;
        }
        let at = |e: &dyn std::fmt::Display| format!("line {line}: {e}");
        let mut value: Value = serde_json::from_str(raw).map_err(|e| at(&e))?;
        if let Value::Object(obj) = &mut value {
            obj.entry("id")
                .or_insert_with(|| Value::String(format!("line-{line}")));
        }
        let incoming = parse_object(value, "").map_err(|e| at(&e))?;
        let mut event = incoming.event;
        if vocabulary::lookup(&event.ty).is_some() {
            vocabulary::validate(
                &event.ty,
                event.subject.as_deref(),
                incoming.data.as_ref(),
                "",
            )
            .map_err(|e| at(&e))?;
        }
        event.topic = router
            .topic_for(&event.ty)
            .unwrap_or(fallback_topic)
            .to_owned();
        let offset = events.len() as u64;
        events.push(EventLine {
            line,
            stored: StoredEvent {
                event,
                partition: 0,
                offset,
                seq: offset,
            },
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn router() -> Router {
        Router::new(&BTreeMap::from([(
            "cart.*".to_owned(),
            "customer-interactions".to_owned(),
        )]))
    }

    #[test]
    fn lines_become_routed_events_with_ids_from_their_line() {
        let text = "// a comment\n\n{\"type\": \"cart.item_added\", \"customer\": \"alice\", \"data\": {\"product\": \"tent\"}}\n{\"type\": \"order.flagged\", \"id\": \"f-1\", \"subject\": \"bob\", \"data\": {\"why\": 1}}\n";
        let events = read(text, &router(), "risk-alerts").unwrap();
        assert_eq!(events.len(), 2);
        let (a, b) = (&events[0], &events[1]);
        assert_eq!((a.line, a.stored.event.id.as_str()), (3, "line-3"));
        assert_eq!(a.stored.event.topic, "customer-interactions");
        assert_eq!(a.stored.event.key.as_deref(), Some("alice"));
        assert_eq!(
            (b.stored.event.id.as_str(), b.stored.event.topic.as_str()),
            ("f-1", "risk-alerts")
        );
        assert_eq!(b.stored.offset, 1);
    }

    #[test]
    fn a_bad_line_is_named_with_what_is_wrong() {
        let e = read(
            "{\"type\": \"cart.item_added\", \"customer\": \"a\", \"data\": {}}",
            &router(),
            "t",
        )
        .unwrap_err();
        assert!(e.starts_with("line 1: /data/product"), "{e}");
        let e = read("\n{not json", &router(), "t").unwrap_err();
        assert!(e.starts_with("line 2: "), "{e}");
    }
}
