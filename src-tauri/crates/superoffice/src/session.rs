//! A signed-in session: the access token in memory, the refresh token in the keychain, and
//! single-flight refresh.
//!
//! However many calls hit a 401 at once, one refresh runs: each caller remembers the token
//! generation it used, and only a caller whose generation is still current refreshes. When the
//! server rotates the refresh token, the new one is written to the keychain before the new
//! access token is used. id_tokens returned by a refresh must keep the same `sub`.

use codes::ErrorCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keychain::{Secret, SecretStore};
use serde::Deserialize;

use crate::environment::{http_client, require_transport, resolve_tenant, Environment, TenantLink};
use crate::{id_token, Claims, Error, Result};

/// Refresh this long before `expires_in` runs out.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

pub(crate) struct TokenResponse {
    pub access_token: Secret,
    pub expires_in: Duration,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
}

impl TokenResponse {
    /// SuperOffice's token endpoint, through the one OAuth client ([`crate::oauth`]).
    pub async fn request(http: &reqwest::Client, endpoint: &str, form: &[(&str, String)]) -> Result<Self> {
        let tokens = crate::oauth::request(http, endpoint, form).await.map_err(Error::from_token)?;
        Ok(TokenResponse {
            access_token: tokens.access_token,
            expires_in: tokens.expires_in.unwrap_or(Duration::from_secs(1200)),
            refresh_token: tokens.refresh_token,
            id_token: tokens.id_token,
        })
    }
}

struct TokenState {
    access: Secret,
    generation: u64,
    expires_at: Instant,
}

struct Inner {
    link: TenantLink,
    client_id: String,
    client_secret: Option<Secret>,
    claims: Claims,
    /// The current access token; held only to read or swap it, never across a request, so a
    /// refresh in flight does not stall callers whose token is still valid.
    tokens: std::sync::Mutex<TokenState>,
    /// Held for the whole refresh exchange: one refresh at a time (single-flight).
    refreshing: tokio::sync::Mutex<()>,
    store: Arc<dyn SecretStore>,
}

/// A signed-in rep. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

/// What the UI may know about the session (no tokens, no URLs).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SessionInfo {
    pub associate_id: i64,
    pub context_id: String,
    pub email: Option<String>,
    pub company_name: Option<String>,
}

/// The keychain entry of a tenant's refresh token: named by the environment it belongs to,
/// the tenant and the app registration.
pub fn refresh_token_key(env: &Environment, context_id: &str, client_id: &str) -> String {
    format!("superoffice-refresh-token:{}:{context_id}:{client_id}", env.key())
}

/// The entry's name before it carried the environment (read once, then moved).
pub fn refresh_token_key_before_environments(context_id: &str, client_id: &str) -> String {
    format!("superoffice-refresh-token:{context_id}:{client_id}")
}

