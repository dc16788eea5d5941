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
            Self::Fnv1a => fnv1a(key.as_bytes()),
            Self::Murmur2 => (murmur2(key.as_bytes()) & 0x7fff_ffff) as u32,
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

fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Kafka's `Utils.murmur2` (MurmurHash2, seed `0x9747b28c`), as an `i32`
/// like Java's.
fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_the_java_client() {
        // Values of org.apache.kafka.common.utils.Utils.murmur2.
        for (key, want) in [
            ("1", -1_993_445_489),
            ("12", 126_087_238),
            ("123", -267_702_483),
            ("1234", -1_614_185_708),
            ("12345", -1_188_365_604),
        ] {
            assert_eq!(murmur2(key.as_bytes()), want, "{key}");
        }
    }

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
