//! See [`streamplug_wire::fuzzing::jwt`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug_wire::fuzzing::jwt(data));
