//! A strict local stand-in for the two mail providers the app sends through: (1) the Microsoft
//! identity platform (authorization code + PKCE for a public desktop client) with a Microsoft
//! Graph mail subset, and (2) Google OAuth for desktop apps with a Gmail API subset; each with an
//! SMTP submission port (STARTTLS + AUTH XOAUTH2).
//!
//! Neither provider can be reached from the machines this project is built on, and a lenient
//! fake would let the app's mistakes through. So every rule here comes from the providers'
//! public documentation, as collected in the rule books `research/microsoft.md` and
//! `research/google.md`; each rule carries its source key beside it (`[AC]`, `[SM]`, `NA`,
//! `DISC`, … — the keys are listed at the end of the rule books). Where a rule book says
//! UNCONFIRMED the stricter reading is taken and the comment says so; where it says SIM, its
//! simulator policy is followed.
//!
//! Every endpoint lives at the real service's path under [`MailboxSim::base_url`]. Tests steer
//! the simulator through plain Rust methods on [`MailboxSim`] (no HTTP control API) and play the
//! user in the browser with [`browser::consent`].

// Checks return the refusal itself (an HTTP response) as their error: it is built once per
// request and answered as is, so its size does not matter.
#![allow(clippy::result_large_err)]

mod aad;
pub mod browser;
mod conn;
mod consent;
mod edge;
mod gmail;
mod google_auth;
mod google_token;
mod graph;
mod graph_json;
mod graph_mail;
mod idtoken;
mod mailstore;
mod mime;
mod ms_authorize;
mod ms_token;
mod oauth;
mod params;
mod scopes;
mod smtp;
mod state;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use crate::ms_authorize::REGISTERED_REDIRECT as MICROSOFT_REDIRECT_URI;
use crate::state::{lock, Sim};

/// Which provider a simulator plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Microsoft,
    Google,
}

/// How to start a simulator.
#[derive(Clone, Debug)]
pub struct MailboxSimConfig {
    pub provider: Provider,
    /// The app registration's client id.
    pub client_id: String,
    /// Google Desktop clients have one (not confidential, but required at the token endpoint);
    /// a Microsoft public client has none and must not send one.
    pub client_secret: Option<String>,
    pub user: SimUser,
    pub limits: SimLimits,
    pub message_id: MessageIdPolicy,
}

/// The one signed-in user and their mailbox.
#[derive(Clone, Debug)]
pub struct SimUser {
    pub address: String,
    pub display_name: String,
    /// Microsoft `tid` (a GUID); ignored for Google.
    pub tenant_id: String,
}

/// Messages the mailbox may send; beyond this the provider's throttling answer.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimLimits {
    /// Messages in any rolling 60 seconds.
    pub per_minute: Option<u32>,
    /// Messages in any rolling 24 hours.
    pub per_day: Option<u32>,
}

/// What happens to a `Message-ID` the client supplied in its MIME.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageIdPolicy {
    /// Kept as given (a missing one is created).
    Keep,
    /// Replaced by the provider's own.
    Replace,
}

/// How the next authorize request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentRefusal {
    /// Microsoft: the user declines (`error=access_denied`, `AADSTS65004`).
    UserDeclined,
    /// Microsoft: the tenant requires admin consent (`AADSTS90094` error page, no redirect).
    AdminConsentRequired,
    /// Google: the user denies (`error=access_denied`).
    AccessDenied,
    /// Google: a Workspace admin blocks the scopes (`admin_policy_enforced` error page).
    AdminPolicy,
}

/// The path a message reached the Sent folder by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    GraphSendMail,
    GraphDraftSend,
    GmailApi,
    Smtp,
}

/// One message in the Sent folder.
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// Microsoft: the message's immutable id; Google: the Gmail message id.
    pub id: String,
    /// The `Message-ID` of the stored copy (angle brackets included).
    pub internet_message_id: String,
    /// The exact bytes stored.
    pub mime: Vec<u8>,
    /// To, Cc and Bcc addresses (SMTP: the `RCPT TO` addresses).
    pub recipients: Vec<String>,
    pub sent_at: SystemTime,
    pub via: Via,
}

/// One HTTP request the simulator received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// The path only; the query string (which may carry codes and tokens) is left out.
    pub path: String,
    /// The names of the query parameters, in order.
    pub query_names: Vec<String>,
    /// The status the simulator produced (also when the answer was then lost).
    pub status: u16,
    /// False when the connection was closed instead of answering ([`MailboxSim::lose_next_answers`]).
    pub answered: bool,
}

/// What went wrong starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not bind a loopback port: {0}")]
    Bind(#[from] std::io::Error),
    #[error("could not create keys or certificates: {0}")]
    Crypto(String),
}

impl MailboxSimConfig {
    /// A Microsoft 365 work account and a public desktop client (no secret), Message-IDs kept.
    /// 30 messages a minute is Exchange Online's per-mailbox rate ([AI] in microsoft.md §4.1).
    pub fn microsoft_demo() -> Self {
        MailboxSimConfig {
            provider: Provider::Microsoft,
            client_id: "3c9a6b1e-7d42-4f0b-9e55-2a8d1c6f0b71".into(),
            client_secret: None,
            user: SimUser {
                address: "rep@outbox-demo.onmicrosoft.com".into(),
                display_name: "Demo Rep".into(),
                tenant_id: "5b0d8e3a-91c4-4f6e-8a27-d4c1e9b3f602".into(),
            },
            limits: SimLimits { per_minute: Some(30), per_day: None },
            message_id: MessageIdPolicy::Keep,
        }
    }

