//! What the app remembers between starts, in `config.json` in its data directory. No secrets:
//! the client secret and the SMTP password live in the keychain, written by
//! `so-outbox configure` (or, for the demo tenant, at its start).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Config {
    /// `"demo"` or `"superoffice"` (the configured tenant below).
    pub tenant: Option<String>,
    pub superoffice: Option<TenantConfig>,
    /// Seconds an approval can be undone before it is sent (0–60; default 10).
    pub hold_secs: Option<u64>,
    /// Sending limits per rep.
    pub limits: Option<outbox::Limits>,
    /// `auto` (email agent → SMTP → handoff) or one channel forced by the admin.
    pub channel: Option<outbox::ChannelSetting>,
    /// The document template archived emails get; `None`: the tenant's first outgoing email
    /// template.
    #[serde(default)]
    pub email_template_id: Option<i64>,
}

impl Config {
    pub fn hold(&self) -> std::time::Duration {
        self.hold_secs.map(|s| std::time::Duration::from_secs(s.min(60))).unwrap_or_else(outbox::schedule::hold_default)
    }
}

/// A real SuperOffice tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantConfig {
    /// `sod`, `qaonline`, `online`, or the base URL of an onsite installation.
    pub environment: String,
    /// The tenant id, e.g. `Cust12345`.
    pub context_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The follow-up task type the GTM engine uses for drafted emails.
    pub task_type_id: i64,
    pub smtp: RelayConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    /// `tls` (implicit TLS, port 465) or `starttls` (required, port 587).
    pub security: String,
    pub username: String,
    /// `password` (default) or `xoauth2` (an OAuth access token for the mailbox); the secret
    /// itself is in the keychain.
    #[serde(default)]
    pub auth: outbox::SmtpAuth,
    /// A PEM file with an extra CA to trust (onsite relays).
    pub ca_file: Option<PathBuf>,
}

impl Config {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("config.json")
    }

    pub fn load(data_dir: &Path) -> Config {
        std::fs::read(Self::path(data_dir)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes atomically (temp file, then rename).
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let path = Self::path(data_dir);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }
}

impl TenantConfig {
    pub fn environment(&self) -> Result<superoffice::Environment, String> {
        Ok(match self.environment.as_str() {
            "sod" => superoffice::Environment::Sod,
            "qaonline" | "stage" => superoffice::Environment::Stage,
            "online" => superoffice::Environment::Online,
            url if url.starts_with("https://") || url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost") => {
                superoffice::Environment::Custom(url.trim_end_matches('/').to_owned())
            }
            other => return Err(format!("unknown environment '{other}': use sod, qaonline, online or an https:// base URL")),
        })
    }
}
