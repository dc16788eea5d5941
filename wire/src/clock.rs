//! The wall clock, read in the forms the gateway records and reports:
//! RFC 3339 with milliseconds (histories, events, uploads) and milliseconds
//! since the epoch (storage). A leaf: every layer may read the time.

/// Now, as RFC 3339 with milliseconds in UTC (`2026-12-05T07:00:53.123Z`).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `millis` since the epoch as RFC 3339 with milliseconds in UTC.
pub fn rfc3339_of_millis(millis: u64) -> String {
    let at = i64::try_from(millis)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or_default();
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, in milliseconds since the epoch.
pub fn millis_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn millis_read_as_rfc3339() {
        assert_eq!(
            super::rfc3339_of_millis(1_796_032_800_123),
            "2026-11-30T10:00:00.123Z"
        );
    }

    #[test]
    fn both_readings_name_the_same_moment() {
        let millis = super::millis_now();
        let text = super::now_rfc3339();
        assert!(text.ends_with('Z') && text.len() == "2026-12-05T07:00:53.123Z".len());
        let parsed = chrono::DateTime::parse_from_rfc3339(&text).unwrap();
        let parsed = u64::try_from(parsed.timestamp_millis()).unwrap();
        assert!(parsed.abs_diff(millis) < 60_000, "{text} vs {millis}");
    }
}
