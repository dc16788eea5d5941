//! The committed KV values a batch has read, kept for the rest of the
//! batch: a handler that reads a key and then writes it, or a batch whose
//! events touch the same keys (a popular product's table, a shared
//! counter), asks the store once. The store is read again by the next
//! batch, so what other workers commit meanwhile is seen there.
//!
//! Only committed values live here; what the batch itself writes is in
//! [`super::effects::Staged`], which every read consults first.

use std::collections::HashMap;

/// Bytes of values kept at most; past it, reads go to the store again.
pub const MAX_BYTES: usize = 4 << 20;

/// Committed values and usage read during one batch.
#[derive(Debug, Default)]
pub struct CommittedReads {
    values: HashMap<String, Option<Vec<u8>>>,
    bytes: usize,
    usage: Option<u64>,
}

impl CommittedReads {
    /// The committed value of `key` if this batch read it: `Some(None)`
    /// when it was absent.
    pub fn value(&self, key: &str) -> Option<Option<&[u8]>> {
        self.values.get(key).map(Option::as_deref)
    }

    /// Keep what the store answered for `key` (unless the cache is full).
    pub fn remember(&mut self, key: &str, value: Option<&[u8]>) {
        let size = key.len() + value.map_or(0, <[u8]>::len);
        if self.bytes + size > MAX_BYTES || self.values.contains_key(key) {
            return;
        }
        self.bytes += size;
        self.values
            .insert(key.to_owned(), value.map(<[u8]>::to_vec));
    }

    /// The namespace's committed usage, if this batch read it.
    pub fn usage(&self) -> Option<u64> {
        self.usage
    }

    /// Keep the namespace's committed usage.
    pub fn remember_usage(&mut self, usage: u64) {
        self.usage = Some(usage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_absences_are_kept_until_the_budget_is_spent() {
        let mut reads = CommittedReads::default();
        assert_eq!(reads.value("a"), None);
        reads.remember("a", Some(b"1"));
        reads.remember("gone", None);
        assert_eq!(reads.value("a"), Some(Some(&b"1"[..])));
        assert_eq!(reads.value("gone"), Some(None));
        // The first answer stays: the batch reads one committed value a key.
        reads.remember("a", Some(b"2"));
        assert_eq!(reads.value("a"), Some(Some(&b"1"[..])));

        let big = vec![0u8; MAX_BYTES];
        reads.remember("big", Some(&big));
        assert_eq!(reads.value("big"), None, "past the budget, not kept");

        assert_eq!(reads.usage(), None);
        reads.remember_usage(42);
        assert_eq!(reads.usage(), Some(42));
    }
}
