//! Dead-letter records: the original event, unchanged but for its topic,
//! with why and where it failed in extension attributes; and the host's
//! lines about an event in the plugin's log book.

use super::command_outcome;
use crate::event::StoredEvent;
use crate::runtime::effects::Effects;
use crate::runtime::log_book::LineOf;
use crate::runtime::plugin::PluginVersion;

/// Counter of dead-lettered events by plugin.
pub const DEAD_LETTERS: &str = "streamplug_dead_letters_total";

/// Stage the dead-lettering of `stored` by `version` in `effects`' accepted
/// part (the copy, and the answer of a command), and say so in the log,
/// the metrics, the plugin's stats and its log book.
pub fn stage(
    version: &PluginVersion,
    stored: &StoredEvent,
    effects: &mut Effects,
    reason: &str,
    attempts: u32,
) {
    let plugin = &version.manifest.name;
    let topic = version.manifest.dead_letter_topic();
    tracing::warn!(%plugin, event = %stored.event.id, %topic, attempts, reason = %first_line(reason), "event dead-lettered");
    metrics::counter!(DEAD_LETTERS, "plugin" => plugin.clone()).increment(1);
    note(
        version,
        stored,
        "error",
        &format!("dead-lettered to {topic} after {attempts} attempt(s): {reason}"),
    );
    version.stats.record_dead_letter();
    effects
        .accepted
        .publishes
        .push(dead_letter(stored, plugin, &topic, reason, attempts));
    command_outcome::failed(version, stored, effects, reason);
}

/// The dead-letter copy of `stored` for `plugin`, sent to `topic`.
pub fn dead_letter(
    stored: &StoredEvent,
    plugin: &str,
    topic: &str,
    reason: &str,
    attempts: u32,
) -> crate::event::Event {
    let mut event = stored.event.clone();
    let reason: String = reason.chars().take(2048).collect();
    event.headers.extend([
        ("deadletterreason".to_owned(), reason),
        ("deadletterplugin".to_owned(), plugin.to_owned()),
        ("deadletterattempts".to_owned(), attempts.to_string()),
        ("deadlettertopic".to_owned(), event.topic.clone()),
        (
            "deadletterpartition".to_owned(),
            stored.partition.to_string(),
        ),
        ("deadletteroffset".to_owned(), stored.offset.to_string()),
    ]);
    event.topic = topic.to_owned();
    event
}

/// Keep a host line about `stored` in the plugin's log book.
pub fn note(version: &PluginVersion, stored: &StoredEvent, level: &'static str, message: &str) {
    let of = LineOf {
        plugin: &version.manifest.name,
        version: &version.id,
        event: &stored.event.id,
        source: "host",
    };
    version.context.logs.record(of, level, message);
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
