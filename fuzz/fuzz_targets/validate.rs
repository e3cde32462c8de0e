#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tally::fuzzing::validate::run(data));
