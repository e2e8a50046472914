//! Google OAuth for a Desktop client and the Gmail API subset: loopback redirects, the
//! redirect's extra parameters, the required client secret, PKCE errors, refresh without
//! rotation, revocation, the id_token, granular consent, refusals, `messages.send` with the
//! API's own Message-ID, read scopes for list/get/profile, and the per-user rate limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::*;
use mailbox_sim::{browser, ConsentRefusal, MailboxSimConfig, MessageIdPolicy, SimLimits, Via};
use serde_json::{json, Value};

fn auth_url(sim: &mailbox_sim::MailboxSim, redirect: &str, challenge: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let cfg = MailboxSimConfig::google_demo();
    let mut pairs = vec![
        ("client_id", cfg.client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", "st-g"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    authorize_url(sim.base_url(), "/o/oauth2/v2/auth", &pairs)
}

const RAW: &str = "From: Demo Rep <rep@outbox-demo.example>\r\nTo: kim@customer.example\r\nSubject: Follow-up\r\nMessage-ID: <ours-1@outbox.example>\r\n\r\nHello Kim.\r\n";

#[tokio::test]
async fn loopback_redirect_carries_code_state_scope_and_the_token_needs_the_secret() {
    let sim = google().await;
    let l = listener("127.0.0.1").await;
    let (verifier, challenge) = pkce();
    let redirect = format!("http://127.0.0.1:{}", l.port);
    let scope = format!("openid email {GOOGLE_SEND}");
    let landed =
        browser::consent(&auth_url(&sim, &redirect, &challenge, &scope, &[("access_type", "offline"), ("prompt", "consent")]), true)
            .await
            .unwrap();
    assert!(landed.starts_with(&format!("http://127.0.0.1:{}/?", l.port)), "{landed}");
    assert_eq!(param(&landed, "state").as_deref(), Some("st-g"));
    let granted = param(&landed, "scope").unwrap();
    assert!(granted.contains("https://www.googleapis.com/auth/userinfo.email") && granted.contains(GOOGLE_SEND), "{granted}");
    assert!(param(&landed, "code").unwrap().starts_with("4/"));
    assert!(l.seen.lock().unwrap().iter().any(|r| r.starts_with("GET /?state=st-g")));
    let code = param(&landed, "code").unwrap();
    // No secret: refused as Google does for Desktop clients.
    let cfg = MailboxSimConfig::google_demo();
    let form = [
        ("client_id", cfg.client_id.as_str()),
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &redirect),
        ("code_verifier", &verifier),
    ];
    let r = http().post(format!("{}/token", sim.base_url())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "invalid_request", "error_description": "client_secret is missing."}));
    // The code survived (the request never reached it): redeem with the secret.
    let (s, t) = google_token(
        &sim,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &redirect), ("code_verifier", &verifier)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert!(t["access_token"].as_str().unwrap().starts_with("ya29."));
    assert!(t["refresh_token"].is_string());
    assert_eq!(t["token_type"], "Bearer");
    let scope = t["scope"].as_str().unwrap();
    assert!(
        scope.split(' ').any(|s| s == "https://www.googleapis.com/auth/userinfo.email") && !scope.split(' ').any(|s| s == "email"),
        "{scope}"
    );
    let c = claims(t["id_token"].as_str().unwrap());
    assert_eq!((c["email"].as_str(), c["email_verified"].as_bool()), (Some("rep@outbox-demo.example"), Some(true)));
    assert_eq!(c["iss"], "https://accounts.google.com");
    assert_eq!(c["aud"], cfg.client_id);
    assert_eq!(c["hd"], "outbox-demo.example");
    // Reused code.
    let (s, e) = google_token(
        &sim,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &redirect), ("code_verifier", &verifier)],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn ipv6_loopback_any_port_and_bad_redirects_get_the_error_page() {
    let sim = google().await;
    let (_, challenge) = pkce();
    let scope = format!("openid {GOOGLE_SEND}");
    let landed = browser::consent(&auth_url(&sim, "http://[::1]:61000/oauth2callback", &challenge, &scope, &[]), true).await.unwrap();
    assert!(landed.starts_with("http://[::1]:61000/oauth2callback?"), "{landed}");
    for bad in ["https://127.0.0.1:5000", "http://10.1.2.3:5000", "urn:ietf:wg:oauth:2.0:oob", "http://outbox.example/cb"] {
        let page = browser::consent(&auth_url(&sim, bad, &challenge, &scope, &[]), true).await.unwrap_err();
        assert!(page.contains("Error 400: redirect_uri_mismatch"), "{bad}: {page}");
    }
    let page = browser::consent(&auth_url(&sim, "http://127.0.0.1:5000", "short", &scope, &[]), true).await.unwrap_err();
    assert!(page.contains("invalid_grant"), "missing/invalid code_challenge: {page}");
    let page = browser::consent(&auth_url(&sim, "http://127.0.0.1:5000", &challenge, &scope, &[("response_mode", "query")]), true)
        .await
        .unwrap_err();
    assert!(page.contains("invalid_request"), "undocumented parameter: {page}");
    let page = browser::consent(&auth_url(&sim, "http://127.0.0.1:5000", &challenge, "gmail.send", &[]), true).await.unwrap_err();
    assert!(page.contains("invalid_scope"), "{page}");
}

