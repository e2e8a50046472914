//! The draft → MIME builder (`outbox::mime::build`), re-parsed with mail-parser.

use outbox::draft::MAX_SUBJECT_CHARS;
use outbox::mime::{build, new_message_id, Outgoing};
use outbox::{EmailAddress, Error};

/// The headers `build` writes, each exactly once. Anything else in the header block was
/// injected by a value.
const HEADERS: &[&str] =
    &["From", "Reply-To", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding", "X-Mailer", "MIME-Version"];

/// Separates the fields of a `mime_roundtrip` input (ASCII unit separator).
pub const FIELD_SEPARATOR: char = '\u{1f}';

/// Fields, separated by U+001F: subject, body, recipient name, recipient address, sender
/// name, sender address. Missing ones take a valid default, so short inputs fuzz the subject
/// and the body. The Message-ID is made as delivery makes it, from the sender address.
pub fn mime_roundtrip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut f = text.split(FIELD_SEPARATOR);
    let mut next = |default: &'static str| f.next().map(str::to_owned).unwrap_or_else(|| default.to_owned());
    let subject = next("Angebot");
    let body = next("Hello");
    let to_name = next("Olivia Carter");
    let to_address = next("olivia.carter@brightwater.example");
    let from_name = next("Anna Berger");
    let from_address = next("anna.berger@roboplanet.example");
    // Delivery makes the Message-ID from the rep's address, which the app has trimmed and
    // validated (`app_state.rs`); `build` trims it again.
    let message_id = new_message_id(from_address.trim());
    let o = Outgoing {
        from_name: &from_name,
        from_address: &from_address,
        to_name: &to_name,
        to_address: &to_address,
        subject: &subject,
        body: &body,
        message_id: &message_id,
        date: time::macros::datetime!(2026-11-28 10:00 UTC),
    };
    check_build(&o);
}

