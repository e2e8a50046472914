//! Google's authorization endpoint `GET /o/oauth2/v2/auth` for a Desktop OAuth client:
//! validates the request as google.md §1 describes, answers the documented problems with
//! Google's error page ("Error 400: <code>", never a redirect), and otherwise shows the consent
//! page.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::consent::{self, html_escape};
use crate::oauth::{challenge_well_formed, Pending, ResponseMode};
use crate::params::{ParamError, Params};
use crate::scopes::{self, ScopeError};
use crate::state::lock;
use crate::{ConsentRefusal, Provider, Sim};

/// A2: the parameters documented for installed apps, then those the rule book's Sim accepts
/// and ignores for Desktop clients (`access_type`, `prompt`, `include_granted_scopes`, `hd`,
/// `nonce`).
const DOCUMENTED: [&str; 13] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "state",
    "login_hint",
    "access_type",
    "prompt",
    "include_granted_scopes",
    "hd",
    "nonce",
];

/// A7 / ACCT: the problem is shown on a Google page as "400 <code>"; nothing goes back to the
/// app.
pub fn error_page(code: &str, detail: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Error 400 ({code})</title></head><body>\
<h1>Access blocked: this app's request is invalid</h1><p id=\"error\">Error 400: {code}</p><p>{}</p></body></html>",
        html_escape(detail),
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

/// A3 Sim: `http`, host `127.0.0.1`, `[::1]` or `localhost`, any port, any path (NA: "start an
/// HTTP listener on a random available port"; LM allows `localhost`). `https` loopback, other
/// hosts, custom schemes and OOB are refused. No fragment (RFC 6749 §3.1.2).
pub fn redirect_allowed(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else { return false };
    u.scheme() == "http"
        && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
        && u.username().is_empty()
        && u.password().is_none()
        && u.fragment().is_none()
}

pub async fn authorize(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
    let p = match Params::parse(query.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(ParamError::Repeated(n) | ParamError::Undocumented(n)) => {
            return error_page("invalid_request", &format!("Parameter not allowed to be repeated: {n}"))
        }
    };
    // A7: `invalid_request` for malformed requests and missing required parameters.
    let Some(client_id) = p.get("client_id").filter(|c| !c.is_empty()) else {
        return error_page("invalid_request", "Missing required parameter: client_id");
    };
    if client_id != sim.config.client_id {
        // The unknown-client page is UNCONFIRMED on NA; google.md A7 Sim: a 400 page naming
        // `invalid_client`.
        return error_page("invalid_client", "The OAuth client was not found.");
    }
    let Some(redirect_uri) = p.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return error_page("invalid_request", "Missing required parameter: redirect_uri");
    };
    if redirect_uri.starts_with("urn:ietf:wg:oauth:2.0:oob") {
        // NA: OOB "is deprecated and is no longer supported" → `redirect_uri_mismatch`.
        return error_page("redirect_uri_mismatch", "The out-of-band (OOB) flow has been deprecated and is no longer supported.");
    }
    if !redirect_allowed(redirect_uri) {
        // A2: "If this value doesn't match … `redirect_uri_mismatch`".
        return error_page(
            "redirect_uri_mismatch",
            &format!("You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri={redirect_uri}"),
        );
    }
    if let Some(n) = p.undocumented(&DOCUMENTED) {
        // SIM (strict): a parameter not documented for installed apps is a malformed request.
        return error_page("invalid_request", &format!("Parameter not allowed for this message type: {n}"));
    }
    if let Some(n) = p.first_missing(&["response_type", "scope"]) {
        return error_page("invalid_request", &format!("Missing required parameter: {n}"));
    }
    if p.get("response_type") != Some("code") {
        // A2: `code` for installed applications.
        return error_page("invalid_request", "Unsupported response type for installed applications: only 'code' is allowed.");
    }
    let requested = match scopes::parse(Provider::Google, p.get("scope").unwrap_or("")) {
        Ok(s) => s,
        // Not on NA's error table; the `invalid_scope` page is observed (3P, UNCONFIRMED).
        Err(ScopeError::Unknown(s)) => {
            return error_page("invalid_scope", &format!("Some requested scopes were invalid. {{invalid=[{s}]}}"))
        }
        Err(_) => return error_page("invalid_request", "Missing required parameter: scope"),
    };
    // NA Step 1/2: method `S256` or `plain` ("defaults to plain"); A7: `invalid_grant` page
    // when "the code_callenge parameter is invalid or missing". SIM: S256 is required.
    let Some(challenge) = p.get("code_challenge").filter(|c| challenge_well_formed(c)) else {
        return error_page("invalid_grant", "The code_challenge parameter is invalid or missing. This simulator requires PKCE with S256.");
    };
    match p.get("code_challenge_method") {
        Some("S256") => {}
        Some("plain") | None => {
            return error_page("invalid_request", "This simulator requires code_challenge_method=S256 (plain, the default, is refused).")
        }
        Some(other) => return error_page("invalid_request", &format!("Invalid code_challenge_method: {other}")),
    }
    let mut request = Pending {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: requested,
        // NA: "The server returns the exact value that you send".
        state: p.get("state").map(str::to_owned),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge: challenge.to_owned(),
        response_mode: ResponseMode::Query,
        refusal: None,
    };
    match lock(&sim.controls.refusal).take() {
        // A7: `admin_policy_enforced` — a Workspace admin blocks one or more scopes.
        Some(ConsentRefusal::AdminPolicy | ConsentRefusal::AdminConsentRequired) => error_page(
            "admin_policy_enforced",
            "Your administrator has blocked access to one or more of the requested scopes for this app.",
        ),
        Some(ConsentRefusal::AccessDenied | ConsentRefusal::UserDeclined) => {
            request.refusal = Some(ConsentRefusal::AccessDenied);
            consent::begin(&sim, request)
        }
        None => consent::begin(&sim, request),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_any_port_any_path() {
        for ok in ["http://127.0.0.1:5000", "http://[::1]:5000/", "http://127.0.0.1:1/oauth2callback", "http://localhost:80"] {
            assert!(redirect_allowed(ok), "{ok}");
        }
        for bad in
            ["https://127.0.0.1:5000", "http://10.0.0.1:5000", "com.example.app:/cb", "http://127.0.0.1:5000/#x", "http://evil.example"]
        {
            assert!(!redirect_allowed(bad), "{bad}");
        }
    }
}
