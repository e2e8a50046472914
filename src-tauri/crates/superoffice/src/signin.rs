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
    /// The environment's name in keychain entries: its host (`online.superoffice.com`; an
    /// onsite installation's own host; `127.0.0.1` for the simulator, whose port changes with
    /// every start). A secret of one environment is never read for a tenant of another.
    pub fn key(&self) -> String {
        let base = self.base();
        url::Url::parse(&base).ok().and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase())).unwrap_or(base)
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

    /// Whether an API URL may receive this environment's tokens. For Online: https, no port,
    /// no credentials, on a host `<label>.superoffice.com`. The state API names the host and
    /// it "will change routinely": numbered hosts (`online2`, `sod3`), but also `app` or
    /// `disasterrecovery` (`docs/en/developer-portal/best-practices/tenant-status/check-status.md`),
    /// so the set is open. What is refused: anything outside `superoffice.com`, and the hosts
    /// of another environment (`sod…` for Online, `online…` for SOD, …). For a custom base:
    /// the same scheme, host and port as the base.
    pub fn api_url_allowed(&self, api: &url::Url) -> bool {
        if api.username() != "" || api.password().is_some() || !transport_ok(api) {
            return false;
        }
        match self {
            Environment::Custom(base) => url::Url::parse(base).is_ok_and(|b| {
                b.scheme() == api.scheme() && b.host_str() == api.host_str() && b.port_or_known_default() == api.port_or_known_default()
            }),
            _ => {
                let ours = match self {
                    Environment::Sod => "sod",
                    Environment::Stage => "qaonline",
                    _ => "online",
                };
                let Some(label) = api.host_str().and_then(|h| h.strip_suffix(".superoffice.com")) else { return false };
                let well_formed = !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !label.starts_with('-');
                // An environment's own name, numbered or not: it must be ours.
                let env_name = label.trim_end_matches(|c: char| c.is_ascii_digit());
                let other_env = ["sod", "qaonline", "online", "stage"].contains(&env_name) && env_name != ours;
                api.scheme() == "https" && api.port().is_none() && well_formed && !other_env
            }
        }
    }
}

/// The one transport rule for every request that carries a secret or a token (authorize,
/// token, refresh, revoke, JWKS, system user, the REST API, the mail provider's token
/// endpoint): https, or plain http to a loopback IP address (the simulator, tests). A host
/// *name* never counts as loopback over http (`http://localhost.attacker.example` is not).
pub fn transport_ok(u: &url::Url) -> bool {
    u.scheme() == "https"
        || (u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback()))
        || (u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback()))
}

/// [`transport_ok`] for a URL given as text; a URL that does not parse is refused.
pub fn transport_ok_str(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| transport_ok(&u))
}

/// Refuses to send a secret or token to `url` unless [`transport_ok`] allows it.
pub(crate) fn require_transport(url: &str) -> Result<()> {
    if transport_ok_str(url) {
        Ok(())
    } else {
        let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "?".into());
        Err(Error::UntrustedHost(host))
    }
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
        let pending = PendingSignIn { request, listener, redirect_uri, state, nonce, verifier, authorize_url: url.into() };
        pending.check_registration().await?;
        Ok(pending)
    }

    /// Asks the authorize endpoint about this exact request before the browser opens it. A 4xx
    /// means SuperOffice refuses the request itself (an unknown client id, a redirect URI the
    /// registration does not allow): the browser would only show SuperOffice's error page and
    /// never come back, so the rep is told at once, with the fix, instead of after the
    /// timeout. The URL carries no secret (only the PKCE challenge); no redirect is followed.
    async fn check_registration(&self) -> Result<()> {
        let http = crate::session::http_client()?;
        let resp = http.get(&self.authorize_url).send().await.map_err(Error::from_reqwest)?;
        let status = resp.status();
        if !status.is_client_error() {
            return Ok(());
        }
        let page = resp.text().await.unwrap_or_default();
        Err(Error::sign_in(
            "registration_refused",
            format!(
                "SuperOffice refused the sign-in request (HTTP {}: {}). The app registration must allow the redirect address {} \
                 (the Native app template's rule ^http://127.0.0.1\\:\\d{{4,10}}$) and must be the one whose client id is configured \
                 ({}). Who can fix it: the owner of the app registration in the SuperOffice Developer Portal.",
                status.as_u16(),
                page_text(&page),
                self.redirect_uri,
                self.request.client_id,
            ),
        ))
    }

    /// The URL to open in the system browser. It carries no secret (only the challenge).
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// Waits for the browser, redeems the code and returns the signed-in session.
    pub async fn finish(self, client_secret: Option<Secret>, store: Arc<dyn SecretStore>, timeout: Duration) -> Result<Session> {
        let code = match self.listener.wait(&self.state, &self.request.environment.issuer(), timeout).await? {
            Redirect::Code(c) => Secret::new(c),
            Redirect::Denied(why) => return Err(denied(&why)),
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

/// The text of an HTML error page's body, without markup, on one line, at most 200 characters.
fn page_text(page: &str) -> String {
    let lower = page.to_ascii_lowercase();
    // The `<head>` (title, styles) repeats or hides the message; the body says it.
    let cut = |page: String, lower: &str, open: &str, close: &str| match (lower.find(open), lower.find(close)) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &page[..a], &page[b + close.len()..]),
        _ => page,
    };
    let page = cut(page.to_owned(), &lower, "<head", "</head>");
    let lower = page.to_ascii_lowercase();
    let page = cut(page, &lower, "<title", "</title>");
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(if c.is_control() { ' ' } else { c }),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(200).collect()
}

