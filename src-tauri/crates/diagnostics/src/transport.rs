//! The checks that need no signed-in caller: the tenant state API and the SMTP relay.

use std::time::Instant;

use outbox::SmtpSettings;
use superoffice::Environment;

use crate::{Check, Owner, Status};

/// `GET https://{env}.superoffice.com/api/state/{ctx}`.
pub async fn tenant_state(env: &Environment, context_id: &str) -> Check {
    let t = Instant::now();
    let r = superoffice::tenant_state(env, context_id).await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("tenant_state", Status::Pass);
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
            c.cause = Some("The tenant is not running (maintenance or suspended).".into());
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some("Wait for the maintenance window to end, or ask SuperOffice about the tenant's state.".into());
        }
        Err(e) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(format!("{e} ({ms} ms)"));
            c.cause = Some("The tenant could not be resolved; check the environment and tenant id.".into());
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
    let mut c = Check::new("smtp_relay", Status::Pass);
    c.tried = p.steps;
    match p.failure {
        None => c.evidence.push(format!("the relay accepts {from} as sender over TLS ({ms} ms)")),
        Some(why) => {
            c.status = Status::Fail;
            c.evidence.push(format!("{why} ({ms} ms)"));
            c.owner = Some(Owner::MailAdmin);
            let lower = why.to_ascii_lowercase();
            c.cause = Some(
                if lower.contains("starttls") || lower.contains("tls") || lower.contains("certificate") {
                    "The relay does not offer a valid TLS connection; the app never sends credentials or mail without it."
                } else if lower.contains("535") || lower.contains("auth") {
                    "The relay refused the login."
                } else if lower.contains("mail from") {
                    "The relay does not accept the rep's address as sender (send-as permission)."
                } else {
                    "The relay could not be reached."
                }
                .into(),
            );
            c.action =
                Some("Check host, port, TLS mode, the account and its send-as right for the rep's address (`so-outbox configure`).".into());
        }
    }
    c
}
