//! Just enough RFC 5322 for a mailbox: read a header (unfolded), the recipients of To/Cc/Bcc,
//! replace or add a header while leaving every other byte alone, and write a simple message
//! for a Graph JSON send. Bodies are never parsed or re-encoded.

/// The header block: everything before the first empty line.
fn head_len(raw: &[u8]) -> usize {
    let mut i = 0;
    while i < raw.len() {
        let end = raw[i..].iter().position(|b| *b == b'\n').map(|p| i + p + 1).unwrap_or(raw.len());
        let line = &raw[i..end];
        if line == b"\r\n" || line == b"\n" {
            return i;
        }
        i = end;
    }
    raw.len()
}

/// `\r\n` when the message uses it, else `\n` ([SM] MIME example uses bare LF).
pub fn line_ending(raw: &[u8]) -> &'static str {
    if raw.windows(2).any(|w| w == b"\r\n") || !raw.contains(&b'\n') {
        "\r\n"
    } else {
        "\n"
    }
}

/// The header lines as (name, unfolded value, byte range of the whole field).
fn fields(raw: &[u8]) -> Vec<(String, String, std::ops::Range<usize>)> {
    let head = &raw[..head_len(raw)];
    let mut out: Vec<(String, String, std::ops::Range<usize>)> = Vec::new();
    let mut i = 0;
    while i < head.len() {
        let end = head[i..].iter().position(|b| *b == b'\n').map(|p| i + p + 1).unwrap_or(head.len());
        let line = String::from_utf8_lossy(&head[i..end]);
        let text = line.trim_end_matches(['\r', '\n']);
        if text.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(text.trim());
                last.2.end = end;
            }
        } else if let Some((name, value)) = text.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned(), i..end));
        }
        i = end;
    }
    out
}

/// Every header field as (name, unfolded value), in order.
pub fn all_headers(raw: &[u8]) -> Vec<(String, String)> {
    fields(raw).into_iter().map(|(n, v, _)| (n, v)).collect()
}

/// The bytes after the header block and its empty line.
pub fn body(raw: &[u8]) -> &[u8] {
    let h = head_len(raw);
    let rest = &raw[h..];
    rest.strip_prefix(b"\r\n").or_else(|| rest.strip_prefix(b"\n")).unwrap_or(rest)
}

/// The first value of header `name` (case-insensitive), unfolded.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    fields(raw).into_iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(_, v, _)| v)
}

