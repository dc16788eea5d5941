//! Little-endian fields of the embedded store's file formats (write-ahead
//! log frames, records, index files), read where the caller has already
//! checked that `bytes` holds them.

/// The `u32` at `bytes[at..at + 4]`.
pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut field = [0; 4];
    field.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(field)
}

/// The `u64` at `bytes[at..at + 8]`.
pub(crate) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut field = [0; 8];
    field.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(field)
}
