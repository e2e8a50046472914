//! Connecting the rep's mailbox: authorization code + PKCE S256 in the system browser with a
//! loopback redirect, the same parts as the SuperOffice sign-in (`superoffice::loopback`,
//! `pkce`, `oauth`), as a public client ([AC]: no secret at Microsoft; [T2]: Google's desktop
//! clients send their non-confidential secret). The refresh token goes to the keychain and
//! nowhere else; the result names the mailbox's address as the provider reports it (Graph's
//! `/me` `mail` [UG]; Google's ID token `email` when `email_verified` [I1]), so the app can
//! compare it with the rep's SuperOffice address before the first send.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use codes::ErrorCode;
use keychain::{Secret, SecretStore};
use serde::{Deserialize, Serialize};
use superoffice::loopback::{Listener, Redirect, RedirectRules};
use superoffice::pkce::{random_url_safe, Pkce};

use crate::provider::{Endpoints, Provider};
use crate::{answer, Error, Result};

/// What to connect.
#[derive(Clone)]
pub struct ConnectRequest {
    pub provider: Provider,
    /// The app registration's client id (Microsoft Entra, or Google Cloud "Desktop app").
    pub client_id: String,
    /// Google's desktop client secret; `None` for Microsoft.
    pub client_secret: Option<Secret>,
    pub endpoints: Endpoints,
    /// The rep's SuperOffice address, so the provider offers the right account first.
    pub login_hint: Option<String>,
}

/// The connected mailbox, as the provider reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Account {
    pub provider: Provider,
    /// The address mail is sent from.
    pub address: String,
    pub display_name: Option<String>,
    /// The provider's stable id of the user (Microsoft `oid`, Google `sub`).
    pub account_id: String,
    /// Microsoft's tenant id (`tid`), the authority for later refreshes.
    pub tenant_id: Option<String>,
    /// The scopes granted, as the token response named them.
    pub granted: Vec<String>,
}

/// A connection waiting for the browser.
pub struct PendingConnect {
    request: ConnectRequest,
    listener: Listener,
    redirect_uri: String,
    state: String,
    pkce: Pkce,
    authorize_url: String,
}

impl PendingConnect {
    /// Opens the loopback listener and builds the authorize URL (which carries no secret).
    pub async fn start(request: ConnectRequest) -> Result<Self> {
        let listener = if request.provider.redirects_to_localhost() { Listener::bind_localhost().await } else { Listener::bind().await }
            .map_err(|e| Error::SignIn { code: ErrorCode::LoopbackUnavailable, detail: e.to_string() })?;
        let redirect_uri = listener.redirect_uri();
        let state = random_url_safe(16);
        let pkce = Pkce::new();
        let mut url = url::Url::parse(&request.endpoints.authorize)
            .map_err(|e| Error::SignIn { code: ErrorCode::BadEnvironment, detail: format!("the sign-in address is not valid: {e}") })?;
        if !superoffice::transport_ok(&url) {
            return Err(Error::SignIn {
                code: ErrorCode::BadEnvironment,
                detail: "the mail provider's sign-in must be an https:// address".into(),
            });
        }
        url.query_pairs_mut()
            .append_pair("client_id", &request.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &request.provider.scopes().join(" "))
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = request.login_hint.as_deref().filter(|h| !h.is_empty()) {
            url.query_pairs_mut().append_pair("login_hint", hint);
        }
        let authorize_url = url.into();
        Ok(PendingConnect { request, listener, redirect_uri, state, pkce, authorize_url })
    }