    /// A Google Workspace account and a Desktop OAuth client (with its non-confidential secret),
    /// Message-IDs replaced by the API (google.md G5). 60 sends a minute is 6,000 units per user
    /// per minute at 100 units a send (QUO); 2,000 messages a day is the Workspace limit (WSL).
    pub fn google_demo() -> Self {
        MailboxSimConfig {
            provider: Provider::Google,
            client_id: "918273645012-outboxsimdemo.apps.googleusercontent.com".into(),
            client_secret: Some("GOCSPX-outbox-sim-demo-secret".into()),
            user: SimUser { address: "rep@outbox-demo.example".into(), display_name: "Demo Rep".into(), tenant_id: String::new() },
            limits: SimLimits { per_minute: Some(60), per_day: Some(2000) },
            message_id: MessageIdPolicy::Replace,
        }
    }
}

/// A running simulator. The servers live as long as the tokio runtime that started them.
pub struct MailboxSim {
    sim: Arc<Sim>,
    smtp_addr: SocketAddr,
    ca_pem: String,
}

/// Binds 127.0.0.1:0 for HTTP and for SMTP submission, and serves both in the background.
pub async fn start(config: MailboxSimConfig) -> Result<MailboxSim, Error> {
    let listener = conn::CuttableListener(tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?);
    let http_addr = listener.0.local_addr()?;
    let base_url = format!("http://127.0.0.1:{}", http_addr.port());
    let pki = tls::TestPki::generate().map_err(|e| Error::Crypto(e.to_string()))?;
    let keys = idtoken::Keys::generate().map_err(Error::Crypto)?;
    let sim = Arc::new(Sim::new(config, base_url, keys));
    let smtp_addr = smtp::serve(sim.clone(), pki.server_config()?).await?;
    let app = edge::router(sim.clone()).into_make_service_with_connect_info::<conn::ConnectionCutter>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "mailbox simulator HTTP server stopped");
        }
    });
    tracing::info!(%http_addr, %smtp_addr, "mailbox simulator listening");
    Ok(MailboxSim { sim, smtp_addr, ca_pem: pki.ca_pem })
}

impl MailboxSim {
    /// `http://127.0.0.1:PORT`, which plays `https://login.microsoftonline.com` and
    /// `https://graph.microsoft.com`, or `https://accounts.google.com`,
    /// `https://oauth2.googleapis.com` and `https://gmail.googleapis.com`.
    pub fn base_url(&self) -> &str {
        &self.sim.base_url
    }
    /// SMTP submission (STARTTLS, then AUTH XOAUTH2 with this simulator's access tokens).
    pub fn smtp_addr(&self) -> SocketAddr {
        self.smtp_addr
    }
    /// PEM of the CA that signed the SMTP server's certificate (for `localhost` and 127.0.0.1).
    pub fn smtp_ca_pem(&self) -> &str {
        &self.ca_pem
    }
    pub fn provider(&self) -> Provider {
        self.sim.config.provider
    }
    /// The next authorize request is refused this way.
    pub fn refuse_consent(&self, how: ConsentRefusal) {
        *lock(&self.sim.controls.refusal) = Some(how);
    }
    /// The user consents to these scopes only (of those requested); the OpenID scopes are
    /// always kept. Lasts until called again with an empty slice.
    pub fn grant_only(&self, scopes: &[&str]) {
        let list: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        *lock(&self.sim.controls.grant_only) = if list.is_empty() { None } else { Some(list) };
    }
    /// Microsoft: SMTP AUTH is disabled for the mailbox (`535 5.7.139`). No effect for Google.
    pub fn disable_smtp_auth(&self, disabled: bool) {
        self.sim.controls.smtp_auth_disabled.store(disabled, Ordering::SeqCst);
    }
    /// The next `n` send requests (Graph `sendMail` and `messages/{id}/send`, Gmail
    /// `messages.send`) take effect, but the connection is closed without an HTTP response.
    pub fn lose_next_answers(&self, n: usize) {
        self.sim.controls.lose_answers.store(n, Ordering::SeqCst);
    }
    /// Microsoft: after a send the message stays a draft in Drafts for `d`, then moves to Sent
    /// Items.
    pub fn sent_copy_delay(&self, d: Duration) {
        *lock(&self.sim.controls.sent_copy_delay) = d;
    }
    /// The next `n` sends are accepted but never reach Sent (Microsoft: the item stays in
    /// Drafts; Gmail: nothing is filed).
    pub fn fail_next_sends(&self, n: usize) {
        self.sim.controls.fail_sends.store(n, Ordering::SeqCst);
    }
    /// The user (or an admin) revokes every refresh token issued so far.
    pub fn revoke_refresh_tokens(&self) {
        self.sim.oauth.revoke_all_refresh_tokens();
    }
    /// Every access token issued so far expires (the APIs answer 401 until a refresh).
    pub fn expire_access_tokens(&self) {
        self.sim.oauth.expire_access_tokens();
    }
    /// Authorization codes issued from now on live this long (default 10 minutes).
    pub fn set_code_lifetime(&self, d: Duration) {
        *lock(&self.sim.controls.code_ttl) = d;
    }
    /// Every Graph and Gmail API request takes at least this long to answer (to test the
    /// concurrency limit).
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.sim.controls.latency) = d;
    }
    /// The Sent folder, oldest first.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.sim.store.sent()
    }
    /// Every HTTP request received, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.sim.requests).clone()
    }
}
