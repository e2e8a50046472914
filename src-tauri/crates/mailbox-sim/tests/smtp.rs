//! The SMTP submission port with STARTTLS and AUTH XOAUTH2, in each provider's words: both
//! AUTH forms, the right token only (Microsoft `SMTP.Send`, Google `https://mail.google.com/`),
//! Exchange's disabled-SMTP-AUTH answer, Gmail's JSON challenge, and the Sent copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mailbox_sim::Via;

const MS_USER: &str = "rep@outbox-demo.onmicrosoft.com";
const G_USER: &str = "rep@outbox-demo.example";

fn message(from: &str, id: &str) -> String {
    format!("From: {from}\r\nTo: kim@customer.example\r\nSubject: via SMTP\r\nDate: Fri, 01 May 2026 10:00:00 +0000\r\nMessage-ID: {id}\r\n\r\nHello.\r\n.leading dot\r\n")
}

#[tokio::test]
async fn microsoft_xoauth2_both_forms_graph_token_refused_and_smtp_auth_disabled() {
    let sim = microsoft().await;
    let t = ms_sign_in(&sim, MS_SCOPES).await;
    let graph = t["access_token"].as_str().unwrap().to_owned();
    let (_, smtp) = ms_token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("scope", "https://outlook.office.com/SMTP.Send"),
        ],
    )
    .await;
    let smtp = smtp["access_token"].as_str().unwrap().to_owned();

    // A Graph token is for another resource.
    let mut s = Smtp::connect(&sim).await;
    let r = s.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(MS_USER, &graph))).await;
    assert!(r.starts_with("535 5.7.3 Authentication unsuccessful"), "{r}");
    let r = s.cmd("MAIL FROM:<rep@outbox-demo.onmicrosoft.com>").await;
    assert!(r.starts_with("530"), "{r}");
    // Initial-response form.
    let r = s.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(MS_USER, &smtp))).await;
    assert_eq!(r, "235 2.7.0 Authentication successful\r\n");
    assert!(s.cmd("MAIL FROM:<someone.else@outbox-demo.onmicrosoft.com>").await.starts_with("550 5.7.60"));
    assert!(s.cmd(&format!("MAIL FROM:<{MS_USER}>")).await.starts_with("250"));
    assert!(s.cmd("RCPT TO:<kim@customer.example>").await.starts_with("250"));
    let r = s.data(&message(MS_USER, "<smtp-1@outbox.example>")).await;
    assert!(r.starts_with("250 2.0.0 OK <smtp-1@outbox.example>"), "{r}");
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].via, Via::Smtp);
    assert_eq!(sent[0].mime, message(MS_USER, "<smtp-1@outbox.example>").as_bytes(), "dot-stuffing undone, bytes kept");
    assert_eq!(sent[0].recipients, ["kim@customer.example"]);

    // The 334 form.
    let mut s = Smtp::connect(&sim).await;
    assert_eq!(s.cmd("AUTH XOAUTH2").await, "334 \r\n");
    assert_eq!(s.cmd(&xoauth2(MS_USER, &smtp)).await, "235 2.7.0 Authentication successful\r\n");
    // Basic auth is retired for client submission.
    let mut s = Smtp::connect(&sim).await;
    assert!(s.cmd("AUTH LOGIN").await.starts_with("550 5.7.30"));

    // [SMTPIMP]: at most three concurrent connections per mailbox (two are still open above).
    let mut third = Smtp::connect(&sim).await;
    assert!(third.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(MS_USER, &smtp))).await.starts_with("235"));
    let mut fourth = Smtp::connect(&sim).await;
    assert_eq!(
        fourth.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(MS_USER, &smtp))).await,
        "432 4.3.2 Concurrent connections limit exceeded.\r\n"
    );
    drop((third, fourth));

    sim.disable_smtp_auth(true);
    let mut s = Smtp::connect(&sim).await;
    let r = s.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(MS_USER, &smtp))).await;
    assert_eq!(r, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.\r\n");
}

#[tokio::test]
async fn google_xoauth2_needs_the_full_mail_scope_and_answers_with_the_json_challenge() {
    let sim = google().await;
    let send_only = google_sign_in(&sim, &format!("openid email {GOOGLE_SEND}")).await["access_token"].as_str().unwrap().to_owned();
    let mut s = Smtp::connect(&sim).await;
    let r = s.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(G_USER, &send_only))).await;
    let challenge = r.strip_prefix("334 ").expect("a 334 challenge").trim();
    let json: serde_json::Value =
        serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::STANDARD, challenge).unwrap()).unwrap();
    assert_eq!(json["status"], "400");
    assert_eq!(json["scope"], "https://mail.google.com/");
    let r = s.cmd("").await;
    assert!(r.starts_with("535-5.7.8 Username and Password not accepted") && r.trim_end().ends_with("- gsmtp"), "{r}");

    let full = google_sign_in(&sim, &format!("openid email {GOOGLE_FULL}")).await["access_token"].as_str().unwrap().to_owned();
    let mut s = Smtp::connect(&sim).await;
    assert_eq!(s.cmd(&format!("AUTH XOAUTH2 {}", xoauth2(G_USER, &full))).await, "235 2.7.0 Accepted\r\n");
    assert!(s.cmd(&format!("MAIL FROM:<{G_USER}>")).await.starts_with("250"));
    assert!(s.cmd("RCPT TO:<kim@customer.example>").await.starts_with("250"));
    assert!(s.data(&message(G_USER, "<valid-1@outbox.example>")).await.starts_with("250 2.0.0 OK"));
    // An invalid Message-ID is replaced, the original kept aside.
    assert!(s.cmd(&format!("MAIL FROM:<{G_USER}>")).await.starts_with("250"));
    assert!(s.cmd("RCPT TO:<kim@customer.example>").await.starts_with("250"));
    assert!(s.data(&message(G_USER, "not-a-message-id")).await.starts_with("250"));
    let sent = sim.sent();
    assert_eq!(sent[0].internet_message_id, "<valid-1@outbox.example>", "SMTP keeps a valid Message-ID");
    assert!(sent[1].internet_message_id.ends_with("@mx.google.com>"));
    assert!(String::from_utf8_lossy(&sent[1].mime).contains("X-Google-Original-Message-ID: not-a-message-id\r\n"));
}
