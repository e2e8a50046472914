//! Hostile input in headers, addresses and bodies (issue 7; promise P7 of
//! reliability-security.md §0: no string a user or the AI controls can add a header, a
//! recipient or an SMTP command).
//!
//! Every value is either refused with a clear error — and the draft stays in the outbox,
//! unchanged — or encoded so that the bytes that reach the relay parse back to exactly one
//! sender, one recipient and the usual headers. The relay is `tests/smtp/scripted_smtp.py`,
//! which logs the envelope, the MAIL parameters and any line not ended by CRLF.
//!
//! The shared rig and what a safe message looks like are here; the cases are in
//! `tests/header_safety/`: the approval (`approval.rs`), subjects and headers through the
//! pipeline (`headers.rs`), recipient addresses (`addresses.rs`) and bodies (`bodies.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

#[path = "header_safety/addresses.rs"]
mod addresses;
#[path = "header_safety/approval.rs"]
mod approval;
#[path = "header_safety/bodies.rs"]
mod bodies;
mod common;
#[path = "header_safety/headers.rs"]
mod headers;

use std::sync::Arc;
use std::time::Duration;

use common::{SMTP_PASSWORD, SMTP_USER};
use keychain::Secret;
use outbox::{Delivery, Rep, SmtpSecurity, SmtpSettings, Store};
use serde_json::{json, Value};
use testkit::shared_simulator;
use testkit::smtp::Scripted;

const RECIPIENT: &str = "olivia.carter@brightwater.example";

const EVIL: &str = "evil@attacker.example";

/// Values that try to end a header line and start another.
const HOSTILE: &[(&str, &str)] = &[
    ("CRLF", "Hello\r\nBcc: evil@attacker.example"),
    ("LF", "Hello\nBcc: evil@attacker.example"),
    ("CR", "Hello\rBcc: evil@attacker.example"),
    ("NUL", "Hello\0Bcc: evil@attacker.example"),
    ("CRLF CRLF (end of headers)", "Hello\r\n\r\nA body of the attacker's"),
    ("CRLF + folding", "Hello\r\n Bcc: evil@attacker.example"),
    ("encoded word", "=?utf-8?q?Hello=0D=0ABcc=3A_evil=40attacker=2Eexample?="),
    ("non-ASCII + CRLF", "Grüße\r\nTo: evil@attacker.example"),
];

// ---------------------------------------------------------------------------------------------
// The relay and the pipeline.
// ---------------------------------------------------------------------------------------------

/// `tests/smtp/scripted_smtp.py` without faults, offering SMTPUTF8 or not.
fn start_relay(smtputf8: bool) -> Scripted {
    Scripted::start(&json!({ "user": SMTP_USER, "password": SMTP_PASSWORD, "smtputf8": smtputf8 }))
}

struct Rig {
    delivery: Delivery,
    client: superoffice::Client,
    rep: Rep,
    _dir: tempfile::TempDir,
}

async fn rig(relay: &Scripted) -> Rig {
    let client = common::sign_in(shared_simulator()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).expect("store"));
    let me = client.current_principal().await.expect("principal");
    let smtp = SmtpSettings::new("localhost", relay.port, SmtpSecurity::StartTls, SMTP_USER, Secret::new(SMTP_PASSWORD))
        .with_ca(Some(relay.pki.ca_pem.clone()))
        .with_data_timeout(Duration::from_secs(10));
    let rep = Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address };
    let delivery = Delivery::new(store, client.clone(), smtp, rep.clone());
    Rig { delivery, client, rep, _dir: dir }
}

impl Rig {
    fn store(&self) -> &Store {
        &self.delivery.store
    }

    /// Imports one draft from a `.json` file (the documented import format); its id.
    fn import(&self, draft: Value) -> i64 {
        let before: Vec<i64> = self.store().list().expect("list").iter().map(|d| d.id).collect();
        let report = outbox::import_file(self.store(), "drafts.json", draft.to_string().as_bytes()).expect("import");
        assert_eq!(report.added, 1, "{draft}");
        self.store().list().expect("list").into_iter().map(|d| d.id).find(|id| !before.contains(id)).expect("the new draft")
    }

