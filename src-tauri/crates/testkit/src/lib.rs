//! Shared test setup for the integration tests, benches and examples of every crate and the
//! app: the demo simulator, a rep signed in through the real loopback sign-in (this code plays
//! the browser on the simulator's consent page), the simulator's relay as SMTP settings, and
//! the test SMTP servers as processes ([`smtp`]).
//!
//! Why it exists: the headless sign-in and the relay settings were written out again in each
//! test suite. Test code only: every crate has it under `[dev-dependencies]`, nothing ships it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use keychain::{MemoryStore, Secret, SecretStore};
use outbox::{SmtpSecurity, SmtpSettings};
use superoffice::{Client, Environment, PendingSignIn, Session, SignInRequest};
use superoffice_sim::{browser, SimConfig, SimHandle};

pub mod smtp;

/// The demo tenant's simulator, started on free ports.
pub async fn simulator() -> SimHandle {
    superoffice_sim::start(SimConfig::demo()).await.unwrap_or_else(|e| panic!("simulator: {e}"))
}

/// One demo simulator for every test of a test binary (starting one takes ~0.4 s), on a
/// runtime of its own that lives as long as the process. Tests that share it sign in anew and
/// keep their own outbox, so they share no rows; what they count in it, they count by their
/// own Message-IDs.
pub fn shared_simulator() -> &'static SimHandle {
    static SIM: OnceLock<SimHandle> = OnceLock::new();
    SIM.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
            let rt = rt.unwrap_or_else(|e| panic!("runtime: {e}"));
            rt.block_on(async {
                let _ = tx.send(simulator().await);
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap_or_else(|e| panic!("the simulator did not start: {e}"))
    })
}

/// The sign-in request for a simulator known by its address, app registration and tenant.
pub fn request_at(base_url: &str, client_id: &str, context_id: &str) -> SignInRequest {
    SignInRequest {
        environment: Environment::Custom(base_url.to_owned()),
        client_id: client_id.to_owned(),
        tenant: Some(context_id.to_owned()),
        login_hint: None,
    }
}

/// The sign-in request for `sim`'s tenant.
pub fn request(sim: &SimHandle) -> SignInRequest {
    request_at(sim.base_url(), &sim.client().client_id, &sim.context_id())
}

/// Runs the whole sign-in for `request`, consenting in the simulator's browser; the refresh
/// token goes to `store`. Returns the outcome (a refused sign-in is an `Err`).
pub async fn try_sign_in_with(request: SignInRequest, secret: Option<Secret>, store: Arc<dyn SecretStore>) -> superoffice::Result<Session> {
    let pending = PendingSignIn::start(request).await?;
    let url = pending.authorize_url().to_owned();
    let finish = tokio::spawn(pending.finish(secret, store, Duration::from_secs(30)));
    browser::consent(&url, true).await.unwrap_or_else(|e| panic!("browser: {e}"));
    finish.await.unwrap_or_else(|e| panic!("join: {e}"))
}

/// [`try_sign_in_with`] for `sim`'s demo rep, with `sim`'s client secret.
pub async fn try_sign_in(sim: &SimHandle, store: Arc<dyn SecretStore>) -> superoffice::Result<Session> {
    try_sign_in_with(request(sim), Some(Secret::new(sim.client().client_secret.clone())), store).await
}

/// The demo rep signed in (the refresh token in memory only).
pub async fn sign_in(sim: &SimHandle) -> Client {
    Client::new(try_sign_in(sim, Arc::new(MemoryStore::default())).await.unwrap_or_else(|e| panic!("sign-in: {e}")))
}

/// The simulator's mail relay (STARTTLS, its own CA, the relay password), with a 10 s wait for
/// the final reply.
pub fn sim_relay(sim: &SimHandle) -> SmtpSettings {
    let (user, password) = sim.relay_credentials();
    SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, user, Secret::new(password))
        .with_ca(Some(sim.relay_ca_pem().to_owned()))
        .with_data_timeout(Duration::from_secs(10))
}

/// A relay nobody listens on (port 9): any attempt over it fails before anything is sent.
pub fn unreachable_relay() -> SmtpSettings {
    SmtpSettings::new("localhost", 9, SmtpSecurity::ImplicitTls, "nobody@roboplanet.example", Secret::new(""))
        .with_data_timeout(Duration::from_secs(5))
}
