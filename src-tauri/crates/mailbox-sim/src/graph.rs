//! Microsoft Graph's common ground (microsoft.md §3.0): the error body, the bearer-token and
//! permission check every call makes, the throttling answer, and `GET /v1.0/me` (§3.1). The
//! mail calls are in `graph_mail.rs`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oauth::Access;
use crate::scopes::GRAPH;
use crate::state::{guid, rfc3339};
use crate::{idtoken, Sim};

/// [UG]: `User.Read` (or broader) for `/me`.
pub const USER_READ: [&str; 2] = ["https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/User.ReadWrite"];
/// [SM], [MS]: `Mail.Send`.
pub const MAIL_SEND: [&str; 1] = ["https://graph.microsoft.com/Mail.Send"];
/// [PM]: `Mail.ReadWrite` to create a draft.
pub const MAIL_WRITE: [&str; 1] = ["https://graph.microsoft.com/Mail.ReadWrite"];
/// [MG], [LM], [FLM]: `Mail.ReadBasic` (least), `Mail.Read`, `Mail.ReadWrite`.
pub const MAIL_READ_BASIC: [&str; 3] =
    ["https://graph.microsoft.com/Mail.ReadBasic", "https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.ReadWrite"];
/// The body and the MIME need more than `Mail.ReadBasic` ("everything except body …").
pub const MAIL_READ: [&str; 2] = ["https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.ReadWrite"];

/// [ERR]: `{"error":{"code","message","innerError":{"request-id","date"}}}`; the code only on
/// `code`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = guid();
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": { "date": rfc3339(time::OffsetDateTime::now_utc()), "request-id": request_id, "client-request-id": request_id },
        }
    });
    let mut r = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        r.headers_mut().insert("request-id", v);
    }
    r
}

/// [THR] "Sample response": 429 `TooManyRequests` with `Retry-After` in seconds.
pub fn throttled(wait: Duration) -> Response {
    let request_id = guid();
    let body = json!({
        "error": {
            "code": "TooManyRequests",
            "innerError": {
                "code": "429",
                "date": rfc3339(time::OffsetDateTime::now_utc()),
                "message": "Please retry after",
                "request-id": request_id,
                "status": "429",
            },
            "message": "Please retry again later.",
        }
    });
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, secs.max(1).to_string())], axum::Json(body)).into_response()
}

/// The caller's Graph token, holding one of `needed`. SIM codes (microsoft.md §3.0): 401
/// `InvalidAuthenticationToken`, 403 `ErrorAccessDenied`.
pub fn authorize(sim: &Sim, headers: &HeaderMap, needed: &[&str]) -> Result<Access, Response> {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let unauthenticated = |message: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
        // RFC 6750 §3: a 401 names the scheme.
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"\""));
        r
    };
    let Some(token) = bearer.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(unauthenticated("Access token is empty."));
    };
    // [RAE]: 401 when the token "is missing … invalid or has expired".
    let Some(access) = sim.oauth.access(token) else {
        return Err(unauthenticated("Access token validation failure. Lifetime validation failed, the token is expired or invalid."));
    };
    // [RAE]: a token for another audience (e.g. the SMTP.Send token) → 403.
    if access.resource != Some(GRAPH) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again. (Invalid audience.)",
        ));
    }
    if !crate::scopes::any_of(&access.scopes, needed) {
        return Err(error(StatusCode::FORBIDDEN, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
    }
    Ok(access)
}

/// `GET /v1.0/me` [UG]: the default properties of the signed-in user.
pub async fn me(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&sim, &headers, &USER_READ) {
        return r;
    }
    let u = &sim.config.user;
    let mut names = u.display_name.splitn(2, ' ');
    let (given, surname) = (names.next().unwrap_or(""), names.next().unwrap_or(""));
    axum::Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": given,
        "jobTitle": null,
        "mail": u.address,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "surname": surname,
        "userPrincipalName": u.address,
        "id": idtoken::object_id(&sim),
    }))
    .into_response()
}

/// Unknown Graph paths: 400 `BadRequest` "Resource not found for the segment" (3P shape;
/// UNCONFIRMED).
pub async fn unknown_segment(uri: axum::http::Uri) -> Response {
    let seg = uri.path().rsplit('/').next().unwrap_or("");
    error(StatusCode::BAD_REQUEST, "BadRequest", &format!("Resource not found for the segment '{seg}'."))
}
