//! The recent log of each plugin: what its versions logged through
//! `streamplug:plugin/log` and what the host noted about them (traps,
//! dead-lettered events), kept in memory, a bounded number of lines per
//! plugin, numbered so a reader can ask for what came after the last line it
//! saw (`streamplug plugin logs --follow`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// Lines kept per plugin.
pub const LINES_PER_PLUGIN: usize = 1000;

/// One log line.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LogLine {
    /// Increases with every line of the gateway.
    pub seq: u64,
    /// When (RFC 3339).
    pub at: String,
    /// `trace`, `debug`, `info`, `warn` or `error`.
    #[schema(value_type = String)]
    pub level: std::borrow::Cow<'static, str>,
    /// The version that logged it (or that the host line is about).
    pub version: String,
    /// The event being handled, when there was one.
    pub event: Option<String>,
    /// `plugin` (it logged this) or `host` (the gateway noted it).
    #[schema(value_type = String)]
    pub source: std::borrow::Cow<'static, str>,
    /// The text.
    pub message: String,
}

/// Where a line comes from and what it is about.
#[derive(Debug, Clone, Copy)]
pub struct LineOf<'a> {
    /// Plugin.
    pub plugin: &'a str,
    /// Version id.
    pub version: &'a str,
    /// Event id (empty: none).
    pub event: &'a str,
    /// `plugin` or `host`.
    pub source: &'static str,
}

/// The recent lines of every plugin.
#[derive(Debug, Default)]
pub struct LogBook {
    inner: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    next_seq: u64,
    plugins: HashMap<String, VecDeque<LogLine>>,
}

impl LogBook {
    /// Keep `message` at `level`.
    pub fn record(&self, of: LineOf<'_>, level: &'static str, message: &str) {
        let mut book = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        book.next_seq += 1;
        let line = LogLine {
            seq: book.next_seq,
            at: crate::clock::now_rfc3339(),
            level: level.into(),
            version: of.version.to_owned(),
            event: (!of.event.is_empty()).then(|| of.event.to_owned()),
            source: of.source.into(),
            message: message.to_owned(),
        };
        let lines = book.plugins.entry(of.plugin.to_owned()).or_default();
        if lines.len() == LINES_PER_PLUGIN {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// Up to `limit` of the latest lines of `plugin` after `after` (a
    /// `seq`), oldest first.
    pub fn read(&self, plugin: &str, after: u64, limit: usize) -> Vec<LogLine> {
        let book = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(lines) = book.plugins.get(plugin) else {
            return Vec::new();
        };
        let newer = lines.iter().filter(|l| l.seq > after).count();
        lines
            .iter()
            .skip(lines.len() - newer)
            .skip(newer.saturating_sub(limit))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(plugin: &str) -> LineOf<'_> {
        LineOf {
            plugin,
            version: "v1",
            event: "",
            source: "plugin",
        }
    }

    #[test]
    fn lines_are_kept_per_plugin_bounded_and_read_after_a_seq() {
        let book = LogBook::default();
        for i in 0..LINES_PER_PLUGIN + 5 {
            book.record(of("a"), "info", &format!("a{i}"));
        }
        book.record(of("b"), "warn", "b0");
        let all = book.read("a", 0, usize::MAX);
        assert_eq!(all.len(), LINES_PER_PLUGIN);
        assert_eq!(all[0].message, "a5");
        let last_two = book.read("a", 0, 2);
        assert_eq!(
            last_two
                .iter()
                .map(|l| l.message.as_str())
                .collect::<Vec<_>>(),
            [
                format!("a{}", LINES_PER_PLUGIN + 3),
                format!("a{}", LINES_PER_PLUGIN + 4)
            ]
        );
        let after = book.read("a", last_two[0].seq, 10);
        assert_eq!(after.len(), 1);
        assert_eq!(book.read("b", 0, 10)[0].event, None);
        assert!(book.read("c", 0, 10).is_empty());
    }
}
