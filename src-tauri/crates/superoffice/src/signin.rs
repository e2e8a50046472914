//! The rep's interactive sign-in: authorization code + PKCE S256 through the system browser.
//!
//! The caller opens [`PendingSignIn::authorize_url`] in the system browser (never in a
//! webview) and awaits [`PendingSignIn::finish`], which receives the redirect on the loopback
//! listener, redeems the code with our verifier, validates the id_token, resolves the tenant
//! with the state API and stores the refresh token in the keychain.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use keychain::{Secret, SecretStore};
use serde::Deserialize;
use sha2::Digest;

use crate::loopback::{Listener, Redirect};
use crate::session::{Session, TokenResponse};
use crate::{id_token, Error, Result};

/// Where the tenant lives. The three Online environments have fixed endpoints; `Custom` is
/// an onsite installation or the simulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Environment {
    Sod,
    Stage,
    Online,
    Custom(String),
}

impl Environment {
    /// `https://{env}.superoffice.com`, which is also the pinned id_token issuer (the
    /// discovery document lives under `/login/`, but its issuer is the bare host).
    pub fn base(&self) -> String {
        match self {
            Environment::Sod => "https://sod.superoffice.com".into(),
            Environment::Stage => "https://qaonline.superoffice.com".into(),
            Environment::Online => "https://online.superoffice.com".into(),
            Environment::Custom(b) => b.trim_end_matches('/').to_owned(),
        }
    }
    pub fn issuer(&self) -> String {
        self.base()
    }
    pub fn authorize_endpoint(&self) -> String {
        format!("{}/login/common/oauth/authorize", self.base())
    }
    pub fn token_endpoint(&self) -> String {
        format!("{}/login/common/oauth/tokens", self.base())
    }
    /// The discovery document (under `/login/`; its issuer is the bare host).
    pub fn discovery_url(&self) -> String {
        format!("{}/login/.well-known/openid-configuration", self.base())
    }
    pub fn system_user_endpoint(&self) -> String {
        format!("{}/Login/api/PartnerSystemUser/Authenticate", self.base())
    }
    pub fn jwks_uri(&self) -> String {
        format!("{}/login/.well-known/jwks", self.base())
    }
    pub fn state_url(&self, context_id: &str) -> String {
        format!("{}/api/state/{}", self.base(), url::form_urlencoded::byte_serialize(context_id.as_bytes()).collect::<String>())
    }

    /// Whether an API URL may receive this environment's tokens: for Online, https on a
    /// `{sod,qaonline,online}N.superoffice.com` host; for a custom base, the same scheme, host
    /// and port as the base.
    pub fn api_url_allowed(&self, api: &url::Url) -> bool {
        if api.username() != "" || api.password().is_some() || !transport_ok(api) {
            return false;
        }
        match self {
            Environment::Custom(base) => url::Url::parse(base).is_ok_and(|b| {
                b.scheme() == api.scheme() && b.host_str() == api.host_str() && b.port_or_known_default() == api.port_or_known_default()
            }),
            _ => {
                let prefix = match self {
                    Environment::Sod => "sod",
                    Environment::Stage => "qaonline",
                    _ => "online",
                };
                api.scheme() == "https"
                    && api.port().is_none()
                    && api
                        .host_str()
                        .and_then(|h| h.strip_suffix(".superoffice.com"))
                        .is_some_and(|sub| sub.strip_prefix(prefix).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
            }
        }
    }
}

/// https everywhere, except plain http to the loopback interface (the simulator, tests).
fn transport_ok(u: &url::Url) -> bool {
    u.scheme() == "https"
        || (u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback()))
        || (u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback()))
        || (u.scheme() == "http" && u.host_str() == Some("localhost"))
}

/// What to sign in to.
#[derive(Clone, Debug)]
pub struct SignInRequest {
    pub environment: Environment,
    pub client_id: String,
    /// `Cust12345`, when known: sent as `acr_values=tenant:<ctx>` to skip tenant selection.
    pub tenant: Option<String>,
    pub login_hint: Option<String>,
}

/// A sign-in waiting for the browser.
pub struct PendingSignIn {
    request: SignInRequest,
    listener: Listener,
    redirect_uri: String,
    state: String,
    nonce: String,
    verifier: Secret,
    authorize_url: String,
}

