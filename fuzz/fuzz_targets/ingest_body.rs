//! See [`streamplug::fuzzing::ingest_body`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug::fuzzing::ingest_body(data));