#[tokio::test]
async fn pkce_and_redirect_errors_at_the_token_endpoint() {
    let sim = google().await;
    let redirect = "http://127.0.0.1:5001";
    let scope = format!("openid {GOOGLE_SEND}");
    let code_for = |challenge: String| {
        let url = auth_url(&sim, redirect, &challenge, &scope, &[]);
        async move { param(&browser::consent(&url, true).await.unwrap(), "code").unwrap() }
    };
    let (_, challenge) = pkce();
    let code = code_for(challenge).await;
    let (_, e) = google_token(&sim, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect)]).await;
    assert_eq!(e, json!({"error": "invalid_grant", "error_description": "Missing code verifier."}));
    let (_, challenge) = pkce();
    let code = code_for(challenge).await;
    let (_, e) = google_token(
        &sim,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect), ("code_verifier", &pkce().0)],
    )
    .await;
    assert_eq!(e, json!({"error": "invalid_grant", "error_description": "Invalid code verifier."}));
    let (verifier, challenge) = pkce();
    let code = code_for(challenge).await;
    let (_, e) = google_token(
        &sim,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://127.0.0.1:5002"), ("code_verifier", &verifier)],
    )
    .await;
    assert_eq!(e["error"], "redirect_uri_mismatch");
    let r = http().post(format!("{}/token", sim.base_url())).json(&json!({"grant_type": "authorization_code"})).send().await.unwrap();
    assert_eq!(r.status(), 400, "a JSON body");
    let r = http()
        .post(format!("{}/token", sim.base_url()))
        .header("Origin", "https://web.example")
        .form(&[("grant_type", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a browser origin");
}

#[tokio::test]
async fn refresh_does_not_rotate_revoke_and_revoked_refresh_tokens() {
    let sim = google().await;
    let t = google_sign_in(&sim, &format!("openid email {GOOGLE_SEND}")).await;
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let (s, r) = google_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(s, 200, "{r}");
    assert!(r.get("refresh_token").is_none(), "T4: no rotation");
    assert!(r["scope"].as_str().unwrap().contains(GOOGLE_SEND));
    let (s, _) = google_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "openid")]).await;
    assert_eq!(s, 400, "scope is not a refresh parameter for installed apps");
    sim.revoke_refresh_tokens();
    let (_, e) = google_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(e, json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}));
    // /revoke: an access token revokes its grant; a dead token is invalid_token; GET is 404.
    let t = google_sign_in(&sim, &format!("openid {GOOGLE_SEND}")).await;
    let access = t["access_token"].as_str().unwrap();
    let revoke = format!("{}/revoke", sim.base_url());
    assert_eq!(http().post(&revoke).form(&[("token", access)]).send().await.unwrap().status(), 200);
    let r =
        http().post(&revoke).query(&[("token", access)]).header("Content-Type", "application/x-www-form-urlencoded").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_token");
    let (_, e) = google_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())]).await;
    assert_eq!(e["error"], "invalid_grant", "the grant's refresh token died with it");
    assert_eq!(http().get(&revoke).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn refusals_and_granular_consent() {
    let sim = google().await;
    let (_, challenge) = pkce();
    let scope = format!("openid email {GOOGLE_SEND}");
    sim.refuse_consent(ConsentRefusal::AccessDenied);
    let back = browser::consent(&auth_url(&sim, "http://127.0.0.1:5003", &challenge, &scope, &[]), true).await.unwrap();
    assert_eq!((param(&back, "error").as_deref(), param(&back, "state").as_deref()), (Some("access_denied"), Some("st-g")));
    assert!(param(&back, "code").is_none());
    sim.refuse_consent(ConsentRefusal::AdminPolicy);
    let page = browser::consent(&auth_url(&sim, "http://127.0.0.1:5003", &challenge, &scope, &[]), true).await.unwrap_err();
    assert!(page.contains("Error 400: admin_policy_enforced"), "{page}");
    // The user unticks gmail.send: a code still comes back, the token lacks the scope.
    sim.grant_only(&["openid"]);
    let t = google_sign_in(&sim, &scope).await;
    assert!(!t["scope"].as_str().unwrap().contains("gmail.send"), "{t}");
    let r = http()
        .post(format!("{}/gmail/v1/users/me/messages/send", sim.base_url()))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .json(&json!({"raw": "eA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["errors"][0]["reason"], "insufficientPermissions");
    assert_eq!(e["error"]["status"], "PERMISSION_DENIED");
}

#[tokio::test]
async fn gmail_send_replaces_the_message_id_and_send_only_cannot_read_back() {
    let sim = google().await;
    let send_only = google_sign_in(&sim, &format!("openid email {GOOGLE_SEND}")).await["access_token"].as_str().unwrap().to_owned();
    let base = sim.base_url().to_owned();
    let send =
        |token: &str, body: Value| http().post(format!("{base}/gmail/v1/users/me/messages/send")).bearer_auth(token).json(&body).send();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(RAW);
    let r = send(&send_only, json!({"raw": raw})).await.unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["labelIds"], json!(["SENT"]));
    assert!(answer["id"].is_string() && answer["threadId"].is_string());
    let sent = sim.sent();
    assert_eq!((sent.len(), sent[0].via, sent[0].id.as_str()), (1, Via::GmailApi, answer["id"].as_str().unwrap()));
    assert!(sent[0].internet_message_id.starts_with("<CA") && sent[0].internet_message_id.ends_with("@mail.gmail.com>"), "Replace policy");
    let stored = String::from_utf8(sent[0].mime.clone()).unwrap();
    assert!(!stored.contains("ours-1@outbox.example") && stored.contains("with HTTPREST"), "{stored}");
    // Strictness of `raw`.
    for (body, why) in
        [(json!({}), "raw missing"), (json!({"raw": "a+b/"}), "standard alphabet"), (json!({"raw": raw, "snippet": "x"}), "unknown field")]
    {
        let r = send(&send_only, body).await.unwrap();
        assert_eq!(r.status(), 400, "{why}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["status"], "INVALID_ARGUMENT", "{why}");
    }
    let no_rcpt = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("Subject: x\r\n\r\nbody\r\n");
    assert_eq!(send(&send_only, json!({"raw": no_rcpt})).await.unwrap().status(), 400);
    let r = http().post(format!("{base}/gmail/v1/users/me/messages/send")).json(&json!({"raw": raw})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["errors"][0]["reason"], "authError");
    // gmail.send can neither list, get, nor read the profile.
    let id = answer["id"].as_str().unwrap();
    for path in ["messages?q=rfc822msgid:x".to_owned(), format!("messages/{id}"), "profile".to_owned()] {
        let r = http().get(format!("{base}/gmail/v1/users/me/{path}")).bearer_auth(&send_only).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    // A read scope finds the message by the Message-ID Gmail stored, not by ours.
    let reader = google_sign_in(&sim, &format!("openid {GOOGLE_READ}")).await["access_token"].as_str().unwrap().to_owned();
    let list = |q: String| http().get(format!("{base}/gmail/v1/users/me/messages")).bearer_auth(&reader).query(&[("q", q)]).send();
    let none: Value = list("rfc822msgid:<ours-1@outbox.example>".into()).await.unwrap().json().await.unwrap();
    assert_eq!(none, json!({"resultSizeEstimate": 0}));
    let found: Value = list(format!("in:sent rfc822msgid:{}", sent[0].internet_message_id)).await.unwrap().json().await.unwrap();
    assert_eq!(found["messages"][0]["id"], answer["id"]);
    let m: Value = http()
        .get(format!("{base}/gmail/v1/users/me/messages/{id}"))
        .bearer_auth(&reader)
        .query(&[("format", "metadata"), ("metadataHeaders", "Message-ID")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["payload"]["headers"], json!([{"name": "Message-ID", "value": sent[0].internet_message_id}]));
    let profile: Value =
        http().get(format!("{base}/gmail/v1/users/me/profile")).bearer_auth(&reader).send().await.unwrap().json().await.unwrap();
    assert_eq!(profile["emailAddress"], "rep@outbox-demo.example");
}

#[tokio::test]
async fn keep_policy_lost_answer_failed_send_and_the_user_rate_limit() {
    let mut cfg = MailboxSimConfig::google_demo();
    cfg.message_id = MessageIdPolicy::Keep;
    cfg.limits = SimLimits { per_minute: None, per_day: Some(2) };
    let sim = mailbox_sim::start(cfg).await.unwrap();
    let token = google_sign_in(&sim, &format!("openid {GOOGLE_SEND}")).await["access_token"].as_str().unwrap().to_owned();
    let raw = base64::engine::general_purpose::URL_SAFE.encode(RAW); // padded is accepted too
    let send =
        || http().post(format!("{}/gmail/v1/users/me/messages/send", sim.base_url())).bearer_auth(&token).json(&json!({"raw": raw})).send();
    sim.lose_next_answers(1);
    assert!(send().await.is_err(), "the answer is lost");
    assert_eq!(sim.sent().len(), 1, "the message went out anyway");
    assert_eq!(sim.sent()[0].internet_message_id, "<ours-1@outbox.example>", "Keep policy");
    sim.fail_next_sends(1);
    assert_eq!(send().await.unwrap().status(), 200, "ERR: a 200 does not mean it was sent");
    assert_eq!(sim.sent().len(), 1);
    let r = send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none(), "no Retry-After header is documented");
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().starts_with("User-rate limit exceeded.  Retry after 20"), "{e}");
    assert_eq!(e["error"]["errors"][0]["reason"], "rateLimitExceeded");
    assert_eq!(e["error"]["errors"][0]["domain"], "usageLimits");
    assert_eq!(e["error"]["status"], "RESOURCE_EXHAUSTED");
}
