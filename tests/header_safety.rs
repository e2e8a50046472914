//! Hostile input in headers, addresses and bodies (issue 7; promise P7 of
//! reliability-security.md §0: no string a user or the AI controls can add a header, a
//! recipient or an SMTP command).
//!
//! Every value is either refused with a clear error — and the draft stays in the outbox,
//! unchanged — or encoded so that the bytes that reach the relay parse back to exactly one
//! sender, one recipient and the usual headers. The relay is `tests/smtp/scripted_smtp.py`,
//! which logs the envelope, the MAIL parameters and any line not ended by CRLF.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::{SMTP_PASSWORD, SMTP_USER};
use keychain::Secret;
use outbox::draft::Problem;
use outbox::mime;
use outbox::{Delivery, Edit, NewDraft, Rep, SmtpSecurity, SmtpSettings, State, Store};
use serde_json::{json, Value};
use superoffice_sim::TestPki;

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

/// `tests/smtp/scripted_smtp.py` without faults, killed on drop.
struct Relay {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    pki: TestPki,
}

impl Relay {
    fn start(smtputf8: bool) -> Relay {
        let pki = TestPki::generate().expect("pki");
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = (dir.path().join("leaf.pem"), dir.path().join("leaf.key"));
        std::fs::write(&cert, &pki.leaf_pem).expect("cert");
        std::fs::write(&key, &pki.leaf_key_pem).expect("key");
        let script = json!({ "user": SMTP_USER, "password": SMTP_PASSWORD, "smtputf8": smtputf8 });
        let python = common::smtp_python();
        let mut child = Command::new(&python)
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/scripted_smtp.py"))
            .arg("--log")
            .arg(dir.path().join("log.jsonl"))
            .arg("--out")
            .arg(dir.path().join("mail"))
            .args(["--cert".as_ref(), cert.as_os_str(), "--key".as_ref(), key.as_os_str()])
            .args(["--script", &script.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (run the test script, which creates the venv): {e}", python.display()));
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("READY line");
        let port =
            line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("scripted server said {line:?}"));
        Relay { child, port, dir, pki }
    }

    fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("log.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("log line")).collect()
    }

    /// Accepted messages: the log entry and the exact bytes.
    fn accepted(&self) -> Vec<(Value, Vec<u8>)> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == "message" && e["status"] == "accepted")
            .map(|e| {
                let bytes = std::fs::read(self.dir.path().join("mail").join(e["file"].as_str().expect("file"))).expect("eml");
                (e, bytes)
            })
            .collect()
    }

    fn commands(&self, verb: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["event"] == "command" && e["verb"] == verb).collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One simulator for every test here (starting one takes ~0.4 s), on a runtime of its own;
/// each test signs in anew and has an outbox and a relay of its own.
fn shared_simulator() -> &'static superoffice_sim::SimHandle {
    static SIM: OnceLock<superoffice_sim::SimHandle> = OnceLock::new();
    SIM.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
            rt.block_on(async {
                tx.send(common::simulator().await).expect("hand over the simulator");
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the simulator")
    })
}

struct Rig {
    delivery: Delivery,
    client: superoffice::Client,
    rep: Rep,
    _dir: tempfile::TempDir,
}

