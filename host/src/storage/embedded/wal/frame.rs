//! One frame of the write-ahead log: a group commit's logged writes, with
//! its log sequence number (LSN), the writer's clock for the group, and a
//! CRC-32C over all of it, so a torn or corrupt tail is recognised.
//!
//! Layout (little-endian): payload length `u32`, CRC `u32` (of everything
//! after it), LSN `u64`, clock `u64` (ms since the epoch), payload.

use super::super::le::{u32_at, u64_at};

/// Bytes before a frame's payload.
pub(crate) const HEAD: usize = 24;

/// A frame read back from a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// Its log sequence number (consecutive across frames).
    pub(crate) lsn: u64,
    /// The writer's clock when it wrote the group (ms since the epoch).
    pub(crate) clock_ms: u64,
    /// The logged writes.
    pub(crate) payload: Vec<u8>,
}

/// Start a frame in `buf` (cleared): room for its head, then the payload
/// is appended.
pub(crate) fn begin(buf: &mut Vec<u8>) {
    buf.clear();
    buf.resize(HEAD, 0);
}

/// Whether `buf` (begun with [`begin`]) holds no payload.
pub(crate) fn is_empty(buf: &[u8]) -> bool {
    buf.len() <= HEAD
}

/// Fill in the head of the frame in `buf` (begun with [`begin`], payload
/// appended).
pub(crate) fn seal(buf: &mut [u8], lsn: u64, clock_ms: u64) {
    let len = u32::try_from(buf.len() - HEAD).unwrap_or(u32::MAX);
    buf[0..4].copy_from_slice(&len.to_le_bytes());
    buf[8..16].copy_from_slice(&lsn.to_le_bytes());
    buf[16..24].copy_from_slice(&clock_ms.to_le_bytes());
    let crc = crc32c::crc32c(&buf[8..]);
    buf[4..8].copy_from_slice(&crc.to_le_bytes());
}

/// The LSN and whole length a frame's head at the start of `bytes` claims
/// (checked by nothing: for telling a torn frame from other bytes).
pub(crate) fn claimed(bytes: &[u8]) -> Option<(u64, usize)> {
    if bytes.len() < HEAD {
        return None;
    }
    let len = u32_at(bytes, 0) as usize;
    (len > 0).then(|| (u64_at(bytes, 8), HEAD.saturating_add(len)))
}

/// The frame at the start of `bytes` and its length, or `None` if what is
/// there is not a whole, intact frame (the torn tail of a crash, zeroes, or
/// corruption).
pub(crate) fn read(bytes: &[u8]) -> Option<(Frame, usize)> {
    if bytes.len() < HEAD {
        return None;
    }
    let len = u32_at(bytes, 0) as usize;
    let end = HEAD.checked_add(len)?;
    if len == 0 || bytes.len() < end {
        return None;
    }
    if crc32c::crc32c(&bytes[8..end]) != u32_at(bytes, 4) {
        return None;
    }
    let frame = Frame {
        lsn: u64_at(bytes, 8),
        clock_ms: u64_at(bytes, 16),
        payload: bytes[HEAD..end].to_vec(),
    };
    Some((frame, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(payload: &[u8], lsn: u64) -> Vec<u8> {
        let mut buf = Vec::new();
        begin(&mut buf);
        buf.extend_from_slice(payload);
        seal(&mut buf, lsn, 1_700_000_000_000);
        buf
    }

    #[test]
    fn a_sealed_frame_reads_back_whole() {
        let mut bytes = sealed(b"hello", 7);
        bytes.extend(sealed(b"world!", 8));
        let (first, n) = read(&bytes).unwrap();
        assert_eq!(first.lsn, 7);
        assert_eq!(first.clock_ms, 1_700_000_000_000);
        assert_eq!(first.payload, b"hello");
        let (second, m) = read(&bytes[n..]).unwrap();
        assert_eq!((second.lsn, second.payload.as_slice()), (8, &b"world!"[..]));
        assert_eq!(n + m, bytes.len());
    }

    #[test]
    fn a_torn_or_corrupt_frame_is_not_read() {
        let bytes = sealed(b"some logged writes", 1);
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        for at in 4..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x40;
            assert!(read(&flipped).is_none(), "flipped byte {at}");
        }
        assert!(read(&[0; 64]).is_none(), "zeroes are no frame");
    }
}
