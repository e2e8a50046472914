//! The relay check against Exchange Online's SMTP submission as its documentation and public
//! logs describe it (the strict `mailbox-sim`): a password is refused with `550 5.7.30` (Basic
//! authentication retired for client submission) and a mailbox with SMTP AUTH switched off
//! answers `535 5.7.139`. Each is shown with the mail admin as owner and the exact action.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diagnostics::{Action, Cause, CheckId, Owner, Status};
use keychain::Secret;
use outbox::{SmtpAuth, SmtpSecurity, SmtpSettings};

async fn exchange() -> mailbox_sim::MailboxSim {
    mailbox_sim::start(mailbox_sim::MailboxSimConfig::microsoft_demo()).await.expect("simulator")
}

fn relay(sim: &mailbox_sim::MailboxSim, auth: SmtpAuth, secret: &str) -> SmtpSettings {
    SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, "rep@outbox-demo.onmicrosoft.com", Secret::new(secret))
        .with_auth(auth)
        .with_ca(Some(sim.smtp_ca_pem().to_owned()))
}

#[tokio::test]
async fn a_password_at_exchange_online_is_shown_as_basic_auth_retired() {
    let sim = exchange().await;
    let c = diagnostics::smtp_relay(&relay(&sim, SmtpAuth::Password, "a-password"), "rep@outbox-demo.onmicrosoft.com").await;
    assert_eq!((c.id, c.status), (CheckId::SmtpRelay, Status::Fail));
    assert!(c.evidence.iter().any(|e| e.contains("5.7.30")), "{:?}", c.evidence);
    assert_eq!((c.cause, c.owner, c.action), (Some(Cause::BasicAuthRetired), Some(Owner::MailAdmin), Some(Action::UseXoauth2ForSmtp)));
}

#[tokio::test]
async fn smtp_auth_switched_off_is_shown_with_the_admins_command() {
    let sim = exchange().await;
    sim.disable_smtp_auth(true);
    let c = diagnostics::smtp_relay(&relay(&sim, SmtpAuth::XOAuth2, "an-access-token"), "rep@outbox-demo.onmicrosoft.com").await;
    assert_eq!(c.status, Status::Fail);
    assert!(c.evidence.iter().any(|e| e.contains("5.7.139")), "{:?}", c.evidence);
    assert_eq!((c.cause, c.owner, c.action.clone()), (Some(Cause::SmtpAuthDisabled), Some(Owner::MailAdmin), Some(Action::EnableSmtpAuth)));
    assert!(c
        .action
        .map(|a| a.english())
        .is_some_and(|a| a.contains("Set-CASMailbox") && a.contains("SmtpClientAuthenticationDisabled $false")));
}
