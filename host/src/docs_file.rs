//! The documents the code generates and `docs/` keeps a copy of
//! (`make docs`): how they are written, and the test that the copy is
//! current.

/// `value` as a document file holds it: pretty JSON, one newline at the end.
pub fn pretty_json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Fail unless `docs/<name>` holds `generated`.
#[cfg(test)]
pub fn assert_current(name: &str, generated: &str) {
    assert_file_current(&format!("docs/{name}"), generated);
}

/// Fail unless the workspace's file `path` holds `generated`.
#[cfg(test)]
pub fn assert_file_current(path: &str, generated: &str) {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let on_disk = std::fs::read_to_string(full).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{path} is out of date: run `make docs`"
    );
}

#[cfg(test)]
mod tests {
    /// The event reference is generated from the vocabulary in
    /// `streamplug-wire`; the copy in `docs/` is checked here, beside the
    /// other generated documents.
    #[test]
    fn docs_events_md_matches_the_vocabulary() {
        super::assert_current(
            "events.md",
            &crate::event::vocabulary::Vocabulary::standard().reference_markdown(),
        );
    }
}
