//! The negative sign-in matrix (reliability-security.md OA-01..OA-15): every forged or wrong
//! answer is refused with a clear, coded error, and nothing is stored.

mod common;

use std::sync::Arc;

use base64::Engine as _;
use keychain::{MemoryStore, SecretStore};
use sha2::Digest;
use superoffice_sim::IdTokenTamper;

#[tokio::test]
async fn forged_id_tokens_are_refused_with_a_code() {
    let cases: &[(IdTokenTamper, &[&str])] = &[
        (IdTokenTamper::BadSignature, &["id_token_bad_signature"]),
        (IdTokenTamper::WrongAudience, &["id_token_wrong_audience"]),
        (IdTokenTamper::WrongIssuer, &["id_token_wrong_issuer"]),
        (IdTokenTamper::Expired, &["id_token_expired"]),
        (IdTokenTamper::WrongNonce, &["id_token_wrong_nonce"]),
        (IdTokenTamper::AlgNone, &["id_token_bad_alg", "id_token_malformed"]),
        (IdTokenTamper::Hs256, &["id_token_bad_alg"]),
        (IdTokenTamper::UnknownKid, &["id_token_unknown_key"]),
    ];
    let sim = common::sim().await;
    for (tamper, codes) in cases {
        sim.set_id_token_tamper(Some(*tamper));
        let store = Arc::new(MemoryStore::default());
        let err = common::try_sign_in(&sim, store.clone()).await.err().unwrap_or_else(|| panic!("{tamper:?} was accepted"));
        assert!(codes.contains(&err.code().as_str()), "{tamper:?} gave {} ({err})", err.code());
        let key = superoffice::refresh_token_key(
            &superoffice::Environment::Custom(sim.base_url().to_owned()),
            &sim.context_id(),
            &sim.client().client_id,
        );
        assert!(store.get(&key).ok().flatten().is_none(), "{tamper:?}: nothing may be stored");
    }
    sim.set_id_token_tamper(None);
    assert!(common::try_sign_in(&sim, Arc::new(MemoryStore::default())).await.is_ok(), "an honest token still works");
}

/// The authorization server's side of PKCE and code replay (OA-05, OA-16): a code is good once,
/// and only with the verifier whose challenge was sent.
#[tokio::test]
async fn replayed_codes_and_wrong_verifiers_are_refused() {
    let sim = common::sim().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_else(|e| panic!("{e}"));
    let verifier = "a-test-verifier-with-enough-entropy-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:45678";
    let code = |http: reqwest::Client| {
        let (base, client_id, challenge) = (sim.base_url().to_owned(), sim.client().client_id.clone(), challenge.clone());
        async move {
            let page = http
                .get(format!("{base}/login/common/oauth/authorize"))
                .query(&[
                    ("client_id", client_id.as_str()),
                    ("scope", "openid"),
                    ("response_type", "code"),
                    ("redirect_uri", redirect),
                    ("state", "s"),
                    ("nonce", "n"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .unwrap_or_else(|e| panic!("{e}"))
                .text()
                .await
                .unwrap_or_default();
            let rid = page.split("name=\"request_id\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned();
            let resp = http
                .post(format!("{base}/login/common/oauth/authorize"))
                .form(&[("request_id", rid.as_str()), ("decision", "allow")])
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let loc = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            url::Url::parse(&loc)
                .unwrap_or_else(|e| panic!("{e}"))
                .query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        }
    };
    let token = |code: String, verifier: &'static str| {
        let (http, base, client_id) = (http.clone(), sim.base_url().to_owned(), sim.client().client_id.clone());
        let secret = sim.client().client_secret.clone();
        async move {
            http.post(format!("{base}/login/common/oauth/tokens"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.as_str()),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    };
    let c1 = code(http.clone()).await;
    assert_eq!(token(c1.clone(), "a-test-verifier-with-enough-entropy-0123456789").await, 200);
    assert_eq!(token(c1, "a-test-verifier-with-enough-entropy-0123456789").await, 400, "a code works once");
    let c2 = code(http.clone()).await;
    assert_eq!(token(c2.clone(), "another-verifier-that-does-not-match-000000000").await, 400, "wrong verifier");
    assert_eq!(token(c2, "a-test-verifier-with-enough-entropy-0123456789").await, 400, "a code is burnt by a failed redemption");
    // Issue 13: the demo's provider hands tokens only to the holder of this start's random
    // client secret. Another local process that walks the consent page with a verifier of its
    // own gets a code, and no token for it, without the secret or with a wrong one.
    for secret in [None, Some("demo-secret-guessed")] {
        let c = code(http.clone()).await;
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", sim.client().client_id.clone()),
            ("code", c),
            ("redirect_uri", redirect.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s.to_owned()));
        }
        let resp =
            http.post(format!("{}/login/common/oauth/tokens", sim.base_url())).form(&form).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status().as_u16(), 401, "{secret:?}");
        assert!(resp.text().await.unwrap_or_default().contains("invalid_client"));
    }
    // Nor does any API answer without a token.
    let api = http
        .get(format!("{}/{}/api/v1/User/currentPrincipal", sim.base_url(), sim.context_id()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(api.status().as_u16(), 401);
}

/// After a sign-in the loopback listener is gone: a second request (a replay of the redirect)
/// reaches nothing.
#[tokio::test]
async fn the_listener_takes_one_answer_only() {
    let sim = common::sim().await;
    let pending = superoffice::PendingSignIn::start(common::request(&sim)).await.unwrap_or_else(|e| panic!("{e}"));
    let url = pending.authorize_url().to_owned();
    let redirect: String = url::Url::parse(&url)
        .unwrap_or_else(|e| panic!("{e}"))
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let finish = tokio::spawn(pending.finish(
        Some(keychain::Secret::new(sim.client().client_secret.clone())),
        Arc::new(MemoryStore::default()),
        std::time::Duration::from_secs(20),
    ));
    superoffice_sim::browser::consent(&url, true).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(finish.await.unwrap_or_else(|e| panic!("{e}")).is_ok());
    let again = reqwest::get(format!("{redirect}?code=x&state=y")).await;
    assert!(again.is_err(), "the listener must be closed after one valid redirect");
}
