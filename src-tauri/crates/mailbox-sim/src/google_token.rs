//! Google's token endpoint `POST /token` (authorization-code grant with PKCE and the Desktop
//! client's secret, refresh grant without rotation) and revocation endpoint `POST /revoke`,
//! each refusal in the RFC 6749 §5.2 shape Google uses (google.md §2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use crate::oauth::{s256_matches, verifier_well_formed, CodeError, RefreshError, ACCESS_TTL_SECS};
use crate::params::{is_form, ParamError, Params};
use crate::{idtoken, scopes, Provider, Sim};

/// T2 (NA Step 5): the code exchange's parameters.
const CODE_PARAMS: [&str; 6] = ["client_id", "client_secret", "code", "code_verifier", "grant_type", "redirect_uri"];
/// T4 (NA): the refresh request's parameters.
const REFRESH_PARAMS: [&str; 4] = ["client_id", "client_secret", "grant_type", "refresh_token"];

/// T5: `{"error","error_description"}`, HTTP 400 (401 for `invalid_client`).
pub fn error(error: &str, description: &str) -> Response {
    let status = if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(json!({ "error": error, "error_description": description }))).into_response()
}

/// T1: client_secret_post or client_secret_basic, not both (RFC 6749 §2.3.1).
fn client_credentials(headers: &HeaderMap, p: &Params) -> Result<(Option<String>, Option<String>), Response> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    match basic {
        Some(_) if p.has("client_secret") => Err(error("invalid_request", "Only one client authentication method may be used.")),
        Some(pair) => {
            let (id, secret) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
            let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
            Ok((decode(id), decode(secret)))
        }
        None => Ok((p.get("client_id").map(str::to_owned), p.get("client_secret").map(str::to_owned))),
    }
}

