//! Drafts from files: a documented `.json` format (one draft, a list, or `{"drafts": [...]}`)
//! and `.eml` messages. A file that cannot be read as a whole is refused with a clear error; a
//! draft in it that cannot be sent as it is (no or invalid recipient, no subject, too large)
//! is still added, visible, with the reason. Re-importing the same file adds nothing twice.
//!
//! JSON fields: `to` (required for sending), `to_name`, `company`, `subject`, `body`, and
//! optionally `contact_id`, `person_id`, `sale_id` (SuperOffice ids the archive document is
//! linked to) and `ref` (your id for the draft; re-imports with the same `ref` are skipped).

use serde::{Deserialize, Serialize};

use crate::draft::check;
use crate::{Error, NewDraft, Result, Store};

pub const SOURCE_IMPORT: &str = "import";
/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDraft {
    to: Option<String>,
    to_name: Option<String>,
    company: Option<String>,
    subject: Option<String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    contact_id: i64,
    #[serde(default)]
    person_id: i64,
    #[serde(default)]
    sale_id: i64,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum JsonFile {
    Wrapped { drafts: Vec<JsonDraft> },
    Many(Vec<JsonDraft>),
    One(JsonDraft),
}

#[derive(Clone, Debug, Default, Serialize, specta::Type)]
pub struct ImportReport {
    pub added: u32,
    pub already_there: u32,
    pub with_problems: u32,
}

fn draft_from(
    reference: String,
    to: Option<String>,
    to_name: String,
    company: String,
    subject: Option<String>,
    body: String,
    ids: (i64, i64, i64),
) -> NewDraft {
    let to = to.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let subject = subject.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let body = body.replace("\r\n", "\n");
    let problem = check(to.as_deref(), &to_name, subject.as_deref(), &body);
    NewDraft {
        source: SOURCE_IMPORT.into(),
        source_ref: reference,
        contact_id: ids.0,
        person_id: ids.1,
        sale_id: ids.2,
        company,
        recipient_name: to_name,
        recipient_email: to,
        subject,
        body,
        problem,
    }
}

/// The reference of a draft without one: a hash of what identifies it, so a re-import of the
/// same file is recognised.
fn content_ref(parts: &[&str]) -> String {
    format!("sha256:{}", &crate::mime::sha256_hex(parts.join("\u{1f}").as_bytes())[..24])
}

/// Parses a file's drafts (by extension: `.json` or `.eml`).
pub fn parse_file(name: &str, bytes: &[u8]) -> Result<Vec<NewDraft>> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::NotSendable(format!("{name} is larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024)));
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        let file: JsonFile = serde_json::from_slice(bytes).map_err(|e| Error::NotSendable(format!("{name} is not a drafts file: {e}")))?;
        let list = match file {
            JsonFile::Wrapped { drafts } | JsonFile::Many(drafts) => drafts,
            JsonFile::One(d) => vec![d],
        };
        Ok(list
            .into_iter()
            .map(|d| {
                let reference = d
                    .reference
                    .clone()
                    .filter(|r| !r.trim().is_empty())
                    .unwrap_or_else(|| content_ref(&[d.to.as_deref().unwrap_or(""), d.subject.as_deref().unwrap_or(""), &d.body]));
                draft_from(
                    reference,
                    d.to,
                    d.to_name.unwrap_or_default(),
                    d.company.unwrap_or_default(),
                    d.subject,
                    d.body,
                    (d.contact_id, d.person_id, d.sale_id),
                )
            })
            .collect())
    } else if lower.ends_with(".eml") {
        let msg = mail_parser::MessageParser::default()
            .parse(bytes)
            .filter(|m| m.headers().iter().any(|h| !h.name().is_empty()))
            .ok_or_else(|| Error::NotSendable(format!("{name} is not an email message")))?;
        let first_to = msg.to().and_then(|a| a.first());
        let to = first_to.and_then(|a| a.address()).map(str::to_owned);
        let to_name = first_to.and_then(|a| a.name()).unwrap_or_default().to_owned();
        let subject = msg.subject().map(str::to_owned);
        let body = msg.body_text(0).map(|b| b.into_owned()).unwrap_or_default();
        let reference = msg
            .message_id()
            .map(|m| format!("eml:<{m}>"))
            .unwrap_or_else(|| content_ref(&[to.as_deref().unwrap_or(""), subject.as_deref().unwrap_or(""), &body]));
        Ok(vec![draft_from(reference, to, to_name, String::new(), subject, body, (0, 0, 0))])
    } else {
        Err(Error::NotSendable(format!("{name}: only .json and .eml files can be imported")))
    }
}

/// Imports a file into the outbox.
/// A file as the UI sends it: its exact bytes, base64-encoded (an 8-bit `.eml` is not text in
/// any one charset); refused by size before it is decoded.
pub fn import_base64(store: &Store, name: &str, content_base64: &str) -> Result<ImportReport> {
    use base64::Engine as _;
    if content_base64.len() > MAX_FILE_BYTES / 3 * 4 + 8 {
        return Err(Error::NotSendable(format!("{name} is larger than {} MiB", MAX_FILE_BYTES >> 20)));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content_base64.trim().as_bytes())
        .map_err(|e| Error::NotSendable(format!("{name} did not arrive whole: {e}")))?;
    import_file(store, name, &bytes)
}

/// Parses a file and adds its drafts in one transaction: all of the file or none of it.
pub fn import_file(store: &Store, name: &str, bytes: &[u8]) -> Result<ImportReport> {
    let drafts = parse_file(name, bytes)?;
    let mut report = ImportReport::default();
    for (d, added) in drafts.iter().zip(store.insert_drafts(&drafts)?) {
        if added {
            report.added += 1;
            report.with_problems += u32::from(d.problem.is_some());
        } else {
            report.already_there += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::Problem;

    #[test]
    fn a_file_arrives_as_its_exact_bytes() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&dir.path().join("o.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        // An 8-bit ISO-8859-1 body: not UTF-8, so reading it as text would have mangled it.
        let eml = b"From: x@y.example\r\nTo: Jonas <j@m.example>\r\nSubject: Angebot\r\nMessage-ID: <e1@y.example>\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe\r\n";
        let r = import_base64(&store, "a.eml", &base64::engine::general_purpose::STANDARD.encode(eml)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.added, 1);
        assert_eq!(store.list().unwrap_or_default()[0].body.trim(), "Grüße");
        let huge = "A".repeat(MAX_FILE_BYTES / 3 * 4 + 100);
        assert!(import_base64(&store, "huge.json", &huge).is_err_and(|e| e.to_string().contains("larger than")), "refused before decoding");
        assert!(import_base64(&store, "bad.json", "not base64!").is_err());
    }

    #[test]
    fn json_one_many_or_wrapped() {
        let one = parse_file("a.json", br#"{"to": "a@b.example", "subject": "Hi", "body": "Text", "ref": "r1"}"#).unwrap_or_default();
        assert_eq!((one.len(), one[0].source_ref.as_str(), one[0].problem), (1, "r1", None));
        let many = parse_file("a.json", br#"[{"to": "a@b.example", "subject": "Hi", "body": "x"}, {"subject": "No one", "body": "y"}]"#)
            .unwrap_or_default();
        assert_eq!(many[1].problem, Some(Problem::NeedsRecipient), "kept, with the reason");
        let wrapped = parse_file("a.JSON", br#"{"drafts": [{"to": "not-an-address", "subject": "s", "body": "b"}]}"#).unwrap_or_default();
        assert_eq!(wrapped[0].problem, Some(Problem::InvalidRecipient));
        assert!(parse_file("a.json", br#"{"to": "a@b.example", "subjet": "typo"}"#).is_err(), "unknown fields are an error, not ignored");
        assert!(parse_file("a.json", b"not json").is_err());
        assert!(parse_file("a.txt", b"x").is_err());
    }

    #[test]
    fn eml_and_limits() {
        let eml = b"From: Anna <anna@roboplanet.example>\r\nTo: Jonas Weber <jonas@mueller.example>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <abc@x>\r\n\r\nHallo\r\n";
        let d = parse_file("m.eml", eml).unwrap_or_default();
        assert_eq!(
            (d[0].recipient_email.as_deref(), d[0].subject.as_deref(), d[0].source_ref.as_str()),
            (Some("jonas@mueller.example"), Some("Grüße"), "eml:<abc@x>")
        );
        assert_eq!(d[0].recipient_name, "Jonas Weber");
        let big = format!(r#"{{"to": "a@b.example", "subject": "s", "body": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
        assert_eq!(parse_file("big.json", big.as_bytes()).unwrap_or_default()[0].problem, Some(Problem::BodyTooLarge), "kept, flagged");
        assert!(parse_file("huge.json", &vec![b' '; MAX_FILE_BYTES + 1]).is_err());
    }

    #[test]
    fn reimport_adds_nothing_twice() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Mime(e.to_string()))?;
        let store = Store::open(&dir.path().join("o.sqlite"))?;
        let file =
            br#"[{"to": "a@b.example", "subject": "Hi", "body": "x"}, {"to": "c@d.example", "subject": "Ho", "body": "y", "ref": "k"}]"#;
        let first = import_file(&store, "d.json", file)?;
        let again = import_file(&store, "d.json", file)?;
        assert_eq!((first.added, again.added, again.already_there), (2, 0, 2));
        Ok(())
    }

    /// A file whose second draft cannot be stored (the database refuses it) adds none of its
    /// drafts: one file, one transaction.
    #[test]
    fn a_file_is_imported_whole_or_not_at_all() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Mime(e.to_string()))?;
        let store = Store::open(&dir.path().join("o.sqlite"))?;
        store.conn().execute_batch(
            "CREATE TEMP TRIGGER refuse_k BEFORE INSERT ON drafts WHEN NEW.source_ref LIKE '%k' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;",
        )?;
        let file =
            br#"[{"to": "a@b.example", "subject": "Hi", "body": "x"}, {"to": "c@d.example", "subject": "Ho", "body": "y", "ref": "k"}]"#;
        assert!(import_file(&store, "d.json", file).is_err());
        assert!(store.list()?.is_empty(), "not even the first draft of the file");
        Ok(())
    }
}
