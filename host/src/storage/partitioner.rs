//! Which partition a key lives in. Each backend has one partitioner, and
//! everything that places or finds a key's events (appends, push delivery,
//! resume tokens, reads by customer) asks the log for it, so they cannot
//! disagree.

/// A key-to-partition function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioner {
    /// FNV-1a of the key's bytes, modulo the partition count: the embedded
    /// log's, kept so existing databases keep their layout.
    Fnv1a,
    /// The Java Kafka client's default partitioner (and librdkafka's
    /// `murmur2_random` for keyed records): `(murmur2(key) & 0x7fffffff) %
    /// partitions`, so every Kafka client places a customer's records in
    /// the same partition the gateway does.
    Murmur2,
}

impl Partitioner {
    /// The partition of `key` among `partitions`. Unkeyed events are not
    /// looked up by key; they get partition 0 here (Kafka spreads the
    /// unkeyed records it writes).
    pub fn partition(self, key: Option<&str>, partitions: u32) -> u32 {
        let Some(key) = key else { return 0 };
        let hash = match self {
            Self::Fnv1a => crate::hash::fnv1a_32(key.as_bytes()),
            Self::Murmur2 => (crate::hash::murmur2(key.as_bytes()) & 0x7fff_ffff) as u32,
        };
        hash % partitions.max(1)
    }

    /// The name used in logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fnv1a => "fnv1a",
            Self::Murmur2 => "murmur2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        for p in [Partitioner::Fnv1a, Partitioner::Murmur2] {
            assert_eq!(
                p.partition(Some("customer-1"), 7),
                p.partition(Some("customer-1"), 7)
            );
            let used: std::collections::HashSet<u32> = (0..200)
                .map(|i| p.partition(Some(&format!("c{i}")), 4))
                .collect();
            assert_eq!(used.len(), 4, "{}", p.name());
        }
    }

    #[test]
    fn the_two_hashes_place_some_customers_differently() {
        let differ = (0..50)
            .filter(|i| {
                let key = format!("customer-{i}");
                Partitioner::Fnv1a.partition(Some(&key), 4)
                    != Partitioner::Murmur2.partition(Some(&key), 4)
            })
            .count();
        assert!(differ > 10, "{differ}");
    }
}
