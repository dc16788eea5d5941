//! See [`streamplug_wire::fuzzing::ws_frame`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug_wire::fuzzing::ws_frame(data));
