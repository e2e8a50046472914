//! The draft format the GTM engine writes into a follow-up task's `Description`, and the
//! checks that decide whether a draft can be sent as it is.
//!
//! Format (documented in the README):
//! ```text
//! Subject: <one line>
//!
//! <body, plain text, any number of lines>
//! ```
//! Header lines are `Name: value` until the first blank line; only `Subject` is used, other
//! names are ignored. A description without a `Subject:` line is kept whole as the body and
//! the draft is marked "needs subject". Line endings may be CRLF or LF.

use serde::Serialize;

/// Largest body accepted for sending (plain text), 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 255;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedDraft {
    pub subject: Option<String>,
    pub body: String,
}

/// Splits a task description into subject and body. Never fails: what cannot be understood
/// stays in the body.
pub fn parse_description(description: &str) -> ParsedDraft {
    let text = description.replace("\r\n", "\n");
    let mut subject = None;
    let mut lines = text.split('\n');
    let mut consumed = 0usize;
    let mut saw_header = false;
    for line in lines.by_ref() {
        consumed += line.len() + 1;
        if line.trim().is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if is_header_name(name) => {
                saw_header = true;
                if name.trim().eq_ignore_ascii_case("subject") && subject.is_none() {
                    subject = Some(value.trim().to_owned());
                }
            }
            _ => {
                // Not a header block: everything is body.
                return ParsedDraft { subject: None, body: text.trim().to_owned() };
            }
        }
    }
    let Some(subject) = subject else { return ParsedDraft { subject: None, body: text.trim().to_owned() } };
    let body = if consumed >= text.len() { String::new() } else { text[consumed..].to_owned() };
    ParsedDraft { subject: Some(subject).filter(|s| !s.is_empty()), body: body.trim_matches('\n').trim_end().to_owned() }
}

fn is_header_name(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty() && n.len() <= 40 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Why a draft cannot be sent as it is. Such drafts stay in the outbox, visible, with this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    NeedsRecipient,
    InvalidRecipient,
    NeedsSubject,
    SubjectTooLong,
    /// A line break, NUL or other control character in the subject: in a header it could
    /// start a header of its own (`\r\nBcc: …`), whichever channel builds the message.
    UnsafeSubject,
    /// The same in the recipient's display name.
    UnsafeName,
    BodyTooLarge,
    EmptyBody,
}

impl Problem {
    pub fn as_db(self) -> &'static str {
        match self {
            Problem::NeedsRecipient => "needs_recipient",
            Problem::InvalidRecipient => "invalid_recipient",
            Problem::NeedsSubject => "needs_subject",
            Problem::SubjectTooLong => "subject_too_long",
            Problem::UnsafeSubject => "unsafe_subject",
            Problem::UnsafeName => "unsafe_name",
            Problem::BodyTooLarge => "body_too_large",
            Problem::EmptyBody => "empty_body",
        }
    }
    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "needs_recipient" => Problem::NeedsRecipient,
            "invalid_recipient" => Problem::InvalidRecipient,
            "needs_subject" => Problem::NeedsSubject,
            "subject_too_long" => Problem::SubjectTooLong,
            "unsafe_subject" => Problem::UnsafeSubject,
            "unsafe_name" => Problem::UnsafeName,
            "body_too_large" => Problem::BodyTooLarge,
            "empty_body" => Problem::EmptyBody,
            _ => return None,
        })
    }
    pub fn describe(self) -> &'static str {
        match self {
            Problem::NeedsRecipient => "needs recipient: the person on the task has no email address",
            Problem::InvalidRecipient => "the recipient's email address is not valid",
            Problem::NeedsSubject => "needs subject: the draft has no Subject line",
            Problem::SubjectTooLong => "the subject is longer than 255 characters",
            Problem::UnsafeSubject => "the subject contains a line break or a control character; write it on one line",
            Problem::UnsafeName => "the recipient's name contains a line break or a control character",
            Problem::BodyTooLarge => "the body is larger than 1 MiB",
            Problem::EmptyBody => "the body is empty",
        }
    }
}

/// Whether a header value holds a character that could end the header line or hide in it:
/// CR, LF, NUL and the other C0/C1 controls (a tab is allowed). Checked for every channel, at
/// intake, import, edit and again before sending: SMTP encodes such a value safely, but the
/// email agent receives the value as it is, and what SuperOffice builds from it is not
/// documented.
pub fn unsafe_header_value(value: &str) -> bool {
    value.chars().any(|c| c.is_control() && c != '\t')
}

