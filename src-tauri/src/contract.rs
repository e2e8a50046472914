//! What the UI and the core exchange besides the status: the values the commands take and
//! return, in one module of their own (exported to TypeScript as `ui/src/bindings.ts`), so
//! the app state, the events and the commands all use them without importing each other.

use serde::Serialize;

use crate::error::CommandError;

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct DraftDetail {
    pub draft: outbox::DraftRow,
    pub timeline: Vec<outbox::TimelineEvent>,
    pub versions: Vec<outbox::Version>,
}

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct MailboxMessage {
    pub id: String,
    pub received_at: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub subject: String,
    pub size: u32,
}

/// The result of approving one draft of a selection.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct BulkItem {
    pub id: i64,
    pub error: Option<CommandError>,
}

/// The rep's answer for a message that failed or whose outcome is unknown.
#[derive(Clone, Copy, Debug, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// "Needs decision": the message was delivered after all; archive it.
    ItWasSent,
    /// "Needs decision": send it again, with the same Message-ID.
    SendAgain,
    /// "Not sent": try again.
    TryAgain,
}

/// The report formats the diagnostics screen exports.
#[derive(Clone, Copy, Debug, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Markdown,
    Json,
}

/// The settings screen's values. Secrets are never sent to the UI: only whether one is stored.
#[derive(Clone, Debug, Serialize, serde::Deserialize, specta::Type)]
pub struct Settings {
    /// Seconds an approval can be undone (0–60).
    pub hold_secs: u32,
    pub limits: outbox::Limits,
    pub channel: outbox::ChannelSetting,
    /// The relay of a configured tenant (the demo's is fixed).
    pub relay: Option<RelaySettings>,
    /// The GTM engine's follow-up task type.
    pub task_type_id: i64,
    /// Read-only: whether the demo tenant is in use.
    pub demo: bool,
    /// The document template archived emails get; `None`: the first outgoing email template.
    pub email_template_id: Option<i64>,
    /// Read-only: the tenant's outgoing email templates (empty when not signed in).
    pub email_templates: Vec<EmailTemplate>,
}

/// The mail provider's OAuth client for renewing the relay's access token.
#[derive(Clone, Debug, Serialize, serde::Deserialize, specta::Type)]
pub struct MailOAuthSettings {
    /// `https://…` (e.g. `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`).
    pub token_url: String,
    pub client_id: String,
    /// Empty: the provider's default.
    pub scope: String,
}

/// An outgoing email document template of the tenant.
#[derive(Clone, Debug, Serialize, serde::Deserialize, specta::Type)]
pub struct EmailTemplate {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, specta::Type)]
pub struct RelaySettings {
    pub host: String,
    pub port: u16,
    pub security: outbox::SmtpSecurity,
    pub username: String,
    /// A password or an XOAUTH2 access token.
    pub auth: outbox::SmtpAuth,
    /// With XOAUTH2: renew the access token at the mail provider (the stored secret is then
    /// the refresh token).
    pub oauth: Option<MailOAuthSettings>,
    /// Read-only: whether the secret for this relay (password or token) is in the keychain.
    pub has_password: bool,
}

/// A real tenant from the first-run form; the client secret and the relay password go to
/// the keychain (and nowhere else), the rest to `config.json`.
#[derive(Clone, Debug, serde::Deserialize, specta::Type)]
pub struct TenantSetup {
    /// `sod`, `qaonline`, `online` or an `https://` base URL.
    pub environment: String,
    pub context_id: String,
    pub client_id: String,
    pub task_type_id: i64,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: outbox::SmtpSecurity,
    pub smtp_user: String,
    pub smtp_auth: outbox::SmtpAuth,
}
