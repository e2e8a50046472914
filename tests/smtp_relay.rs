//! Approve → send → archive on real parts: the outbox in a real SQLite file, a real SMTP
//! server (aiosmtpd, its own process) with TLS and AUTH, and the SuperOffice simulator.
//! Counts come from the servers' own records.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::{SmtpServer, SMTP_PASSWORD, SMTP_TOKEN, SMTP_USER};
use keychain::Secret;
use outbox::{Delivery, Rep, SmtpAuth, SmtpSecurity, SmtpSettings, State, Store};
use superoffice::AppointmentFilter;

struct Rig {
    sim: superoffice_sim::SimHandle,
    delivery: Delivery,
    _dir: tempfile::TempDir,
}

async fn rig(server: &SmtpServer, security: SmtpSecurity, password: &str) -> Rig {
    rig_with(server, security, SmtpAuth::Password, password).await
}

async fn rig_with(server: &SmtpServer, security: SmtpSecurity, auth: SmtpAuth, secret: &str) -> Rig {
    let sim = common::simulator().await;
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).expect("store"));
    let report = outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.expect("intake");
    assert_eq!((report.found, report.added, report.with_problems), (25, 25, 2));
    let me = client.current_principal().await.expect("principal");
    let delivery = Delivery::new(
        store,
        client,
        SmtpSettings::new("localhost", server.port, security, SMTP_USER, Secret::new(secret))
            .with_auth(auth)
            .with_ca(Some(server.pki.ca_pem.clone()))
            .with_data_timeout(Duration::from_secs(30)),
        Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address },
    );
    Rig { sim, delivery, _dir: dir }
}

fn draft_message_id(rig: &Rig, id: i64) -> Option<String> {
    rig.delivery.store.get(id).expect("row").message_id
}

fn first_sendable(store: &Store) -> outbox::DraftRow {
    store.list().expect("list").into_iter().find(|d| d.problem.is_none()).expect("a sendable draft")
}

async fn approve_and_send(security: SmtpSecurity, mode: &str) {
    let server = SmtpServer::start(mode);
    let rig = rig(&server, security, SMTP_PASSWORD).await;
    let draft = first_sendable(&rig.delivery.store);
    rig.delivery.approve(draft.id).expect("approve");
    let state = rig.delivery.deliver(draft.id).await.expect("deliver");
    assert_eq!(state, State::Done);

    let received = server.received();
    assert_eq!(received.len(), 1, "exactly one message reached the SMTP server");
    let (meta, bytes) = &received[0];
    assert_eq!(meta["mail_from"], "anna.berger@roboplanet.example");
    assert_eq!(meta["rcpt_to"], serde_json::json!([draft.recipient_email.clone().expect("recipient")]));
    let parsed = mail_parser::MessageParser::default().parse(bytes.as_slice()).expect("the received message parses");
    let from = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!((from.name(), from.address()), (Some("Anna Berger"), Some("anna.berger@roboplanet.example")));
    let to = parsed.to().and_then(|a| a.first()).expect("To");
    assert_eq!((to.name(), to.address()), (Some(draft.recipient_name.as_str()), draft.recipient_email.as_deref()));
    assert_eq!(parsed.subject(), draft.subject.as_deref());
    assert_eq!(parsed.message_id().map(|m| format!("<{m}>")), draft_message_id(&rig, draft.id));
    let body = parsed.body_text(0).map(|b| b.replace("\r\n", "\n")).unwrap_or_default();
    assert_eq!(body.trim_end(), draft.body.trim_end(), "the body arrives unchanged");

    let tenant = rig.sim.tenant();
    assert_eq!(tenant.documents.len(), 1, "exactly one archive document");
    let doc = &tenant.documents[0];
    let row = rig.delivery.store.get(draft.id).expect("row");
    assert_eq!(Some(doc.id), row.document_id);
    assert_eq!(Some(&doc.external_ref), row.message_id.as_ref());
    let archived = base64::engine::general_purpose::STANDARD.decode(doc.content_base64.clone().expect("content")).expect("b64");
    assert_eq!(&archived, bytes, "the archive holds exactly the bytes the server received");
    assert_eq!(doc.contact_id, 2);
    let task = tenant.appointments.iter().find(|a| a.id.to_string() == draft.source_ref).expect("task");
    assert_eq!(task.completed, "Completed");
    let kinds: Vec<String> = rig.delivery.store.timeline(draft.id).expect("timeline").into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            "drafted",
            "approved",
            "channel",
            "sending",
            "data_started",
            "sent",
            "archive_started",
            "document_created",
            "archived",
            "task_completed"
        ]
    );
}

