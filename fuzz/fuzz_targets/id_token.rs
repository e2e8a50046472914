#![no_main]
//! `cargo +nightly fuzz run id_token`; the checks live in `fuzz_targets::id_token` (src-tauri/crates/fuzz-targets).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::id_token(data));
