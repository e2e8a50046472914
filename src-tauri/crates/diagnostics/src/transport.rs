//! The checks that need no signed-in caller: the tenant state API and the SMTP relay.

use std::time::Instant;

use outbox::SmtpSettings;
use superoffice::Environment;

use crate::{Action, Cause, Check, CheckId, Owner, Status};

/// `GET https://{env}.superoffice.com/api/state/{ctx}`.
pub async fn tenant_state(env: &Environment, context_id: &str) -> Check {
    let t = Instant::now();
    let r = superoffice::tenant_state(env, context_id).await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::TenantState, Status::Pass);
    c.tried.push(format!("GET {}", env.state_url(context_id)));
    c.docs = Some("https://docs.superoffice.com/en/developer-portal/best-practices/tenant-status/check-status.html".into());
    match r {
        Ok(s) if s.is_running => c.evidence.push(format!(
            "200: {} is {} at {} ({ms} ms)",
            s.context_identifier,
            s.state.unwrap_or_default(),
            s.api.unwrap_or_default()
        )),
        Ok(s) => {
            c.status = Status::Fail;
            c.evidence.push(format!("200: State {:?}, IsRunning false ({ms} ms)", s.state.unwrap_or_default()));
            c.cause = Some(Cause::TenantNotRunning);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::WaitForTenant);
        }
        Err(e) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(format!("{e} ({ms} ms)"));
            c.cause = Some(Cause::TenantUnresolved);
            c.owner = Some(Owner::TenantAdmin);
        }
    }
    c
}

/// Connect, TLS, EHLO, AUTH and `MAIL FROM` with the rep's address — without sending.
pub async fn smtp_relay(settings: &SmtpSettings, from: &str) -> Check {
    let t = Instant::now();
    let p = outbox::smtp::probe(settings, from).await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::SmtpRelay, Status::Pass);
    c.tried = p.steps;
    match p.failure {
        None => c.evidence.push(format!("the relay accepts {from} as sender over TLS ({ms} ms)")),
        Some(why) => {
            c.status = Status::Fail;
            c.evidence.push(format!("{why} ({ms} ms)"));
            c.owner = Some(Owner::MailAdmin);
            let lower = why.to_ascii_lowercase();
            // The server's enhanced status codes first (RFC 3463): they say exactly what the
            // mail admin must change.
            let smtp_auth_off = why.contains("5.7.139");
            let basic_retired = why.contains("5.7.30");
            c.cause = Some(if smtp_auth_off {
                Cause::SmtpAuthDisabled
            } else if basic_retired {
                Cause::BasicAuthRetired
            } else if lower.contains("starttls") || lower.contains("tls") || lower.contains("certificate") {
                Cause::RelayTls
            } else if lower.contains("did not renew") {
                Cause::RelayTokenNotRenewed
            } else if (lower.contains("535") || lower.contains("auth")) && settings.auth == outbox::SmtpAuth::XOAuth2 {
                Cause::RelayTokenRefused
            } else if lower.contains("535") || lower.contains("auth") {
                Cause::RelayLoginRefused
            } else if lower.contains("mail from") {
                Cause::RelaySenderRefused
            } else {
                Cause::RelayUnreachable
            });
            c.action = Some(if smtp_auth_off {
                Action::EnableSmtpAuth
            } else if basic_retired {
                Action::UseXoauth2ForSmtp
            } else if settings.renewer.is_some() {
                Action::RenewRefreshToken
            } else if settings.auth == outbox::SmtpAuth::XOAuth2 {
                Action::StoreFreshAccessToken
            } else {
                Action::CheckRelaySettings
            });
        }
    }
    c
}

/// Store, read back and delete a random canary in the OS keychain.
pub fn keychain(store: &dyn keychain::SecretStore) -> Check {
    let t = Instant::now();
    let name = format!("diagnostics-canary-{:016x}", std::process::id() as u64 ^ t.elapsed().as_nanos() as u64 ^ 0x5eed);
    let value = keychain::Secret::new(format!("canary-{name}"));
    let mut c = Check::new(CheckId::Keychain, Status::Pass);
    c.tried = vec!["store a canary".into(), "read it back".into(), "delete it".into()];
    let result = store.set(&name, &value).and_then(|_| store.get(&name)).and_then(|back| {
        store.delete(&name)?;
        Ok(back)
    });
    let ms = t.elapsed().as_millis();
    match result {
        Ok(Some(back)) if back == value => c.evidence.push(format!("stored, read back and deleted ({ms} ms)")),
        Ok(_) => {
            c.status = Status::Fail;
            c.evidence.push(format!("the canary did not come back ({ms} ms)"));
            c.cause = Some(Cause::KeychainLoses);
            c.owner = Some(Owner::Rep);
        }
        Err(e) => {
            c.status = Status::Fail;
            c.evidence.push(format!("{e} ({ms} ms)"));
            c.cause = Some(Cause::KeychainUnusable);
            c.owner = Some(Owner::Rep);
            c.action = Some(Action::UnlockKeychain);
        }
    }
    c
}

/// The rep's sign-in: a valid session (its id_token was validated when it was made) and a
/// working refresh (refresh token, client secret, refreshed id_token with the same subject).
pub async fn sign_in(session: &superoffice::Session) -> Check {
    let t = Instant::now();
    let r = session.refresh_now().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::SignIn, Status::Pass);
    c.tried = vec![
        "id_token validated at sign-in (RS256, iss, aud, exp, nonce)".into(),
        "POST /login/common/oauth/tokens (refresh_token)".into(),
    ];
    c.evidence.push(format!("signed in as associate {} of {}", session.claims().associate_id, session.claims().context_id));
    match r {
        Ok(()) => c.evidence.push(format!("refresh ok ({ms} ms)")),
        Err(e) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(format!("refresh: {e} ({ms} ms)"));
            c.cause = Some(Cause::SessionNotRenewable);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::CheckClientSecret);
        }
    }
    c
}
