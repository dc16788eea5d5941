//! W3C Trace Context on ingest: a request's `traceparent` (and `tracestate`)
//! header is carried by every event of the request that has none of its own,
//! through the log (Kafka headers included) to plugins and what they publish.

use axum::http::HeaderMap;

/// Whether `value` is a well-formed version-00 `traceparent`
/// (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, ids not all zero).
pub fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if hex(version, 2) && *version != "ff"
            && hex(trace, 32) && trace.bytes().any(|b| b != b'0')
            && hex(parent, 16) && parent.bytes().any(|b| b != b'0')
            && hex(flags, 2))
}

/// The trace context headers of a request, if its `traceparent` is valid
/// (an invalid one is ignored, as the W3C recommendation says).
pub fn from_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let Some(parent) = text("traceparent").filter(|p| is_traceparent(p)) else {
        return Vec::new();
    };
    let mut context = vec![("traceparent".to_owned(), parent.to_owned())];
    if let Some(state) = text("tracestate").filter(|s| !s.is_empty() && s.len() <= 512) {
        context.push(("tracestate".to_owned(), state.to_owned()));
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_traceparents_are_taken() {
        assert!(is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_traceparent(
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_traceparent(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        ));
        assert!(!is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"
        ));
        assert!(!is_traceparent(
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"
        ));
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", "garbage".parse().unwrap());
        assert!(from_headers(&headers).is_empty());
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        headers.insert("tracestate", "vendor=1".parse().unwrap());
        assert_eq!(from_headers(&headers).len(), 2);
    }
}
