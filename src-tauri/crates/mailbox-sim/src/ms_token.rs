//! Microsoft's token endpoint `POST /{tenant}/oauth2/v2.0/token` for a public desktop client:
//! the authorization-code grant (redirect URI and PKCE verifier checked, code single-use) and
//! the refresh grant (rotating refresh tokens, the old one staying valid), each refusal with the
//! documented `AADSTSnnnnn` error JSON (microsoft.md §2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oauth::{s256_matches, verifier_well_formed, CodeError, RefreshError, ACCESS_TTL_SECS};
use crate::params::{is_form, ParamError, Params};
use crate::scopes::{self, GRAPH};
use crate::{aad, idtoken, ms_authorize, Provider, Sim};

/// [AC] "Redeem a code": the documented parameters (the secret ones are refused before this
/// list is consulted).
const CODE_PARAMS: [&str; 9] = [
    "client_id",
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "scope",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];
/// [AC] "Refresh the access token".
const REFRESH_PARAMS: [&str; 7] =
    ["client_id", "grant_type", "refresh_token", "scope", "client_secret", "client_assertion", "client_assertion_type"];

fn missing(name: &str) -> Response {
    // [EC] AADSTS900144.
    aad::token_error("invalid_request", 900144, &format!("The request body must contain the following parameter: '{name}'."))
}

/// [EC] AADSTS900561: the endpoint is POST only.
pub async fn wrong_verb() -> Response {
    aad::token_error("invalid_request", 900561, "The endpoint only accepts POST requests. Received a GET request.")
}

pub async fn token(State(sim): State<Arc<Sim>>, Path(tenant): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    if !ms_authorize::tenant_ok(&sim, &tenant) {
        return aad::token_error("invalid_request", 90002, &ms_authorize::unknown_tenant_message(&tenant));
    }
    // [AC] "Redeem a code": a form-urlencoded body. Any other body is not read as parameters,
    // so the first required one is missing (INF).
    if !is_form(&headers) {
        return missing("grant_type");
    }
    let p = match Params::parse(&String::from_utf8_lossy(&body)) {
        Ok(p) => p,
        Err(ParamError::Repeated(n) | ParamError::Undocumented(n)) => {
            return aad::token_error(
                "invalid_request",
                9002313,
                &format!("Invalid request. Request is malformed or invalid. Parameter '{n}' is repeated."),
            )
        }
    };
    // [AC] "Public clients … must not use secrets or certificates when redeeming"; [EC]
    // AADSTS700025. A Basic `Authorization` header is a secret too (client_secret_basic).
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Basic "));
    if p.has("client_secret") || p.has("client_assertion") || basic {
        return aad::token_error(
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        );
    }
    let Some(grant_type) = p.get("grant_type").filter(|g| !g.is_empty()) else { return missing("grant_type") };
    let Some(client_id) = p.get("client_id").filter(|c| !c.is_empty()) else { return missing("client_id") };
    if client_id != sim.config.client_id {
        // [EC] AADSTS700016; the `error` value is UNCONFIRMED.
        return aad::token_error(
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        );
    }
    match grant_type {
        "authorization_code" => code_grant(&sim, &p),
        "refresh_token" => refresh_grant(&sim, &p),
        // [EC] AADSTS70003.
        other => aad::token_error("unsupported_grant_type", 70003, &format!("The app requested an unsupported grant type '{other}'.")),
    }
}

fn undocumented(p: &Params, documented: &[&str]) -> Option<Response> {
    // SIM (strict): an undocumented parameter is refused as malformed (AADSTS9002313 [EC]).
    p.undocumented(documented).map(|n| {
        aad::token_error("invalid_request", 9002313, &format!("Invalid request. Request is malformed or invalid. Unknown parameter '{n}'."))
    })
}

