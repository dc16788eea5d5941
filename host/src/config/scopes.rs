//! What a key or a staff role may do, parsed once from its scope strings.

use crate::routing::{is_valid_pattern, is_valid_topic_name, pattern_matches};

/// One grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `ingest:<type or prefix.*>`: send events of matching types.
    Ingest(String),
    /// `read:<topic>` or `read:*`: read a topic's events.
    Read(String),
    /// `query:<plugin>` or `query:*`: ask a plugin's queries about any key
    /// (a customer asks about itself without it).
    Query(String),
    /// `reply`: wait for the push an event causes (`?reply_timeout_ms`).
    Reply,
    /// `metrics`: scrape `GET /metrics`.
    Metrics,
    /// `plugins`: list the deployed plugins (`GET /v1/plugins`).
    Plugins,
    /// `operator`: all of the above.
    Operator,
}

impl Scope {
    /// Parse one scope string; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "unknown scope `{text}`; scopes are `ingest:<type or prefix.*>`, \
                 `read:<topic or *>`, `query:<plugin or *>`, `reply`, `metrics`, `plugins`, \
                 `operator`"
            )
        };
        match text.split_once(':') {
            Some(("ingest", pattern)) if pattern == "*" || is_valid_pattern(pattern) => {
                Ok(Self::Ingest(pattern.to_owned()))
            }
            Some(("read", topic)) if topic == "*" || is_valid_topic_name(topic) => {
                Ok(Self::Read(topic.to_owned()))
            }
            Some(("query", plugin))
                if plugin == "*" || super::manifest::is_valid_plugin_name(plugin) =>
            {
                Ok(Self::Query(plugin.to_owned()))
            }
            Some(_) => Err(bad()),
            None => match text {
                "reply" => Ok(Self::Reply),
                "metrics" => Ok(Self::Metrics),
                "plugins" => Ok(Self::Plugins),
                "operator" => Ok(Self::Operator),
                _ => Err(bad()),
            },
        }
    }
}

/// A principal's grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parse every scope string.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Self, String> {
        texts
            .iter()
            .map(|t| Scope::parse(t.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Every scope of every one of `all`.
    pub fn union(all: Vec<&Scopes>) -> Self {
        Self(all.into_iter().flat_map(|s| s.0.iter().cloned()).collect())
    }

    /// Just `scope`.
    pub fn single(scope: Scope) -> Self {
        Self(vec![scope])
    }

    /// Every scope there is.
    pub fn all() -> Self {
        Self(vec![Scope::Operator])
    }

    fn operator(&self) -> bool {
        self.0.contains(&Scope::Operator)
    }

    /// May send events of type `ty`.
    pub fn may_ingest(&self, ty: &str) -> bool {
        self.operator()
            || self
                .0
                .iter()
                .any(|s| matches!(s, Scope::Ingest(p) if p == "*" || pattern_matches(p, ty)))
    }

    /// May read `topic`.
    pub fn may_read(&self, topic: &str) -> bool {
        self.operator()
            || self
                .0
                .iter()
                .any(|s| matches!(s, Scope::Read(t) if t == "*" || t == topic))
    }

    /// May ask `plugin`'s queries about any key.
    pub fn may_query(&self, plugin: &str) -> bool {
        self.operator()
            || self
                .0
                .iter()
                .any(|s| matches!(s, Scope::Query(p) if p == "*" || p == plugin))
    }

    /// May read some topic (and so list the topics it may read).
    pub fn reads_any(&self) -> bool {
        self.operator() || self.0.iter().any(|s| matches!(s, Scope::Read(_)))
    }

    /// Holds `scope` (or `operator`).
    pub fn has(&self, scope: &Scope) -> bool {
        self.operator() || self.0.contains(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_grant_what_they_name_and_nothing_else() {
        let s = Scopes::parse(&[
            "ingest:order.*",
            "ingest:customer.updated",
            "read:order-events",
        ])
        .unwrap();
        assert!(s.may_ingest("order.placed") && s.may_ingest("customer.updated"));
        assert!(!s.may_ingest("product.viewed") && !s.may_ingest("orderx.placed"));
        assert!(s.may_read("order-events") && !s.may_read("customer-interactions"));
        assert!(!s.has(&Scope::Reply) && !s.has(&Scope::Metrics) && s.reads_any());
        assert!(!s.may_query("customer-view"));
        let q = Scopes::parse(&["query:customer-view"]).unwrap();
        assert!(q.may_query("customer-view") && !q.may_query("order-processor"));
        assert!(
            Scopes::parse(&["query:*"])
                .unwrap()
                .may_query("order-processor")
        );
        let all = Scopes::all();
        assert!(all.may_ingest("x.y") && all.may_read("t") && all.has(&Scope::Metrics));
    }

    #[test]
    fn unknown_scopes_are_refused_naming_the_accepted_ones() {
        for bad in [
            "admin",
            "ingest:",
            "read:bad topic",
            "write:x",
            "query:Bad_Name",
        ] {
            let err = Scope::parse(bad).unwrap_err();
            assert!(err.contains(bad) && err.contains("operator"), "{err}");
        }
    }
}
