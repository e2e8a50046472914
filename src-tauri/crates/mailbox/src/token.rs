//! Renewing an access token with the mail provider's token endpoint (the OAuth 2.0 refresh
//! grant, RFC 6749 §6), so a rep whose mailbox is Microsoft 365 or Google Workspace keeps
//! sending after the hourly expiry: for the mailbox's own API (Graph, Gmail) and for the SMTP
//! relay's XOAUTH2 (the `outbox` crate uses this as `mail_oauth`). The refresh token lives in
//! the keychain (and a rotated one replaces it there: Microsoft rotates on every refresh, Google
//! does not); access tokens live in memory only. The request and the reading of its failures
//! are the one token client's (`superoffice::oauth`), as for the rep's SuperOffice sign-in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keychain::{Secret, SecretStore};

/// Where and as whom to renew.
#[derive(Clone, PartialEq, Eq)]
pub struct MailOAuth {
    /// The provider's token endpoint (`https://…`; `http://` only on loopback).
    pub token_url: String,
    pub client_id: String,
    /// Google's desktop clients have one and send it (it is not confidential there, PKCE is
    /// the real check); Microsoft's public clients must not (AADSTS700025).
    pub client_secret: Option<Secret>,
    /// Asked for on renewal when set (e.g. `https://outlook.office.com/SMTP.Send offline_access`).
    pub scope: Option<String>,
}

/// Why no access token could be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenewError {
    /// The provider refused (revoked or expired refresh token, wrong client): someone has to act.
    Refused(String),
    /// The provider could not be asked (network, 5xx): try again later.
    Unavailable(String),
}

/// Gives a valid access token, renewing it when it is about to expire.
pub struct TokenRenewer {
    config: MailOAuth,
    store: Arc<dyn SecretStore>,
    refresh_key: String,
    current: tokio::sync::Mutex<Option<(Secret, Instant)>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for MailOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailOAuth")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("scope", &self.scope)
            .finish()
    }
}

impl std::fmt::Debug for TokenRenewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRenewer").field("token_url", &self.config.token_url).field("client_id", &self.config.client_id).finish()
    }
}

/// A token this close to its expiry is renewed first.
const MARGIN: Duration = Duration::from_secs(60);

impl TokenRenewer {
    pub fn new(config: MailOAuth, store: Arc<dyn SecretStore>, refresh_key: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        TokenRenewer { config, store, refresh_key, current: tokio::sync::Mutex::new(None), http }
    }

    /// A valid access token: the one in memory unless it is about to expire or `force` (the
    /// relay refused it), else a renewed one.
    pub async fn access_token(&self, force: bool) -> Result<Secret, RenewError> {
        let mut current = self.current.lock().await;
        if let (false, Some((token, expires))) = (force, current.as_ref()) {
            if *expires > Instant::now() + MARGIN {
                return Ok(token.clone());
            }
        }
        let (store, key) = (self.store.clone(), self.refresh_key.clone());
        let refresh = tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|e| RenewError::Unavailable(e.to_string()))?
            .map_err(|e| RenewError::Unavailable(e.to_string()))?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                RenewError::Refused(
                    "no refresh token is stored for this mail account: connect the mailbox again (or store one in Settings → SMTP relay)"
                        .into(),
                )
            })?;
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.expose().to_owned()),
            ("client_id", self.config.client_id.clone()),
        ];
        if let Some(secret) = &self.config.client_secret {
            form.push(("client_secret", secret.expose().to_owned()));
        }
        if let Some(scope) = self.config.scope.as_ref().filter(|s| !s.trim().is_empty()) {
            form.push(("scope", scope.clone()));
        }
        let tokens = superoffice::oauth::request(&self.http, &self.config.token_url, &form).await.map_err(renew_error)?;
        let lifetime = tokens.expires_in.unwrap_or(Duration::from_secs(3600));
        // A rotated refresh token replaces the old one, which may no longer work.
        if let Some(next) = tokens.refresh_token.filter(|t| t.expose() != refresh.expose()) {
            let (store, key) = (self.store.clone(), self.refresh_key.clone());
            tokio::task::spawn_blocking(move || store.set(&key, &next))
                .await
                .map_err(|e| RenewError::Unavailable(e.to_string()))?
                .map_err(|e| RenewError::Unavailable(format!("the renewed refresh token could not be stored: {e}")))?;
        }
        let token = tokens.access_token;
        *current = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }
}

/// The token client's failure in the relay's words: what is worth trying again later (5xx,
/// 429, no answer) is `Unavailable`, everything else `Refused` (superoffice::oauth::Failure).
fn renew_error(e: superoffice::oauth::TokenError) -> RenewError {
    use superoffice::oauth::TokenError;
    let words = match &e {
        TokenError::NotAllowed { .. } => {
            "the mail provider's token endpoint must be an https:// address; the refresh token was not sent".to_owned()
        }
        TokenError::Unreachable { detail, .. } => format!("the mail provider's token endpoint did not answer: {detail}"),
        TokenError::Refused { status, error, description, .. } => format!(
            "the mail provider did not renew the access token (HTTP {status}: {}{})",
            if error.is_empty() { "no error code" } else { error },
            description.as_deref().map(|d| format!(", {d}")).unwrap_or_default()
        ),
        TokenError::BadAnswer(why) => format!("the mail provider's answer is not a token: {why}"),
    };
    if e.is_transient() {
        RenewError::Unavailable(words)
    } else {
        RenewError::Refused(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refresh token only ever goes to an https endpoint (or plain http to a loopback IP):
    /// a name that merely starts like loopback is refused before anything is sent.
    #[tokio::test]
    async fn the_refresh_token_goes_only_over_the_one_transport_rule() {
        let store = Arc::new(keychain::MemoryStore::default());
        store.set("relay-refresh", &Secret::new("rt-secret")).unwrap_or_else(|e| panic!("{e}"));
        for url in ["http://localhost.attacker.example/token", "http://localhost:9/token", "ftp://127.0.0.1/token"] {
            let r = TokenRenewer::new(
                MailOAuth { token_url: url.into(), client_id: "c".into(), client_secret: None, scope: None },
                store.clone(),
                "relay-refresh".into(),
            );
            match r.access_token(false).await {
                Err(RenewError::Refused(why)) => assert!(why.contains("https://") && !why.contains("rt-secret"), "{url}: {why}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