#[tokio::test]
async fn starttls_relay_gets_one_message_and_the_archive_holds_its_bytes() {
    approve_and_send(SmtpSecurity::StartTls, "starttls").await;
}

#[tokio::test]
async fn implicit_tls_relay_gets_one_message_and_the_archive_holds_its_bytes() {
    approve_and_send(SmtpSecurity::ImplicitTls, "implicit").await;
}

#[tokio::test]
async fn no_starttls_offered_means_nothing_is_sent() {
    let server = SmtpServer::start("plain");
    let rig = rig(&server, SmtpSecurity::StartTls, SMTP_PASSWORD).await;
    let draft = first_sendable(&rig.delivery.store);
    rig.delivery.approve(draft.id).expect("approve");
    let state = rig.delivery.deliver(draft.id).await.expect("deliver");
    assert_eq!(state, State::Failed);
    let row = rig.delivery.store.get(draft.id).expect("row");
    assert!(row.reason.clone().unwrap_or_default().contains("STARTTLS"), "{:?}", row.reason);
    assert!(server.received().is_empty());
    assert!(rig.sim.tenant().documents.is_empty(), "nothing sent, nothing archived");
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_the_servers_words() {
    let server = SmtpServer::start("starttls");
    let rig = rig(&server, SmtpSecurity::StartTls, "wrong").await;
    let draft = first_sendable(&rig.delivery.store);
    rig.delivery.approve(draft.id).expect("approve");
    assert_eq!(rig.delivery.deliver(draft.id).await.expect("deliver"), State::Failed);
    let reason = rig.delivery.store.get(draft.id).expect("row").reason.unwrap_or_default();
    assert!(reason.contains("535"), "{reason}");
    assert!(!reason.contains("wrong"), "the password must not appear in the reason: {reason}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn xoauth2_sends_once_with_the_access_token_and_the_document_gets_the_chosen_template() {
    let server = SmtpServer::start("starttls");
    let mut rig = rig_with(&server, SmtpSecurity::StartTls, SmtpAuth::XOAuth2, SMTP_TOKEN).await;
    rig.delivery = rig.delivery.with_template(Some(4));
    let draft = first_sendable(&rig.delivery.store);
    rig.delivery.approve(draft.id).expect("approve");
    assert_eq!(rig.delivery.deliver(draft.id).await.expect("deliver"), State::Done);
    let received = server.received();
    assert_eq!(received.len(), 1, "exactly one message");
    assert_eq!(received[0].0["mechanism"], "XOAUTH2", "{}", received[0].0);
    assert_eq!(received[0].0["mail_from"], SMTP_USER);
    let docs = rig.sim.tenant().documents;
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].template_id, 4, "the archived email has the chosen outgoing email template");
}

#[tokio::test]
async fn a_password_relay_never_tries_xoauth2() {
    let server = SmtpServer::start("starttls");
    let rig = rig(&server, SmtpSecurity::StartTls, SMTP_PASSWORD).await;
    let draft = first_sendable(&rig.delivery.store);
    rig.delivery.approve(draft.id).expect("approve");
    assert_eq!(rig.delivery.deliver(draft.id).await.expect("deliver"), State::Done);
    let meta = &server.received()[0].0;
    assert!(matches!(meta["mechanism"].as_str(), Some("PLAIN" | "LOGIN")), "{meta}");
    assert_eq!(rig.sim.tenant().documents[0].template_id, 1, "no template chosen: SuperOffice's document default");
}

