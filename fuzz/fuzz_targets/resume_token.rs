//! See [`streamplug_wire::fuzzing::resume_token`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug_wire::fuzzing::resume_token(data));
