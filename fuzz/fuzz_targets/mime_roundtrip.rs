#![no_main]
//! `cargo +nightly fuzz run mime_roundtrip`; the checks live in `fuzz_targets::mime_roundtrip` (src-tauri/crates/fuzz-targets).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::mime_roundtrip(data));
