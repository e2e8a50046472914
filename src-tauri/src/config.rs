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
    /// With `xoauth2`: renew the access token at the mail provider (the refresh token is in the
    /// keychain); without it the stored access token is used as it is.
    #[serde(default)]
    pub oauth: Option<MailOAuthConfig>,
    /// A PEM file with an extra CA to trust (onsite relays).
    pub ca_file: Option<PathBuf>,
}

/// The mail provider's OAuth client for renewing the relay's access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailOAuthConfig {
    pub token_url: String,
    pub client_id: String,
    #[serde(default)]
    pub scope: Option<String>,
}

impl MailOAuthConfig {
    /// `https://`, or `http://` on loopback only; a client id without spaces.
    pub fn validate(&self) -> Result<(), String> {
        let url = self.token_url.trim();
        let loopback = url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost") || url.starts_with("http://[::1]");
        if !(url.starts_with("https://") || loopback) {
            return Err("the token endpoint must be an https:// address".into());
        }
        if self.client_id.trim().is_empty() || self.client_id.contains(char::is_whitespace) {
            return Err("the mail provider's client id is missing or contains spaces".into());
        }
        Ok(())
    }

    pub fn core(&self) -> outbox::mail_oauth::MailOAuth {
        outbox::mail_oauth::MailOAuth {
            token_url: self.token_url.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            scope: self.scope.clone().filter(|s| !s.trim().is_empty()),
        }
    }
}

impl RelayConfig {
    /// The keychain entry of this relay's secret (password, access token or refresh token).
    pub fn keychain_key(&self) -> String {
        crate::tenant::relay_key(self.auth, self.oauth.is_some(), &self.username, &self.host, self.port)
    }
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