fn code_grant(sim: &Sim, p: &Params) -> Response {
    if let Some(r) = undocumented(p, &CODE_PARAMS) {
        return r;
    }
    // `code_verifier` is "Required if PKCE was used" [AC], and the simulator requires PKCE.
    if let Some(name) = p.first_missing(&["code", "redirect_uri", "code_verifier"]) {
        return missing(name);
    }
    if p.get("scope") == Some("") {
        // [EC] AADSTS28003 (microsoft.md §2.1 SIM: an omitted scope is fine, an empty one not).
        return aad::token_error("invalid_scope", 28003, "Provided value for the input parameter scope cannot be empty when requesting an access token using the provided authorization code. Please specify a valid scope.");
    }
    let redeemed = match sim.oauth.redeem(p.get("code").unwrap_or("")) {
        Ok(r) => r,
        // [EC] AADSTS54005.
        Err(CodeError::Used) => {
            return aad::token_error("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
        }
        // [AC] `invalid_grant` "authorization code … is invalid or has expired"; the AADSTS
        // code for it is UNCONFIRMED (microsoft.md §2.4), AADSTS70008 is taken.
        Err(CodeError::Unknown | CodeError::Expired) => {
            return aad::token_error("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
        }
    };
    let request = &redeemed.request;
    if p.get("redirect_uri") != Some(request.redirect_uri.as_str()) {
        // [AC] "The same redirect_uri value that was used to acquire the authorization_code".
        // The code for this at the token endpoint is UNCONFIRMED; AADSTS70004 (microsoft.md §2.4).
        return aad::token_error(
            "invalid_grant",
            70004,
            "The redirect URI doesn't match the redirect URI used to acquire the authorization code.",
        );
    }
    let verifier = p.get("code_verifier").unwrap_or("");
    if !verifier_well_formed(verifier) || !s256_matches(verifier, &request.code_challenge) {
        // [EC] AADSTS501481; [AC] `invalid_grant` "PKCE code verifier is invalid".
        return aad::token_error(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        );
    }
    let scopes = match p.get("scope") {
        Some(raw) => match requested_at_token(raw, &redeemed.granted, true, &sim.config.client_id) {
            Ok(s) => s,
            Err(r) => return r,
        },
        // [AC]: "if omitted, the token is for the scopes of the first leg".
        None => first_resource(&redeemed.granted, None),
    };
    success(sim, redeemed.grant, &redeemed.granted, &scopes, request.nonce.as_deref())
}

fn refresh_grant(sim: &Sim, p: &Params) -> Response {
    if let Some(r) = undocumented(p, &REFRESH_PARAMS) {
        return r;
    }
    if let Some(name) = p.first_missing(&["refresh_token"]) {
        return missing(name);
    }
    let refresh = match sim.oauth.refresh(p.get("refresh_token").unwrap_or("")) {
        Ok(r) => r,
        // [EC] AADSTS50173 FreshTokenNeeded: "Either an admin or a user revoked the tokens".
        Err(RefreshError::Revoked) => {
            return aad::token_error("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
        }
        // An unknown token: AADSTS9002313 (3P; UNCONFIRMED).
        Err(RefreshError::Unknown) => return aad::token_error("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."),
    };
    let scopes = match p.get("scope") {
        Some(raw) => match requested_at_token(raw, &refresh.scopes, false, &sim.config.client_id) {
            Ok(s) => s,
            Err(r) => return r,
        },
        None => first_resource(&refresh.scopes, None),
    };
    success(sim, refresh.grant, &refresh.scopes, &scopes, refresh.nonce.as_deref())
}

/// A `scope` at the token endpoint. At code redemption it "must all be from a single
/// resource, along with OIDC scopes" (AADSTS700022 otherwise, [EC]); at refresh, scopes spanning
/// resources get a token "for the resource specified in the first scope" ([AC]). Every scope
/// must have been consented to ([EC] AADSTS65001).
fn requested_at_token(raw: &str, consented: &[String], single_resource: bool, client_id: &str) -> Result<Vec<String>, Response> {
    let asked = scopes::parse(Provider::Microsoft, raw).map_err(|e| {
        aad::token_error("invalid_scope", 70011, &format!("The provided value for the input parameter 'scope' is not valid. ({e:?})"))
    })?;
    let resources: Vec<&str> = asked.iter().filter_map(|s| scopes::ms_resource(s)).collect();
    if single_resource && resources.windows(2).any(|w| w[0] != w[1]) {
        return Err(aad::token_error("invalid_scope", 700022, "The provided value for the input parameter scope is not valid because it contains more than one resource. The scope requested must be from a single resource."));
    }
    if let Some(s) = asked.iter().find(|s| !consented.contains(s)) {
        let error = if single_resource { "consent_required" } else { "invalid_grant" };
        return Err(aad::token_error(
            error,
            65001,
            &format!("The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource. Scope: '{s}'."),
        ));
    }
    Ok(first_resource(&asked, resources.first().copied()))
}

/// The scopes of one resource (the first one named unless given) plus the OIDC scopes.
fn first_resource(list: &[String], resource: Option<&str>) -> Vec<String> {
    let resource = resource.or_else(|| list.iter().find_map(|s| scopes::ms_resource(s)));
    list.iter().filter(|s| scopes::is_oidc(Provider::Microsoft, s) || scopes::ms_resource(s) == resource).cloned().collect()
}

/// [AC] "Successful response": `access_token`, `token_type`, `expires_in`, `scope`,
/// `refresh_token` (only with `offline_access`; a new one on every refresh, [RT]), `id_token`
/// (only with `openid`); `ext_expires_in` (3P, microsoft.md §2.2 SIM).
fn success(sim: &Sim, grant: u64, consented: &[String], scopes: &[String], nonce: Option<&str>) -> Response {
    let resource = scopes.iter().find_map(|s| scopes::ms_resource(s));
    let api: Vec<String> = scopes.iter().filter(|s| scopes::ms_resource(s).is_some()).cloned().collect();
    let access = sim.oauth.issue_access("EwA", grant, api.clone(), resource);
    // The `scope` value lists Graph permissions by their short names and others in full,
    // with the OIDC scopes but not `offline_access` (3P; the doc calls the field
    // "non-standard").
    let shown: Vec<String> = scopes
        .iter()
        .filter(|s| *s != "offline_access")
        .map(|s| s.strip_prefix(GRAPH).map(str::to_owned).unwrap_or_else(|| s.clone()))
        .collect();
    let mut body = json!({
        "token_type": "Bearer",
        "scope": shown.join(" "),
        "expires_in": ACCESS_TTL_SECS,
        "ext_expires_in": ACCESS_TTL_SECS,
        "access_token": access,
    });
    if consented.iter().any(|s| s == "offline_access") {
        body["refresh_token"] = json!(sim.oauth.issue_refresh("1.AQ", grant, consented.to_vec(), nonce.map(str::to_owned)));
    }
    if consented.iter().any(|s| s == "openid") {
        match idtoken::issue(sim, consented, nonce, &access) {
            Ok(t) => body["id_token"] = json!(t),
            Err(e) => return aad::token_error("server_error", 500011, &e),
        }
    }
    ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], axum::Json(body)).into_response()
}
