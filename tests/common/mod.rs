//! Helpers shared by the app's integration tests: `testkit`'s simulator, sign-in, relays and
//! SMTP servers under the names these tests use, and the sign-in of a child process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure
#![allow(dead_code, unused_imports)] // each test binary uses some of them

use std::sync::Arc;

use keychain::Secret;

pub use testkit::smtp::{Server as SmtpServer, PASSWORD as SMTP_PASSWORD, TOKEN as SMTP_TOKEN, USER as SMTP_USER};
pub use testkit::{sign_in, sim_relay, simulator, unreachable_relay};

/// Signs the demo rep in like [`sign_in`], for a process that knows the simulator only by its
/// address and app registration (a child process of a test, started by the parent).
pub async fn sign_in_at(base_url: &str, client_id: &str, client_secret: &str, context_id: &str) -> superoffice::Client {
    let request = testkit::request_at(base_url, client_id, context_id);
    let session =
        testkit::try_sign_in_with(request, Some(Secret::new(client_secret.to_owned())), Arc::new(keychain::MemoryStore::default())).await;
    superoffice::Client::new(session.expect("sign-in"))
}
