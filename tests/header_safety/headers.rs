//! Part of `tests/header_safety.rs`: hostile subjects and headers through the whole pipeline,
//! from the import or the rep's edit to the relay: one message to one recipient, the approved
//! bytes, no header a draft file brings along.

use outbox::{mime, Edit, State};
use serde_json::json;

use crate::{assert_safe_message, rig, start_relay, EVIL, HOSTILE, RECIPIENT};

/// Imported drafts with hostile subjects. One with a line break or a control character is
/// flagged at import (`unsafe_subject`) and can never be approved, on any channel (issue 17:
/// the email agent would receive it raw); the others are approved and sent as exactly one
/// message to exactly one recipient, and the relay receives the approved bytes, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_subjects_reach_the_relay_as_one_message_to_one_recipient() {
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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

/// Headers a draft file brings along (`.eml` with Cc, Bcc and a second To; a `.json` field the
/// format does not know; header-like lines in a task description) add no recipient and no header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_headers_in_drafts_add_no_recipient() {
    let relay = start_relay(false);
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
