//! Renewing the relay's XOAUTH2 access token with the mail provider's token endpoint (the
//! OAuth 2.0 refresh grant, RFC 6749 §6), so a rep whose mailbox is Microsoft 365 or Google
//! Workspace keeps sending after the hourly expiry. The refresh token lives in the keychain
//! (and a rotated one replaces it there); access tokens live in memory only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keychain::{Secret, SecretStore};

/// Where and as whom to renew.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailOAuth {
    /// The provider's token endpoint (`https://…`; `http://` only on loopback).
    pub token_url: String,
    pub client_id: String,
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
        if !superoffice::transport_ok_str(&self.config.token_url) {
            return Err(RenewError::Refused(
                "the mail provider's token endpoint must be an https:// address; the refresh token was not sent".into(),
            ));
        }
        let (store, key) = (self.store.clone(), self.refresh_key.clone());
        let refresh = tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|e| RenewError::Unavailable(e.to_string()))?
            .map_err(|e| RenewError::Unavailable(e.to_string()))?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RenewError::Refused("no refresh token for the relay is stored; store one in Settings → SMTP relay".into()))?;
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.expose().to_owned()),
            ("client_id", self.config.client_id.clone()),
        ];
        if let Some(scope) = self.config.scope.as_ref().filter(|s| !s.trim().is_empty()) {
            form.push(("scope", scope.clone()));
        }
        let unavailable =
            |e: reqwest::Error| RenewError::Unavailable(format!("the mail provider's token endpoint did not answer: {}", e.without_url()));
        let response = self.http.post(&self.config.token_url).form(&form).send().await.map_err(unavailable)?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("no error code");
            let words = format!(
                "the mail provider did not renew the access token (HTTP {}: {error}{})",
                status.as_u16(),
                body["error_description"].as_str().map(|d| format!(", {}", d.chars().take(200).collect::<String>())).unwrap_or_default()
            );
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                RenewError::Unavailable(words)
            } else {
                RenewError::Refused(words)
            });
        }
        let token = body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RenewError::Unavailable("the mail provider's answer has no access_token".into()))?;
        let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600).clamp(60, 86_400));
        // A rotated refresh token replaces the old one, which may no longer work.
        if let Some(next) = body["refresh_token"].as_str().filter(|t| !t.is_empty() && *t != refresh.expose()) {
            let (store, key, next) = (self.store.clone(), self.refresh_key.clone(), Secret::new(next));
            tokio::task::spawn_blocking(move || store.set(&key, &next))
                .await
                .map_err(|e| RenewError::Unavailable(e.to_string()))?
                .map_err(|e| RenewError::Unavailable(format!("the renewed refresh token could not be stored: {e}")))?;
        }
        let token = Secret::new(token);
        *current = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
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
                MailOAuth { token_url: url.into(), client_id: "c".into(), scope: None },
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
