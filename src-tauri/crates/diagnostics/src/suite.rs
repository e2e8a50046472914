//! The whole diagnosis: both columns (system user, signed-in rep), every check, run with as
//! much concurrency as the real dependencies allow, and the channel that follows from it.
//!
//! Dependencies: the relay and sender-domain checks need the rep's address (from `identity`);
//! the Inbox account needs the agent's answer and the contact card; the system user's checks
//! need its token. Everything else runs at once.

use std::sync::Arc;
use std::time::Instant;

use outbox::SmtpSettings;
use serde::Serialize;
use superoffice::{Client, Environment, SystemSession, SystemUserConfig};

use crate::checks::{self, Caller};
use crate::dns::Resolver;
use crate::report::{recommend, Recommendation};
use crate::{Action, Cause, Check, CheckId, Owner, Status};

/// What the diagnosis may use.
#[derive(Clone)]
pub struct Setup {
    pub environment: Environment,
    pub context_id: String,
    pub task_type_id: i64,
    /// The signed-in rep, if any.
    pub rep: Option<Client>,
    /// The partner's system user, when the admin configured one.
    pub system_user: Option<SystemUserConfig>,
    /// The rep's relay with its password; `None` when none is configured.
    pub smtp: Option<SmtpSettings>,
    pub keychain: Option<Arc<dyn keychain::SecretStore + Send + Sync>>,
    pub resolver: Resolver,
    /// Run the write checks (test document, test email to the rep's own address).
    pub write: bool,
    /// The rep's connected mailbox, if any.
    pub mailbox: Option<crate::MailboxUnderTest>,
}

/// The diagnosis, as the UI shows it and `so-outbox diagnose --json` prints it.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Report {
    /// The tenant's context id.
    pub tenant: String,
    /// When the checks ran (RFC 3339, UTC).
    pub generated_at: String,
    /// The signed-in rep's column.
    pub rep: Vec<Check>,
    /// The system user's column, when one is configured.
    pub system_user: Option<Vec<Check>>,
    pub recommendation: Recommendation,
    /// Whether a channel that sends by itself (Email agent or SMTP relay) works.
    pub can_send: bool,
    /// Wall time of the whole run.
    pub elapsed_ms: u64,
    /// The rep's mailbox when it can send (the `mailbox` check passed, or could not be tested
    /// for a passing reason such as the network).
    pub mailbox: Option<crate::MailboxFound>,
}

impl Report {
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.rep.iter().find(|c| c.id == id)
    }

    /// The channel new approvals take under the admin's `setting`, from what this diagnosis
    /// found: the one place the app decides it.
    pub fn channel_for(&self, setting: outbox::ChannelSetting) -> outbox::ChannelChoice {
        outbox::channel::choose(setting, &self.capabilities())
    }

    /// What the outbox's channel policy needs to know.
    pub fn capabilities(&self) -> outbox::channel::Capabilities {
        use outbox::channel::AgentAccess;
        let status = |id| self.check(id).map(|c| c.status);
        let agent = self.check(CheckId::EmailAgent);
        let email_agent = match (status(CheckId::EmailAgent), status(CheckId::InboxAccount)) {
            (Some(Status::Pass), Some(Status::Pass)) => {
                AgentAccess::Granted { account: self.check(CheckId::InboxAccount).and_then(|c| c.found.clone()) }
            }
            (Some(Status::Pass), _) => AgentAccess::Granted { account: None },
            (Some(Status::Fail), _) => AgentAccess::NotGranted(agent.and_then(|c| c.http_status).unwrap_or(401)),
            _ => AgentAccess::Unknown(agent.map(|c| c.evidence.join("; ")).unwrap_or_default()),
        };
        // A relay that could not be tested (network) is still used; one that refused is not.
        let smtp_configured = matches!(status(CheckId::SmtpRelay), Some(Status::Pass | Status::Unknown | Status::Warn))
            && self.check(CheckId::SmtpRelay).is_some_and(|c| c.found.is_some());
        let mailbox = self.mailbox.as_ref().map(|m| (m.provider, m.address.clone()));
        outbox::channel::Capabilities { email_agent, smtp_configured, mailbox }
    }

    /// The tenant's first outgoing email template, as the `email_template` check found it.
    pub fn first_email_template(&self) -> Option<i64> {
        self.check(CheckId::EmailTemplate)?.found.as_deref()?.parse().ok()
    }
}

/// The relay a check tests, as `host:port` (`None`: no relay is configured).
fn relay_target(setup: &Setup) -> Option<String> {
    setup.smtp.as_ref().map(|s| format!("{}:{}", s.host, s.port))
}

const NO_RELAY: &str = "no SMTP relay configured";
const NOT_SIGNED_IN: &str = "not testable: no rep is signed in";