async fn rig(relay: &Relay) -> Rig {
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

// ---------------------------------------------------------------------------------------------
// The approval (MIME builder): every hostile value in every header field it takes.
// ---------------------------------------------------------------------------------------------

/// Approves a draft with each hostile value in each of `fields` (`subject`, `to_name`, or
/// `rep name`: the rep's own name, which comes from SuperOffice). Safe means: the approval
/// either refuses with a clear error naming the field, keeping the draft pending, or its bytes
/// are a safe message whose field parses back with every word of the value (encoded, not cut
/// off, not read as a header). Returns every combination that is not safe, by name.
async fn approve_hostile(fields: &[&str]) -> Vec<String> {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let mut failures = vec![];
    for (i, (label, value)) in HOSTILE.iter().enumerate() {
        for field in fields {
            let what = format!("{field} with {label}");
            let mut draft = json!({ "to": RECIPIENT, "to_name": "Olivia Carter", "subject": "Hello", "body": "Dear Ms Carter,\nthanks.", "ref": format!("approve-{i}-{field}") });
            if *field != "rep name" {
                draft[field] = json!(value);
            }
            let id = rig.import(draft);
            let delivery = rig.delivery_as(if *field == "rep name" { value } else { "Anna Berger" });
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| delivery.approve(id))) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let named = e.to_string().contains(if *field == "subject" { "subject" } else { "name" });
                    if !named || rig.row(id).state != State::Pending {
                        failures.push(format!("{what}: refused with an unclear error ({}: {e}) or not kept", e.code()));
                    }
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{what}: the approval panicked: {}", panic_text(&e)));
                    continue;
                }
            }
            let bytes = rig.approved_mime(id);
            let result = std::panic::catch_unwind(|| {
                let (subject, to_name, _) = assert_safe_message(&bytes, RECIPIENT, &what);
                let parsed = mail_parser::MessageParser::default().parse(&bytes).expect("parse");
                let from_name = parsed.from().and_then(|a| a.first()).and_then(|a| a.name()).map(str::to_owned);
                let got = match *field {
                    "subject" => subject,
                    "to_name" => to_name,
                    _ => from_name,
                }
                .unwrap_or_default();
                for word in value.split(|c: char| c.is_whitespace() || c == '\0').filter(|w| !w.is_empty() && !w.starts_with("=?")) {
                    assert!(got.contains(word), "{what}: {word:?} lost, parsed back as {got:?}");
                }
            });
            if let Err(e) = result {
                failures.push(format!("{what}: {}", panic_text(&e).lines().take(12).collect::<Vec<_>>().join("\n")));
            }
        }
    }
    failures
}

/// Every hostile subject is encoded at approval (lettre writes it as RFC 2047 encoded words).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_subject_is_encoded_at_approval() {
    let failures = approve_hostile(&["subject"]).await;
    assert!(failures.is_empty(), "{} of {} failed:\n\n{}", failures.len(), HOSTILE.len(), failures.join("\n\n"));
}

/// Display names (the recipient's, from the person in SuperOffice or a draft file, and the
/// rep's own) with CR, LF or NUL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_display_name_is_encoded_or_refused_at_approval() {
    let failures = approve_hostile(&["to_name", "rep name"]).await;
    assert!(failures.is_empty(), "{} of {} failed:\n\n{}", failures.len(), HOSTILE.len() * 2, failures.join("\n\n"));
}

/// Names without line breaks (an encoded word that decodes to one, quotes, commas, angle
/// brackets, non-ASCII) are encoded: never a second address, never a header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_address_syntax_are_encoded_at_approval() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let names = [
        "=?utf-8?q?Olivia=0D=0ABcc=3A_evil=40attacker=2Eexample?=",
        "Carter, Olivia <evil@attacker.example>",
        "\"Olivia\" <evil@attacker.example>, x",
        "Olivia (Bcc: evil@attacker.example)",
        "Müller; Jonas: evil@attacker.example;",
        "Olivia\tCarter",
    ];
    for (i, name) in names.iter().enumerate() {
        for field in ["to_name", "rep name"] {
            let what = format!("{field} {name:?}");
            let draft = json!({ "to": RECIPIENT, "to_name": if field == "to_name" { name } else { "Olivia Carter" }, "subject": "Hello", "body": "Hi", "ref": format!("name-{i}-{field}") });
            let id = rig.import(draft);
            rig.delivery_as(if field == "rep name" { name } else { "Anna Berger" }).approve(id).unwrap_or_else(|e| panic!("{what}: {e}"));
            let bytes = rig.approved_mime(id);
            let (_, to_name, _) = assert_safe_message(&bytes, RECIPIENT, &what);
            let parsed = mail_parser::MessageParser::default().parse(&bytes).expect("parse");
            let from = parsed.from().and_then(|a| a.first()).expect("From");
            assert_eq!(from.address(), Some("anna.berger@roboplanet.example"), "{what}");
            let got = if field == "to_name" { to_name } else { from.name().map(str::to_owned) };
            assert_eq!(got.as_deref().map(str::trim), Some(name.trim()), "{what}: the name comes back as it was");
        }
    }
}

