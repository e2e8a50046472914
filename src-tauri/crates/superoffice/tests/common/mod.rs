//! Shared by the client's integration tests: sign the demo rep in against the simulator.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use keychain::{MemoryStore, Secret};
use superoffice::{Client, Environment, PendingSignIn, SignInRequest};
use superoffice_sim::{browser, SimConfig, SimHandle};

pub async fn sim() -> SimHandle {
    superoffice_sim::start(SimConfig::demo()).await.unwrap_or_else(|e| panic!("simulator: {e}"))
}

pub fn request(sim: &SimHandle) -> SignInRequest {
    SignInRequest {
        environment: Environment::Custom(sim.base_url().to_owned()),
        client_id: sim.client().client_id.clone(),
        tenant: Some(sim.context_id()),
        login_hint: None,
    }
}

/// Runs the whole sign-in, playing the browser; returns the outcome.
pub async fn try_sign_in(sim: &SimHandle, store: Arc<MemoryStore>) -> superoffice::Result<superoffice::Session> {
    let pending = PendingSignIn::start(request(sim)).await?;
    let url = pending.authorize_url().to_owned();
    let secret = Some(Secret::new(sim.client().client_secret.clone()));
    let finish = tokio::spawn(pending.finish(secret, store, Duration::from_secs(20)));
    browser::consent(&url, true).await.unwrap_or_else(|e| panic!("browser: {e}"));
    finish.await.unwrap_or_else(|e| panic!("join: {e}"))
}

pub async fn signed_in(sim: &SimHandle) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let session = try_sign_in(sim, store.clone()).await.unwrap_or_else(|e| panic!("sign-in: {e}"));
    (Client::new(session), store)
}
