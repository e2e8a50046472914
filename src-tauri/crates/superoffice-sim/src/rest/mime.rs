//! The message the SuperOffice EMail agent builds from an EMailEntity and hands to the rep's
//! outgoing mail server, so the simulator's mailbox holds what the server would have received
//! and tests can compare it with what was archived.
//!
//! SuperOffice's mail component is MailKit/MimeKit ("MailKit has been the default sender and
//! reader since version 8.1", `docs/api/config/mail.md`); how the agent maps the entity to MIME
//! is not documented. This is a plain RFC 5322 / RFC 2045 message: `From` = the account's
//! address, `To`/`Cc` (never `Bcc`), `Subject` (RFC 2047 encoded-words when not ASCII),
//! `Date`, `Message-ID` (the request's `MessageID` when set, else the agent's own),
//! `MIME-Version`, and a `text/plain; charset=utf-8` body — or `multipart/alternative` with a
//! `text/html` part when `HTMLBody` is not empty — each part quoted-printable when it is not
//! 7-bit or has a line longer than 76 octets, else 7bit. Lines end in CRLF.

use base64::Engine as _;

/// `(display name, address)`.
pub type Mailbox<'a> = (&'a str, &'a str);

pub struct Message<'a> {
    pub from: Mailbox<'a>,
    pub to: Vec<Mailbox<'a>>,
    pub cc: Vec<Mailbox<'a>>,
    pub subject: &'a str,
    pub plain: &'a str,
    pub html: &'a str,
    /// With its angle brackets.
    pub message_id: &'a str,
    /// RFC 5322 date-time.
    pub date: &'a str,
}

pub fn build(m: &Message<'_>) -> Vec<u8> {
    let mut out = String::new();
    let list = |v: &[Mailbox<'_>]| v.iter().map(|(n, a)| mailbox(n, a)).collect::<Vec<_>>().join(",\r\n ");
    out.push_str(&format!("From: {}\r\n", mailbox(m.from.0, m.from.1)));
    out.push_str(&format!("Date: {}\r\n", m.date));
    out.push_str(&format!("Subject: {}\r\n", header_text(m.subject)));
    out.push_str(&format!("Message-ID: {}\r\n", m.message_id));
    if !m.to.is_empty() {
        out.push_str(&format!("To: {}\r\n", list(&m.to)));
    }
    if !m.cc.is_empty() {
        out.push_str(&format!("Cc: {}\r\n", list(&m.cc)));
    }
    out.push_str("MIME-Version: 1.0\r\n");
    if m.html.is_empty() {
        out.push_str(&part("text/plain", m.plain));
    } else {
        let boundary = format!("=-sim-{:016x}", rand::random::<u64>());
        out.push_str(&format!("Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"));
        for (ty, text) in [("text/plain", m.plain), ("text/html", m.html)] {
            out.push_str(&format!("--{boundary}\r\n"));
            out.push_str(&part(ty, text));
            out.push_str("\r\n");
        }
        out.push_str(&format!("--{boundary}--\r\n"));
    }
    out.into_bytes()
}

/// Headers and body of one text part.
fn part(ty: &str, text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let plain7 = text.is_ascii() && lines.iter().all(|l| l.len() <= 76 && !l.ends_with([' ', '\t']));
    let (cte, body) = if plain7 {
        ("7bit", lines.join("\r\n"))
    } else {
        ("quoted-printable", lines.iter().map(|l| quoted_printable(l)).collect::<Vec<_>>().join("\r\n"))
    };
    format!("Content-Type: {ty}; charset=utf-8\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{body}\r\n")
}

/// One line, quoted-printable (RFC 2045 §6.7), soft breaks keeping lines ≤ 76 octets.
pub fn quoted_printable(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut width = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        let literal = ((b == b' ' || b == b'\t') && !last) || ((33..=126).contains(&b) && b != b'=');
        let piece = if literal { (b as char).to_string() } else { format!("={b:02X}") };
        if width + piece.len() > 75 {
            out.push_str("=\r\n");
            width = 0;
        }
        width += piece.len();
        out.push_str(&piece);
    }
    out
}

/// `Name <address>`, the name quoted or encoded as needed.
fn mailbox(name: &str, address: &str) -> String {
    if name.is_empty() {
        return address.to_owned();
    }
    let phrase = if !name.is_ascii() {
        encoded_words(name)
    } else if name.chars().all(|c| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c)) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    };
    format!("{phrase} <{address}>")
}

/// Unstructured header text: as is when ASCII (folded at spaces past 76 columns), else RFC 2047
/// encoded-words.
pub fn header_text(text: &str) -> String {
    if !text.is_ascii() || text.contains("=?") {
        return encoded_words(text);
    }
    let mut out = String::new();
    let mut width = "Subject: ".len();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            if width + 1 + word.len() > 76 {
                out.push_str("\r\n");
                width = 0;
            }
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += word.len();
    }
    out
}

/// `=?utf-8?B?…?=` words of at most 75 characters, whole characters per word, folded.
pub fn encoded_words(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?utf-8?B?{}?=", b64.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(format!("=?utf-8?B?{}?=", b64.encode(&chunk)));
    }
    words.join("\r\n ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_message() {
        let m = Message {
            from: ("Anna Berger", "anna@x.example"),
            to: vec![("Jonas Weber", "jonas@y.example")],
            cc: vec![],
            subject: "Grüße aus Stuttgart",
            plain: "Hallo,\nviele Grüße",
            html: "",
            message_id: "<1@x>",
            date: "Thu, 03 Dec 2026 09:00:00 +0000",
        };
        let text = String::from_utf8(build(&m)).expect("utf8");
        assert!(text.contains("Subject: =?utf-8?B?R3LDvMOfZSBhdXMgU3R1dHRnYXJ0?=\r\n"), "{text}");
        assert!(text.contains("To: Jonas Weber <jonas@y.example>\r\n"));
        assert!(text.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\nHallo,\r\nviele Gr=C3=BC=C3=9Fe\r\n"), "{text}");
        assert!(text.lines().all(|l| l.len() <= 998));
    }

    #[test]
    fn long_lines_are_soft_broken() {
        let line = "x".repeat(200);
        let qp = quoted_printable(&line);
        assert!(qp.split("\r\n").all(|l| l.len() <= 76));
        assert_eq!(qp.replace("=\r\n", ""), line);
        assert_eq!(quoted_printable("a = b "), "a =3D b=20");
        assert!(encoded_words(&"ä".repeat(60)).split("\r\n ").all(|w| w.len() <= 75));
    }
}
