//! Shared by the client's integration tests: sign the demo rep in against the simulator.
#![allow(dead_code)]

use std::sync::Arc;

use keychain::MemoryStore;
use superoffice::Client;
use superoffice_sim::SimHandle;

pub use testkit::{request, simulator as sim};

/// Runs the whole sign-in, playing the browser; returns the outcome.
pub async fn try_sign_in(sim: &SimHandle, store: Arc<MemoryStore>) -> superoffice::Result<superoffice::Session> {
    testkit::try_sign_in(sim, store).await
}

pub async fn signed_in(sim: &SimHandle) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let session = try_sign_in(sim, store.clone()).await.unwrap_or_else(|e| panic!("sign-in: {e}"));
    (Client::new(session), store)
}