impl Session {
    /// Resumes the rep's session from the refresh token kept in the keychain, without the
    /// browser: refresh, validate the returned id_token (issuer, audience, expiry; no nonce on
    /// a refresh), check the tenant, resolve its API. `Ok(None)` when there is nothing to
    /// resume; a grant the server no longer honours is deleted from the keychain.
    pub async fn restore(
        env: Environment,
        client_id: String,
        context_id: &str,
        client_secret: Option<Secret>,
        store: Arc<dyn SecretStore>,
    ) -> Result<Option<Session>> {
        let key = refresh_token_key(&env, context_id, &client_id);
        // A token stored by a version that named entries without the environment is moved
        // to its new name once (the environment is the one configured for this tenant now).
        let before = refresh_token_key_before_environments(context_id, &client_id);
        if store.get(&key)?.is_none() {
            if let Some(old) = store.get(&before)? {
                store.set(&key, &old)?;
                store.delete(&before)?;
            }
        }
        let Some(refresh_token) = store.get(&key)? else { return Ok(None) };
        let http = http_client()?;
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", client_id.clone()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        if let Some(s) = &client_secret {
            form.push(("client_secret", s.expose().to_owned()));
        }
        let tokens = match TokenResponse::request(&http, &env.token_endpoint(), &form).await {
            Ok(t) => t,
            Err(Error::SignIn { code: ErrorCode::TokenInvalidGrant, .. }) => {
                store.delete(&key)?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // A rotated token is saved before anything else can fail.
        if let Some(rotated) = &tokens.refresh_token {
            store.set(&key, rotated)?;
        }
        let id =
            tokens.id_token.as_ref().ok_or_else(|| Error::sign_in(ErrorCode::IdTokenMissing, "the refresh answer carries no id_token"))?;
        let claims = id_token::validate(&http, &env.jwks_uri(), id.expose(), &env.issuer(), &client_id, None).await?;
        if !claims.context_id.eq_ignore_ascii_case(context_id) {
            return Err(Error::sign_in(ErrorCode::WrongTenant, format!("the stored sign-in belongs to {}", claims.context_id)));
        }
        let api_base = resolve_tenant(&http, &env, &claims.context_id).await?;
        let tokens = TokenResponse { refresh_token: tokens.refresh_token.clone().or(Some(refresh_token)), ..tokens };
        Session::establish(http, env, client_id, client_secret, claims, api_base, tokens, store).map(Some)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn establish(
        http: reqwest::Client,
        env: Environment,
        client_id: String,
        client_secret: Option<Secret>,
        claims: Claims,
        api_base: url::Url,
        tokens: TokenResponse,
        store: Arc<dyn SecretStore>,
    ) -> Result<Self> {
        let key = refresh_token_key(&env, &claims.context_id, &client_id);
        match &tokens.refresh_token {
            Some(rt) => store.set(&key, rt)?,
            // Never leave an earlier sign-in's token behind under this name.
            None => store.delete(&key)?,
        }
        let link = TenantLink::new(http, env, claims.context_id.clone(), api_base);
        Ok(Session {
            inner: Arc::new(Inner {
                link,
                client_id,
                client_secret,
                claims,
                tokens: std::sync::Mutex::new(TokenState {
                    access: tokens.access_token,
                    generation: 1,
                    expires_at: Instant::now() + tokens.expires_in,
                }),
                refreshing: tokio::sync::Mutex::new(()),
                store,
            }),
        })
    }

    pub fn claims(&self) -> &Claims {
        &self.inner.claims
    }

    pub fn info(&self) -> SessionInfo {
        let c = &self.inner.claims;
        SessionInfo {
            associate_id: c.associate_id,
            context_id: c.context_id.clone(),
            email: c.email.clone(),
            company_name: c.company_name.clone(),
        }
    }

    pub(crate) fn link(&self) -> &TenantLink {
        &self.inner.link
    }

    /// The current access token and its generation; refreshes first when it is about to
    /// expire.
    pub(crate) async fn bearer(&self) -> Result<(Secret, u64)> {
        let generation = {
            let t = self.tokens();
            if t.expires_at > Instant::now() + EXPIRY_MARGIN {
                return Ok((t.access.clone(), t.generation));
            }
            t.generation
        };
        self.refresh(generation).await?;
        let t = self.tokens();
        Ok((t.access.clone(), t.generation))
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, TokenState> {
        self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refreshes now (for diagnostics: proves the refresh token, the client secret and the
    /// refreshed id_token all work).
    pub async fn refresh_now(&self) -> Result<()> {
        let generation = self.tokens().generation;
        self.refresh(generation).await
    }

    /// Refreshes unless another caller already replaced the token of `used_generation`.
    pub(crate) async fn refresh(&self, used_generation: u64) -> Result<()> {
        let _single_flight = self.inner.refreshing.lock().await;
        if self.tokens().generation != used_generation {
            return Ok(());
        }
        let key = refresh_token_key(&self.inner.link.env, &self.inner.claims.context_id, &self.inner.client_id);
        let refresh_token = self.inner.store.get(&key)?.ok_or(Error::NotSignedIn)?;
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", self.inner.client_id.clone()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        if let Some(s) = &self.inner.client_secret {
            form.push(("client_secret", s.expose().to_owned()));
        }
        let tokens = match TokenResponse::request(&self.inner.link.http, &self.inner.link.env.token_endpoint(), &form).await {
            Ok(t) => t,
            Err(Error::SignIn { code: ErrorCode::TokenInvalidGrant, .. }) => {
                // The grant is gone (revoked consent); the stored token is useless.
                self.inner.store.delete(&key)?;
                return Err(Error::NotSignedIn);
            }
            Err(e) => return Err(e),
        };
        // A rotated refresh token replaces the old one before anything else can fail: the
        // server may already have invalidated the old one.
        if let Some(rotated) = &tokens.refresh_token {
            self.inner.store.set(&key, rotated)?;
        }
        if let Some(id) = &tokens.id_token {
            let c = id_token::validate(
                &self.inner.link.http,
                &self.inner.link.env.jwks_uri(),
                id.expose(),
                &self.inner.link.env.issuer(),
                &self.inner.client_id,
                None,
            )
            .await?;
            let before = &self.inner.claims;
            if c.subject != before.subject || c.context_id != before.context_id || c.associate_id != before.associate_id {
                return Err(Error::sign_in(ErrorCode::IdTokenSubjectChanged, "the refreshed id_token belongs to another user or tenant"));
            }
        }
        let mut t = self.tokens();
        t.access = tokens.access_token;
        t.generation += 1;
        t.expires_at = Instant::now() + tokens.expires_in;
        tracing::debug!(generation = t.generation, "access token refreshed");
        Ok(())
    }

    /// Signs the rep out: revokes the refresh token where the server offers revocation (read
    /// from the discovery document), then deletes it from the keychain. Runs under the refresh
    /// lock, so a refresh in flight finishes first and none can write a rotated token back
    /// afterwards; the keychain entry is deleted even when reading it or revoking it fails, and
    /// the in-memory access token is dropped either way. The returned error says what failed.
    pub async fn sign_out(&self) -> Result<()> {
        let _single_flight = self.inner.refreshing.lock().await;
        let key = refresh_token_key(&self.inner.link.env, &self.inner.claims.context_id, &self.inner.client_id);
        let revoked = match self.inner.store.get(&key) {
            Ok(Some(token)) => self.revoke(&token).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e.into()),
        };
        let deleted = self.inner.store.delete(&key);
        {
            let mut t = self.tokens();
            t.access = Secret::new("");
            t.expires_at = Instant::now();
            t.generation += 1;
        }
        deleted?;
        revoked
    }

    async fn revoke(&self, token: &Secret) -> Result<()> {
        #[derive(Deserialize)]
        struct Discovery {
            revocation_endpoint: Option<String>,
        }
        let link = &self.inner.link;
        let discovery: Discovery = link
            .http
            .get(link.env.discovery_url())
            .send()
            .await
            .map_err(Error::from_reqwest)?
            .json()
            .await
            .map_err(|e| Error::Decode(format!("discovery: {}", e.without_url())))?;
        let Some(endpoint) = discovery.revocation_endpoint else { return Ok(()) };
        let endpoint_url = url::Url::parse(&endpoint).map_err(|e| Error::Decode(format!("revocation_endpoint: {e}")))?;
        let base = url::Url::parse(&link.env.base()).map_err(|e| Error::Decode(e.to_string()))?;
        if endpoint_url.host_str() != base.host_str() || endpoint_url.scheme() != base.scheme() {
            return Err(Error::UntrustedHost(endpoint_url.host_str().unwrap_or("?").to_owned()));
        }
        let mut form = vec![
            ("token", token.expose().to_owned()),
            ("token_type_hint", "refresh_token".to_owned()),
            ("client_id", self.inner.client_id.clone()),
        ];
        if let Some(s) = &self.inner.client_secret {
            form.push(("client_secret", s.expose().to_owned()));
        }
        require_transport(endpoint_url.as_str())?;
        let resp = link.http.post(endpoint_url).form(&form).send().await.map_err(Error::from_reqwest)?;
        if !resp.status().is_success() {
            return Err(crate::error::api_error(resp).await);
        }
        Ok(())
    }
}