#[tokio::test]
async fn an_expired_xoauth2_token_is_refused_with_the_servers_words_and_nothing_is_sent() {
    let server = SmtpServer::start("starttls");
    let expired = "EwBwA8l6BAAU-expired-token";
    let rig = rig_with(&server, SmtpSecurity::StartTls, SmtpAuth::XOAuth2, expired).await;
    let draft = first_sendable(&rig.delivery.store);
    rig.delivery.approve(draft.id).expect("approve");
    assert_eq!(rig.delivery.deliver(draft.id).await.expect("deliver"), State::Failed);
    let row = rig.delivery.store.get(draft.id).expect("row");
    let reason = row.reason.unwrap_or_default();
    assert!(reason.contains("535"), "{reason}");
    assert!(!reason.contains(expired), "the token must not appear in the reason: {reason}");
    assert!(!row.retryable, "a refused login is not retried by itself");
    assert!(server.received().is_empty());
    assert!(rig.sim.tenant().documents.is_empty());
}

#[tokio::test]
async fn the_relay_check_logs_in_with_xoauth2_on_the_simulated_relay_too() {
    // The simulator's relay answers a bad token the way Google does (a 334 error challenge,
    // then 535); aiosmtpd above answers like Microsoft 365 (535 at once).
    let sim = common::simulator().await;
    let (user, password) = sim.relay_credentials();
    let settings = |auth: SmtpAuth, secret: &str| {
        SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, user.clone(), Secret::new(secret))
            .with_auth(auth)
            .with_ca(Some(sim.relay_ca_pem().to_owned()))
            .with_data_timeout(Duration::from_secs(10))
    };
    let ok = outbox::smtp::probe(&settings(SmtpAuth::XOAuth2, &sim.relay_oauth_token()), &user).await;
    assert_eq!(ok.failure, None, "{:?}", ok.steps);
    assert!(ok.steps.iter().any(|s| s == "AUTH XOAUTH2: accepted"), "{:?}", ok.steps);
    assert!(ok.steps.iter().any(|s| s.contains("Xoauth2") && s.starts_with("EHLO")), "the relay offers XOAUTH2: {:?}", ok.steps);
    for (auth, secret) in [(SmtpAuth::XOAuth2, "ya29.expired"), (SmtpAuth::XOAuth2, password.as_str()), (SmtpAuth::Password, "ya29.x")] {
        let bad = outbox::smtp::probe(&settings(auth, secret), &user).await;
        let failure = bad.failure.unwrap_or_else(|| panic!("{auth:?} with a wrong secret must fail: {:?}", bad.steps));
        assert!(failure.contains("535"), "{failure}");
        assert!(!failure.contains(secret), "{failure}");
        if auth == SmtpAuth::XOAuth2 {
            assert!(
                failure.contains("status 401") && failure.contains("expired"),
                "the provider's error challenge is explained: {failure}"
            );
        }
    }
    assert!(sim.mailbox().messages().is_empty(), "a check never sends");
}

#[tokio::test]
async fn xoauth2_renews_its_access_token_with_the_provider_and_sends_each_message_once() {
    use keychain::SecretStore as _;
    use outbox::mail_oauth::{MailOAuth, TokenRenewer};
    let sim = common::simulator().await;
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).expect("store"));
    outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.expect("intake");
    let (token_url, client_id, first_refresh) = sim.mail_oauth();
    let keys = Arc::new(keychain::MemoryStore::default());
    keys.set("relay-refresh", &Secret::new(first_refresh.clone())).expect("store the refresh token");
    let renewer = Arc::new(TokenRenewer::new(
        MailOAuth { token_url, client_id, client_secret: None, scope: None },
        keys.clone(),
        "relay-refresh".into(),
    ));
    let (user, _) = sim.relay_credentials();
    let smtp = SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, user, Secret::new(""))
        .with_renewer(renewer)
        .with_ca(Some(sim.relay_ca_pem().to_owned()))
        .with_data_timeout(Duration::from_secs(10));
    let me = client.current_principal().await.expect("principal");
    let delivery =
        Delivery::new(store.clone(), client, smtp, Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address });
    let sendable: Vec<i64> = store.list().expect("list").into_iter().filter(|d| d.problem.is_none()).map(|d| d.id).take(3).collect();

    // 0. The relay check renews too (and sends nothing).
    let (user_addr, _) = sim.relay_credentials();
    let probe = outbox::smtp::probe(&delivery.smtp, &user_addr).await;
    assert_eq!(probe.failure, None, "{:?}", probe.steps);
    assert!(probe.steps.iter().any(|s| s == "AUTH XOAUTH2: accepted"), "{:?}", probe.steps);
    assert!(sim.mailbox().messages().is_empty());

    // 1. A token is had from the provider; the refresh token it rotated replaces the old one.
    delivery.approve(sendable[0]).expect("approve");
    assert_eq!(delivery.deliver(sendable[0]).await.expect("deliver"), State::Done);
    let rotated = keys.get("relay-refresh").expect("read").expect("a refresh token");
    assert_ne!(rotated.expose(), first_refresh, "the rotated refresh token was stored");
    assert_eq!(rotated.expose(), sim.mail_oauth().2);

    // 2. The access token expires: the relay refuses it, a new one is had, the message goes once.
    sim.mailbox().expire_token();
    delivery.approve(sendable[1]).expect("approve");
    assert_eq!(delivery.deliver(sendable[1]).await.expect("deliver"), State::Done);
    assert_eq!(sim.mailbox().messages().len(), 2, "each message once");

    // 3. The refresh token is revoked: refused for good, with the provider's words, nothing sent.
    sim.mailbox().expire_token();
    keys.set("relay-refresh", &Secret::new("1//revoked-by-the-admin")).expect("store");
    delivery.approve(sendable[2]).expect("approve");
    assert_eq!(delivery.deliver(sendable[2]).await.expect("deliver"), State::Failed);
    let row = store.get(sendable[2]).expect("row");
    let reason = row.reason.unwrap_or_default();
    assert!(reason.contains("invalid_grant") && !row.retryable, "{reason}");
    assert!(!reason.contains("revoked-by-the-admin"), "no token in the reason: {reason}");
    assert_eq!(sim.mailbox().messages().len(), 2);
}

