#![no_main]
//! `cargo +nightly fuzz run superoffice_response`; the checks live in `fuzz_targets::superoffice_response` (src-tauri/crates/fuzz-targets).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::superoffice_response(data));