/// The browser came back with `error=…` (RFC 6749 §4.1.2.1): the rep's own "no" is a cancel;
/// anything else is SuperOffice refusing the request, which the rep cannot fix by trying again.
fn denied(why: &str) -> Error {
    let code = why.split(':').next().unwrap_or_default().trim();
    match code {
        "access_denied" => Error::SignInCancelled(why.to_owned()),
        _ => Error::sign_in(
            "authorize_refused",
            format!(
                "SuperOffice sent the browser back with an error ({why}). Check the app registration in the SuperOffice Developer Portal \
                 (client id, redirect URL rule ^http://127.0.0.1\\:\\d{{4,10}}$, the tenant's approval of the app). Who can fix it: \
                 the owner of the app registration, and the tenant's administrator for the approval."
            ),
        ),
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

    /// Keychain entries are named by the environment's host; the simulator's changing port is
    /// not part of it.
    #[test]
    fn environments_are_named_by_their_host() {
        assert_eq!(Environment::Online.key(), "online.superoffice.com");
        assert_eq!(Environment::Sod.key(), "sod.superoffice.com");
        assert_eq!(Environment::Stage.key(), "qaonline.superoffice.com");
        assert_eq!(Environment::Custom("https://CRM.Acme.example/".into()).key(), "crm.acme.example");
        assert_eq!(Environment::Custom("http://127.0.0.1:4711".into()).key(), "127.0.0.1");
    }

    #[test]
    fn error_pages_are_read_as_one_line_of_their_body() {
        let page = "<!doctype html><html><head><title>Error</title><style>p{}</style></head><body><h1>Sign-in error</h1>\n<p>Authorization error: InvalidRedirectUrl (2).</p></body></html>";
        assert_eq!(page_text(page), "Sign-in error Authorization error: InvalidRedirectUrl (2).");
        assert_eq!(page_text("<title>Error</title><h1>Sign-in error</h1>"), "Sign-in error");
        assert_eq!(page_text(&"x".repeat(500)).len(), 200);
        assert!(matches!(denied("access_denied: The user said no"), Error::SignInCancelled(_)));
        assert_eq!(denied("unauthorized_client: not allowed").code(), "authorize_refused");
    }

    #[test]
    fn api_hosts_are_allow_listed() {
        let ok = |e: &Environment, u: &str| e.api_url_allowed(&url::Url::parse(u).unwrap_or_else(|_| panic!("{u}")));
        assert!(ok(&Environment::Online, "https://online2.superoffice.com/Cust1/api/v1/"));
        assert!(ok(&Environment::Sod, "https://sod.superoffice.com/Cust1/api/v1/"));
        assert!(!ok(&Environment::Online, "http://online2.superoffice.com/Cust1/api/v1/"));
        assert!(!ok(&Environment::Online, "https://online2.superoffice.com.evil.example/Cust1/"));
        assert!(!ok(&Environment::Online, "https://user@online2.superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Online, "https://sod.superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Online, "https://sod2.superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Sod, "https://online3.superoffice.com/Cust1/"));
        // The state API may move a tenant to hosts without a number (check-status.md).
        assert!(ok(&Environment::Online, "https://app.superoffice.com/Cust1/api/v1/"));
        assert!(ok(&Environment::Online, "https://disasterrecovery.superoffice.com/Cust1/api/v1/"));
        assert!(!ok(&Environment::Online, "https://a.b.superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Online, "https://app.superoffice.com:8443/Cust1/"));
        assert!(!ok(&Environment::Online, "https://superoffice.com/Cust1/"));
        assert!(!ok(&Environment::Online, "https://app.superoffice.com.evil.example/Cust1/"));
        let c = Environment::Custom("http://127.0.0.1:4000".into());
        assert!(ok(&c, "http://127.0.0.1:4000/Cust1/api/v1/"));
        assert!(!ok(&c, "http://127.0.0.1:4001/Cust1/api/v1/"));
        let onsite = Environment::Custom("http://crm.example.com".into());
        assert!(!ok(&onsite, "http://crm.example.com/Cust1/api/v1/"), "plain http is only for loopback");
        for refused in [
            "http://localhost:4000/x",
            "http://localhost.attacker.example/x",
            "http://127.0.0.1.attacker.example/x",
            "ftp://127.0.0.1/x",
            "not a url",
        ] {
            assert!(!transport_ok_str(refused), "{refused}");
        }
        for allowed in ["https://sod.superoffice.com/login", "http://127.0.0.1:4000/x", "http://[::1]:4000/x", "http://127.0.0.2/x"] {
            assert!(transport_ok_str(allowed), "{allowed}");
        }
    }
}
