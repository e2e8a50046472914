//! Where a tenant lives and how it is reached: the environment (its fixed or custom
//! endpoints), the one transport rule for anything that carries a secret, the tenant state
//! API that resolves the tenant's API base, and the HTTP client every call uses.
//!
//! It sits under the sign-in, the session, the system user and the REST client, which all
//! need it and none of which it needs.

use std::time::Duration;

use serde::Deserialize;

use crate::{Error, Result};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The HTTP client for SuperOffice: no redirects followed (a redirect must not carry our
/// credentials elsewhere), bounded timeouts.
pub(crate) fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("so-outbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::from_reqwest)
}

/// How to reach a tenant: the HTTP client, the environment and the resolved API base, which
/// moves when SuperOffice answers 421 (the tenant changed host).
pub(crate) struct TenantLink {
    pub http: reqwest::Client,
    pub env: Environment,
    pub context_id: String,
    api_base: std::sync::RwLock<url::Url>,
}

impl TenantLink {
    pub fn new(http: reqwest::Client, env: Environment, context_id: String, api_base: url::Url) -> Self {
        TenantLink { http, env, context_id, api_base: std::sync::RwLock::new(api_base) }
    }
    pub fn api_base(&self) -> url::Url {
        self.api_base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub fn set_api_base(&self, base: url::Url) {
        *self.api_base.write().unwrap_or_else(|p| p.into_inner()) = base;
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
        return Err(crate::error::api_error(resp).await);
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
