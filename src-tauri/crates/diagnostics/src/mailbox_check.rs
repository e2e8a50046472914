//! The rep's own mailbox (Microsoft 365 or Google), as the mailbox channel needs it: connected,
//! the connection still honoured (an access token renews; at Microsoft, Graph's `/me` answers),
//! sending permission granted, the same address as the rep's in SuperOffice, and how much of
//! the provider's daily limit is left. Nothing is sent.

use std::sync::Arc;
use std::time::Instant;

use codes::ErrorCode;

use crate::{Action, Cause, Check, CheckId, Owner, Status};

/// The connected mailbox the diagnosis tests.
#[derive(Clone)]
pub struct MailboxUnderTest {
    pub api: Arc<mailbox::Mailbox>,
    pub account: mailbox::Account,
    /// Messages the rep sent in the last 24 hours (from the outbox).
    pub sent_last_day: u32,
}

/// What the diagnosis found usable: the channel policy's input.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, specta::Type)]
pub struct MailboxFound {
    pub provider: mailbox::Provider,
    pub address: String,
}

/// Not connected: not a failure, an option the rep has.
pub fn not_connected() -> Check {
    let mut c = Check::new(CheckId::Mailbox, Status::Unknown);
    c.evidence.push("no mailbox is connected".into());
    c.cause = Some(Cause::MailboxNotConnected);
    c.owner = Some(Owner::Rep);
    c.action = Some(Action::ConnectMailbox);
    c
}

/// Tests the connected mailbox against the rep's SuperOffice address `rep_email`.
pub async fn mailbox(m: &MailboxUnderTest, rep_email: Option<&str>) -> Check {
    let t = Instant::now();
    let a = &m.account;
    let mut c = Check::new(CheckId::Mailbox, Status::Pass);
    c.found = Some(a.address.clone());
    c.tried.push(match a.provider {
        mailbox::Provider::Microsoft => "renew the access token; GET https://graph.microsoft.com/v1.0/me".into(),
        mailbox::Provider::Google => "renew the access token (the send-only permission can read nothing back)".into(),
    });
    let missing: Vec<&str> = a
        .provider
        .required_grants()
        .iter()
        .copied()
        .filter(|need| !a.granted.iter().any(|g| g == need || g.rsplit('/').next() == Some(*need)))
        .collect();
    let fail = |c: &mut Check, cause: Cause, owner: Owner, action: Action| {
        c.status = Status::Fail;
        c.cause = Some(cause);
        c.owner = Some(owner);
        c.action = Some(action);
    };
    match m.api.check().await {
        Ok(reported) => {
            let ms = t.elapsed().as_millis();
            let limits = a.provider.limits();
            c.evidence.push(format!("connected to {} as {} ({ms} ms)", a.provider.product(), reported.as_deref().unwrap_or(&a.address)));
            c.evidence.push(format!("granted: {}", a.granted.join(" ")));
            c.evidence.push(format!(
                "sent in the last 24 hours: {} of {} messages; at most {} a minute",
                m.sent_last_day, limits.messages_per_day, limits.messages_per_minute
            ));
            let address = reported.unwrap_or_else(|| a.address.clone());
            if !missing.is_empty() {
                c.evidence.push(format!("missing: {}", missing.join(" ")));
                fail(&mut c, Cause::MailboxScopeMissing, Owner::Rep, Action::ReconnectMailbox);
            } else if let Some(rep) = rep_email.filter(|r| !r.eq_ignore_ascii_case(&address)) {
                fail(
                    &mut c,
                    Cause::MailboxAddressMismatch { mailbox: address, superoffice: rep.to_owned() },
                    Owner::Rep,
                    Action::ConnectMailboxOf { address: rep.to_owned() },
                );
            } else if m.sent_last_day >= limits.messages_per_day {
                c.status = Status::Warn;
                c.evidence.push("the provider's daily limit is reached: messages wait until it frees up".into());
            }
        }
        Err(e) => {
            c.evidence.push(format!("{e} ({} ms)", t.elapsed().as_millis()));
            c.http_status = match &e {
                mailbox::Error::Api { status, .. } => Some(*status),
                _ => None,
            };
            match e.code() {
                ErrorCode::MailboxSignInAgain | ErrorCode::MailboxNotConnected | ErrorCode::TokenRejected => {
                    fail(&mut c, Cause::MailboxSignInExpired, Owner::Rep, Action::ReconnectMailbox)
                }
                ErrorCode::MailboxForbidden | ErrorCode::MailboxConsentRefused | ErrorCode::TokenInvalidClient => {
                    fail(&mut c, Cause::MailboxAccessDenied, Owner::MailAdmin, Action::GrantMailboxConsent)
                }
                _ => {
                    c.status = Status::Unknown;
                    c.cause = Some(Cause::CouldNotTest);
                    c.action = Some(Action::RerunWhenTenantAnswers);
                }
            }
        }
    }
    c
}
