//! The Microsoft identity platform's error shapes, shared by the authorize and token
//! endpoints: the token-endpoint error JSON with its `AADSTSnnnnn:` description, the error page
//! shown instead of a redirect, and the `error`/`error_description` pair sent back to the app.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::consent::html_escape;
use crate::state::guid;

/// [EC] sample: `2016-01-09 02:02:12Z`.
pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    now.format(&f).unwrap_or_default()
}

/// `AADSTSnnnnn: message` plus the trace lines the [AC] "Error response" sample carries.
fn description(code: u32, message: &str, trace: &str, correlation: &str, ts: &str) -> String {
    format!("AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}")
}

/// [AC] "Error response" / [EC] "Handling error codes": `error`, `error_description`
/// (`AADSTSnnnnn: …`), `error_codes` (integers), `timestamp`, `trace_id`, `correlation_id`,
/// `error_uri`. HTTP status per error is UNCONFIRMED at Microsoft; RFC 6749 §5.2 is used: 400,
/// or 401 for `invalid_client` (microsoft.md §2.3 SIM).
pub fn token_error(error: &str, code: u32, message: &str) -> Response {
    let status = if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    let (trace, correlation, ts) = (guid(), guid(), timestamp());
    let body = json!({
        "error": error,
        "error_description": description(code, message, &trace, &correlation, &ts),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], axum::Json(body)).into_response()
}

/// The sign-in error page shown instead of redirecting ([SA50011] "Symptoms"; RFC 6749
/// §4.1.2.1: never redirect to an unverified URI). Its HTTP status is UNCONFIRMED; 400 is used.
pub fn error_page(code: u32, message: &str) -> Response {
    let (trace, correlation, ts) = (guid(), guid(), timestamp());
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head><body>\
<h1>Sorry, but we're having trouble signing you in.</h1>\
<p id=\"error\">AADSTS{code}: {msg}</p>\
<p>Request Id: {trace}<br>Correlation Id: {correlation}<br>Timestamp: {ts}</p></body></html>",
        msg = html_escape(message),
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

/// The `error_description` sent back to the app in the redirect. Whether it carries the
/// `AADSTSnnnnn:` prefix is UNCONFIRMED (microsoft.md §1.2; 3P: it usually does); it does here.
pub fn redirect_description(code: u32, message: &str) -> String {
    description(code, message, &guid(), &guid(), &timestamp())
}