/// The addresses of an address-list header value: `"Name, Jr" <a@b>, c@d` → `[a@b, c@d]`.
pub fn addresses(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut cur, mut quoted, mut angle) = (String::new(), false, false);
    for ch in value.chars() {
        match ch {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    parts.push(cur);
    parts
        .iter()
        .filter_map(|p| {
            let p = p.trim();
            let addr = match (p.rfind('<'), p.rfind('>')) {
                (Some(a), Some(b)) if b > a => &p[a + 1..b],
                _ => p,
            };
            let addr = addr.trim();
            addr.contains('@').then(|| addr.to_owned())
        })
        .collect()
}

/// Every address in To, Cc and Bcc.
pub fn recipients(raw: &[u8]) -> Vec<String> {
    fields(raw)
        .into_iter()
        .filter(|(n, _, _)| ["to", "cc", "bcc"].iter().any(|h| n.eq_ignore_ascii_case(h)))
        .flat_map(|(_, v, _)| addresses(&v))
        .collect()
}

/// Replaces every `name` field with one `name: value`, or adds it at the top.
pub fn set_header(raw: &[u8], name: &str, value: &str) -> Vec<u8> {
    let eol = line_ending(raw);
    let line = format!("{name}: {value}{eol}");
    let found: Vec<std::ops::Range<usize>> =
        fields(raw).into_iter().filter(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(_, _, r)| r).collect();
    if found.is_empty() {
        return prepend_header(raw, name, value);
    }
    let mut out = Vec::with_capacity(raw.len() + line.len());
    let mut pos = 0;
    for (i, r) in found.iter().enumerate() {
        out.extend_from_slice(&raw[pos..r.start]);
        if i == 0 {
            out.extend_from_slice(line.as_bytes());
        }
        pos = r.end;
    }
    out.extend_from_slice(&raw[pos..]);
    out
}

/// Adds `name: value` as the first header field.
pub fn prepend_header(raw: &[u8], name: &str, value: &str) -> Vec<u8> {
    let mut out = format!("{name}: {value}{}", line_ending(raw)).into_bytes();
    out.extend_from_slice(raw);
    out
}

/// RFC 5322 §3.6.4 `msg-id`: `<id-left@id-right>` (a practical check: one `@`, both sides
/// non-empty, no spaces).
pub fn valid_message_id(v: &str) -> bool {
    let Some(inner) = v.trim().strip_prefix('<').and_then(|s| s.strip_suffix('>')) else { return false };
    match inner.split_once('@') {
        Some((l, r)) => !l.is_empty() && !r.is_empty() && !r.contains('@') && !inner.contains([' ', '<', '>', '\t']),
        None => false,
    }
}

/// RFC 5322 §3.3 date-time, e.g. `Fri, 01 May 2026 10:00:00 +0000`.
pub fn date(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// RFC 2047 `=?utf-8?B?…?=` for a non-ASCII header text.
fn encoded_word(text: &str) -> String {
    use base64::Engine as _;
    if text.is_ascii() {
        text.to_owned()
    } else {
        format!("=?utf-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
    }
}

/// A message as Exchange would render a Graph JSON message to MIME (a simple single-part one).
pub struct Outgoing<'a> {
    pub from: &'a str,
    pub to: &'a [String],
    pub cc: &'a [String],
    pub bcc: &'a [String],
    pub subject: &'a str,
    pub html: bool,
    pub body: &'a str,
    pub message_id: &'a str,
    pub extra: &'a [(String, String)],
}

pub fn build(m: &Outgoing<'_>) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!("From: {}\r\n", m.from));
    for (name, list) in [("To", m.to), ("Cc", m.cc), ("Bcc", m.bcc)] {
        if !list.is_empty() {
            s.push_str(&format!("{name}: {}\r\n", list.join(", ")));
        }
    }
    s.push_str(&format!("Subject: {}\r\n", encoded_word(m.subject)));
    s.push_str(&format!("Date: {}\r\n", date(time::OffsetDateTime::now_utc())));
    s.push_str(&format!("Message-ID: {}\r\n", m.message_id));
    for (k, v) in m.extra {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("MIME-Version: 1.0\r\n");
    s.push_str(&format!("Content-Type: text/{}; charset=\"utf-8\"\r\n", if m.html { "html" } else { "plain" }));
    s.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
    s.push_str(&m.body.replace("\r\n", "\n").replace('\n', "\r\n"));
    if !s.ends_with("\r\n") {
        s.push_str("\r\n");
    }
    s.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@example.com\r\nTo: \"Doe, J\" <j@example.com>,\r\n k@example.com\r\nMessage-ID: <1@x>\r\nSubject: hi\r\n\r\nTo: not@header.example\r\n";

    #[test]
    fn headers_are_unfolded_and_the_body_is_left_alone() {
        assert_eq!(recipients(MSG), ["j@example.com", "k@example.com"]);
        assert_eq!(header(MSG, "message-id").as_deref(), Some("<1@x>"));
        let replaced = set_header(MSG, "Message-ID", "<2@y>");
        assert_eq!(String::from_utf8(replaced).unwrap(), String::from_utf8(MSG.to_vec()).unwrap().replace("<1@x>", "<2@y>"));
        let lf = b"To: a@b\nSubject: s\n\nbody\n";
        assert_eq!(set_header(lf, "Message-ID", "<3@z>"), b"Message-ID: <3@z>\nTo: a@b\nSubject: s\n\nbody\n");
        assert!(valid_message_id("<a.b@c>") && !valid_message_id("a@b") && !valid_message_id("<ab>"));
    }
}
