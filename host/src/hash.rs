//! Every hash whose values the gateway keeps or shares: on disk, in Kafka,
//! in another instance, in a client's hands. Changing one moves customers
//! to other partitions, shifts canary shares, renames plugin versions,
//! orphans compiled components and refuses stored API keys, so each is
//! written once, here, and pinned by known values in the tests below.
//!
//! - FNV-1a 32: the embedded log's partition of a key.
//! - Kafka's murmur2: the Kafka log's partition of a key (what the Java
//!   client and librdkafka's `murmur2_random` compute).
//! - FNV-1a 64: a routing key's canary and shadow bucket.
//! - SHA-256: component digests, version ids, API key digests, the ids of
//!   what a plugin emits while handling an event.

use sha2::{Digest as _, Sha256};

/// FNV-1a, 32 bits.
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// FNV-1a, 64 bits.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Kafka's `Utils.murmur2` (MurmurHash2, seed `0x9747b28c`), as an `i32`
/// like Java's.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = SEED ^ (data.len() as u32);
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

/// SHA-256.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

/// SHA-256 of `parts`, each preceded by its length (8 bytes, little
/// endian), then `tail`: no two lists of parts hash alike by moving bytes
/// from one part to the next.
pub fn sha256_of_parts<'p>(parts: impl IntoIterator<Item = &'p str>, tail: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.update(tail);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_keeps_the_published_values() {
        // The FNV test vectors (Fowler, Noll, Vo).
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

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
    fn sha256_keeps_the_published_values() {
        // FIPS 180-2, appendix B.1, and the empty message.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parts_are_length_prefixed_and_pinned() {
        let a = sha256_of_parts(["ab", "c"], b"");
        assert_ne!(a, sha256_of_parts(["a", "bc"], b""));
        assert_eq!(
            hex::encode(a),
            hex::encode(sha256(
                &[&2u64.to_le_bytes()[..], b"ab", &1u64.to_le_bytes(), b"c"].concat()
            ))
        );
        assert_eq!(
            hex::encode(sha256_of_parts(
                ["recommend", "/web", "e1"],
                &7u64.to_le_bytes()
            )),
            "42c5421ac6a9e05f08bfe6664ab62ba2366d9f0d76d42463b43e5d6d3aefb121"
        );
    }

    #[test]
    fn what_the_gateway_derives_from_them_stays_put() {
        use crate::storage::Partitioner;
        // A customer's partition on each log, and its canary bucket: moving
        // either moves that customer's events or its canary share.
        assert_eq!(Partitioner::Fnv1a.partition(Some("customer-1"), 8), 7);
        assert_eq!(Partitioner::Fnv1a.partition(Some("customer-2"), 8), 2);
        assert_eq!(Partitioner::Murmur2.partition(Some("customer-1"), 8), 1);
        assert_eq!(Partitioner::Murmur2.partition(Some("customer-2"), 8), 6);
        assert_eq!(crate::registry::key_bucket("customer-1"), 7404);
        assert_eq!(crate::registry::key_bucket("c-42"), 3417);
    }
}
