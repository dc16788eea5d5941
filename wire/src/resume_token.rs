//! Resume tokens: where a WebSocket session picks its pushes up again
//! (`?resume=` on reconnect, `resume` in the frames it was sent).

/// A position in the push log: the next offset to deliver in the customer's
/// partition. Written `"<partition>.<offset>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeToken {
    /// Push log partition of the customer.
    pub partition: u32,
    /// Next offset to deliver.
    pub offset: u64,
}

impl ResumeToken {
    /// Parse `"<partition>.<offset>"`.
    pub fn parse(text: &str) -> Option<Self> {
        let (p, o) = text.split_once('.')?;
        Some(Self {
            partition: p.parse().ok()?,
            offset: o.parse().ok()?,
        })
    }
}

impl std::fmt::Display for ResumeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.partition, self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::ResumeToken;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let t = ResumeToken {
            partition: 3,
            offset: 42,
        };
        assert_eq!(ResumeToken::parse(&t.to_string()), Some(t));
        assert_eq!(ResumeToken::parse("3"), None);
        assert_eq!(ResumeToken::parse("a.b"), None);
        assert_eq!(ResumeToken::parse("-1.2"), None);
    }
}
