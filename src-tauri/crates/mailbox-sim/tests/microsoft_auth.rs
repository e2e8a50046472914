//! The Microsoft identity platform as a public desktop client meets it: the registered
//! `http://localhost` redirect (port ignored, trailing slash in query mode, AADSTS50011 page
//! otherwise), PKCE, single-use codes, no client secret, refresh-token rotation, revocation,
//! consent refusals and partial consent, the id_token, and the token endpoint's strictness.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use mailbox_sim::{browser, ConsentRefusal, MailboxSimConfig};

fn client_id() -> String {
    MailboxSimConfig::microsoft_demo().client_id
}

fn authorize(sim: &mailbox_sim::MailboxSim, redirect: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let id = client_id();
    let mut pairs = vec![
        ("client_id", id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", MS_SCOPES),
        ("state", "st-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    authorize_url(sim.base_url(), "/common/oauth2/v2.0/authorize", &pairs)
}

#[tokio::test]
async fn localhost_redirect_any_port_trailing_slash_and_the_code_reaches_the_listener() {
    let sim = microsoft().await;
    let l = listener("127.0.0.1").await;
    let (verifier, challenge) = pkce();
    let redirect = format!("http://localhost:{}", l.port);
    let landed = browser::consent(&authorize(&sim, &redirect, &challenge, &[]), true).await.expect("redirect");
    // [RU]: a registered URI without a path comes back with `/` in query mode.
    assert!(landed.starts_with(&format!("http://localhost:{}/?code=", l.port)), "{landed}");
    assert_eq!(param(&landed, "state").as_deref(), Some("st-1"));
    let code = param(&landed, "code").expect("code");
    let seen = l.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|r| r.starts_with("GET /?code=")), "the browser followed the redirect: {seen:?}");
    // The token endpoint wants the redirect_uri exactly as sent at authorize (no slash).
    let (s, t) =
        ms_token(&sim, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &redirect), ("code_verifier", &verifier)])
            .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3599);
    assert!(t["refresh_token"].is_string() && t["id_token"].is_string());
    let scope = t["scope"].as_str().unwrap();
    assert!(scope.contains("Mail.Send") && !scope.contains("SMTP.Send"), "one resource per token: {scope}");
    let c = claims(t["id_token"].as_str().unwrap());
    // The id_token verifies against the published keys, with the real issuer and audience.
    let jwks: serde_json::Value =
        http().get(format!("{}/common/discovery/v2.0/keys", sim.base_url())).send().await.unwrap().json().await.unwrap();
    let key =
        jsonwebtoken::DecodingKey::from_rsa_components(jwks["keys"][0]["n"].as_str().unwrap(), jwks["keys"][0]["e"].as_str().unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[client_id()]);
    v.set_issuer(&[format!("https://login.microsoftonline.com/{}/v2.0", MailboxSimConfig::microsoft_demo().user.tenant_id)]);
    jsonwebtoken::decode::<serde_json::Value>(t["id_token"].as_str().unwrap(), &key, &v).expect("a valid id_token");
    assert_eq!(c["aud"], client_id());
    assert_eq!(c["tid"], MailboxSimConfig::microsoft_demo().user.tenant_id);
    assert_eq!(c["preferred_username"], "rep@outbox-demo.onmicrosoft.com");
    assert_eq!(c["email"], "rep@outbox-demo.onmicrosoft.com");
    assert!(c["oid"].is_string());
}

#[tokio::test]
async fn a_redirect_uri_that_does_not_match_gets_the_aadsts50011_page_never_a_redirect() {
    let sim = microsoft().await;
    let (_, challenge) = pkce();
    for bad in ["http://127.0.0.1:5000", "http://localhost:5000/callback", "https://localhost:5000", "http://[::1]:5000"] {
        let page = browser::consent(&authorize(&sim, bad, &challenge, &[]), true).await.expect_err("an error page");
        assert!(page.contains("AADSTS50011"), "{bad}: {page}");
    }
    let r = http().get(authorize(&sim, "http://127.0.0.1:5000", &challenge, &[])).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    // Unknown client: a page too.
    let url = authorize(&sim, "http://localhost:5000", &challenge, &[]).replace(&client_id(), "00000000-0000-0000-0000-000000000000");
    assert!(browser::consent(&url, true).await.unwrap_err().contains("AADSTS700016"));
}

