#![no_main]
//! `cargo +nightly fuzz run loopback_redirect`; the checks live in `fuzz_targets::loopback_redirect` (src-tauri/crates/fuzz-targets).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::loopback_redirect(data));
