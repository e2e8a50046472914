//! SuperOffice's error body, as every route and the edge answer it (`Error`, `ErrorType`,
//! `ErrorMessage`, `ErrorSource`), so the REST routes and the edge share it without importing
//! each other.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// SuperOffice's error body.
pub fn so_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, Json(json!({"Error": true, "ErrorType": kind, "ErrorMessage": message, "ErrorSource": "SuperOffice.Services.Implementation"})))
        .into_response()
}
