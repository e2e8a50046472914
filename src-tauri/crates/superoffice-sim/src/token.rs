//! The token endpoint (`/login/common/oauth/tokens`: code exchange with PKCE, refresh with
//! optional rotation, id_tokens optionally tampered with for client tests) and the revocation
//! endpoint (`/login/common/oauth/revoke`, RFC 7009).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;

use crate::oidc::{self, IdTokenFacts};
use crate::{lock, tamper, Sim};

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn token_err(status: StatusCode, error: &str, description: &str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Json(json!({"error": error, "error_description": description}))).into_response()
}

/// Checks the client; `Err` is the answer to give.
#[allow(clippy::result_large_err)] // the error is the answer, built once per request
fn check_client(sim: &Sim, client_id: Option<&str>, secret: Option<&str>) -> Result<(), Response> {
    if client_id != Some(sim.client.client_id.as_str()) {
        return Err(token_err(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client"));
    }
    if secret.is_some_and(|s| s != sim.client.client_secret) {
        return Err(token_err(StatusCode::UNAUTHORIZED, "invalid_client", "bad client secret"));
    }
    Ok(())
}

pub async fn tokens(State(sim): State<Arc<Sim>>, headers: HeaderMap, Form(f): Form<TokenForm>) -> Response {
    {
        let mut c = lock(&sim.counters);
        match f.grant_type.as_str() {
            "authorization_code" => c.code_exchanges += 1,
            "refresh_token" => c.refreshes += 1,
            _ => {}
        }
    }
    let (client_id, secret) = client_auth(&headers, f.client_id.clone(), f.client_secret.clone());
    if let Err(r) = check_client(&sim, client_id.as_deref(), secret.as_deref()) {
        return r;
    }
    let tenant = lock(&sim.tenant).clone();
    let mut new_refresh = None;
    let (associate_id, nonce) = match f.grant_type.as_str() {
        "authorization_code" => {
            let (Some(code), Some(redirect_uri)) = (f.code.as_deref(), f.redirect_uri.as_deref()) else {
                return token_err(StatusCode::BAD_REQUEST, "invalid_request", "code and redirect_uri are required");
            };
            // With PKCE the verifier replaces the secret at the code exchange (native apps).
            match sim.oidc.redeem(code, &sim.client.client_id, redirect_uri, f.code_verifier.as_deref()) {
                Ok((req, associate)) => {
                    if secret.is_none() && (req.code_challenge.is_none() || sim.client.secret_required) {
                        return token_err(StatusCode::UNAUTHORIZED, "invalid_client", "client_secret is required at the code exchange");
                    }
                    new_refresh = Some(sim.oidc.issue_refresh_token(associate));
                    (associate, req.nonce)
                }
                Err(e) => return token_err(StatusCode::BAD_REQUEST, e.error, &e.description),
            }
        }
        "refresh_token" => {
            if secret.is_none() {
                return token_err(StatusCode::UNAUTHORIZED, "invalid_client", "client_secret is required to refresh");
            }
            let old = f.refresh_token.as_deref().unwrap_or("");
            if tenant.profile.refresh_token_rotation {
                match sim.oidc.rotate_refresh_token(old) {
                    Some((a, fresh)) => {
                        new_refresh = Some(fresh);
                        (a, None)
                    }
                    None => return token_err(StatusCode::BAD_REQUEST, "invalid_grant", "unknown refresh token"),
                }
            } else {
                match sim.oidc.refresh_holder(old) {
                    Some(a) => (a, None),
                    None => return token_err(StatusCode::BAD_REQUEST, "invalid_grant", "unknown refresh token"),
                }
            }
        }
        _ => return token_err(StatusCode::BAD_REQUEST, "unsupported_grant_type", "unsupported grant_type"),
    };
    let Some(associate) = tenant.associate(associate_id) else {
        return token_err(StatusCode::BAD_REQUEST, "invalid_grant", "associate no longer exists");
    };
    // The claim is un-numbered, as in production; the state API gives the node URL.
    let webapi_url = format!("{}/{}/api/", sim.base_url, tenant.context_id);
    let claims = oidc::id_token_claims(&IdTokenFacts {
        issuer: &sim.base_url,
        client_id: &sim.client.client_id,
        nonce: nonce.as_deref(),
        username: &associate.username,
        email: &associate.email,
        associate_id,
        context_id: &tenant.context_id,
        webapi_url: &webapi_url,
        company_name: &tenant.company_name,
        serial: &tenant.serial,
    });
    let tamper = *lock(&sim.tamper);
    let id_token = match tamper::sign_id_token(&sim.oidc, claims, tamper, &sim.client.client_id) {
        Ok(t) => t,
        Err(e) => return token_err(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
    };
    let mut body = json!({
        "access_token": sim.oidc.issue_access_token(&tenant.context_id, associate_id),
        "token_type": "Bearer",
        "expires_in": oidc::ACCESS_TTL_SECS,
        "id_token": id_token,
    });
    if let Some(r) = new_refresh {
        body["refresh_token"] = json!(r);
    }
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

#[derive(Deserialize)]
pub struct RevokeForm {
    token: Option<String>,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 7009: 200 for known and unknown tokens alike; the client must authenticate.
pub async fn revoke(State(sim): State<Arc<Sim>>, headers: HeaderMap, Form(f): Form<RevokeForm>) -> Response {
    let (client_id, secret) = client_auth(&headers, f.client_id, f.client_secret);
    if let Err(r) = check_client(&sim, client_id.as_deref(), secret.as_deref()) {
        return r;
    }
    let Some(token) = f.token.filter(|t| !t.is_empty()) else {
        return token_err(StatusCode::BAD_REQUEST, "invalid_request", "token is required");
    };
    sim.oidc.revoke(&token, f.token_type_hint.as_deref());
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
}

/// client_secret_post or client_secret_basic.
fn client_auth(headers: &HeaderMap, id: Option<String>, secret: Option<String>) -> (Option<String>, Option<String>) {
    use base64::Engine as _;
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
    {
        if let Some((id, secret)) = basic.split_once(':') {
            return (Some(id.to_owned()), Some(secret.to_owned()));
        }
    }
    (id, secret)
}
