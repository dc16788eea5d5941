//! See [`streamplug_wire::fuzzing::ingest_body`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug_wire::fuzzing::ingest_body(data));
