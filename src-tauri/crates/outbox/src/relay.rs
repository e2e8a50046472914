//! How the app reaches the SMTP relay (host, TLS mode, sign-in, the trusted CA, the wait for
//! the final reply) and what one attempt came to. Shared by the submission (`smtp.rs`) and
//! the STARTTLS negotiation (`starttls.rs`), which both need it and not each other's insides.

use std::time::Duration;

use keychain::Secret;
use lettre::transport::smtp::authentication::Mechanism;
use serde::{Deserialize, Serialize};

/// RFC 5321 §4.5.3.2: "DATA Termination: 10 minutes".
pub const DATA_TERMINATION_TIMEOUT: Duration = Duration::from_secs(600);

/// How the connection to the relay is secured; there is no plaintext choice. Written `tls` and
/// `starttls` in `config.json`, on the command line and in the UI's forms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465). Preferred (RFC 8314).
    #[serde(rename = "tls", alias = "implicit_tls")]
    ImplicitTls,
    /// STARTTLS, required: no STARTTLS offered means no sending (port 587).
    #[default]
    #[serde(rename = "starttls", alias = "start_tls")]
    StartTls,
}

impl SmtpSecurity {
    /// As written in `config.json` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::ImplicitTls => "tls",
            SmtpSecurity::StartTls => "starttls",
        }
    }
}

/// How the relay authenticates the rep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum SmtpAuth {
    /// `AUTH PLAIN` (or `LOGIN`) with a password (or an app password).
    #[default]
    Password,
    /// `AUTH XOAUTH2` with an OAuth access token for the mailbox (Microsoft 365, Google
    /// Workspace); the secret is the token.
    XOAuth2,
}

impl SmtpAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpAuth::Password => "password",
            SmtpAuth::XOAuth2 => "xoauth2",
        }
    }

    pub fn parse(s: &str) -> Option<SmtpAuth> {
        match s {
            "password" => Some(SmtpAuth::Password),
            "xoauth2" => Some(SmtpAuth::XOAuth2),
            _ => None,
        }
    }

    pub(crate) fn mechanisms(self) -> &'static [Mechanism] {
        match self {
            SmtpAuth::Password => &[Mechanism::Plain, Mechanism::Login],
            SmtpAuth::XOAuth2 => &[Mechanism::Xoauth2],
        }
    }
}

/// How to reach the relay. The password lives in the keychain; this holds it only in memory.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    /// The password, or the access token with [`SmtpAuth::XOAuth2`] (unless `renewer` gives it).
    pub password: Secret,
    pub auth: SmtpAuth,
    /// With XOAUTH2: renews the access token with the mail provider (else `password` is used).
    pub renewer: Option<std::sync::Arc<crate::mail_oauth::TokenRenewer>>,
    /// An extra CA to trust (onsite relays, the demo relay), PEM.
    pub extra_ca_pem: Option<String>,
    /// The wait for the final reply; [`DATA_TERMINATION_TIMEOUT`] unless a test shortens it.
    pub data_timeout: Duration,
}

impl SmtpSettings {
    /// A relay signed in to with a user name and password (or, with [`Self::with_auth`], an
    /// access token), trusting the system's roots, waiting [`DATA_TERMINATION_TIMEOUT`].
    pub fn new(host: impl Into<String>, port: u16, security: SmtpSecurity, username: impl Into<String>, password: Secret) -> Self {
        SmtpSettings {
            host: host.into(),
            port,
            security,
            username: username.into(),
            password,
            auth: SmtpAuth::Password,
            renewer: None,
            extra_ca_pem: None,
            data_timeout: DATA_TERMINATION_TIMEOUT,
        }
    }

    pub fn with_auth(mut self, auth: SmtpAuth) -> Self {
        self.auth = auth;
        self
    }

    /// XOAUTH2 with access tokens from `renewer` (the stored password is not used).
    pub fn with_renewer(mut self, renewer: std::sync::Arc<crate::mail_oauth::TokenRenewer>) -> Self {
        self.auth = SmtpAuth::XOAuth2;
        self.renewer = Some(renewer);
        self
    }

    /// Also trusts this CA (PEM), e.g. an onsite relay's or the demo relay's.
    pub fn with_ca(mut self, pem: Option<String>) -> Self {
        self.extra_ca_pem = pem;
        self
    }

    pub fn with_data_timeout(mut self, timeout: Duration) -> Self {
        self.data_timeout = timeout;
        self
    }
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 250 after the final dot; the server's reply.
    Accepted(String),
    /// The server did not take the message; safe to try again later.
    NotAccepted(String),
    /// The server refused the message for good (5xx); its words.
    Refused(String),
    /// The connection ended after DATA began and before the final reply: it may or may not
    /// have been delivered.
    Unknown(String),
}

impl Outcome {
    /// The server's words (or ours), whatever the outcome.
    pub fn into_text(self) -> String {
        match self {
            Outcome::Accepted(s) | Outcome::NotAccepted(s) | Outcome::Refused(s) | Outcome::Unknown(s) => s,
        }
    }
}
