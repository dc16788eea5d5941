//! The packed encoding of KV values: compact, binary and cheap to read and
//! write, for state a plugin rewrites on every event (tables of weights,
//! per-customer documents).
//!
//! A packed value is the byte `0xC1` followed by the value in
//! [MessagePack](https://github.com/msgpack/msgpack/blob/master/spec.md),
//! structs as maps of field names (so fields can be added with
//! `#[serde(default)]`). `0xC1` is the one byte MessagePack never uses and
//! no JSON text starts with, so [`decode`] tells the two apart: a value a
//! plugin's earlier version stored with `set_json` still reads, and a
//! plugin can move its state to the packed encoding without a migration.
//! The format is stated here so that any language's MessagePack library
//! reads and writes the same bytes.

use serde::{Deserialize, Serialize};

/// The first byte of every packed value.
pub const TAG: u8 = 0xC1;

/// Why a value could not be packed or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError(String);

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackError {}

/// `value`, packed.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, PackError> {
    let mut bytes = Vec::with_capacity(64);
    encode_into(value, &mut bytes)?;
    Ok(bytes)
}

/// `value`, packed into `bytes` (cleared first): a caller that packs often
/// keeps one buffer and its capacity.
pub fn encode_into<T: Serialize + ?Sized>(value: &T, bytes: &mut Vec<u8>) -> Result<(), PackError> {
    bytes.clear();
    bytes.push(TAG);
    value
        .serialize(&mut rmp_serde::Serializer::new(&mut *bytes).with_struct_map())
        .map_err(|e| PackError(format!("cannot pack the value: {e}")))
}

/// The value in `bytes`: packed, or JSON (what `set_json` stores). A `T`
/// that borrows (`&'a str`, `Cow<'a, str>` with `#[serde(borrow)]`) reads
/// its strings in place, without copying them out of `bytes`.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, PackError> {
    match bytes.split_first() {
        Some((&TAG, packed)) => {
            // Read in place (strings straight from the bytes); a value cut
            // short is an error, bytes after its end are not looked at.
            let mut de = rmp_serde::Deserializer::from_read_ref(packed);
            T::deserialize(&mut de).map_err(|e| PackError(format!("invalid packed value: {e}")))
        }
        _ => serde_json::from_slice(bytes)
            .map_err(|e| PackError(format!("neither a packed value nor JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Profile {
        recent: Vec<String>,
        #[serde(default)]
        score: f64,
    }

    #[test]
    fn values_round_trip_and_json_still_reads() {
        let profile = Profile {
            recent: vec!["p-1".into(), "p-2".into()],
            score: 2.5,
        };
        let bytes = encode(&profile).unwrap();
        assert_eq!(bytes[0], TAG);
        assert_eq!(decode::<Profile>(&bytes).unwrap(), profile);

        let json = br#"{"recent":["p-1","p-2"],"score":2.5}"#;
        assert_eq!(decode::<Profile>(json).unwrap(), profile);
        assert_eq!(decode::<u64>(b"5").unwrap(), 5);
        assert_eq!(decode::<u64>(&encode(&5u64).unwrap()).unwrap(), 5);
    }

    #[test]
    fn the_bytes_are_messagepack_with_field_names() {
        let table = BTreeMap::from([("a".to_owned(), 1.5f64)]);
        // fixmap of 1, fixstr "a", float 64.
        let mut expected = vec![TAG, 0x81, 0xa1, b'a', 0xcb];
        expected.extend(1.5f64.to_be_bytes());
        assert_eq!(encode(&table).unwrap(), expected);

        let profile = Profile {
            recent: vec![],
            score: 0.0,
        };
        let bytes = encode(&profile).unwrap();
        // fixmap of 2, then the field name "recent".
        assert_eq!(
            &bytes[..9],
            &[TAG, 0x82, 0xa6, b'r', b'e', b'c', b'e', b'n', b't']
        );
    }

    #[test]
    fn integers_read_into_float_fields() {
        // JavaScript writes an integral number such as 199.0 as an integer.
        assert_eq!(decode::<f64>(&[TAG, 0x7f]).unwrap(), 127.0);
        assert_eq!(decode::<f64>(&[TAG, 0xd0, 0x80]).unwrap(), -128.0);
    }

    #[test]
    fn damaged_values_are_errors() {
        let bytes = encode(&vec![1u32, 2, 3]).unwrap();
        let truncated = decode::<Vec<u32>>(&bytes[..3]).unwrap_err();
        assert!(
            truncated.to_string().contains("invalid packed"),
            "{truncated}"
        );
        let neither = decode::<Vec<u32>>(b"\x00\x01").unwrap_err();
        assert!(neither.to_string().contains("neither"), "{neither}");
    }
}
