//! Dead-letter records: the original event, unchanged but for its topic,
//! with why and where it failed in extension attributes.

use crate::event::StoredEvent;

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
