//! Sign-in and REST against the simulator: the real loopback listener, the real token
//! endpoint with PKCE, a real RS256 id_token checked against the JWKS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use std::sync::Arc;
use std::time::Duration;

use keychain::{MemoryStore, Secret, SecretStore};
use superoffice::{AppointmentFilter, Client, Environment, PendingSignIn, SignInRequest};
use superoffice_sim::{browser, SimConfig};

async fn sim() -> superoffice_sim::SimHandle {
    superoffice_sim::start(SimConfig::demo()).await.unwrap_or_else(|e| panic!("simulator: {e}"))
}

fn request(sim: &superoffice_sim::SimHandle) -> SignInRequest {
    SignInRequest {
        environment: Environment::Custom(sim.base_url().to_owned()),
        client_id: sim.client().client_id.clone(),
        tenant: Some(sim.context_id()),
        login_hint: None,
    }
}

#[tokio::test]
async fn rep_signs_in_and_reads_their_tasks() {
    let sim = sim().await;
    let store = Arc::new(MemoryStore::default());
    let pending = PendingSignIn::start(request(&sim)).await.expect("start");
    let url = pending.authorize_url().to_owned();
    assert!(url.contains("code_challenge_method=S256") && url.contains("nonce=") && url.contains("acr_values=tenant%3ADemo26720"), "{url}");
    let secret = Some(Secret::new(sim.client().client_secret.clone()));
    let finish = tokio::spawn(pending.finish(secret, store.clone(), Duration::from_secs(20)));
    let seen = browser::consent(&url, true).await.expect("browser");
    assert_eq!(seen.loopback_status, 200);
    let session = finish.await.expect("join").expect("sign-in");
    assert_eq!(session.claims().associate_id, 18);
    assert_eq!(session.claims().context_id, "Demo26720");

    let key = format!("superoffice-refresh-token:127.0.0.1:Demo26720:{}", sim.client().client_id);
    assert!(store.get(&key).expect("store").is_some(), "the refresh token is in the keychain");

    let client = Client::new(session);
    let me = client.current_principal().await.expect("principal");
    assert_eq!(me.email_address, "anna.berger@roboplanet.example");
    let tasks = client.open_tasks(&AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.expect("tasks");
    assert_eq!(tasks.len(), 25);
    assert!(tasks.iter().all(|t| t.description.starts_with("Subject: ")));
}

/// The Native-app template registers `^http://127.0.0.1\:\d{4,10}$`: the app's redirect is
/// exactly `http://127.0.0.1:{port}`, and a registration that does not allow it is reported
/// before the browser opens, with the fix, instead of after the sign-in timeout.
#[tokio::test]
async fn the_redirect_fits_the_native_template_and_a_mismatch_is_reported_at_once() {
    let sim = sim().await;
    let pending = PendingSignIn::start(request(&sim)).await.expect("start");
    let redirect: String = url::Url::parse(pending.authorize_url())
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("redirect_uri");
    let port = redirect.strip_prefix("http://127.0.0.1:").expect("loopback");
    assert!(port.len() >= 4 && port.chars().all(|c| c.is_ascii_digit()), "no path, no slash: {redirect}");
    drop(pending);

    sim.set_redirect_rules(vec![r"^http://127.0.0.1\:\d{4,10}/callback$".to_owned()]).expect("rules");
    let started = std::time::Instant::now();
    let err = PendingSignIn::start(request(&sim)).await.err().expect("a registration without our redirect is refused");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.code(), "registration_refused");
    let text = err.to_string();
    assert!(text.contains("http://127.0.0.1:") && text.contains("app registration") && text.contains("400"), "{text}");
}

#[tokio::test]
async fn denied_consent_is_a_clean_cancel() {
    let sim = sim().await;
    let pending = PendingSignIn::start(request(&sim)).await.expect("start");
    let url = pending.authorize_url().to_owned();
    let finish = tokio::spawn(pending.finish(None, Arc::new(MemoryStore::default()), Duration::from_secs(20)));
    browser::consent(&url, false).await.expect("browser");
    let err = finish.await.expect("join").err().expect("must fail");
    assert_eq!(err.code(), "sign_in_cancelled");
}

#[tokio::test]
async fn a_forged_redirect_does_not_end_the_flow() {
    let sim = sim().await;
    let pending = PendingSignIn::start(request(&sim)).await.expect("start");
    let url = pending.authorize_url().to_owned();
    let redirect: String = url::Url::parse(&url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("redirect_uri");
    let finish = tokio::spawn(pending.finish(
        Some(Secret::new(sim.client().client_secret.clone())),
        Arc::new(MemoryStore::default()),
        Duration::from_secs(20),
    ));
    // A local attacker races the real redirect with a wrong state: ignored, listener stays up.
    let forged = reqwest::get(format!("{redirect}?code=forged&state=wrong")).await.expect("forged request");
    assert_eq!(forged.status().as_u16(), 400);
    browser::consent(&url, true).await.expect("browser");
    let session = finish.await.expect("join").expect("the real redirect still signs in");
    assert_eq!(session.claims().associate_id, 18);
}
