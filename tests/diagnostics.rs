//! The relay and tenant-state checks against real parts: aiosmtpd (its own process) and the
//! simulator's state API.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::time::Duration;

use common::{SmtpServer, SMTP_PASSWORD, SMTP_USER};
use diagnostics::{Owner, Status};
use keychain::Secret;
use outbox::{SmtpSecurity, SmtpSettings};

fn settings(server: &SmtpServer, security: SmtpSecurity, password: &str) -> SmtpSettings {
    SmtpSettings::new("localhost", server.port, security, SMTP_USER, Secret::new(password))
        .with_ca(Some(server.pki.ca_pem.clone()))
        .with_data_timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn the_relay_check_never_sends_and_names_the_failing_step() {
    let good = SmtpServer::start("starttls");
    let ok = diagnostics::smtp_relay(&settings(&good, SmtpSecurity::StartTls, SMTP_PASSWORD), SMTP_USER).await;
    assert_eq!(ok.status, Status::Pass, "{ok:?}");
    assert!(ok.tried.iter().any(|s| s.starts_with("EHLO")) && ok.tried.iter().any(|s| s.starts_with("MAIL FROM")), "{:?}", ok.tried);
    let bad = diagnostics::smtp_relay(&settings(&good, SmtpSecurity::StartTls, "wrong"), SMTP_USER).await;
    assert_eq!((bad.status, bad.owner), (Status::Fail, Some(Owner::MailAdmin)));
    assert!(bad.evidence[0].contains("535") && !format!("{bad:?}").contains("wrong"), "{bad:?}");
    assert!(good.received().is_empty(), "a check never sends a message");

    let plain = SmtpServer::start("plain");
    let no_tls = diagnostics::smtp_relay(&settings(&plain, SmtpSecurity::StartTls, SMTP_PASSWORD), SMTP_USER).await;
    assert_eq!(no_tls.status, Status::Fail);
    assert!(no_tls.cause == Some(diagnostics::Cause::RelayTls), "{no_tls:?}");

    let mut wrong_ca = settings(&good, SmtpSecurity::StartTls, SMTP_PASSWORD);
    wrong_ca.extra_ca_pem = Some(superoffice_sim::TestPki::generate().unwrap().ca_pem);
    let untrusted = diagnostics::smtp_relay(&wrong_ca, SMTP_USER).await;
    assert_eq!(untrusted.status, Status::Fail, "a certificate we cannot verify fails: {untrusted:?}");
}

#[tokio::test]
async fn sign_in_and_keychain_checks() {
    let sim = common::simulator().await;
    let client = common::sign_in(&sim).await;
    let session = client.session().unwrap();
    let c = diagnostics::sign_in(session).await;
    assert_eq!(c.status, Status::Pass, "{c:?}");
    let k = diagnostics::keychain(&keychain::MemoryStore::default());
    assert_eq!(k.status, Status::Pass, "{k:?}");
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        let real = keychain::Keychain::open("so-outbox-test").unwrap();
        assert_eq!(diagnostics::keychain(&real).status, Status::Pass, "the real Secret Service");
    }
    session.sign_out().await.unwrap();
    let after = diagnostics::sign_in(session).await;
    assert_eq!(after.status, Status::Fail, "no refresh after sign-out: {after:?}");
}

#[tokio::test]
async fn tenant_state_running_and_in_maintenance() {
    let sim = common::simulator().await;
    let env = superoffice::Environment::Custom(sim.base_url().to_owned());
    assert_eq!(diagnostics::tenant_state(&env, &sim.context_id()).await.status, Status::Pass);
    sim.set_profile("maintenance").unwrap();
    let down = diagnostics::tenant_state(&env, &sim.context_id()).await;
    assert_eq!((down.status, down.owner), (Status::Fail, Some(Owner::TenantAdmin)), "{down:?}");
}