    /// The pipeline for the same store and relay, with the rep named `name` (in SuperOffice).
    fn delivery_as(&self, name: &str) -> Delivery {
        let rep = Rep { name: name.to_owned(), ..self.rep.clone() };
        Delivery::new(self.delivery.store.clone(), self.client.clone(), self.delivery.smtp.clone(), rep)
    }

    fn row(&self, id: i64) -> outbox::DraftRow {
        self.store().get(id).expect("row")
    }

    /// The exact bytes recorded at approval.
    fn approved_mime(&self, id: i64) -> Vec<u8> {
        self.store().approved(id).expect("approved").mime
    }
}

// ---------------------------------------------------------------------------------------------
// What a safe message looks like.
// ---------------------------------------------------------------------------------------------

const HEADERS: &[&str] =
    &["from", "reply-to", "to", "subject", "date", "message-id", "content-type", "content-transfer-encoding", "x-mailer", "mime-version"];

/// Every line ends in CRLF, no NUL and no line over 998 octets (RFC 5322 §2.1.1) in the header
/// block, every header one of ours and only once, exactly one `To` address and no Cc/Bcc.
/// Returns the parsed message's (subject, To name, To address).
fn assert_safe_message(bytes: &[u8], to: &str, what: &str) -> (Option<String>, Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(bytes);
    let ctx = format!("{what}:\n{}", text.chars().take(3000).collect::<String>());
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n'), "{ctx}\na bare CR at {i}"),
            b'\n' => assert!(i > 0 && bytes[i - 1] == b'\r', "{ctx}\na bare LF at {i}"),
            _ => {}
        }
    }
    let end = text.find("\r\n\r\n").unwrap_or_else(|| panic!("{ctx}\nno end of headers"));
    let mut names = vec![];
    for line in text[..end].split("\r\n") {
        assert!(!line.contains('\0'), "{ctx}\na NUL in a header line");
        assert!(line.len() <= 998, "{ctx}\na header line of {} octets", line.len());
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let (name, _) = line.split_once(':').unwrap_or_else(|| panic!("{ctx}\nnot a header line: {line:?}"));
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{ctx}\nheader name {name:?}");
        names.push(name.to_ascii_lowercase());
    }
    for n in &names {
        assert!(HEADERS.contains(&n.as_str()), "{ctx}\nan unexpected header {n:?}");
        assert_eq!(names.iter().filter(|m| *m == n).count(), 1, "{ctx}\n{n} twice");
    }
    let parsed = mail_parser::MessageParser::default().parse(bytes).unwrap_or_else(|| panic!("{ctx}\ndoes not parse"));
    let tos: Vec<_> = parsed.to().map(|a| a.iter().collect()).unwrap_or_default();
    assert_eq!(tos.len(), 1, "{ctx}\nrecipients {tos:?}");
    assert_eq!(tos[0].address(), Some(to), "{ctx}");
    assert!(parsed.cc().is_none() && parsed.bcc().is_none(), "{ctx}\nCc or Bcc");
    let froms: Vec<_> = parsed.from().map(|a| a.iter().collect()).unwrap_or_default();
    assert_eq!(froms.len(), 1, "{ctx}\nsenders {froms:?}");
    (parsed.subject().map(str::to_owned), tos[0].name().map(str::to_owned), tos[0].address().map(str::to_owned))
}

/// `got == want`, reported as the first difference (the texts are long).
fn assert_same_text(got: &str, want: &str, what: &str) {
    if got != want {
        let at = got.bytes().zip(want.bytes()).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        let around = |t: &str| t.get(at.saturating_sub(40)..(at + 40).min(t.len())).map(str::to_owned).unwrap_or_default();
        panic!(
            "{what} changed: {} vs {} bytes, first difference at {at}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            around(got),
            around(want)
        );
    }
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}
