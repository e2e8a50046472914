//! The rep's interactive sign-in: authorization code + PKCE S256 through the system browser.
//!
//! The caller opens [`PendingSignIn::authorize_url`] in the system browser (never in a
//! webview) and awaits [`PendingSignIn::finish`], which receives the redirect on the loopback
//! listener, redeems the code with our verifier, validates the id_token, resolves the tenant
//! with the state API and stores the refresh token in the keychain.

use codes::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use keychain::{Secret, SecretStore};

use crate::environment::{resolve_tenant, transport_ok, Environment};
use crate::loopback::{Listener, Redirect};
use crate::pkce::{random_url_safe, Pkce};
use crate::session::{Session, TokenResponse};
use crate::{id_token, Error, Result};

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

impl PendingSignIn {
    /// Opens the loopback listener and builds the authorize URL.
    pub async fn start(request: SignInRequest) -> Result<Self> {
        let listener = Listener::bind().await?;
        let redirect_uri = listener.redirect_uri();
        let state = random_url_safe(16);
        let nonce = random_url_safe(16);
        let Pkce { verifier, challenge } = Pkce::new();
        let mut url = url::Url::parse(&request.environment.authorize_endpoint())
            .map_err(|e| Error::sign_in(ErrorCode::BadEnvironment, e.to_string()))?;
        if !transport_ok(&url) {
            return Err(Error::sign_in(
                ErrorCode::BadEnvironment,
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
        let http = crate::environment::http_client()?;
        let resp = http.get(&self.authorize_url).send().await.map_err(Error::from_reqwest)?;
        let status = resp.status();
        if !status.is_client_error() {
            return Ok(());
        }
        let page = resp.text().await.unwrap_or_default();
        Err(Error::sign_in(
            ErrorCode::RegistrationRefused,
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
        let http = crate::environment::http_client()?;
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
        let id_token =
            tokens.id_token.as_ref().ok_or_else(|| Error::sign_in(ErrorCode::IdTokenMissing, "no id_token in the token response"))?;
        let claims =
            id_token::validate(&http, &env.jwks_uri(), id_token.expose(), &env.issuer(), &self.request.client_id, Some(&self.nonce))
                .await?;
        if let Some(t) = &self.request.tenant {
            if !t.eq_ignore_ascii_case(&claims.context_id) {
                return Err(Error::sign_in(ErrorCode::WrongTenant, format!("signed in to {} instead of {t}", claims.context_id)));
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
            ErrorCode::AuthorizeRefused,
            format!(
                "SuperOffice sent the browser back with an error ({why}). Check the app registration in the SuperOffice Developer Portal \
                 (client id, redirect URL rule ^http://127.0.0.1\\:\\d{{4,10}}$, the tenant's approval of the app). Who can fix it: \
                 the owner of the app registration, and the tenant's administrator for the approval."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_are_read_as_one_line_of_their_body() {
        let page = "<!doctype html><html><head><title>Error</title><style>p{}</style></head><body><h1>Sign-in error</h1>\n<p>Authorization error: InvalidRedirectUrl (2).</p></body></html>";
        assert_eq!(page_text(page), "Sign-in error Authorization error: InvalidRedirectUrl (2).");
        assert_eq!(page_text("<title>Error</title><h1>Sign-in error</h1>"), "Sign-in error");
        assert_eq!(page_text(&"x".repeat(500)).len(), 200);
        assert!(matches!(denied("access_denied: The user said no"), Error::SignInCancelled(_)));
        assert_eq!(denied("unauthorized_client: not allowed").code(), "authorize_refused");
    }
}