    /// The URL to open in the system browser.
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// Waits for the browser, redeems the code, stores the refresh token under `refresh_key`
    /// and returns the account.
    pub async fn finish(self, store: Arc<dyn SecretStore>, refresh_key: &str, timeout: Duration) -> Result<Account> {
        let provider = self.request.provider;
        let rules = RedirectRules { state: &self.state, issuer: &self.request.endpoints.issuer, also: provider.redirect_extras() };
        let code = match self.listener.wait_for(rules, timeout).await {
            Ok(Redirect::Code(c)) => Secret::new(c),
            Ok(Redirect::Denied(why)) => return Err(denied(provider, &why)),
            Err(e) => return Err(Error::Cancelled(e.to_string())),
        };
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", self.request.client_id.clone()),
            ("code", code.expose().to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", self.pkce.verifier.expose().to_owned()),
        ];
        if let Some(secret) = &self.request.client_secret {
            form.push(("client_secret", secret.expose().to_owned()));
        }
        let http = answer::http_client();
        let tokens = superoffice::oauth::request(&http, &self.request.endpoints.token, &form).await?;
        let granted: Vec<String> = tokens.scope.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        let missing: Vec<&str> = provider
            .required_grants()
            .iter()
            .copied()
            .filter(|need| !granted.iter().any(|g| g == need || g.rsplit('/').next() == Some(*need)))
            .collect();
        if !missing.is_empty() {
            return Err(Error::SignIn {
                code: ErrorCode::MailboxScopeMissing,
                detail: format!("{} granted {granted:?} but sending needs {missing:?}", provider.product()),
            });
        }
        let refresh = tokens.refresh_token.clone().ok_or_else(|| Error::BadAnswer("the token response has no refresh_token".into()))?;
        let claims = tokens.id_token.as_ref().map(|t| id_token_claims(t.expose())).transpose()?.unwrap_or_default();
        if claims["aud"].as_str().is_some_and(|aud| aud != self.request.client_id) {
            return Err(Error::BadAnswer("the ID token was issued to another client".into()));
        }
        let account = match provider {
            Provider::Microsoft => {
                let me = crate::graph::me(&http, &self.request.endpoints.api, &tokens.access_token).await?;
                Account {
                    provider,
                    address: me.mail.filter(|m| !m.is_empty()).ok_or_else(|| Error::SignIn {
                        code: ErrorCode::MailboxNoAddress,
                        detail: format!("{} has no mailbox address (Graph /me mail is empty)", me.user_principal_name),
                    })?,
                    display_name: me.display_name,
                    account_id: claims["oid"].as_str().map(str::to_owned).unwrap_or(me.id),
                    tenant_id: claims["tid"].as_str().map(str::to_owned),
                    granted,
                }
            }
            Provider::Google => {
                let verified = claims["email_verified"].as_bool().unwrap_or(false) || claims["email_verified"].as_str() == Some("true");
                let address = claims["email"].as_str().filter(|e| verified && !e.is_empty()).ok_or_else(|| Error::SignIn {
                    code: ErrorCode::MailboxNoAddress,
                    detail: "Google's ID token names no verified email address".into(),
                })?;
                Account {
                    provider,
                    address: address.to_owned(),
                    display_name: claims["name"].as_str().map(str::to_owned),
                    account_id: claims["sub"].as_str().unwrap_or_default().to_owned(),
                    tenant_id: None,
                    granted,
                }
            }
        };
        let (key, secret) = (refresh_key.to_owned(), refresh);
        tokio::task::spawn_blocking(move || store.set(&key, &secret))
            .await
            .map_err(|e| Error::Keychain(e.to_string()))?
            .map_err(|e| Error::Keychain(e.to_string()))?;
        Ok(account)
    }
}

/// Revokes a refresh token at the provider's revocation endpoint (Google's `/revoke` [T7]: the
/// token as a form field; revoking it ends the whole grant). Microsoft has no such endpoint for
/// a public client; there the token is only deleted.
pub async fn revoke(endpoint: &str, token: &Secret) -> Result<()> {
    answer::check_transport(endpoint)?;
    let response = answer::http_client().post(endpoint).form(&[("token", token.expose())]).send().await.map_err(answer::unreachable)?;
    answer::read(response).await.map(|_| ())
}

/// The claims of an ID token received straight from the token endpoint over TLS (or loopback),
/// which OpenID Connect Core §3.1.3.7 (6) lets the client trust without checking the signature
/// ([I1] says the same for Google). Only `aud` and the identity claims are read.
fn id_token_claims(jwt: &str) -> Result<serde_json::Value> {
    let payload = jwt.split('.').nth(1).ok_or_else(|| Error::BadAnswer("the ID token is not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Error::BadAnswer(format!("the ID token's payload is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer(format!("the ID token's payload is not JSON: {e}")))
}

/// The browser came back with `error=…`: the rep's or the tenant's "no" to the consent, or a
/// registration the provider refuses. Microsoft puts its AADSTS number first in
/// `error_description` ([EC]); the number decides, never the words.
fn denied(provider: Provider, why: &str) -> Error {
    let error = why.split(':').next().unwrap_or_default().trim();
    let aadsts = why.split("AADSTS").nth(1).map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>());
    let consent = matches!(error, "access_denied" | "consent_required" | "admin_policy_enforced" | "org_internal")
        || matches!(aadsts.as_deref(), Some("65001" | "65004" | "90094" | "90095" | "50105" | "53003"));
    if consent {
        Error::SignIn {
            code: ErrorCode::MailboxConsentRefused,
            detail: format!("{} did not grant access to the mailbox ({why})", provider.product()),
        }
    } else {
        Error::SignIn {
            code: ErrorCode::AuthorizeRefused,
            detail: format!(
                "{} sent the browser back with an error ({why}); check the app registration (client id, redirect address)",
                provider.product()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_read_by_its_code() {
        let e = denied(Provider::Microsoft, "access_denied: AADSTS65004: User declined to consent to access the app.");
        assert_eq!(e.code(), ErrorCode::MailboxConsentRefused);
        let e = denied(Provider::Microsoft, "invalid_request: AADSTS90094: The grant requires admin permission.");
        assert_eq!(e.code(), ErrorCode::MailboxConsentRefused);
        assert_eq!(denied(Provider::Google, "admin_policy_enforced").code(), ErrorCode::MailboxConsentRefused);
        assert_eq!(denied(Provider::Google, "invalid_request: bad").code(), ErrorCode::AuthorizeRefused);
        assert_eq!(denied(Provider::Microsoft, "unauthorized_client: AADSTS700016: app not found").code(), ErrorCode::AuthorizeRefused);
    }

    #[test]
    fn id_token_claims_are_read_from_the_payload() {
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(r#"{"aud":"c1","email":"a@b.example","email_verified":true}"#));
        let claims = id_token_claims(&jwt).unwrap_or_default();
        assert_eq!(claims["email"], "a@b.example");
        assert!(id_token_claims("not-a-jwt").is_err());
        assert!(id_token_claims("a.%%%.c").is_err());
    }
}