/// Addresses that reach the approval without the draft check (a path that forgot it): any
/// address with a line break, NUL, a second address or SMTP syntax is an error there too,
/// never a header or an envelope recipient; the draft stays pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_refuses_hostile_addresses_even_without_the_draft_check() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    for (i, bad) in [
        "olivia@brightwater.example\r\nBcc: evil@attacker.example",
        "olivia@brightwater.example\nRCPT TO:<evil@attacker.example>",
        "olivia@brightwater.example\0",
        "olivia@brightwater.example, evil@attacker.example",
        "olivia@brightwater.example>\r\nRCPT TO:<evil@attacker.example",
        "<olivia@brightwater.example>",
        "\"olivia\r\nBcc: x\"@brightwater.example",
        "Olivia <olivia@brightwater.example>",
    ]
    .into_iter()
    .enumerate()
    {
        let draft = NewDraft {
            source: "test".into(),
            source_ref: format!("unchecked-{i}"),
            contact_id: 0,
            person_id: 0,
            sale_id: 0,
            company: String::new(),
            recipient_name: "Olivia Carter".into(),
            recipient_email: Some(bad.into()),
            subject: Some("Hello".into()),
            body: "Body".into(),
            problem: None,
        };
        assert!(rig.store().insert_draft(&draft).expect("insert"));
        let id = rig.store().list().expect("list").into_iter().find(|d| d.source_ref == draft.source_ref).expect("row").id;
        let err = rig.delivery.approve(id).expect_err(&format!("{bad:?} was approved"));
        // The approval checks the draft again (issue 17), and the MIME builder would refuse too.
        assert!(matches!(err.code(), "draft_not_sendable" | "message_invalid"), "{bad:?}: {err}");
        assert!(err.to_string().contains("address"), "{bad:?}: {err}");
        assert_eq!(rig.row(id).state, State::Pending, "{bad:?}: kept");
    }
    assert!(relay.commands("MAIL").is_empty());
}

// ---------------------------------------------------------------------------------------------
// The pipeline: hostile drafts from the import, approved and sent to the relay.
// ---------------------------------------------------------------------------------------------

/// Imported drafts with hostile subjects. One with a line break or a control character is
/// flagged at import (`unsafe_subject`) and can never be approved, on any channel (issue 17:
/// the email agent would receive it raw); the others are approved and sent as exactly one
/// message to exactly one recipient, and the relay receives the approved bytes, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_subjects_reach_the_relay_as_one_message_to_one_recipient() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let mut sent = vec![];
    for (i, (label, value)) in HOSTILE.iter().enumerate() {
        for field in ["subject"] {
            let mut draft = json!({ "to": RECIPIENT, "to_name": "Olivia Carter", "subject": "Hello", "body": "Dear Ms Carter,\nthanks.", "ref": format!("{i}-{field}") });
            draft[field] = json!(value);
            let id = rig.import(draft);
            let row = rig.row(id);
            if outbox::draft::unsafe_header_value(value) {
                assert_eq!(row.problem, Some(outbox::draft::Problem::UnsafeSubject), "{field} with {label}");
                let e = rig.delivery.approve(id).expect_err("never approved");
                assert_eq!(e.code(), "draft_not_sendable", "{field} with {label}: {e}");
                continue;
            }
            assert_eq!(row.problem, None, "{field} with {label}: the import flags it as {:?}", row.problem);
            rig.delivery.approve(id).unwrap_or_else(|e| panic!("{field} with {label}: approve: {e}"));
            let state = rig.delivery.deliver(id).await.unwrap_or_else(|e| panic!("{field} with {label}: deliver: {e}"));
            assert_eq!(state, State::Done, "{field} with {label}: {:?}", rig.row(id).reason);
            sent.push((format!("{field} with {label}"), id));
        }
    }
    let accepted = relay.accepted();
    assert_eq!(accepted.len(), sent.len(), "one message per draft");
    assert_eq!(relay.commands("RCPT").len(), sent.len(), "one recipient per message");
    for ((what, id), (meta, bytes)) in sent.iter().zip(&accepted) {
        assert_eq!(meta["rcpt_to"], json!([RECIPIENT]), "{what}");
        assert_eq!(meta["bare_lf"], 0, "{what}");
        assert_eq!(bytes, &mime::as_received(&rig.approved_mime(*id)), "{what}: the relay got other bytes than the approved ones");
        assert_safe_message(bytes, RECIPIENT, what);
    }
}

