#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| openwarp_fuzzing::taxii_envelope(data));
