//! The REST endpoints under `/{ctx}/api/v1` (reached also as `/{node}/{ctx}/api/v1`, see
//! `edge.rs`), with the documented JSON shapes, and who is calling: a rep with a Bearer access
//! token or the system user with `SOTicket` + `SO-AppToken`.
//!
//! `Accept-Language`, `SO-Language`, `SO-Culture` and `SO-TimeZone` are accepted and ignored:
//! the simulator has nothing to localise.

mod agents;
mod appointments;
mod documents;
mod email_agent;
mod mime;
mod odata;
mod people;

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::Router;
use serde_json::Value;

use crate::{lock, Sim};

type S = Arc<Sim>;

pub fn router() -> Router<S> {
    Router::new()
        .route("/User/currentPrincipal", get(people::current_principal))
        .route("/User/currentAssociate", get(people::current_associate))
        .route("/Person/{id}", get(people::person))
        .route("/Contact/{id}", get(people::contact))
        .route("/Sale/{id}", get(people::sale))
        .route("/List/DocumentTemplate/Items", get(people::document_templates))
        .route("/MDOList/task", get(people::mdo_task))
        .route("/Appointment", get(appointments::list).post(appointments::create))
        .route("/Appointment/default", get(appointments::default))
        .route("/Appointment/{id}", get(appointments::get_one).patch(appointments::patch).put(appointments::put))
        .route("/Document/default", get(documents::default))
        .route("/Document", post(documents::create).get(documents::list))
        .route("/Document/{id}", get(documents::get_one).delete(documents::delete))
        .route("/Document/{id}/Content", put(documents::put_content).get(documents::get_content))
        .route("/Agents/EMail/{op}", post(email_agent::email))
        .route("/Agents/CRMScript/{op}", post(agents::crmscript))
        .route("/CRMScript/{id}/Execute", post(agents::crmscript_rest))
        .route("/Agents/Sentry/HasFunctionRight", post(agents::has_function_right))
        .route("/Agents/License/GetUserLicenses", post(agents::user_licenses))
        // No `/Shipment` and no `/Associate/…`: neither is a documented REST operation
        // (`docs/en/api/reference/restful/rest/toc.yml` has ShipmentMessage, no Shipment, and no
        // Associate entity). They answer like any unknown route, unless a profile reproduces what
        // a real tenant was seen to answer (the seed profile's overrides: `/Associate/Me` 500,
        // `/Shipment` 500 for the system user).
        .route("/{*unknown}", any(unknown_route))
}

/// A path under `/{ctx}/api/v1` that is no documented operation: 404 without a body, after
/// the caller is identified (so profile overrides apply).
async fn unknown_route(_me: Caller) -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// The tenant segment of a REST path (`/{ctx}/api/…` or `/{node}/{ctx}/api/…`).
fn ctx_of(path: &str) -> String {
    let rest = crate::edge::split_node(path).map(|(_, r)| r).unwrap_or(path);
    rest.trim_start_matches('/').split('/').next().unwrap_or("").to_owned()
}

pub use crate::answer::so_error;

fn not_found(what: &str, id: i64) -> Response {
    so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("{what} id {id} not found"))
}

/// Who is calling: the signed-in rep (Bearer) or the system user (SOTicket).
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub associate_id: i64,
    pub system: bool,
}

fn unauthorized(message: &str) -> Response {
    so_error(StatusCode::UNAUTHORIZED, "SoAuthenticationException", message)
}

impl FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, sim: &S) -> Result<Self, Response> {
        // Inside the nested router the URI lacks the `/{ctx}/api/v1` prefix: use the original.
        let path = parts.extensions.get::<OriginalUri>().map(|o| o.path().to_owned()).unwrap_or_else(|| parts.uri.path().to_owned());
        let ctx = RawPathParams::from_request_parts(parts, sim)
            .await
            .ok()
            .and_then(|p| p.iter().find(|(k, _)| *k == "ctx").map(|(_, v)| v.to_owned()))
            .unwrap_or_else(|| ctx_of(&path));
        let tenant_ctx = lock(&sim.tenant).context_id.clone();
        if !ctx.eq_ignore_ascii_case(&tenant_ctx) {
            return Err(so_error(StatusCode::MISDIRECTED_REQUEST, "WrongSubdomain", "Wrong subdomain used to access tenant"));
        }
        let authz = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").trim();
        let (scheme, credential) = authz.split_once(' ').unwrap_or((authz, ""));
        let credential = credential.trim();
        let caller = if scheme.eq_ignore_ascii_case("Bearer") {
            let session = sim.oidc.session(credential).ok_or_else(|| unauthorized("The access token is invalid or expired"))?;
            Caller { associate_id: session.associate_id, system: false }
        } else if scheme.eq_ignore_ascii_case("SOTicket") {
            let app_token = parts.headers.get("SO-AppToken").and_then(|v| v.to_str().ok()).unwrap_or("");
            if app_token != sim.client.client_secret {
                return Err(unauthorized("A valid SO-AppToken is required with a system user ticket"));
            }
            if !sim.partner.ticket_valid(credential) {
                return Err(unauthorized("The ticket is invalid or expired"));
            }
            let system = lock(&sim.tenant).system_associate().map(|a| a.id).ok_or_else(|| unauthorized("no system user"))?;
            Caller { associate_id: system, system: true }
        } else {
            return Err(unauthorized("No credentials provided"));
        };
        let profile = lock(&sim.tenant).profile.clone();
        let overrides = if caller.system { &profile.system_user.overrides } else { &profile.rep.overrides };
        if let Some(o) = overrides.iter().find(|o| o.matches(parts.method.as_str(), &path)) {
            let status = StatusCode::from_u16(o.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Err(so_error(status, &o.error_type, &o.message));
        }
        Ok(caller)
    }
}

/// Local time as SuperOffice writes it (no offset).
pub fn now_local() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc().format(&f).unwrap_or_default()
}

/// `v[entity][key]` as an id, 0 when absent.
fn id_of(v: &Value, entity: &str, key: &str) -> i64 {
    v[entity][key].as_i64().unwrap_or(0)
}

/// A JSON request body, or SuperOffice's 400.
#[allow(clippy::result_large_err)] // the error is the answer, built once per request
fn json_body(body: &[u8], what: &str) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|_| so_error(StatusCode::BAD_REQUEST, "SoArgumentException", &format!("The request body is not {what}")))
}
