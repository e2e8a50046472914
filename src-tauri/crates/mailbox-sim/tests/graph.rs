//! Microsoft Graph as the app meets it: `/me`, the bearer and permission checks, `sendMail`
//! (JSON and base64 MIME), the draft path with immutable ids, the delayed Sent copy, the
//! `internetMessageId` lookup, lost answers, failed sends, throttling and the concurrency limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use mailbox_sim::{MailboxSimConfig, MessageIdPolicy, SimLimits, Via};
use serde_json::{json, Value};

const MIME: &str = "From: Demo Rep <rep@outbox-demo.onmicrosoft.com>\r\nTo: Kim <kim@customer.example>\r\nSubject: Follow-up\r\nDate: Fri, 01 May 2026 10:00:00 +0000\r\nMessage-ID: <follow-up-1@outbox.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Kim.\r\n";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn url(sim: &mailbox_sim::MailboxSim, path: &str) -> String {
    format!("{}/v1.0{path}", sim.base_url())
}

#[tokio::test]
async fn me_bearer_and_permission_checks() {
    let sim = microsoft().await;
    let token = graph_token(&sim).await;
    let me: Value = http().get(url(&sim, "/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["mail"], "rep@outbox-demo.onmicrosoft.com");
    assert_eq!(me["userPrincipalName"], "rep@outbox-demo.onmicrosoft.com");
    assert_eq!(me["displayName"], "Demo Rep");
    assert!(me["id"].is_string());
    let r = http().get(url(&sim, "/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "InvalidAuthenticationToken");
    assert!(e["error"]["innerError"]["request-id"].is_string() && e["error"]["innerError"]["date"].is_string());
    assert_eq!(http().get(url(&sim, "/me")).bearer_auth("not-a-token").send().await.unwrap().status(), 401);
    // A token without User.Read cannot read /me; an SMTP token is for another audience.
    let t = ms_sign_in(&sim, "openid offline_access Mail.Send").await;
    let r = http().get(url(&sim, "/me")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let smtp = ms_sign_in(&sim, "offline_access https://outlook.office.com/SMTP.Send").await;
    let r = http().get(url(&sim, "/me")).bearer_auth(smtp["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    sim.expire_access_tokens();
    assert_eq!(http().get(url(&sim, "/me")).bearer_auth(&token).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn send_mail_mime_keeps_our_bytes_and_json_is_rendered_and_strict() {
    let sim = microsoft().await;
    let token = graph_token(&sim).await;
    let r = http()
        .post(url(&sim, "/me/sendMail"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(b64(MIME))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert!(r.text().await.unwrap().is_empty());
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].mime, MIME.as_bytes(), "MessageIdPolicy::Keep stores exactly the MIME given");
    assert_eq!(sent[0].internet_message_id, "<follow-up-1@outbox.example>");
    assert_eq!(sent[0].recipients, ["kim@customer.example"]);
    assert_eq!(sent[0].via, Via::GraphSendMail);
    // Invalid base64 → ErrorMimeContentInvalidBase64String.
    let r = http()
        .post(url(&sim, "/me/sendMail"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("not base64!")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "ErrorMimeContentInvalidBase64String");
    // JSON: `message` required, `saveToSentItems` a boolean, unknown properties refused.
    let send = |body: Value| http().post(url(&sim, "/me/sendMail")).bearer_auth(&token).json(&body).send();
    let msg = json!({"subject": "Hi", "body": {"contentType": "Text", "content": "Hello"}, "toRecipients": [{"emailAddress": {"address": "lee@customer.example"}}]});
    assert_eq!(send(json!({"saveToSentItems": true})).await.unwrap().status(), 400);
    assert_eq!(send(json!({"message": msg, "saveToSentItems": "false"})).await.unwrap().status(), 400);
    assert_eq!(send(json!({"message": msg, "priority": 1})).await.unwrap().status(), 400);
    let mut odd = msg.clone();
    odd["internetMessageHeaders"] = json!([{"name": "Return-Path", "value": "x@y"}]);
    assert_eq!(send(json!({"message": odd})).await.unwrap().status(), 400, "custom headers must start with x-");
    assert_eq!(send(json!({"message": msg})).await.unwrap().status(), 202);
    assert_eq!(send(json!({"message": msg, "saveToSentItems": false})).await.unwrap().status(), 202);
    let sent = sim.sent();
    assert_eq!(sent.len(), 2, "saveToSentItems:false keeps no copy");
    let text = String::from_utf8(sent[1].mime.clone()).unwrap();
    assert!(text.contains("To: lee@customer.example\r\n") && text.contains("Subject: Hi\r\n") && text.contains("\r\n\r\nHello"), "{text}");
    // Another content type.
    let r = http()
        .post(url(&sim, "/me/sendMail"))
        .bearer_auth(&token)
        .header("Content-Type", "application/xml")
        .body("<x/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn draft_send_with_immutable_ids_delayed_sent_copy_and_lookup() {
    let sim = microsoft().await;
    let token = graph_token(&sim).await;
    sim.sent_copy_delay(Duration::from_millis(400));
    let immutable = "IdType=\"ImmutableId\"";
    let r = http()
        .post(url(&sim, "/me/messages"))
        .bearer_auth(&token)
        .header("Prefer", immutable)
        .header("Content-Type", "text/plain")
        .body(b64(MIME))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers().get("preference-applied").unwrap(), immutable);
    let draft: Value = r.json().await.unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["isDraft"], true);
    assert_eq!(draft["internetMessageId"], "<follow-up-1@outbox.example>");
    let drafts_folder = draft["parentFolderId"].as_str().unwrap().to_owned();
    // The regular id of the same item (no Prefer): it will not survive the move.
    let plain: Value = http().get(url(&sim, &format!("/me/messages/{id}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let regular = plain["id"].as_str().unwrap().to_owned();
    assert_ne!(regular, id);
    // /send needs Content-Length: 0.
    let send = format!("/me/messages/{id}/send");
    let r = http().post(url(&sim, &send)).bearer_auth(&token).header("Content-Length", "0").send().await.unwrap();
    assert_eq!(r.status(), 202);
    let get = || http().get(url(&sim, &format!("/me/messages/{id}"))).bearer_auth(&token).header("Prefer", immutable).send();
    let during: Value = get().await.unwrap().json().await.unwrap();
    assert_eq!((during["isDraft"].as_bool(), during["parentFolderId"].as_str()), (Some(true), Some(drafts_folder.as_str())));
    assert!(sim.sent().is_empty(), "still in Drafts during the delay");
    let filter = |sim: &mailbox_sim::MailboxSim| {
        let mut u = url::Url::parse(&url(sim, "/me/mailFolders/sentitems/messages")).unwrap();
        u.query_pairs_mut().append_pair("$filter", "internetMessageId eq '<follow-up-1@outbox.example>'");
        u.to_string()
    };
    let found: Value = http().get(filter(&sim)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["value"].as_array().unwrap().len(), 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after: Value = get().await.unwrap().json().await.unwrap();
    assert_eq!(after["id"], id, "the immutable id survives the move");
    assert_eq!(after["isDraft"], false);
    assert_ne!(after["parentFolderId"], drafts_folder);
    assert!(after["sentDateTime"].is_string());
    let r = http().get(url(&sim, &format!("/me/messages/{regular}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 404, "the regular id changed with the move");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "ErrorItemNotFound");
    let found: Value = http().get(filter(&sim)).bearer_auth(&token).header("Prefer", immutable).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["value"][0]["id"], id);
    let sent = sim.sent();
    assert_eq!((sent.len(), sent[0].via, sent[0].id.as_str()), (1, Via::GraphDraftSend, id.as_str()));
    assert_eq!(sent[0].mime, MIME.as_bytes());
    // Sending a sent item again is refused; a send without Content-Length is 411.
    assert_eq!(http().post(url(&sim, &send)).bearer_auth(&token).header("Content-Length", "0").send().await.unwrap().status(), 400);
    let raw = raw_post(&sim, &format!("/v1.0/me/messages/{id}/send"), &token).await;
    assert!(raw.starts_with("HTTP/1.1 411"), "{raw}");
}

/// A POST without `Content-Length` (reqwest always sends one for an empty body).
async fn raw_post(sim: &mailbox_sim::MailboxSim, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = sim.base_url().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
    let req = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn draft_creation_needs_mail_readwrite_and_reading_needs_a_read_scope() {
    let sim = microsoft().await;
    let t = ms_sign_in(&sim, "openid offline_access User.Read Mail.Send").await;
    let token = t["access_token"].as_str().unwrap();
    let r = http()
        .post(url(&sim, "/me/messages"))
        .bearer_auth(token)
        .header("Content-Type", "text/plain")
        .body(b64(MIME))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http().get(url(&sim, "/me/mailFolders/sentitems/messages")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn lost_answers_take_effect_and_failed_sends_never_reach_sent() {
    let sim = microsoft().await;
    let token = graph_token(&sim).await;
    sim.lose_next_answers(1);
    let r = http().post(url(&sim, "/me/sendMail")).bearer_auth(&token).header("Content-Type", "text/plain").body(b64(MIME)).send().await;
    assert!(r.is_err(), "no HTTP response: {r:?}");
    assert_eq!(sim.sent().len(), 1, "but the message was sent");
    let log = sim.requests();
    let last = log.iter().rev().find(|l| l.path == "/v1.0/me/sendMail").unwrap();
    assert_eq!((last.status, last.answered), (202, false));
    sim.fail_next_sends(1);
    let draft: Value = http()
        .post(url(&sim, "/me/messages"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(b64(MIME))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_str().unwrap();
    let r =
        http().post(url(&sim, &format!("/me/messages/{id}/send"))).bearer_auth(&token).header("Content-Length", "0").send().await.unwrap();
    assert_eq!(r.status(), 202);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let m: Value = http().get(url(&sim, &format!("/me/messages/{id}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(m["isDraft"], true, "stays in Drafts");
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn throttling_per_minute_and_four_concurrent_requests() {
    let mut cfg = MailboxSimConfig::microsoft_demo();
    cfg.limits = SimLimits { per_minute: Some(2), per_day: None };
    cfg.message_id = MessageIdPolicy::Replace;
    let sim = mailbox_sim::start(cfg).await.unwrap();
    let token = graph_token(&sim).await;
    let send = || http().post(url(&sim, "/me/sendMail")).bearer_auth(&token).header("Content-Type", "text/plain").body(b64(MIME)).send();
    assert_eq!(send().await.unwrap().status(), 202);
    assert_eq!(send().await.unwrap().status(), 202);
    let r = send().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "TooManyRequests");
    let sent = sim.sent();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0].internet_message_id, "<follow-up-1@outbox.example>", "Replace policy");
    assert!(String::from_utf8_lossy(&sent[0].mime).contains(&format!("Message-ID: {}", sent[0].internet_message_id)));
    // [THL]: four concurrent requests per mailbox; the fifth is 429.
    sim.set_latency(Duration::from_millis(300));
    let calls: Vec<_> = (0..5).map(|_| http().get(url(&sim, "/me")).bearer_auth(&token).send()).collect();
    let statuses: Vec<u16> = futures_util::future::join_all(calls).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 4, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
}