fn random_url_safe(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

impl PendingSignIn {
    /// Opens the loopback listener and builds the authorize URL.
    pub async fn start(request: SignInRequest) -> Result<Self> {
        let listener = Listener::bind().await?;
        let redirect_uri = listener.redirect_uri();
        let state = random_url_safe(16);
        let nonce = random_url_safe(16);
        let verifier = Secret::new(random_url_safe(32));
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.expose().as_bytes()));
        let mut url =
            url::Url::parse(&request.environment.authorize_endpoint()).map_err(|e| Error::sign_in("bad_environment", e.to_string()))?;
        if !transport_ok(&url) {
            return Err(Error::sign_in(
                "bad_environment",
                "SuperOffice must be reached over https (plain http only on this computer's loopback)",
            ));
        }
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &request.client_id)
                .append_pair("scope", "openid")
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(t) = &request.tenant {
                q.append_pair("acr_values", &format!("tenant:{t}"));
            }
            if let Some(h) = &request.login_hint {
                q.append_pair("login_hint", h);
            }
        }
        Ok(PendingSignIn { request, listener, redirect_uri, state, nonce, verifier, authorize_url: url.into() })
    }

    /// The URL to open in the system browser. It carries no secret (only the challenge).
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// Waits for the browser, redeems the code and returns the signed-in session.
    pub async fn finish(self, client_secret: Option<Secret>, store: Arc<dyn SecretStore>, timeout: Duration) -> Result<Session> {
        let code = match self.listener.wait(&self.state, &self.request.environment.issuer(), timeout).await? {
            Redirect::Code(c) => Secret::new(c),
            Redirect::Denied(why) => return Err(Error::SignInCancelled(why)),
        };
        let http = crate::session::http_client()?;
        let env = &self.request.environment;
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", self.request.client_id.clone()),
            ("code", code.expose().to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", self.verifier.expose().to_owned()),
        ];
        if let Some(s) = &client_secret {
            form.push(("client_secret", s.expose().to_owned()));
        }
        let tokens = TokenResponse::request(&http, &env.token_endpoint(), &form).await?;
        let id_token = tokens.id_token.as_ref().ok_or_else(|| Error::sign_in("id_token_missing", "no id_token in the token response"))?;
        let claims =
            id_token::validate(&http, &env.jwks_uri(), id_token.expose(), &env.issuer(), &self.request.client_id, Some(&self.nonce))
                .await?;
        if let Some(t) = &self.request.tenant {
            if !t.eq_ignore_ascii_case(&claims.context_id) {
                return Err(Error::sign_in("wrong_tenant", format!("signed in to {} instead of {t}", claims.context_id)));
            }
        }
        let api_base = resolve_tenant(&http, env, &claims.context_id).await?;
        Session::establish(
            http,
            self.request.environment.clone(),
            self.request.client_id.clone(),
            client_secret,
            claims,
            api_base,
            tokens,
            store,
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TenantState {
    context_identifier: Option<String>,
    state: Option<String>,
    is_running: bool,
    api: Option<String>,
    endpoint: Option<String>,
}

/// Resolves the tenant's API base (`.../{ctx}/api/v1/`) with the state API, and checks that
/// it is a host allowed to receive tokens.
pub async fn resolve_tenant(http: &reqwest::Client, env: &Environment, context_id: &str) -> Result<url::Url> {
    let resp = http.get(env.state_url(context_id)).send().await.map_err(Error::from_reqwest)?;
    if !resp.status().is_success() {
        return Err(crate::rest::api_error(resp).await);
    }
    let state: TenantState = resp.json().await.map_err(|e| Error::Decode(format!("tenant state: {}", e.without_url())))?;
    if !state.is_running {
        return Err(Error::Api {
            status: 503,
            error_type: Some("TenantNotRunning".into()),
            message: format!(
                "the tenant {} is {}",
                state.context_identifier.unwrap_or_default(),
                state.state.unwrap_or_else(|| "not running".into())
            ),
            retry_after: None,
        });
    }
    let api = state
        .api
        .or_else(|| state.endpoint.map(|e| format!("{}/api", e.trim_end_matches('/'))))
        .ok_or_else(|| Error::Decode("the tenant state has no Api endpoint".into()))?;
    let base = url::Url::parse(&format!("{}/v1/", api.trim_end_matches('/'))).map_err(|e| Error::Decode(format!("tenant Api URL: {e}")))?;
    if !env.api_url_allowed(&base) {
        return Err(Error::UntrustedHost(base.host_str().unwrap_or("?").to_owned()));
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_hosts_are_allow_listed() {
        let ok = |e: &Environment, u: &str| e.api_url_allowed(&url::Url::parse(u).unwrap_or_else(|_| panic!("{u}")));
        assert!(ok(&Environment::Online, "https://online2.superoffice.com/Cust1/api/v1/"));
        assert!(ok(&Environment::Sod, "https://sod.superoffice.com/Cust1/api/v1/"));
        assert!(!ok(&Environment::Online, "http://online2.superoffice.com/Cust1/api/v1/"));
        assert!(!ok(&Environment::Online, "https://online2.superoffice.com.evil.example/Cust1/"));
        assert!(!ok(&Environment::Online, "https://user@online2.superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Online, "https://sod.superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Online, "https://onlinex.superoffice.com/Cust1/"));
        let c = Environment::Custom("http://127.0.0.1:4000".into());
        assert!(ok(&c, "http://127.0.0.1:4000/Cust1/api/v1/"));
        assert!(!ok(&c, "http://127.0.0.1:4001/Cust1/api/v1/"));
        let onsite = Environment::Custom("http://crm.example.com".into());
        assert!(!ok(&onsite, "http://crm.example.com/Cust1/api/v1/"), "plain http is only for loopback");
    }
}
