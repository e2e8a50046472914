//! Part of `tests/header_safety.rs`: hostile bodies. A 10 MB body refused and kept, a 1 MiB one
//! arriving whole, and end-of-data look-alikes (SMTP smuggling) staying body text.

use outbox::draft::Problem;
use outbox::{mime, Edit, State};
use serde_json::json;

use crate::{assert_safe_message, assert_same_text, panic_text, rig, start_relay, EVIL, RECIPIENT};

/// A 10 MB body is refused with its reason (the limit is 1 MiB) and the draft is kept whole;
/// the rep's edit reports the same problem. A body just under the limit — one very long line,
/// lines starting with a dot, non-ASCII — is sent and arrives unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_body_is_refused_and_kept_and_a_1_mib_body_arrives_whole() {
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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
