//! The REST transport: who is calling (a signed-in rep or the system user), where (the tenant
//! base resolved by the state API, re-resolved once on HTTP 421), in which language, and what
//! an error answer means. The typed endpoints are in `endpoints.rs`.

use std::sync::{Arc, RwLock};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::environment::TenantLink;
use crate::system_user::SystemSession;
use crate::{Error, Result, Session};

/// Who the calls run as.
enum Caller {
    Rep(Session),
    System(SystemSession),
}

pub(crate) enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

struct Inner {
    caller: Caller,
    language: RwLock<String>,
}

/// A typed REST client for one tenant, as the signed-in rep or as the system user.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Calls as the signed-in rep.
    pub fn new(session: Session) -> Self {
        Client { inner: Arc::new(Inner { caller: Caller::Rep(session), language: RwLock::new("en".into()) }) }
    }

    /// Calls as the tenant's system user (diagnostics only).
    pub fn system(session: SystemSession) -> Self {
        Client { inner: Arc::new(Inner { caller: Caller::System(session), language: RwLock::new("en".into()) }) }
    }

    /// The rep's session, when calling as a rep.
    pub fn session(&self) -> Option<&Session> {
        match &self.inner.caller {
            Caller::Rep(s) => Some(s),
            Caller::System(_) => None,
        }
    }

    pub fn is_system_user(&self) -> bool {
        matches!(self.inner.caller, Caller::System(_))
    }

    /// The UI language (`en`, `de`), sent as `Accept-Language` and `SO-Language`.
    pub fn set_language(&self, language: &str) {
        let clean: String = language.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(16).collect();
        *self.inner.language.write().unwrap_or_else(|p| p.into_inner()) = if clean.is_empty() { "en".into() } else { clean };
    }

    fn link(&self) -> &TenantLink {
        match &self.inner.caller {
            Caller::Rep(s) => s.link(),
            Caller::System(s) => &s.link,
        }
    }

    /// The tenant's REST base (`.../api/v1/`), as currently resolved.
    pub fn api_base(&self) -> url::Url {
        self.link().api_base()
    }

    pub(crate) fn url(&self, path: &str) -> Result<url::Url> {
        self.api_base().join(path).map_err(|e| Error::Decode(format!("bad path {path}: {e}")))
    }

    /// Sends one request. On 401 a rep's token is refreshed once (single-flight) and the
    /// request repeated; on 421 the tenant is resolved again with the state API and the
    /// request repeated at the new address. Credentials only ever go to allowed API hosts.
    pub(crate) async fn send(&self, method: Method, url: url::Url, body: Body) -> Result<reqwest::Response> {
        let mut url = url;
        let (mut refreshed, mut re_resolved) = (false, false);
        loop {
            let link = self.link();
            if !link.env.api_url_allowed(&url) {
                return Err(Error::UntrustedHost(url.host_str().unwrap_or("?").to_owned()));
            }
            let language = self.inner.language.read().unwrap_or_else(|p| p.into_inner()).clone();
            let mut req = link
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .header(reqwest::header::ACCEPT_LANGUAGE, &language)
                .header("SO-Language", &language);
            let generation = match &self.inner.caller {
                Caller::Rep(s) => {
                    let (token, generation) = s.bearer().await?;
                    req = req.bearer_auth(token.expose());
                    Some(generation)
                }
                Caller::System(s) => {
                    req = req
                        .header(reqwest::header::AUTHORIZATION, format!("SOTicket {}", s.ticket.expose()))
                        .header("SO-AppToken", s.app_token.expose());
                    None
                }
            };
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Bytes(b) => req.header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(b.clone()),
            };
            let resp = req.send().await.map_err(Error::from_reqwest)?;
            match resp.status() {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    if let (Caller::Rep(s), Some(g)) = (&self.inner.caller, generation) {
                        refreshed = true;
                        s.refresh(g).await?;
                        continue;
                    }
                    return Err(crate::error::api_error(resp).await);
                }
                StatusCode::MISDIRECTED_REQUEST if !re_resolved => {
                    re_resolved = true;
                    let old = link.api_base();
                    let new = crate::environment::resolve_tenant(&link.http, &link.env, &link.context_id).await?;
                    tracing::info!(from = %old, to = %new, "tenant moved; re-resolved with the state API");
                    link.set_api_base(new.clone());
                    url = rebase(&url, &old, &new)?;
                    continue;
                }
                s if !s.is_success() => return Err(crate::error::api_error(resp).await),
                _ => return Ok(resp),
            }
        }
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let resp = self.send(Method::GET, self.url(path)?, Body::None).await?;
        decode(resp, path).await
    }

    pub(crate) async fn post<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T> {
        let resp = self.send(Method::POST, self.url(path)?, Body::Json(body)).await?;
        decode(resp, path).await
    }
}

/// Moves `url` from the `old` API base to the `new` one (a `odata.nextLink` is absolute).
fn rebase(url: &url::Url, old: &url::Url, new: &url::Url) -> Result<url::Url> {
    let rest = url.as_str().strip_prefix(old.as_str()).ok_or_else(|| Error::Decode("a link outside the tenant's API".into()))?;
    new.join(rest).map_err(|e| Error::Decode(e.to_string()))
}

pub(crate) async fn decode<T: DeserializeOwned>(resp: reqwest::Response, what: &str) -> Result<T> {
    let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_move_with_the_tenant() {
        let p = |s: &str| url::Url::parse(s).unwrap_or_else(|e| panic!("{e}"));
        let moved = rebase(
            &p("https://online2.superoffice.com/Cust1/api/v1/Appointment?$skip=200"),
            &p("https://online2.superoffice.com/Cust1/api/v1/"),
            &p("https://online3.superoffice.com/Cust1/api/v1/"),
        );
        assert_eq!(moved.ok().map(String::from), Some("https://online3.superoffice.com/Cust1/api/v1/Appointment?$skip=200".into()));
        assert!(rebase(
            &p("https://evil.example/x"),
            &p("https://online2.superoffice.com/Cust1/api/v1/"),
            &p("https://online3.superoffice.com/Cust1/api/v1/")
        )
        .is_err());
    }
}
