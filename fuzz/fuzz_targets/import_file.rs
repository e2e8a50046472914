#![no_main]
//! `cargo +nightly fuzz run import_file`; the checks live in `fuzz_targets::import_file` (src-tauri/crates/fuzz-targets).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::import_file(data));
