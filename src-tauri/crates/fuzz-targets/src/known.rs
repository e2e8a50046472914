//! Open findings that the targets step around, so that a fuzzing run looks for new problems
//! instead of stopping at a known one again and again.
//!
//! Each finding has an input under `fuzz/known/<target>/` that `tests/known_findings.rs`
//! replays twice: stepped around it must pass, checked strictly it must still fail. When a
//! finding is fixed that test fails: move its input into `fuzz/corpus/<target>/` and delete
//! the finding here (the compiler then shows the step-around to remove).

use std::sync::atomic::{AtomicBool, Ordering};

/// Open findings (`fuzz/README.md`).
#[derive(Clone, Copy, Debug)]
pub enum Finding {
    /// fuzz/README.md: on a rep domain that is not ASCII (IDN), `new_message_id` gives a
    /// Message-ID that lettre writes as an RFC 2047 encoded word, not as a msg-id.
    NonAsciiMessageId,
    /// fuzz/README.md: a display name of about 990 characters without a space gives a header
    /// line over 998 octets (RFC 5322 §2.1.1): lettre folds only at spaces.
    OverlongDisplayName,
    /// fuzz/README.md: ASCII control characters other than CR, LF and NUL in the subject go
    /// into the `Subject:` line as they are (lettre encodes only words with CR, LF, NUL or
    /// non-ASCII), which RFC 5322 does not allow.
    ControlCharInSubject,
    /// fuzz/README.md: two spaces between non-ASCII words of the subject (`Grüße  Müller`)
    /// are written between two encoded words, where receivers must ignore them (RFC 2047
    /// §6.2): the subject reads `GrüßeMüller`.
    SpacesBetweenEncodedWords,
    /// fuzz/README.md: a long run of spaces and TABs inside the subject is folded into a
    /// continuation line of white space only, which lenient readers take for the end of the
    /// header block.
    WhitespaceOnlyFoldedLine,
}

impl Finding {
    pub const ALL: &[Finding] = &[
        Finding::NonAsciiMessageId,
        Finding::OverlongDisplayName,
        Finding::ControlCharInSubject,
        Finding::SpacesBetweenEncodedWords,
        Finding::WhitespaceOnlyFoldedLine,
    ];
}

static STRICT: AtomicBool = AtomicBool::new(false);

/// Checks open findings too (for `tests/known_findings.rs`).
pub fn set_strict(strict: bool) {
    STRICT.store(strict, Ordering::SeqCst);
}

/// Whether to step around an input that shows `finding`.
pub(crate) fn step_around(finding: Finding) -> bool {
    let _ = finding;
    !STRICT.load(Ordering::SeqCst)
}
