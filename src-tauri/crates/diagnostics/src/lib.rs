//! Capability diagnostics: every check an admin needs to learn why a tenant can or cannot
//! send, each with what was tried, the evidence, the cause, who must act and how.
//!
//! More correct than the seed analysis by construction: a 401/403 from `/Agents/EMail` points
//! at the app registration's agent access (only SuperOffice's app manager grants it), not at the
//! token type; `/Associate/Me` is not a documented endpoint; a system user has no person and
//! cannot impersonate anyone; Shipments are Marketing bulk mailings, not a 1:1 send
//! (superoffice-api.md §0, §3, §7). Checks are read-only.
//!
//! This crate runs the SuperOffice checks for one caller (a signed-in rep or the system user);
//! the app puts the two columns side by side.

mod caller;
mod checks;
pub mod dns;
mod finding;
mod intake;
mod mailbox_check;
mod report;
mod sender;
pub mod spf;
mod suite;
mod transport;

use serde::Serialize;

pub use checks::{run, Caller};
pub use finding::{Action, Cause, CheckId};
pub use mailbox_check::{MailboxFound, MailboxUnderTest};
pub use report::{markdown, recommend, Recommendation, RecommendationReason};
pub use sender::{sender_domain, test_email};
pub use suite::{rerun, run_all, Report, Setup, REP_CHECKS};
pub use transport::{keychain, sign_in, smtp_relay, tenant_state};

/// "Could not test" is kept apart from "failed".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Unknown,
}

/// Who has to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Rep,
    TenantAdmin,
    /// SuperOffice's app manager, for the app registration.
    AppRegistration,
    MailAdmin,
    DnsOwner,
    /// The maker of this app (a defect, or a tenant the app does not understand).
    AppVendor,
}

/// One check's result.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Check {
    /// Stable id, e.g. `email_agent`.
    pub id: CheckId,
    pub status: Status,
    /// What was tried (method and path).
    pub tried: Vec<String>,
    /// What came back (status, SuperOffice error type and message, timing).
    pub evidence: Vec<String>,
    pub cause: Option<Cause>,
    pub owner: Option<Owner>,
    /// What to change, exactly.
    pub action: Option<Action>,
    pub docs: Option<String>,
    /// The HTTP status SuperOffice refused with, when it did (e.g. 401 for the Email agent).
    pub http_status: Option<u16>,
    /// What the check found, for machines: the Inbox account's address (`inbox_account`), the
    /// relay tested as `host:port` (`smtp_relay`; none when no relay is configured), the first
    /// outgoing email template's id (`email_template`).
    pub found: Option<String>,
}

impl Check {
    pub(crate) fn new(id: CheckId, status: Status) -> Self {
        Check {
            id,
            status,
            tried: Vec::new(),
            evidence: Vec::new(),
            cause: None,
            owner: None,
            action: None,
            docs: None,
            http_status: None,
            found: None,
        }
    }
}