/// The rep column's checks in the order the report shows them.
pub const REP_CHECKS: &[CheckId] = &[
    CheckId::TenantState,
    CheckId::SignIn,
    CheckId::Identity,
    CheckId::ArchiveDocuments,
    CheckId::EmailTemplate,
    CheckId::TaskHandoff,
    CheckId::Intake,
    CheckId::EmailAgent,
    CheckId::InboxAccount,
    CheckId::Crmscript,
    CheckId::Marketing,
    CheckId::SmtpRelay,
    CheckId::SenderDomain,
    CheckId::Keychain,
    CheckId::Mailbox,
];

fn unknown(id: CheckId, why: &str, owner: Option<Owner>, action: Option<Action>) -> Check {
    let mut c = Check::new(id, Status::Unknown);
    c.evidence.push(why.into());
    c.owner = owner;
    c.action = action;
    c
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Runs every check.
pub async fn run_all(setup: &Setup) -> Report {
    let t = Instant::now();
    let (rep, system) = tokio::join!(rep_column(setup), system_column(setup));
    finish(setup, rep, system, t)
}

fn finish(setup: &Setup, rep: Vec<Check>, system: Option<Vec<Check>>, t: Instant) -> Report {
    let smtp_ok = rep.iter().any(|c| c.id == CheckId::SmtpRelay && c.status == Status::Pass);
    let recommendation = recommend(&rep, smtp_ok);
    let mailbox = setup.mailbox.as_ref().and_then(|m| {
        let check = rep.iter().find(|c| c.id == CheckId::Mailbox)?;
        let usable = matches!(check.status, Status::Pass | Status::Warn) || check.cause == Some(Cause::CouldNotTest);
        usable.then(|| crate::MailboxFound { provider: m.account.provider, address: m.account.address.clone() })
    });
    Report {
        mailbox,
        tenant: setup.context_id.clone(),
        generated_at: now_rfc3339(),
        can_send: recommendation.channel != outbox::Channel::Handoff,
        recommendation,
        rep,
        system_user: system,
        elapsed_ms: t.elapsed().as_millis() as u64,
    }
}

async fn rep_column(setup: &Setup) -> Vec<Check> {
    let keychain = async {
        match setup.keychain.clone() {
            Some(k) => tokio::task::spawn_blocking(move || crate::keychain(k.as_ref()))
                .await
                .unwrap_or_else(|e| unknown(CheckId::Keychain, &format!("the check crashed: {e}"), None, None)),
            None => unknown(CheckId::Keychain, "no keychain given", None, None),
        }
    };
    let session_checks = async {
        let Some(client) = &setup.rep else {
            let mut out: Vec<Check> =
                REP_CHECKS[1..11].iter().map(|id| unknown(*id, NOT_SIGNED_IN, Some(Owner::Rep), Some(Action::SignInInApp))).collect();
            let mut relay = unknown(CheckId::SmtpRelay, NOT_SIGNED_IN, Some(Owner::Rep), Some(Action::SignInFirstForRelay));
            relay.found = relay_target(setup);
            out.push(relay);
            out.push(unknown(CheckId::SenderDomain, NOT_SIGNED_IN, Some(Owner::Rep), Some(Action::SignInFirst)));
            out.push(unknown(CheckId::Mailbox, NOT_SIGNED_IN, Some(Owner::Rep), Some(Action::SignInFirst)));
            return out;
        };
        let sign_in = async {
            match client.session() {
                Some(s) => crate::sign_in(s).await,
                None => unknown(CheckId::SignIn, "this client is not a rep's session", None, None),
            }
        };
        let rest = async {
            let (mut checks, email) = checks::run_for(client, Caller::Rep, setup.task_type_id).await;
            let mailbox = async {
                match &setup.mailbox {
                    Some(m) => crate::mailbox_check::mailbox(m, email.as_deref()).await,
                    None => crate::mailbox_check::not_connected(),
                }
            };
            let ((relay, domain, writes), mailbox) = tokio::join!(after_identity(setup, client, email.as_deref()), mailbox);
            checks.push(relay);
            checks.push(domain);
            checks.push(mailbox);
            checks.extend(writes);
            checks
        };
        let (sign_in, mut rest) = tokio::join!(sign_in, rest);
        rest.insert(0, sign_in);
        rest
    };
    let (state, keychain, mut checks) = tokio::join!(crate::tenant_state(&setup.environment, &setup.context_id), keychain, session_checks);
    checks.insert(0, state);
    checks.push(keychain);
    order(checks)
}

/// The checks that need the rep's address: relay, sender domain, and the write checks.
async fn after_identity(setup: &Setup, client: &Client, email: Option<&str>) -> (Check, Check, Vec<Check>) {
    let relay_found = |mut c: Check| {
        c.found = relay_target(setup);
        c
    };
    let Some(email) = email else {
        let why = "not testable: the rep has no usable email address (see identity)";
        return (relay_found(unknown(CheckId::SmtpRelay, why, None, None)), unknown(CheckId::SenderDomain, why, None, None), Vec::new());
    };
    let relay = async {
        match &setup.smtp {
            Some(s) => relay_found(crate::smtp_relay(s, email).await),
            None => unknown(CheckId::SmtpRelay, NO_RELAY, Some(Owner::MailAdmin), Some(Action::ConfigureRelay)),
        }
    };
    let domain = crate::sender::sender_domain(&setup.resolver, email, setup.smtp.as_ref().map(|s| s.host.as_str()));
    let writes = async {
        if !setup.write {
            return Vec::new();
        }
        let (doc, mail) = tokio::join!(checks::archive_write(client), crate::sender::test_email(setup.smtp.as_ref(), email));
        vec![doc, mail]
    };
    tokio::join!(relay, domain, writes)
}

async fn system_column(setup: &Setup) -> Option<Vec<Check>> {
    let config = setup.system_user.as_ref()?;
    let t = Instant::now();
    let mut auth = Check::new(CheckId::SystemSignIn, Status::Pass);
    auth.tried.push("POST /Login/api/PartnerSystemUser/Authenticate (signed system token)".into());
    auth.docs = Some("https://docs.superoffice.com/en/developer-portal/getting-started/user-contexts.html".into());
    match SystemSession::authenticate(config).await {
        Ok(session) => {
            auth.evidence.push(format!("system user ticket issued ({} ms)", t.elapsed().as_millis()));
            let mut checks = checks::run(&Client::system(session), Caller::SystemUser, setup.task_type_id).await;
            checks.insert(0, auth);
            Some(checks)
        }
        Err(e) => {
            auth.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            auth.evidence.push(format!("{e} ({} ms)", t.elapsed().as_millis()));
            auth.cause = Some(Cause::SystemUserSignInFailed);
            auth.owner = Some(Owner::TenantAdmin);
            auth.action = Some(Action::CheckSystemUserToken);
            Some(vec![auth])
        }
    }
}

fn order(mut checks: Vec<Check>) -> Vec<Check> {
    let rank = |id: CheckId| REP_CHECKS.iter().position(|c| *c == id).unwrap_or(REP_CHECKS.len());
    checks.sort_by_key(|c| rank(c.id));
    checks
}

/// Runs one check again and puts its result into `report` (in both columns where it exists);
/// returns false for an unknown id.
pub async fn rerun(setup: &Setup, report: &mut Report, id: CheckId) -> bool {
    let t = Instant::now();
    let fresh: Vec<Check> = match id {
        CheckId::TenantState => vec![crate::tenant_state(&setup.environment, &setup.context_id).await],
        CheckId::Keychain => match setup.keychain.clone() {
            Some(k) => tokio::task::spawn_blocking(move || crate::keychain(k.as_ref())).await.ok().into_iter().collect(),
            None => return false,
        },
        CheckId::SignIn => match setup.rep.as_ref().and_then(Client::session) {
            Some(s) => vec![crate::sign_in(s).await],
            None => return false,
        },
        CheckId::SmtpRelay | CheckId::SenderDomain | CheckId::ArchiveWrite | CheckId::TestEmail => {
            let Some(client) = &setup.rep else { return false };
            let email = checks::rep_email(client).await;
            let (relay, domain, writes) = after_identity(
                &Setup { write: id == CheckId::ArchiveWrite || id == CheckId::TestEmail, ..setup.clone() },
                client,
                email.as_deref(),
            )
            .await;
            [relay, domain].into_iter().chain(writes).filter(|c| c.id == id).collect()
        }
        CheckId::SystemSignIn => {
            report.system_user = system_column(setup).await;
            Vec::new()
        }
        other => {
            let mut found = false;
            if let Some(client) = &setup.rep {
                if let Some(checks) = checks::run_one(client, Caller::Rep, setup.task_type_id, other).await {
                    replace(&mut report.rep, checks);
                    found = true;
                }
            }
            if let (Some(config), Some(column)) = (&setup.system_user, report.system_user.as_mut()) {
                if let Ok(session) = SystemSession::authenticate(config).await {
                    if let Some(checks) = checks::run_one(&Client::system(session), Caller::SystemUser, setup.task_type_id, other).await {
                        replace(column, checks);
                        found = true;
                    }
                }
            }
            if !found {
                return false;
            }
            Vec::new()
        }
    };
    replace(&mut report.rep, fresh);
    let rep = std::mem::take(&mut report.rep);
    *report = finish(setup, rep, report.system_user.take(), t);
    true
}

fn replace(column: &mut Vec<Check>, fresh: Vec<Check>) {
    for c in fresh {
        match column.iter_mut().find(|old| old.id == c.id) {
            Some(old) => *old = c,
            None => column.push(c),
        }
    }
}