/// The rep's edit refuses CR, LF and NUL in the subject and the recipient with a clear error;
/// the draft stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_breaks_in_an_edit_are_refused_and_the_draft_is_kept() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let id = rig.import(json!({ "to": RECIPIENT, "subject": "Hello", "body": "Dear Ms Carter", "ref": "edit" }));
    let before = rig.row(id);
    let versions = rig.store().versions(id).expect("versions").len();
    for (label, value) in HOSTILE.iter().filter(|(_, v)| v.contains(['\r', '\n', '\0'])) {
        for field in ["subject", "recipient"] {
            let mut edit = Edit { recipient_email: Some(RECIPIENT.into()), subject: Some("Hello".into()), body: "Dear Ms Carter".into() };
            match field {
                "subject" => edit.subject = Some((*value).into()),
                _ => edit.recipient_email = Some(format!("{RECIPIENT}{value}")),
            }
            let err = rig.store().edit(id, &edit, "Anna Berger").expect_err(&format!("{field} with {label} was accepted"));
            assert_eq!(err.code(), "draft_not_sendable", "{field} with {label}");
            assert!(err.to_string().contains("not allowed in the recipient or the subject"), "{field} with {label}: {err}");
        }
    }
    let after = rig.row(id);
    assert_eq!(
        (after.subject, after.recipient_email, after.body, after.state),
        (before.subject, before.recipient_email, before.body, State::Pending)
    );
    assert_eq!(rig.store().versions(id).expect("versions").len(), versions, "no version was written");
}

/// Hostile recipient addresses from the import: kept in the outbox, visible as "invalid
/// recipient", and approving them is refused with that reason. Nothing reaches the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_addresses_are_refused_with_a_reason_and_kept() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let long_local = format!("{}@brightwater.example", "o".repeat(65));
    let long_domain = format!("olivia@{}.example", ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(60)].join("."));
    for (i, bad) in [
        "olivia@brightwater.example\r\nRCPT TO:<evil@attacker.example>",
        "olivia@brightwater.example\nBcc: evil@attacker.example",
        "olivia@brightwater.example\0",
        "olivia@brightwater.example, evil@attacker.example",
        "olivia@brightwater.example>\r\nRCPT TO:<evil@attacker.example",
        "\"olivia\r\nBcc: evil@attacker.example\"@brightwater.example",
        "Olivia <olivia@brightwater.example>",
        long_local.as_str(),
        long_domain.as_str(),
    ]
    .into_iter()
    .enumerate()
    {
        let id = rig.import(json!({ "to": bad, "subject": "Hello", "body": "Dear Ms Carter", "ref": format!("addr-{i}") }));
        let row = rig.row(id);
        assert_eq!(row.problem, Some(Problem::InvalidRecipient), "{bad:?} ({} chars)", bad.len());
        let err = rig.delivery.approve(id).expect_err("approving an invalid recipient");
        assert_eq!(err.code(), "draft_not_sendable", "{bad:?}");
        assert!(err.to_string().contains("the recipient's email address is not valid"), "{bad:?}: {err}");
        let row = rig.row(id);
        assert_eq!((row.state, row.recipient_email.as_deref()), (State::Pending, Some(bad.trim())), "kept as it was");
    }
    assert!(relay.commands("MAIL").is_empty() && relay.accepted().is_empty(), "nothing was sent");
}

/// An address of 262 octets whose local part and labels are each within their limits.
fn over_long_address() -> String {
    let labels = ["a".repeat(60), "b".repeat(60), "c".repeat(60), "d".repeat(60)].join(".");
    let long = format!("{}@{labels}.example", "o".repeat(10));
    assert!(long.len() > 254, "{}", long.len());
    long
}

