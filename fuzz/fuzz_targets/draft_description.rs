#![no_main]
//! `cargo +nightly fuzz run draft_description`; the checks live in `fuzz_targets::draft_description` (src-tauri/crates/fuzz-targets).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::draft_description(data));
