//! Part of `tests/smtp_faults.rs`: cases beyond one fault at one step. A relay that stays
//! busy, the rep's "send again" after an unknown outcome, and TLS: STARTTLS not offered,
//! untrusted certificates, implicit TLS against a plaintext server, replies injected before
//! the TLS upgrade.

use std::time::Duration;

use outbox::{SmtpSecurity, State};
use serde_json::json;
use superoffice_sim::TestPki;
use testkit::smtp::Scripted;

use crate::common::{SMTP_PASSWORD, SMTP_USER};
use crate::{assert_invariants, drop_at, implicit, reply_at, rig, starttls, DEADLINE};

/// A relay that keeps answering 4xx: the automatic retries stop after `AUTO_RETRIES` attempts
/// and the rep is asked; nothing is ever accepted, so nothing can be duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_stays_busy_gets_four_attempts_then_the_rep_decides() {
    let server = Scripted::start(&starttls(vec![
        json!({ "step": "rcpt", "action": "reply", "reply": "450 4.2.1 always-busy-by-script", "times": 0 }),
    ]));
    let rig = rig(&server, SmtpSecurity::StartTls, &server.pki.ca_pem).await;
    let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
    assert_eq!(state, State::Failed);
    for _ in 0..6 {
        rig.later(Duration::from_secs(24 * 3600)).await;
    }
    let row = rig.row(id);
    let log = server.dump();
    assert_eq!(row.attempts, outbox::schedule::AUTO_RETRIES, "{row:?}\n{log}");
    assert_eq!(server.commands("RCPT").len() as i64, outbox::schedule::AUTO_RETRIES, "{log}");
    assert_eq!(row.state, State::Failed);
    assert!(row.next_attempt_ms.is_none(), "no further automatic attempt: {row:?}");
    assert!(row.reason.unwrap_or_default().contains("always-busy-by-script"));
    assert!(server.messages("accepted").is_empty());
    assert_invariants(&server, "busy relay");
}

/// After "needs decision" only the rep's "send again" sends again: once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_unknown_outcome_only_the_reps_send_again_sends_once_more() {
    let server = Scripted::start(&starttls(vec![drop_at("dot")]));
    let rig = rig(&server, SmtpSecurity::StartTls, &server.pki.ca_pem).await;
    let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
    assert_eq!(state, State::NeedsDecision);
    assert!(rig.later(Duration::from_secs(24 * 3600)).await.attempted.is_empty());
    assert_eq!((server.messages("unconfirmed").len(), server.messages("accepted").len()), (1, 0));
    rig.store().send_again(id, "Anna Berger").expect("send again");
    let report = rig.later(Duration::ZERO).await;
    assert_eq!(report.attempted, vec![id]);
    assert_eq!(rig.row(id).state, State::Done);
    assert_eq!(server.messages("accepted").len(), 1, "{}", server.dump());
    let mids: Vec<_> = server.messages("unconfirmed").into_iter().chain(server.messages("accepted")).map(|m| m["sha256"].clone()).collect();
    assert_eq!(mids[0], mids[1], "the same bytes (same Message-ID) both times");
    assert_eq!(rig.documents(id), 1);
}

/// STARTTLS required, not offered: nothing is sent, no AUTH, no MAIL; final with a clear reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_not_offered_means_no_auth_and_nothing_sent() {
    for (label, script) in [
        ("no STARTTLS", json!({ "starttls": false, "user": SMTP_USER, "password": SMTP_PASSWORD })),
        // A bait: AUTH offered on the plaintext connection.
        (
            "no STARTTLS, AUTH offered in the clear",
            json!({ "starttls": false, "auth_before_tls": true, "user": SMTP_USER, "password": SMTP_PASSWORD }),
        ),
    ] {
        let server = Scripted::start(&script);
        let rig = rig(&server, SmtpSecurity::StartTls, &server.pki.ca_pem).await;
        let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
        let row = rig.row(id);
        let log = server.dump();
        assert_eq!(state, State::Failed, "{label}\n{log}");
        assert!(!row.retryable, "{label}: a relay without STARTTLS is not retried on its own");
        assert!(row.reason.clone().unwrap_or_default().contains("does not offer STARTTLS"), "{label}: {:?}", row.reason);
        assert!(server.commands("AUTH").is_empty(), "{label}: AUTH sent\n{log}");
        assert!(server.commands("MAIL").is_empty(), "{label}: MAIL sent\n{log}");
        assert!(server.events_of("message").is_empty(), "{label}\n{log}");
        assert!(rig.later(Duration::from_secs(24 * 3600)).await.attempted.is_empty(), "{label}");
        assert_invariants(&server, label);
    }
}

/// A certificate the client does not trust (implicit TLS and STARTTLS): nothing is sent and
/// the credentials never leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_means_no_auth_and_nothing_sent() {
    for (label, script, security) in
        [("STARTTLS", starttls(vec![]), SmtpSecurity::StartTls), ("implicit TLS", implicit(vec![]), SmtpSecurity::ImplicitTls)]
    {
        let server = Scripted::start_with(&script, TestPki::generate().expect("pki"));
        let other_ca = TestPki::generate().expect("another pki").ca_pem;
        let rig = rig(&server, security, &other_ca).await;
        let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
        let row = rig.row(id);
        let log = server.dump();
        assert_eq!(state, State::Failed, "{label}\n{log}");
        let reason = row.reason.clone().unwrap_or_default();
        assert!(reason.to_ascii_lowercase().contains("certificate") || reason.contains("UnknownIssuer"), "{label}: {reason}");
        assert!(server.commands("AUTH").is_empty() && server.commands("MAIL").is_empty(), "{label}\n{log}");
        assert!(server.events_of("message").is_empty(), "{label}\n{log}");
        assert_invariants(&server, label);
    }
}

