//! Routing of ingested events to topics by type, and the naming rules of
//! topics and type patterns.

use std::collections::BTreeMap;

/// Maps event types to topics through patterns: an exact type
/// (`order.placed`) beats the topic a type's definition names, which beats
/// a prefix (`order.*`); a longer prefix beats a shorter.
#[derive(Debug, Clone)]
pub struct Router {
    exact: BTreeMap<String, String>,
    /// Topics named by the types' definitions.
    declared: BTreeMap<String, String>,
    /// Prefixes with their trailing `.` kept, longest first.
    prefixes: Vec<(String, String)>,
}

impl Router {
    /// Build from the `[routes]` table.
    pub fn new(routes: &BTreeMap<String, String>) -> Self {
        let mut exact = BTreeMap::new();
        let mut prefixes = Vec::new();
        for (pattern, topic) in routes {
            match pattern.strip_suffix('*') {
                Some(prefix) => prefixes.push((prefix.to_owned(), topic.clone())),
                None => {
                    exact.insert(pattern.clone(), topic.clone());
                }
            }
        }
        prefixes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Self {
            exact,
            declared: BTreeMap::new(),
            prefixes,
        }
    }

    /// The same, with the topics event types' definitions name (type,
    /// topic).
    pub fn with_type_topics(
        mut self,
        declared: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        self.declared.extend(declared);
        self
    }

    /// The same, with the topics `vocabulary`'s types name.
    pub fn with_topics_of(self, vocabulary: &crate::event::vocabulary::Vocabulary) -> Self {
        self.with_type_topics(
            vocabulary
                .types()
                .iter()
                .filter_map(|t| Some((t.name.clone(), t.topic.clone()?))),
        )
    }

    /// The topic events of type `ty` go to, if any route matches.
    pub fn topic_for(&self, ty: &str) -> Option<&str> {
        let named = self.exact.get(ty).or_else(|| self.declared.get(ty));
        named.map(String::as_str).or_else(|| {
            self.prefixes
                .iter()
                .find(|(prefix, _)| ty.starts_with(prefix.as_str()))
                .map(|(_, topic)| topic.as_str())
        })
    }
}

/// Whether `pattern` (an event type or `prefix.*`) matches `ty`.
pub fn pattern_matches(pattern: &str, ty: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => ty.starts_with(prefix),
        None => pattern == ty,
    }
}

/// An event type (`a.b_c`) or a prefix pattern (`a.*`).
pub fn is_valid_pattern(pattern: &str) -> bool {
    let body = pattern.strip_suffix(".*").unwrap_or(pattern);
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A concrete event type, as plugins publish and push: a valid pattern that
/// is not a `prefix.*` wildcard.
pub fn is_event_type(ty: &str) -> bool {
    crate::event::is_valid_type_name(ty)
}

/// Kafka's topic naming rule, which the embedded log follows too.
pub use crate::event::is_valid_topic_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_beats_prefix_and_longer_prefix_beats_shorter() {
        let routes: BTreeMap<String, String> = [
            ("order.*", "orders"),
            ("order.placed", "placed"),
            ("order.return.*", "returns"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let r = Router::new(&routes);
        assert_eq!(r.topic_for("order.placed"), Some("placed"));
        assert_eq!(r.topic_for("order.paid"), Some("orders"));
        assert_eq!(r.topic_for("order.return.requested"), Some("returns"));
        assert_eq!(r.topic_for("cart.item_added"), None);
        let r = r.with_type_topics([
            ("order.placed".to_owned(), "ignored".to_owned()),
            (
                "order.cancel.requested".to_owned(),
                "order-commands".to_owned(),
            ),
        ]);
        assert_eq!(
            r.topic_for("order.placed"),
            Some("placed"),
            "an exact route wins"
        );
        assert_eq!(
            r.topic_for("order.cancel.requested"),
            Some("order-commands"),
            "a type's own topic beats a prefix"
        );
        assert_eq!(r.topic_for("order.paid"), Some("orders"));
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(is_valid_topic_name("order-events"));
        assert!(is_valid_topic_name("dlq.recommend"));
        assert!(!is_valid_topic_name("a b"));
        assert!(!is_valid_topic_name(".."));
    }
}