/// The first problem that keeps a draft from being sent, if any.
pub fn check(recipient: Option<&str>, name: &str, subject: Option<&str>, body: &str) -> Option<Problem> {
    match recipient.map(str::trim).filter(|r| !r.is_empty()) {
        None => return Some(Problem::NeedsRecipient),
        // RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
        Some(r) if r.parse::<lettre::Address>().is_err() || r.contains(['\r', '\n', '\0']) || r.len() > 254 => {
            return Some(Problem::InvalidRecipient)
        }
        _ => {}
    }
    if unsafe_header_value(name) {
        return Some(Problem::UnsafeName);
    }
    match subject.map(str::trim).filter(|s| !s.is_empty()) {
        None => return Some(Problem::NeedsSubject),
        Some(s) if s.chars().count() > MAX_SUBJECT_CHARS => return Some(Problem::SubjectTooLong),
        Some(s) if unsafe_header_value(s) => return Some(Problem::UnsafeSubject),
        _ => {}
    }
    if body.trim().is_empty() {
        return Some(Problem::EmptyBody);
    }
    if body.len() > MAX_BODY_BYTES {
        return Some(Problem::BodyTooLarge);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_blank_line_body() {
        let d = parse_description("Subject: Hello there\n\nDear Ms Carter,\n\nThanks.\n");
        assert_eq!(d.subject.as_deref(), Some("Hello there"));
        assert_eq!(d.body, "Dear Ms Carter,\n\nThanks.");
    }

    #[test]
    fn crlf_and_extra_headers() {
        let d = parse_description("X-Engine: gtm\r\nsubject: Angebot\r\n\r\nHallo\r\nWelt");
        assert_eq!(d.subject.as_deref(), Some("Angebot"));
        assert_eq!(d.body, "Hallo\nWelt");
    }

    #[test]
    fn no_header_keeps_everything_as_body() {
        let d = parse_description("Dear Ms Carter: thanks for the call.\nBest");
        assert_eq!(d.subject, None);
        assert_eq!(d.body, "Dear Ms Carter: thanks for the call.\nBest");
    }

    #[test]
    fn checks_name_the_first_problem() {
        assert_eq!(check(None, "", Some("s"), "b"), Some(Problem::NeedsRecipient));
        assert_eq!(check(Some("not an address"), "", Some("s"), "b"), Some(Problem::InvalidRecipient));
        assert_eq!(check(Some("a@b.example"), "", None, "b"), Some(Problem::NeedsSubject));
        assert_eq!(check(Some("a@b.example"), "", Some(&"x".repeat(300)), "b"), Some(Problem::SubjectTooLong));
        assert_eq!(check(Some("a@b.example"), "", Some("s"), " \n"), Some(Problem::EmptyBody));
        assert_eq!(check(Some("a@b.example"), "", Some("s"), &"x".repeat(MAX_BODY_BYTES + 1)), Some(Problem::BodyTooLarge));
        assert_eq!(check(Some("a@b.example"), "Ann Example", Some("s"), "b"), None);
    }

    #[test]
    fn header_values_cannot_carry_a_header_of_their_own() {
        let injected = "Quick question about your dock schedule\r\nBcc: harvest@attacker.example";
        assert_eq!(check(Some("a@b.example"), "", Some(injected), "b"), Some(Problem::UnsafeSubject));
        for bad in ["a\rb", "a\nb", "a\0b", "a\u{85}b", "a\u{1b}b"] {
            assert_eq!(check(Some("a@b.example"), "", Some(bad), "b"), Some(Problem::UnsafeSubject), "{bad:?}");
            assert_eq!(check(Some("a@b.example"), bad, Some("s"), "b"), Some(Problem::UnsafeName), "{bad:?}");
        }
        assert_eq!(check(Some("a@b.example\r\nBcc: x@y.example"), "", Some("s"), "b"), Some(Problem::InvalidRecipient));
        assert_eq!(check(Some("a@b.example"), "Müller, Jörg", Some("Grüße\tund mehr"), "b"), None, "tabs and umlauts are fine");
    }
}
