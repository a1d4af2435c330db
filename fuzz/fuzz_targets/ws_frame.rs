#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| chitchat_fuzz_checks::ws_frame(bytes));
