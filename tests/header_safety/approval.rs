//! Part of `tests/header_safety.rs`: the approval (the MIME builder), with every hostile value
//! in every header field it takes, names with address syntax, and hostile addresses that reach
//! it without the draft check.

use outbox::{NewDraft, State};
use serde_json::json;

use crate::{assert_safe_message, panic_text, rig, start_relay, HOSTILE, RECIPIENT};

/// Approves a draft with each hostile value in each of `fields` (`subject`, `to_name`, or
/// `rep name`: the rep's own name, which comes from SuperOffice). Safe means: the approval
/// either refuses with a clear error naming the field, keeping the draft pending, or its bytes
/// are a safe message whose field parses back with every word of the value (encoded, not cut
/// off, not read as a header). Returns every combination that is not safe, by name.
async fn approve_hostile(fields: &[&str]) -> Vec<String> {
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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
        let code = err.code().to_string();
        assert!(matches!(code.as_str(), "draft_not_sendable" | "message_invalid"), "{bad:?}: {err}");
        assert!(err.to_string().contains("address"), "{bad:?}: {err}");
        assert_eq!(rig.row(id).state, State::Pending, "{bad:?}: kept");
    }
    assert!(relay.commands("MAIL").is_empty());
}