/// Implicit TLS configured, the server speaks plaintext SMTP: the handshake fails, nothing is
/// sent in the clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_against_a_plaintext_server_sends_nothing() {
    let server = Scripted::start(&json!({ "starttls": false, "auth_before_tls": true, "user": SMTP_USER, "password": SMTP_PASSWORD }));
    let rig = rig(&server, SmtpSecurity::ImplicitTls, &server.pki.ca_pem).await;
    let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
    let log = server.dump();
    assert_eq!(state, State::Failed, "{log}");
    let reason = rig.row(id).reason.unwrap_or_default();
    assert!(reason.contains("InvalidContentType"), "the TLS library's words: {reason}\n{log}");
    let smtp = ["EHLO", "HELO", "AUTH", "MAIL", "RCPT", "DATA"];
    assert!(server.events_of("command").iter().all(|c| !smtp.contains(&c["verb"].as_str().unwrap_or(""))), "SMTP in the clear\n{log}");
    assert_invariants(&server, "implicit vs plaintext");
}

/// The STARTTLS response injection ("NO STARTTLS", USENIX Security 2021; CVE-2011-0411 in
/// reverse): a man in the middle appends forged replies to the plaintext "220 Ready to start
/// TLS". RFC 3207 §6: the client must discard anything received before the TLS handshake.
/// Here the forged EHLO reply offers only AUTH LOGIN; the real one, inside TLS, offers PLAIN
/// first. A client that acts on the pre-TLS bytes chooses LOGIN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ehlo_reply_injected_before_the_tls_upgrade_is_not_acted_on() {
    let mut script = starttls(vec![]);
    script["inject"] = json!("250-injected.example\r\n250 AUTH LOGIN\r\n");
    let server = Scripted::start(&script);
    let rig = rig(&server, SmtpSecurity::StartTls, &server.pki.ca_pem).await;
    let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
    let row = rig.row(id);
    let ctx = format!("state {state:?}, reason {:?}\n{}", row.reason, server.dump());
    assert_invariants(&server, "injected EHLO reply");
    assert_eq!(server.events_of("injected").len(), 1, "{ctx}");
    let auth: Vec<_> = server.commands("AUTH").into_iter().map(|a| a["line"].as_str().unwrap_or("").to_owned()).collect();
    assert!(auth.iter().all(|l| l.starts_with("AUTH PLAIN")), "the AUTH mechanism came from the injected capabilities: {auth:?}\n{ctx}");
}

/// The same injection used to shift every later reply by one: the forged EHLO reply is read
/// as the real one, the real one as the answer to AUTH, and so on, until the client takes the
/// `354` to DATA for the reply to the final dot. The server refuses the message (554); a
/// client that acted on the injected bytes records it as sent, archives it and completes the
/// task: an approved email lost without a word (P5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_injected_before_the_tls_upgrade_cannot_make_a_refused_message_look_sent() {
    let mut script = starttls(vec![reply_at("dot", "554 5.7.1 refused-after-injection")]);
    script["inject"] = json!("250-injected.example\r\n250 AUTH PLAIN LOGIN\r\n");
    let server = Scripted::start(&script);
    let rig = rig(&server, SmtpSecurity::StartTls, &server.pki.ca_pem).await;
    let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
    let row = rig.row(id);
    let ctx = format!("state {state:?}, reason {:?}, recorded reply {:?}\n{}", row.reason, row.smtp_reply, server.dump());
    assert_invariants(&server, "injected replies");
    assert_eq!(server.events_of("injected").len(), 1, "{ctx}");
    assert!(server.messages("accepted").is_empty(), "{ctx}");
    assert!(!matches!(state, State::Sent | State::Archived | State::Done), "a message the server refused is recorded as sent\n{ctx}");
    assert_eq!(rig.documents(id), 0, "a refused message was archived as sent\n{ctx}");
}

/// A certificate failure is final (`open()` maps TLS errors to a refusal "TLS with <host>
/// failed"), not a transient error retried four times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_not_retried() {
    for (label, script, security) in
        [("STARTTLS", starttls(vec![]), SmtpSecurity::StartTls), ("implicit TLS", implicit(vec![]), SmtpSecurity::ImplicitTls)]
    {
        let server = Scripted::start(&script);
        let other_ca = TestPki::generate().expect("another pki").ca_pem;
        let rig = rig(&server, security, &other_ca).await;
        let (id, state, _) = rig.approve_and_deliver(DEADLINE).await;
        let row = rig.row(id);
        let reason = row.reason.clone().unwrap_or_default();
        assert_eq!(state, State::Failed, "{label}");
        assert!(!row.retryable, "{label}: a certificate failure is retried automatically: {reason}");
        assert!(reason.starts_with("Refused: ") && reason.contains("TLS"), "{label}: {reason}");
    }
}