/// Builds `o` and checks the bytes: an error only for an invalid address (and then a clear
/// one); otherwise exactly the usual headers, each once, CRLF-only lines, and From, To,
/// Reply-To, Subject, Message-ID and body parsing back to the values given.
pub(crate) fn check_build(o: &Outgoing<'_>) {
    let valid = |a: &str| !a.contains(char::is_control) && a.trim().parse::<EmailAddress>().is_ok();
    let message = match build(o) {
        Ok(m) => m,
        Err(Error::Mime(msg)) => {
            assert!(!(valid(o.from_address) && valid(o.to_address)), "valid addresses refused: {msg}");
            assert!(msg.starts_with("address "), "unclear error: {msg}");
            return;
        }
        Err(e) => panic!("unexpected error kind: {e}"),
    };
    assert!(valid(o.from_address) && valid(o.to_address), "an invalid address was accepted");
    let bytes = message.formatted();
    assert_eq!(build(o).map(|m| m.formatted()).ok().as_deref(), Some(&bytes[..]), "not deterministic");

    // The header block, as a relay reads it.
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no end of headers"));
    let head = &bytes[..end + 2];
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(head.get(i + 1), Some(&b'\n'), "bare CR in the headers at {i}"),
            b'\n' => assert_eq!(head.get(i.wrapping_sub(1)), Some(&b'\r'), "bare LF in the headers at {i}"),
            _ => {}
        }
    }
    let head = String::from_utf8_lossy(head);
    let mut names = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            assert!(!names.is_empty(), "a folded line before the first header: {line:?}");
            // (Lenient readers take a line of white space only for the end of the headers.)
            let blank = line.trim_matches([' ', '\t']).is_empty();
            assert!(!blank, "a folded line of white space only: {line:?}");
        } else {
            let name = line.split_once(':').map(|(n, _)| n).unwrap_or_else(|| panic!("not a header line: {line:?}"));
            assert!(HEADERS.contains(&name), "injected header line: {line:?}");
            assert!(!names.contains(&name), "header {name} twice");
            names.push(name);
        }
        let header = names.last().copied().unwrap_or_default();
        // RFC 5322 §2.1.1 (lettre folds only at spaces; a subject that long is refused by the
        // draft check).
        if line.len() > 998 {
            let long_subject = header == "Subject" && o.subject.chars().count() > MAX_SUBJECT_CHARS;
            assert!(long_subject, "{header} line of {} octets", line.len());
        }
        // RFC 5322 §2.2: printable ASCII and white space only (lettre writes the control
        // characters it does not encode as they are).
        if let Some(c) = line.chars().find(|&c| c.is_ascii_control() && c != '\t') {
            panic!("control character {c:?} in the {header} line {line:?}");
        }
    }
    for required in ["From", "Reply-To", "To", "Subject", "Date", "Message-ID", "Content-Type"] {
        assert!(names.contains(&required), "{required} missing");
    }

    // What a mail program reads.
    let parsed = mail_parser::MessageParser::default().parse(&bytes[..]).unwrap_or_else(|| panic!("the message does not parse"));
    let one = |a: Option<&mail_parser::Address<'_>>, what: &str| -> (Option<String>, String) {
        let list: Vec<_> = a.map(|a| a.iter().collect()).unwrap_or_default();
        assert_eq!(list.len(), 1, "{what}: {} addresses", list.len());
        (list[0].name().map(str::to_owned), list[0].address().unwrap_or_default().to_owned())
    };
    // Names as written: control characters (but TAB) made spaces, trimmed, at most 200
    // characters; none if empty.
    let name = |n: &str| {
        let n: String = n.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
        Some(n.trim().chars().take(200).collect::<String>().trim().to_owned()).filter(|n| !n.is_empty())
    };
    // (A local part may hold `=?…?=`, which mail-parser decodes as if it were an encoded
    // word; such addresses are checked for their count only.)
    let mailbox = |n: &str, a: &str| (!a.contains("=?")).then(|| (name(n), a.trim().to_owned()));
    let from = mailbox(o.from_name, o.from_address);
    let (got_from, got_reply_to) = (one(parsed.from(), "From"), one(parsed.reply_to(), "Reply-To"));
    if let Some(expected) = from {
        assert_eq!((&got_from, &got_reply_to), (&expected, &expected), "From, Reply-To");
    }
    let got_to = one(parsed.to(), "To");
    if let Some(expected) = mailbox(o.to_name, o.to_address) {
        assert_eq!(got_to, expected, "To");
    }
    // A receiver trims the subject and may merge white space next to an encoded word (the
    // bytes keep it); text that looks like an RFC 2047 encoded word is decoded by it (lettre
    // passes such ASCII through as it is), so it is compared only without one.
    // The subject as written: control characters are spaces and white space runs one space.
    let written: String = o.subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if !o.subject.contains("=?") {
        assert_eq!(spaces(parsed.subject().unwrap_or_default()), spaces(&written), "Subject");
    }
    let id = o.message_id.trim_start_matches('<').trim_end_matches('>');
    assert!(id.is_ascii(), "a Message-ID that is not ASCII: {id}");
    assert_eq!(parsed.message_id(), Some(id), "Message-ID");

    // The body: CRLF line ends only (a lone CR is made a line end), and the text as given.
    let body = &bytes[end + 4..];
    assert!(!body.iter().enumerate().any(|(i, &b)| b == b'\r' && body.get(i + 1) != Some(&b'\n')), "bare CR in the body");
    assert!(!body.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || body[i - 1] != b'\r')), "bare LF in the body");
    assert_eq!(lf_only(&parsed.body_text(0).unwrap_or_default()), o.body.replace("\r\n", "\n").replace('\r', "\n"), "body");
}

/// Line ends as LF.
fn lf_only(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// Runs of spaces and TABs as one space, trimmed.
fn spaces(s: &str) -> String {
    s.split([' ', '\t']).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}
