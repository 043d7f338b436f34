#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| openwarp_fuzzing::assessment_framework(data));
