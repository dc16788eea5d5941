//! See [`streamplug::fuzzing::jwt`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug::fuzzing::jwt(data));