#[tokio::test]
async fn authorize_errors_after_the_redirect_is_trusted_go_back_to_the_app() {
    let sim = microsoft().await;
    let (_, challenge) = pkce();
    let r = "http://localhost:6000";
    let back = browser::consent(&authorize(&sim, r, &challenge, &[("foo", "bar")]), true).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert!(param(&back, "error_description").unwrap().starts_with("AADSTS9002313:"));
    assert_eq!(param(&back, "state").as_deref(), Some("st-1"));
    let back = browser::consent(&authorize(&sim, r, &challenge, &[("resource", "https://graph.microsoft.com")]), true).await.unwrap();
    assert!(param(&back, "error_description").unwrap().starts_with("AADSTS901002:"));
    let back = browser::consent(&authorize(&sim, r, "too-short", &[]), true).await.unwrap();
    assert!(param(&back, "error_description").unwrap().starts_with("AADSTS501491:"), "{back}");
    // PKCE is required, and only S256.
    let no_pkce = authorize(&sim, r, &challenge, &[]).replace("&code_challenge_method=S256", "");
    let back = browser::consent(&no_pkce, true).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    // A repeated parameter: nothing in the request can be trusted, so a page (RFC 6749 §3.1).
    let page = browser::consent(&authorize(&sim, r, &challenge, &[("scope", "x")]), true).await.unwrap_err();
    assert!(page.contains("AADSTS9002313"), "{page}");
    let mixed = authorize(&sim, r, &challenge, &[])
        .replace("offline_access+User.Read", "offline_access+https%3A%2F%2Fgraph.microsoft.com%2F.default+User.Read");
    let back = browser::consent(&mixed, true).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_scope"), "{back}");
    // Fragment mode puts the answer after `#`.
    let (_, challenge) = pkce();
    let back = browser::consent(&authorize(&sim, r, &challenge, &[("response_mode", "fragment")]), true).await.unwrap();
    assert!(back.starts_with("http://localhost:6000/#code="), "{back}");
}

