//! What the UI needs to decide which screen to show: the app's status, as one value the
//! `app_status` command (and every command that changes it) returns.

use serde::Serialize;

use crate::error::CommandError;

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct TenantInfo {
    pub context_id: String,
    pub demo: bool,
}

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct RepInfo {
    pub name: String,
    pub email: String,
}

/// Everything the UI needs to decide which screen to show.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct AppStatus {
    pub version: String,
    /// Set when the app cannot work at all (no keychain, unreadable outbox).
    pub blocker: Option<CommandError>,
    pub tenant: Option<TenantInfo>,
    pub rep: Option<RepInfo>,
    /// The channel new approvals take, and why.
    pub channel: Option<outbox::ChannelChoice>,
    /// Set while approved messages wait for the sending limits.
    pub waiting: Option<Waiting>,
    /// Why new drafts could not be fetched from SuperOffice, until a fetch succeeds.
    pub intake_problem: Option<outbox::IntakeProblem>,
    /// Drafts of an earlier version's shared outbox that belong to another tenant or rep (or
    /// to no one the app could tell): kept in `outbox.sqlite`, never shown, sent or archived
    /// here, taken over when the rep they belong to signs in on this computer.
    pub held: u32,
}

/// Why approved messages are not sent yet, and when they will be.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Waiting {
    pub reason: outbox::Pace,
    pub until_ms: i64,
}
