//! Part of `tests/header_safety.rs`: hostile, over-long and internationalised recipient
//! addresses through the pipeline: refused with a reason and kept, or sent as exactly one
//! recipient (with SMTPUTF8 where the relay offers it).

use outbox::draft::Problem;
use outbox::State;
use serde_json::json;

use crate::{assert_safe_message, rig, start_relay};

/// Hostile recipient addresses from the import: kept in the outbox, visible as "invalid
/// recipient", and approving them is refused with that reason. Nothing reaches the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_addresses_are_refused_with_a_reason_and_kept() {
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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
    let relay = start_relay(false);
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
    let relay = start_relay(true);
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