#[tokio::test]
async fn a_task_without_a_person_email_stays_as_needs_recipient() {
    let server = SmtpServer::start("starttls");
    let rig = rig(&server, SmtpSecurity::StartTls, SMTP_PASSWORD).await;
    let blocked: Vec<_> = rig.delivery.store.list().expect("list").into_iter().filter(|d| d.problem.is_some()).collect();
    assert_eq!(blocked.len(), 2);
    for d in blocked {
        assert_eq!(d.problem, Some(outbox::draft::Problem::NeedsRecipient));
        assert_eq!(d.company, "Bäckerei Schmidt & Söhne KG");
        let err = rig.delivery.approve(d.id).expect_err("cannot approve");
        assert_eq!(err.code(), "draft_not_sendable");
        assert_eq!(rig.delivery.store.get(d.id).expect("row").state, State::Pending, "kept, not dropped");
    }
}

#[tokio::test]
async fn the_hold_window_and_the_sending_limits_decide_when_mail_goes() {
    let server = SmtpServer::start("starttls");
    let mut rig = rig(&server, SmtpSecurity::StartTls, SMTP_PASSWORD).await;
    let sendable: Vec<i64> =
        rig.delivery.store.list().expect("list").into_iter().filter(|d| d.problem.is_none()).map(|d| d.id).take(3).collect();
    let limits = outbox::Limits { daily_cap: 2, min_spacing_ms: 0, per_minute: 0 };

    // Approved with a 1 s hold: nothing leaves during the window, and it can be undone.
    rig.delivery = rig.delivery.with_hold(Duration::from_secs(1));
    rig.delivery.approve(sendable[0]).expect("approve");
    let early = rig.delivery.tick(&limits).await.expect("tick");
    assert!(early.attempted.is_empty(), "sent during the hold window");
    rig.delivery.store.undo_approval(sendable[0], "Anna").expect("undo");
    assert_eq!(rig.delivery.store.get(sendable[0]).expect("row").state, State::Pending);

    for id in &sendable {
        rig.delivery.approve(*id).expect("approve");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = rig.delivery.tick(&limits).await.expect("tick");
    assert_eq!(report.attempted.len(), 2, "the daily cap of 2 holds the third back");
    let (why, _until) = report.waiting.expect("a reason to wait");
    assert_eq!(why, outbox::Pace::DailyLimit { cap: 2 });
    assert_eq!(server.received().len(), 2);
    let states: Vec<State> = sendable.iter().map(|id| rig.delivery.store.get(*id).expect("row").state).collect();
    assert_eq!(states, [State::Done, State::Done, State::Approved]);
}