/// Whatever the draft check makes of an over-long address, it never breaks the message: the
/// header line stays within 998 octets, there is one RCPT, and the relay's answer decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_address_never_breaks_the_message() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let long = over_long_address();
    let id = rig.import(json!({ "to": long, "subject": "Hello", "body": "Dear Ms Carter", "ref": "long" }));
    if rig.row(id).problem == Some(Problem::InvalidRecipient) {
        return; // refused at the draft check: nothing more to send
    }
    rig.delivery.approve(id).expect("approve");
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done);
    let accepted = relay.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].0["rcpt_to"], json!([long]));
    assert_eq!(relay.commands("RCPT").len(), 1);
    assert_safe_message(&accepted[0].1, &long, "over-long address");
}

/// RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets, so an address
/// over 254 octets cannot be delivered; the draft check should say so before the rep approves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_254_octets_is_flagged_at_the_draft_check() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let long = over_long_address();
    let id = rig.import(json!({ "to": long, "subject": "Hello", "body": "Dear Ms Carter", "ref": "long" }));
    assert_eq!(rig.row(id).problem, Some(Problem::InvalidRecipient), "a {}-octet address passed the draft check", long.len());
    assert_eq!(rig.delivery.approve(id).expect_err("approved").code(), "draft_not_sendable");
}

/// Internationalised addresses. The domain may be IDN (`müller.example`) or punycode; the
/// local part may be non-ASCII. With a relay that offers SMTPUTF8 they are sent with it; with
/// one that does not, non-ASCII ones are refused with a clear reason, before MAIL FROM, and
/// the draft is kept (failed, not lost). Punycode needs nothing special.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idn_addresses_are_sent_with_smtputf8_or_refused_clearly() {
    let cases = [
        ("IDN domain", "jonas@müller.example"),
        ("punycode domain", "jonas@xn--mller-kva.example"),
        ("non-ASCII local part", "jürgen@müller.example"),
    ];
    // A relay without SMTPUTF8.
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    for (i, (label, to)) in cases.iter().enumerate() {
        let id = rig.import(json!({ "to": to, "subject": "Grüße", "body": "Hallo Jonas", "ref": format!("idn-{i}") }));
        assert_eq!(rig.row(id).problem, None, "{label}: {to} is a valid address");
        rig.delivery.approve(id).unwrap_or_else(|e| panic!("{label}: approve: {e}"));
        let state = rig.delivery.deliver(id).await.expect("deliver");
        let row = rig.row(id);
        if to.is_ascii() {
            assert_eq!(state, State::Done, "{label}: {:?}", row.reason);
        } else {
            assert_eq!(state, State::Failed, "{label}");
            assert!(!row.retryable, "{label}: this relay will not change its mind on its own");
            assert_eq!(row.reason.as_deref(), Some("Refused: the relay does not accept international addresses (no SMTPUTF8)"), "{label}");
        }
    }
    let accepted = relay.accepted();
    assert_eq!(accepted.len(), 1, "only the punycode address was sent");
    assert_eq!(accepted[0].0["rcpt_to"], json!(["jonas@xn--mller-kva.example"]));
    assert_eq!(relay.commands("MAIL").len(), 1, "the refused ones never reached MAIL FROM");
    assert_safe_message(&accepted[0].1, "jonas@xn--mller-kva.example", "punycode");

    // A relay with SMTPUTF8.
    let relay = Relay::start(true);
    let rig = crate::rig(&relay).await;
    for (i, (label, to)) in cases.iter().enumerate() {
        let id = rig.import(json!({ "to": to, "subject": "Grüße", "body": "Hallo Jonas", "ref": format!("idn-{i}") }));
        rig.delivery.approve(id).unwrap_or_else(|e| panic!("{label}: approve: {e}"));
        assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done, "{label}: {:?}", rig.row(id).reason);
    }
    let accepted = relay.accepted();
    assert_eq!(accepted.len(), cases.len());
    for ((label, to), (meta, bytes)) in cases.iter().zip(&accepted) {
        assert_eq!(meta["rcpt_to"], json!([to]), "{label}");
        assert_eq!(meta["params"].as_str().unwrap_or("").contains("SMTPUTF8"), !to.is_ascii(), "{label}: {meta}");
        // The header carries the address as given (UTF-8 headers, RFC 6532) and parses back.
        assert_safe_message(bytes, to, label);
    }
}

