//! A WebSocket frame off the wire, as a session reads it: the frame header
//! (tungstenite's parser, the one the gateway's sessions use), the payload
//! unmasked, and a text frame's payload as an event frame
//! ([`streamplug::fuzzing::ingest_body`]).
#![no_main]

use std::io::Cursor;

use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Data, OpCode};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut cursor = Cursor::new(data);
    let Ok(Some((header, length))) = FrameHeader::parse(&mut cursor) else {
        return;
    };
    let start = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
    let Some(payload) = usize::try_from(length)
        .ok()
        .and_then(|len| data.get(start..start.checked_add(len)?))
    else {
        return;
    };
    let mut payload = payload.to_vec();
    if let Some(mask) = header.mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
    if header.opcode == OpCode::Data(Data::Text) && std::str::from_utf8(&payload).is_ok() {
        streamplug::fuzzing::ingest_body(&payload);
    }
});
