//! The fuzz targets of the app's parsers and builders, as plain functions.
//!
//! Why it exists: `cargo fuzz` (in `fuzz/`, nightly only, its own workspace) and the stable
//! test suite must run the *same* checks. Each target here takes arbitrary bytes, feeds them
//! to product code and asserts invariants (a panic is a finding). `fuzz/fuzz_targets/*.rs` are
//! one-line wrappers around these functions, and `tests/corpus_replay.rs` replays every file
//! of the saved corpus (`fuzz/corpus/<target>/`) through them on every `cargo test
//! --workspace`, so a once-found crash stays fixed without nightly in CI.
//!
//! Targets: the task-description draft format ([`draft_description`]), `.json`/`.eml`
//! import ([`import_file`]), SuperOffice answers ([`superoffice_response`]), id_token headers
//! and claims ([`id_token`]), the loopback redirect ([`loopback_redirect`]) and the draft →
//! MIME builder, re-parsed ([`mime_roundtrip`]).

mod draft;
mod import;
mod jwt;
pub mod known;
mod loopback;
mod mime;
mod response;

pub use draft::draft_description;
pub use import::import_file;
pub use jwt::id_token;
pub use loopback::loopback_redirect;
pub use mime::mime_roundtrip;
pub use response::superoffice_response;

/// A target: any bytes in; a panic means an invariant does not hold.
pub type Target = fn(&[u8]);

/// Every target by the name of its `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("draft_description", draft_description),
    ("import_file", import_file),
    ("superoffice_response", superoffice_response),
    ("id_token", id_token),
    ("loopback_redirect", loopback_redirect),
    ("mime_roundtrip", mime_roundtrip),
];