/// A 10 MB body is refused with its reason (the limit is 1 MiB) and the draft is kept whole;
/// the rep's edit reports the same problem. A body just under the limit — one very long line,
/// lines starting with a dot, non-ASCII — is sent and arrives unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_body_is_refused_and_kept_and_a_1_mib_body_arrives_whole() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let huge = "Lorem ipsum dolor sit amet. ".repeat(10_000_000 / 28 + 1);
    assert!(huge.len() >= 10_000_000);
    let id = rig.import(json!({ "to": RECIPIENT, "subject": "Big", "body": huge, "ref": "huge" }));
    let row = rig.row(id);
    assert_eq!(row.problem, Some(Problem::BodyTooLarge));
    let err = rig.delivery.approve(id).expect_err("a 10 MB body was approved");
    assert_eq!(err.code(), "draft_not_sendable");
    assert!(err.to_string().contains("the body is larger than 1 MiB"), "{err}");
    let row = rig.row(id);
    assert_eq!((row.state, row.body.len()), (State::Pending, huge.len()), "kept whole");
    let edit = Edit { recipient_email: Some(RECIPIENT.into()), subject: Some("Big".into()), body: huge.clone() };
    assert_eq!(rig.store().edit(id, &edit, "Anna Berger").expect("edit"), Some(Problem::BodyTooLarge));

    let mut body = String::from("Grüße aus Köln.\n.\n..leading dots\n");
    body.push_str(&"x".repeat(200_000));
    body.push('\n');
    while body.len() < outbox::draft::MAX_BODY_BYTES - 100 {
        body.push_str("Eine Zeile mit Umlauten: äöü ß, und ein Punkt am Ende.\n");
    }
    body.push_str("Ende");
    let id = rig.import(json!({ "to": RECIPIENT, "subject": "Groß", "body": body, "ref": "big" }));
    assert_eq!(rig.row(id).problem, None);
    rig.delivery.approve(id).expect("approve");
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done, "{:?}", rig.row(id).reason);
    let accepted = relay.accepted();
    assert_eq!(accepted.len(), 1);
    let (meta, bytes) = &accepted[0];
    assert_eq!(meta["bare_lf"], 0);
    assert_safe_message(bytes, RECIPIENT, "1 MiB body");
    let parsed = mail_parser::MessageParser::default().parse(bytes.as_slice()).expect("parse");
    let got = parsed.body_text(0).map(|b| b.replace("\r\n", "\n")).unwrap_or_default();
    // The relay's copy ends with the CRLF that ends the last line (see `mime::as_received`).
    assert_same_text(&got, &format!("{body}\n"), "the 1 MiB body");
}

/// End-of-data look-alikes (SMTP smuggling, VU#302671) put in a body, each followed by a
/// whole smuggled transaction. Returns, per look-alike, what went wrong (empty: nothing).
async fn smuggle(ends: &[&str]) -> Vec<String> {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let smuggled =
        "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@brightwater.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n";
    let mut ids = vec![];
    for (i, end) in ends.iter().enumerate() {
        let body = format!("Dear Ms Carter,{end}{smuggled}Kind regards");
        let id = rig.import(json!({ "to": RECIPIENT, "subject": "Hello", "body": body, "ref": format!("smuggle-{i}") }));
        rig.delivery.approve(id).expect("approve");
        assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done, "{end:?}: {:?}", rig.row(id).reason);
        ids.push((end, id));
    }
    let accepted = relay.accepted();
    assert_eq!(accepted.len(), ids.len(), "one message per draft, none smuggled");
    assert_eq!(relay.commands("MAIL").len(), ids.len());
    assert_eq!(relay.commands("RCPT").len(), ids.len());
    assert!(relay.events().iter().all(|e| e["mail_from"] != EVIL), "the smuggled sender never reached the relay");
    let mut failures = vec![];
    for ((end, id), (meta, bytes)) in ids.iter().zip(&accepted) {
        let approved = rig.approved_mime(*id);
        let check = std::panic::catch_unwind(|| {
            assert_eq!(meta["rcpt_to"], json!([RECIPIENT]), "{end:?}");
            assert_eq!(meta["bare_lf"], 0, "{end:?}: a line not ended by CRLF reached the relay");
            assert_eq!(bytes, &mime::as_received(&approved), "{end:?}");
            assert_safe_message(bytes, RECIPIENT, &format!("{end:?}"));
            let text = mail_parser::MessageParser::default().parse(bytes.as_slice()).and_then(|m| m.body_text(0).map(|b| b.into_owned()));
            assert!(text.unwrap_or_default().contains("MAIL FROM:<evil@attacker.example>"), "{end:?}: the look-alike is body text");
        });
        if let Err(e) = check {
            failures.push(format!("{end:?}: {}", panic_text(&e).lines().next().unwrap_or_default()));
        }
    }
    failures
}

