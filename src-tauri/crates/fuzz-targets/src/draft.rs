//! The draft format of a follow-up task's `Description` (`outbox::draft`), as intake reads it.

use outbox::draft::{check, parse_description, Problem, MAX_SUBJECT_CHARS};

/// Any text as a task description: never a panic, a subject that is one trimmed line, a body
/// taken from the description, the README's promise that a description without a `Subject:`
/// line is kept whole, and the documented format written back parsing to the same draft.
pub fn draft_description(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let d = parse_description(&text);
    let normalized = text.replace("\r\n", "\n");

    if let Some(s) = &d.subject {
        assert!(!s.is_empty() && s.trim() == s, "subject not trimmed: {s:?}");
        assert!(!s.contains('\n'), "subject spans lines: {s:?}");
    }
    assert!(!d.body.starts_with('\n') && d.body.trim_end() == d.body, "body not trimmed: {:?}", d.body);
    assert!(normalized.contains(d.body.as_str()), "body is not part of the description");
    assert_eq!(parse_description(&text), d, "not deterministic");

    let has_subject_line = normalized.lines().any(|l| l.split_once(':').is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("subject")));
    if !has_subject_line {
        assert_eq!(d.subject, None);
        assert_eq!(d.body, normalized.trim(), "a description without a Subject line must be kept whole as the body");
    }

    // Written back in the documented format, the draft parses to itself. (A stray CR before a
    // line end leaves a CRLF in the body, which a second pass would rightly turn into LF.)
    if let Some(s) = &d.subject {
        if !d.body.contains('\r') {
            let again = parse_description(&format!("Subject: {s}\n\n{}", d.body));
            assert_eq!(again, d, "the documented format does not round-trip");
            let crlf = parse_description(&format!("Subject: {s}\r\n\r\n{}", d.body.replace('\n', "\r\n")));
            assert_eq!(crlf, d, "CRLF and LF descriptions differ");
        }
    }

    // What intake decides with it.
    assert_eq!(check(None, "", d.subject.as_deref(), &d.body), Some(Problem::NeedsRecipient));
    let problem = check(Some("jonas.weber@mueller.example"), "", d.subject.as_deref(), &d.body);
    assert_eq!(problem == Some(Problem::NeedsSubject), d.subject.is_none(), "{problem:?} for subject {:?}", d.subject);
    if d.subject.as_ref().is_some_and(|s| s.chars().count() > MAX_SUBJECT_CHARS) {
        assert_eq!(problem, Some(Problem::SubjectTooLong));
    }
    if problem.is_none() {
        assert!(!d.body.trim().is_empty());
    }
}