pub async fn token(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    // T1: `Content-Type: application/x-www-form-urlencoded`. SIM (strict): nothing else.
    if !is_form(&headers) {
        return error("invalid_request", "Invalid Content-Type: the body must be application/x-www-form-urlencoded.");
    }
    let p = match Params::parse(&String::from_utf8_lossy(&body)) {
        Ok(p) => p,
        Err(ParamError::Repeated(n) | ParamError::Undocumented(n)) => {
            return error("invalid_request", &format!("Duplicate parameter: {n}"))
        }
    };
    let (client_id, secret) = match client_credentials(&headers, &p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(grant_type) = p.get("grant_type").filter(|g| !g.is_empty()) else {
        return error("invalid_request", "Missing required parameter: grant_type");
    };
    let documented: &[&str] = match grant_type {
        "authorization_code" => &CODE_PARAMS,
        "refresh_token" => &REFRESH_PARAMS,
        other => return error("unsupported_grant_type", &format!("Invalid grant_type: {other}")),
    };
    if let Some(n) = p.undocumented(documented) {
        // SIM (strict): undocumented parameters are refused.
        return error("invalid_request", &format!("Unexpected parameter: {n}"));
    }
    match client_id.as_deref() {
        None | Some("") => return error("invalid_request", "Missing required parameter: client_id"),
        // T5: `invalid_client` (401), description UNCONFIRMED.
        Some(id) if id != sim.config.client_id => return error("invalid_client", "The OAuth client was not found."),
        Some(_) => {}
    }
    // T2 Sim: a Desktop client must send its secret ("client_secret is missing." live, 3P).
    if let Some(expected) = &sim.config.client_secret {
        match secret.as_deref() {
            None | Some("") => return error("invalid_request", "client_secret is missing."),
            Some(s) if s != expected => return error("invalid_client", "Unauthorized"),
            Some(_) => {}
        }
    }
    match grant_type {
        "authorization_code" => code_grant(&sim, &p),
        _ => refresh_grant(&sim, &p),
    }
}

fn code_grant(sim: &Sim, p: &Params) -> Response {
    if let Some(n) = p.first_missing(&["code", "redirect_uri"]) {
        return error("invalid_request", &format!("Missing required parameter: {n}"));
    }
    let code = p.get("code").unwrap_or("");
    let redeemed = match sim.oauth.redeem(code) {
        Ok(r) => r,
        // T2: "Malformed auth code." / "Bad Request" — wording UNCONFIRMED.
        Err(CodeError::Unknown) if !code.starts_with("4/") => return error("invalid_grant", "Malformed auth code."),
        Err(_) => return error("invalid_grant", "Bad Request"),
    };
    if p.get("redirect_uri") != Some(redeemed.request.redirect_uri.as_str()) {
        // RFC 6749 §4.1.3: the same value as at authorize; the error is UNCONFIRMED (T2).
        return error("redirect_uri_mismatch", "Bad Request");
    }
    // T2 (3P-observed descriptions): missing verifier, wrong verifier.
    let Some(verifier) = p.get("code_verifier").filter(|v| !v.is_empty()) else {
        return error("invalid_grant", "Missing code verifier.");
    };
    if !verifier_well_formed(verifier) || !s256_matches(verifier, &redeemed.request.code_challenge) {
        return error("invalid_grant", "Invalid code verifier.");
    }
    let granted = redeemed.granted;
    let access = sim.oauth.issue_access("ya29.", redeemed.grant, granted.clone(), None);
    // T3: `refresh_token` "always returned for installed applications".
    let refresh = sim.oauth.issue_refresh("1//0", redeemed.grant, granted.clone(), redeemed.request.nonce.clone());
    let mut body = json!({
        "access_token": access,
        "expires_in": ACCESS_TTL_SECS,
        "refresh_token": refresh,
        "scope": granted.join(" "),
        "token_type": "Bearer",
    });
    // T3: `id_token` "only returned if your request included an identity scope".
    if granted.iter().any(|s| scopes::is_oidc(Provider::Google, s)) {
        match idtoken::issue(sim, &granted, redeemed.request.nonce.as_deref(), &access) {
            Ok(t) => body["id_token"] = json!(t),
            Err(e) => return error("server_error", &e),
        }
    }
    ok_json(body)
}

/// T4: no new refresh token (no rotation); `scope` = the granted set. Whether an `id_token`
/// comes back on refresh is UNCONFIRMED; the documented sample has none, so none is sent.
fn refresh_grant(sim: &Sim, p: &Params) -> Response {
    if p.first_missing(&["refresh_token"]).is_some() {
        return error("invalid_request", "Missing required parameter: refresh_token");
    }
    let refresh = match sim.oauth.refresh(p.get("refresh_token").unwrap_or("")) {
        Ok(r) => r,
        // T5 (3P, many logs).
        Err(RefreshError::Revoked) => return error("invalid_grant", "Token has been expired or revoked."),
        Err(RefreshError::Unknown) => return error("invalid_grant", "Bad Request"),
    };
    let access = sim.oauth.issue_access("ya29.", refresh.grant, refresh.scopes.clone(), None);
    ok_json(json!({ "access_token": access, "expires_in": ACCESS_TTL_SECS, "scope": refresh.scopes.join(" "), "token_type": "Bearer" }))
}

/// T3: `application/json; charset=utf-8`.
fn ok_json(body: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body.to_string()).into_response()
}

/// T7: `POST /revoke`, form-encoded, the token in the query (NA sample) or the body (3P);
/// `200` when revoked (both tokens of the grant), `400 invalid_token` otherwise.
pub async fn revoke(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    if !body.is_empty() && !is_form(&headers) {
        return error("invalid_request", "Invalid Content-Type: the body must be application/x-www-form-urlencoded.");
    }
    let from_query = Params::parse(query.as_deref().unwrap_or("")).ok().and_then(|p| p.get("token").map(str::to_owned));
    let from_body = Params::parse(&String::from_utf8_lossy(&body)).ok().and_then(|p| p.get("token").map(str::to_owned));
    let Some(token) = from_query.or(from_body).filter(|t| !t.is_empty()) else {
        return error("invalid_request", "Missing required parameter: token");
    };
    if sim.oauth.revoke_grant_of(&token) {
        StatusCode::OK.into_response()
    } else {
        error("invalid_token", "Token expired or revoked")
    }
}

/// T7: `GET /revoke` → 404 (3P: googleapis/oauth2client#750).
pub async fn revoke_get() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