/// LF-based look-alikes: lettre turns every LF into CRLF and dot-stuffs the line, so the relay
/// gets one message, one MAIL and one RCPT per draft, and no line not ended by CRLF.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_of_data_look_alikes_in_the_body_stay_in_the_body() {
    let failures = smuggle(&["\r\n.\r\n", "\n.\n", "\n.\r\n", "\r\n.\n", ".\r\n"]).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Bare CR look-alikes (`<CR>.<CR>`): a bare CR must not reach the wire (RFC 5322 §2.3: CR and
/// LF only together), since some receivers end lines at a bare CR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_cr_look_alikes_in_the_body_do_not_reach_the_wire() {
    let failures = smuggle(&["\r.\r", "\r\n.\r", "\r.\n"]).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Headers a draft file brings along (`.eml` with Cc, Bcc and a second To; a `.json` field the
/// format does not know; header-like lines in a task description) add no recipient and no header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_headers_in_drafts_add_no_recipient() {
    let relay = Relay::start(false);
    let rig = rig(&relay).await;
    let eml = format!(
        "From: Someone <someone@elsewhere.example>\r\nTo: Olivia Carter <{RECIPIENT}>, {EVIL}\r\nCc: cc@attacker.example\r\nBcc: {EVIL}\r\nReply-To: {EVIL}\r\nX-Custom: injected\r\nSubject: Angebot\r\nMessage-ID: <eml-1@elsewhere.example>\r\n\r\nHallo\r\n"
    );
    let report = outbox::import_file(rig.store(), "draft.eml", eml.as_bytes()).expect("import");
    assert_eq!(report.added, 1);
    let id = rig.store().list().expect("list")[0].id;
    assert_eq!(rig.row(id).recipient_email.as_deref(), Some(RECIPIENT), "only the first To");
    rig.delivery.approve(id).expect("approve");
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done);

    let err = outbox::import_file(
        rig.store(),
        "d.json",
        json!({ "to": RECIPIENT, "subject": "s", "body": "b", "bcc": EVIL }).to_string().as_bytes(),
    )
    .expect_err("an unknown field is an error");
    assert_eq!(err.code(), "draft_not_sendable");
    // Refused as a whole. (serde's untagged enum hides the detail "unknown field `bcc`".)
    assert!(err.to_string().contains("d.json is not a drafts file"), "{err}");
    assert_eq!(rig.store().list().expect("list").len(), 1, "nothing added");

    let parsed = outbox::draft::parse_description(&format!("Bcc: {EVIL}\nSubject: Angebot\rBcc: {EVIL}\nCc: {EVIL}\n\nHallo"));
    assert_eq!(parsed.body, "Hallo");
    let subject = parsed.subject.expect("a subject");
    let id = rig.import(json!({ "to": RECIPIENT, "subject": subject, "body": parsed.body, "ref": "task" }));
    // The lone CR kept in the subject makes it a draft to fix, never a message.
    assert_eq!(rig.row(id).problem, Some(outbox::draft::Problem::UnsafeSubject));
    assert!(rig.delivery.approve(id).is_err());

    let accepted = relay.accepted();
    assert_eq!(accepted.len(), 1);
    for (meta, bytes) in &accepted {
        assert_eq!(meta["rcpt_to"], json!([RECIPIENT]));
        assert_eq!(meta["mail_from"], "anna.berger@roboplanet.example", "the rep is the sender, not the file's From");
        let (_, _, to) = assert_safe_message(bytes, RECIPIENT, "extra headers");
        assert_eq!(to.as_deref(), Some(RECIPIENT));
        assert!(!String::from_utf8_lossy(bytes).contains("X-Custom"), "a custom header from the file was copied");
    }
}
