//! Builds the email from an approved draft, deterministically: the same draft, Message-ID and
//! date always give the same bytes, so a retry after a restart sends exactly what the rep
//! approved, and the hash taken at approval can be checked before every attempt.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use sha2::Digest;

use crate::{Error, Result};

/// What goes into the message. Every value here comes from SuperOffice or the rep, never
/// from free text that could add headers: lettre encodes CR/LF in header values.
pub struct Outgoing<'a> {
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub to_name: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// `<random@rep-domain>`, fixed at approval.
    pub message_id: &'a str,
    /// RFC 2822 date, fixed at approval.
    pub date: time::OffsetDateTime,
}

/// A fresh random Message-ID on the rep's domain (an internationalised domain in its ASCII
/// form, so the header carries exactly the id the outbox stores and archives by).
pub fn new_message_id(from_address: &str) -> String {
    let domain = from_address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .and_then(|d| idna::domain_to_ascii(d).ok())
        .filter(|d| !d.is_empty() && d.is_ascii() && !d.contains(|c: char| c.is_whitespace() || "<>@\"".contains(c)))
        .unwrap_or_else(|| "so-outbox.invalid".to_owned());
    format!("<{}@{}>", uuid::Uuid::new_v4().simple(), domain)
}

/// The longest display name written (longer ones are cut): lettre folds only at spaces, and a
/// header line must stay under 998 octets (RFC 5322 §2.1.1).
pub const MAX_NAME_CHARS: usize = 200;

/// The subject as written: control characters (TAB too) become spaces and runs of white space
/// one space, trimmed — no control character in the header, no folded line of white space
/// only, and no double space between encoded words (where receivers drop it, RFC 2047 §6.2).
pub fn clean_subject(subject: &str) -> String {
    subject.split(|c: char| c.is_control() || c == ' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The longest body line, in octets, handed to a channel that does not encode the body
/// itself (SuperOffice's email agent builds its own message, and a mail server refuses a line
/// over 998 octets, RFC 5321 §4.5.3.1.6). Kept under that with room for the CRLF.
pub const MAX_LINE_OCTETS: usize = 900;

/// The body with every line over [`MAX_LINE_OCTETS`] broken in pieces: at the last space
/// before the limit where there is one (the space becomes the line end), else between two
/// characters. Lines within the limit are left as they are, so most drafts pass unchanged.
/// The SMTP channel does not need this (its quoted-printable encoding keeps long lines whole).
pub fn wrap_long_lines(body: &str) -> String {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(body.len() + body.len() / MAX_LINE_OCTETS);
    for (i, line) in body.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut rest = line;
        while rest.len() > MAX_LINE_OCTETS {
            let mut cut = MAX_LINE_OCTETS;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            match rest[..cut].rfind(' ').filter(|&sp| sp > 0) {
                Some(sp) => {
                    out.push_str(&rest[..sp]);
                    rest = &rest[sp + 1..];
                }
                None => {
                    out.push_str(&rest[..cut]);
                    rest = &rest[cut..];
                }
            }
            out.push('\n');
        }
        out.push_str(rest);
    }
    out
}

pub fn build(o: &Outgoing<'_>) -> Result<Message> {
    let addr = |a: &str| {
        if a.contains(|c: char| c.is_control()) {
            return Err(Error::Mime(format!("address {a:?} contains a control character")));
        }
        a.trim().parse::<lettre::Address>().map_err(|e| Error::Mime(format!("address '{a}': {e}")))
    };
    // Display names come from SuperOffice cards and imported files: control characters
    // (CR, LF, NUL…) become spaces, so a name can never start a header line.
    let name = |n: &str| {
        let n: String = n.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
        Some(n.trim().chars().take(MAX_NAME_CHARS).collect::<String>().trim().to_owned()).filter(|n| !n.is_empty())
    };
    let from = Mailbox::new(name(o.from_name), addr(o.from_address)?);
    let to = Mailbox::new(name(o.to_name), addr(o.to_address)?);
    let date = std::time::SystemTime::from(o.date);
    let mut builder = Message::builder()
        .from(from.clone())
        .reply_to(from)
        .to(to)
        .subject(clean_subject(o.subject))
        .date(date)
        .message_id(Some(o.message_id.to_owned()))
        .header(ContentType::TEXT_PLAIN);
    builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Mailer"), "SuperOffice Outbox".into()));
    // Line ends become CRLF on the wire; a lone CR is made a line end first, so no bare CR
    // (an SMTP-smuggling ingredient) ever leaves.
    builder.body(o.body.replace("\r\n", "\n").replace('\r', "\n")).map_err(|e| Error::Mime(e.to_string()))
}

/// The message as the relay stores it: lettre sends the formatted bytes followed by
/// `<CRLF>.<CRLF>`, and the first CRLF ends the last line (RFC 5321 §4.1.1.4), so the received
/// message is the formatted bytes plus one CRLF. This is what gets archived.
pub fn as_received(formatted: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(formatted.len() + 2);
    v.extend_from_slice(formatted);
    v.extend_from_slice(b"\r\n");
    v
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_wrapped_for_channels_that_do_not_encode() {
        let words = "Wort ".repeat(240); // 1,200 octets on one line
        let wrapped = wrap_long_lines(&format!("Hallo,\n{words}\nGrüße"));
        assert!(wrapped.lines().all(|l| l.len() <= MAX_LINE_OCTETS), "{:?}", wrapped.lines().map(str::len).collect::<Vec<_>>());
        assert_eq!(wrapped.split_whitespace().collect::<Vec<_>>(), format!("Hallo, {words} Grüße").split_whitespace().collect::<Vec<_>>());
        let url = format!("https://x.example/{}", "ä".repeat(700)); // no space, 2-octet characters
        let cut = wrap_long_lines(&url);
        assert!(cut.lines().all(|l| l.len() <= MAX_LINE_OCTETS) && cut.replace('\n', "") == url);
        assert_eq!(wrap_long_lines("short\r\nlines"), "short\nlines", "within the limit nothing changes");
    }

    fn outgoing<'a>(subject: &'a str, body: &'a str) -> Outgoing<'a> {
        Outgoing {
            from_name: "Anna Berger",
            from_address: "anna.berger@roboplanet.example",
            to_name: "Olivia Carter",
            to_address: "olivia.carter@brightwater.example",
            subject,
            body,
            message_id: "<abc@roboplanet.example>",
            date: time::macros::datetime!(2026-11-28 10:00 UTC),
        }
    }

    #[test]
    fn same_input_same_bytes() {
        let a = build(&outgoing("Hallo Müller", "Grüße\n.\nEnde")).map(|m| m.formatted());
        let b = build(&outgoing("Hallo Müller", "Grüße\n.\nEnde")).map(|m| m.formatted());
        assert!(a.is_ok());
        assert_eq!(a.ok(), b.ok());
    }

    #[test]
    fn crlf_in_subject_does_not_add_a_header() {
        let m = build(&outgoing("Hi\r\nBcc: attacker@evil.example", "body")).map(|m| m.formatted()).unwrap_or_default();
        let text = String::from_utf8_lossy(&m);
        assert!(!text.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "header injected:\n{text}");
        assert!(text.contains("Message-ID: <abc@roboplanet.example>"));
    }

    #[test]
    fn message_ids_are_random_on_the_rep_domain() {
        let a = new_message_id("anna@roboplanet.example");
        let b = new_message_id("anna@roboplanet.example");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@roboplanet.example>"));
    }
}