#[tokio::test]
async fn code_redemption_is_strict_verifier_redirect_reuse_secret_and_expiry() {
    let sim = microsoft().await;
    let redirect = "http://localhost:7000";
    let get_code = |challenge: String| {
        let url = authorize(&sim, redirect, &challenge, &[]);
        async move { param(&browser::consent(&url, true).await.unwrap(), "code").unwrap() }
    };
    let (verifier, challenge) = pkce();
    let code = get_code(challenge.clone()).await;
    let form = |code: &str, redirect: &str, verifier: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let as_refs = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let send = |f: Vec<(&'static str, String)>| {
        let sim = &sim;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ms_token(sim, &refs).await
        }
    };
    // A wrong verifier: AADSTS501481, and the code is burned.
    let (s, e) = send(as_refs(&form(&code, redirect, &pkce().0))).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(e["error_codes"][0], 501481);
    assert!(e["error_description"].as_str().unwrap().starts_with("AADSTS501481:"));
    for key in ["timestamp", "trace_id", "correlation_id"] {
        assert!(e[key].is_string(), "{key}");
    }
    let (_, e) = send(as_refs(&form(&code, redirect, &verifier))).await;
    assert_eq!(e["error_codes"][0], 54005, "reused code");
    // Redirect URI differing from the authorize request's (trailing slash).
    let (verifier, challenge) = pkce();
    let code = get_code(challenge).await;
    let (_, e) = send(as_refs(&form(&code, "http://localhost:7000/", &verifier))).await;
    assert_eq!(e["error"], "invalid_grant");
    // A secret from a public client.
    let (verifier, challenge) = pkce();
    let code = get_code(challenge).await;
    let mut f = as_refs(&form(&code, redirect, &verifier));
    f.push(("client_secret", "s3cret".into()));
    let (s, e) = send(f).await;
    assert_eq!((s, e["error"].as_str(), e["error_codes"][0].as_u64()), (401, Some("invalid_client"), Some(700025)));
    // Missing verifier / undocumented parameter / empty scope.
    let (verifier, challenge) = pkce();
    let code = get_code(challenge).await;
    let (_, e) = send(vec![("grant_type", "authorization_code".into()), ("code", code.clone()), ("redirect_uri", redirect.into())]).await;
    assert_eq!(e["error_codes"][0], 900144);
    let mut f = as_refs(&form(&code, redirect, &verifier));
    f.push(("access_type", "offline".into()));
    assert_eq!(send(f).await.1["error_codes"][0], 9002313);
    // Expired code.
    sim.set_code_lifetime(Duration::from_millis(1));
    let (verifier, challenge) = pkce();
    let code = get_code(challenge).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(send(as_refs(&form(&code, redirect, &verifier))).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn token_endpoint_refuses_json_get_and_browser_origins_and_foreign_hosts() {
    let sim = microsoft().await;
    let url = format!("{}/common/oauth2/v2.0/token", sim.base_url());
    let r = http().post(&url).json(&serde_json::json!({"grant_type": "refresh_token"})).send().await.unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error_codes"][0], 900144, "a JSON body carries no form parameters");
    let e: serde_json::Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(e["error_codes"][0], 900561);
    let r = http().post(&url).header("Origin", "https://app.example").form(&[("grant_type", "refresh_token")]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<serde_json::Value>().await.unwrap()["error_description"].as_str().unwrap().starts_with("AADSTS9002326:"));
    let r = http().get(format!("{}/v1.0/me", sim.base_url())).header("Host", "graph.attacker.example").send().await.unwrap();
    assert_eq!(r.status(), 421);
    let r = http().get(format!("{}/v1.0/me", sim.base_url())).header("Origin", "https://attacker.example").send().await.unwrap();
    assert_eq!(r.status(), 403, "a cross-site call");
    let calls: Vec<(String, u16)> = sim.requests().iter().map(|l| (l.path.clone(), l.status)).collect();
    assert!(calls.contains(&("/v1.0/me".to_owned(), 421)) && calls.contains(&("/common/oauth2/v2.0/token".to_owned(), 400)), "{calls:?}");
    let e: serde_json::Value = http()
        .post(format!("{}/consumers/oauth2/v2.0/token", sim.base_url()))
        .form(&[("a", "b")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"], "invalid_request", "the work account's tenant only");
}

#[tokio::test]
async fn refresh_rotates_keeps_the_old_token_valid_and_dies_when_revoked() {
    let sim = microsoft().await;
    let t = ms_sign_in(&sim, MS_SCOPES).await;
    let first = t["refresh_token"].as_str().unwrap().to_owned();
    let (s, r) = ms_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!(s, 200, "{r}");
    let second = r["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second, "[RT] a new refresh token every time");
    let (s, _) = ms_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!(s, 200, "[RT] the old one is not revoked");
    // One refresh token serves the SMTP resource too, one resource per token.
    let (s, smtp) = ms_token(
        &sim,
        &[("grant_type", "refresh_token"), ("refresh_token", &second), ("scope", "https://outlook.office.com/SMTP.Send offline_access")],
    )
    .await;
    assert_eq!(s, 200, "{smtp}");
    assert_eq!(smtp["scope"], "https://outlook.office.com/SMTP.Send");
    // A scope never consented to.
    let (_, e) = ms_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &second), ("scope", "Mail.Read")]).await;
    assert_eq!(e["error_codes"][0], 65001);
    sim.revoke_refresh_tokens();
    let (s, e) = ms_token(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &second)]).await;
    assert_eq!((s, e["error"].as_str(), e["error_codes"][0].as_u64()), (400, Some("invalid_grant"), Some(50173)));
    assert!(e["error_description"].as_str().unwrap().starts_with("AADSTS50173:"));
}

#[tokio::test]
async fn consent_refusals_and_partial_consent() {
    let sim = microsoft().await;
    let (_, challenge) = pkce();
    sim.refuse_consent(ConsentRefusal::UserDeclined);
    let back = browser::consent(&authorize(&sim, "http://localhost:8000", &challenge, &[]), true).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert!(param(&back, "error_description").unwrap().starts_with("AADSTS65004:"));
    assert_eq!(param(&back, "state").as_deref(), Some("st-1"));
    sim.refuse_consent(ConsentRefusal::AdminConsentRequired);
    let page = browser::consent(&authorize(&sim, "http://localhost:8000", &challenge, &[]), true).await.unwrap_err();
    assert!(page.contains("AADSTS90094"), "{page}");
    // Cancel on the consent page.
    let back = browser::consent(&authorize(&sim, "http://localhost:8000", &challenge, &[]), false).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    // The user consents to a subset: no Mail.Send in the token.
    sim.grant_only(&["User.Read", "Mail.ReadWrite"]);
    let t = ms_sign_in(&sim, MS_SCOPES).await;
    let scope = t["scope"].as_str().unwrap();
    assert!(scope.contains("Mail.ReadWrite") && !scope.contains("Mail.Send"), "{scope}");
    let r = http()
        .post(format!("{}/v1.0/me/sendMail", sim.base_url()))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .header("Content-Type", "text/plain")
        .body("VG86IGFAZXhhbXBsZS5jb20NCg0KaGk=")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "ErrorAccessDenied");
}
