//! One record in a segment file: its length (u32, of what follows the
//! checksum), the CRC-32C of what follows, then the record's offset,
//! sequence number and append time (ms since the epoch; u64 each,
//! little-endian) and the postcard-encoded [`Event`].

use crate::event::Event;
use crate::storage::StorageError;

use super::super::le::{u32_at, u64_at};
use super::super::unavailable;

/// Bytes of the length and the checksum.
const FRAME: usize = 8;
/// Bytes of the offset, sequence number and append time.
const FIXED: usize = 24;

/// What a record says of itself, without its event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub(crate) offset: u64,
    pub(crate) seq: u64,
    pub(crate) appended_ms: u64,
    /// Bytes of the whole record on disk.
    pub(crate) len: u64,
}

/// Start a record in `out`: room for its length and checksum, then its
/// fixed fields. Returns where the record starts, for [`seal`].
fn begin(out: &mut Vec<u8>, offset: u64, seq: u64, appended_ms: u64) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME]);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&appended_ms.to_le_bytes());
    start
}

/// Fill in the length and checksum of the record begun at `start`; its
/// bytes on disk.
fn seal(out: &mut [u8], start: usize) -> Result<u64, StorageError> {
    let body = out.len() - start - FRAME;
    let body_len = u32::try_from(body).map_err(|_| unavailable("record too large"))?;
    let crc = crc32c::crc32c(&out[start + FRAME..]);
    out[start..start + 4].copy_from_slice(&body_len.to_le_bytes());
    out[start + 4..start + FRAME].copy_from_slice(&crc.to_le_bytes());
    Ok((out.len() - start) as u64)
}

/// Append the record of `event` to `out`; its length.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    offset: u64,
    seq: u64,
    appended_ms: u64,
    event: &Event,
) -> Result<u64, StorageError> {
    let start = begin(out, offset, seq, appended_ms);
    postcard::to_io(event, &mut *out).map_err(unavailable)?;
    seal(out, start)
}

/// Append again a record read back (compaction copies it).
pub(crate) fn encode_read(
    out: &mut Vec<u8>,
    head: &Head,
    payload: &[u8],
) -> Result<u64, StorageError> {
    let start = begin(out, head.offset, head.seq, head.appended_ms);
    out.extend_from_slice(payload);
    seal(out, start)
}

/// The record at the start of some bytes.
pub(crate) enum Parsed<'a> {
    /// A whole, intact record and its encoded event.
    Record(Head, &'a [u8]),
    /// The bytes end before the record does: this many are needed.
    Short(usize),
    /// Its checksum does not match (or its length cannot be one).
    Damaged,
}

/// Parse the record `bytes` begin with.
pub(crate) fn parse(bytes: &[u8]) -> Parsed<'_> {
    if bytes.len() < FRAME {
        return Parsed::Short(FRAME);
    }
    let body = u32_at(bytes, 0) as usize;
    let crc = u32_at(bytes, 4);
    if body < FIXED {
        return Parsed::Damaged;
    }
    let len = FRAME + body;
    if bytes.len() < len {
        return Parsed::Short(len);
    }
    let record = &bytes[FRAME..len];
    if crc32c::crc32c(record) != crc {
        return Parsed::Damaged;
    }
    let head = Head {
        offset: u64_at(record, 0),
        seq: u64_at(record, 8),
        appended_ms: u64_at(record, 16),
        len: len as u64,
    };
    Parsed::Record(head, &record[FIXED..])
}

/// Decode a record's event.
pub(crate) fn decode_event(payload: &[u8]) -> Result<Event, StorageError> {
    postcard::from_bytes(payload).map_err(|e| unavailable(format!("corrupt event record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_a_flipped_bit_or_a_cut_is_noticed() {
        let event = crate::storage::embedded::tests::event("t", "k", "x");
        let mut out = vec![7];
        let len = encode(&mut out, 5, 9, 1234, &event).unwrap();
        assert_eq!(len as usize, out.len() - 1);
        let Parsed::Record(head, payload) = parse(&out[1..]) else {
            panic!("not a record")
        };
        assert_eq!((head.offset, head.seq, head.appended_ms), (5, 9, 1234));
        assert_eq!(head.len, len);
        assert_eq!(decode_event(payload).unwrap(), event);
        assert!(matches!(parse(&out[1..out.len() - 1]), Parsed::Short(n) if n == len as usize));
        let mut flipped = out[1..].to_vec();
        flipped[20] ^= 1;
        assert!(matches!(parse(&flipped), Parsed::Damaged));
    }
}
