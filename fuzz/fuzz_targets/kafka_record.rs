//! See [`streamplug_wire::fuzzing::kafka_record`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamplug_wire::fuzzing::kafka_record(data));
