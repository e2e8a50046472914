//! The rep's own mailbox at Microsoft 365 or Google Workspace, so an approved email goes out
//! from the rep's account and lands in their Sent folder: the browser sign-in that connects it
//! ([`connect`]), the access tokens renewed from the refresh token in the keychain ([`token`]),
//! and the mail APIs that send our exact MIME (Microsoft Graph: [`graph`], Gmail: [`gmail`]).
//!
//! Why Graph sends through a draft: its documented way to find the Sent copy again is the
//! draft's immutable id ([IMM]), so an answer lost in transit is settled by looking, not by
//! asking the rep (and never by sending again). Gmail's send-only scope cannot read anything
//! back, so there a lost answer stays the rep's question.
//!
//! Every rule quoted as `[KEY]` is sourced in `docs/providers/microsoft.md` or `google.md`. It
//! knows nothing of drafts, states or SuperOffice; the `outbox` crate drives it.

mod answer;
pub mod connect;
mod error;
pub mod gmail;
pub mod graph;
pub mod provider;
pub mod token;

use std::sync::Arc;

use keychain::{Secret, SecretStore};

pub use connect::{Account, ConnectRequest, PendingConnect};
pub use error::{Error, Result};
pub use graph::{Draft, Found};
pub use provider::{Endpoints, Provider, ProviderLimits};
use token::{MailOAuth, RenewError, TokenRenewer};

/// A connected mailbox: where it is, its address, and its tokens.
pub struct Mailbox {
    provider: Provider,
    endpoints: Endpoints,
    address: String,
    tokens: TokenRenewer,
    http: reqwest::Client,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox").field("provider", &self.provider).field("address", &self.address).finish()
    }
}

impl Mailbox {
    /// The mailbox whose refresh token is stored under `refresh_key`.
    pub fn new(
        provider: Provider,
        endpoints: Endpoints,
        address: String,
        client_id: String,
        client_secret: Option<Secret>,
        store: Arc<dyn SecretStore>,
        refresh_key: String,
    ) -> Self {
        let oauth = MailOAuth { token_url: endpoints.token.clone(), client_id, client_secret, scope: provider.refresh_scope() };
        Mailbox { provider, endpoints, address, tokens: TokenRenewer::new(oauth, store, refresh_key), http: answer::http_client() }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The address mail goes out from.
    pub fn address(&self) -> &str {
        &self.address
    }

    async fn token(&self, force: bool) -> Result<Secret> {
        self.tokens.access_token(force).await.map_err(|e| match e {
            RenewError::Refused(why) => Error::SignIn { code: codes::ErrorCode::MailboxSignInAgain, detail: why },
            RenewError::Unavailable(why) => Error::Unreachable { detail: why, timeout: false, connect: true },
        })
    }

    /// Runs `call` with an access token; a `401` (the token expired early or was revoked: the
    /// request was not carried out) renews the token once and tries again.
    async fn authorized<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        match call(self.token(false).await?).await {
            Err(Error::Api { status: 401, .. }) => call(self.token(true).await?).await,
            other => other,
        }
    }

    /// Whether the connection works, for the diagnostics: a renewed access token, and at
    /// Microsoft `/me` (the API answers and names the mailbox's address). Google's send-only
    /// permission can call nothing that does not send, so there the renewal is the check.
    pub async fn check(&self) -> Result<Option<String>> {
        match self.provider {
            Provider::Microsoft => {
                let me = self.authorized(|t| async move { graph::me(&self.http, &self.endpoints.api, &t).await }).await?;
                Ok(me.mail)
            }
            Provider::Google => self.token(false).await.map(|_| None),
        }
    }

    /// Graph: a draft from `mime` (nothing is sent).
    pub async fn create_draft(&self, mime: &[u8]) -> Result<Draft> {
        self.authorized(|t| async move { graph::create_draft(&self.http, &self.endpoints.api, &t, mime).await }).await
    }

    /// Graph: a draft made from our MIME earlier, found by its Message-ID.
    pub async fn find_draft(&self, message_id: &str) -> Result<Option<String>> {
        self.authorized(|t| async move { graph::find_draft(&self.http, &self.endpoints.api, &t, message_id).await }).await
    }

    /// Graph: sends the draft.
    pub async fn send_draft(&self, id: &str) -> Result<()> {
        self.authorized(|t| async move { graph::send_draft(&self.http, &self.endpoints.api, &t, id).await }).await
    }

    /// Graph: where the submitted draft is now.
    pub async fn find(&self, id: &str) -> Result<Found> {
        self.authorized(|t| async move { graph::find(&self.http, &self.endpoints.api, &t, id).await }).await
    }

    /// Gmail: sends `mime`.
    pub async fn gmail_send(&self, mime: &[u8]) -> Result<gmail::Sent> {
        self.authorized(|t| async move { gmail::send(&self.http, &self.endpoints.api, &t, mime).await }).await
    }
}
