//! The control surface over HTTP under `/__sim/` (not SuperOffice endpoints), for the
//! `so-outbox-sim` binary and the app's end-to-end tests. Compiled only with the `control`
//! feature: the app's release build does not enable it, so a shipped binary has no `/__sim/`
//! routes (no system-user secrets, no mail records, no fault injection for any local process
//! or web page that finds the port).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::profiles::Profile;
use crate::reqlog::RequestRecord;
use crate::tamper::IdTokenTamper;
use crate::{lock, Sim};

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/records", get(records))
        .route("/__sim/profile", get(profiles).put(put_profile))
        .route("/__sim/profile/{name}", put(switch_profile))
        .route("/__sim/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/__sim/relay-faults", get(relay_faults).post(add_relay_fault).delete(clear_relay_faults))
        .route("/__sim/id-token-tamper", put(set_tamper))
        .route("/__sim/expire-access-tokens", post(expire))
        .route("/__sim/seed-tasks/{n}", post(seed))
        .route("/__sim/counters", get(counters))
        .route("/__sim/system-user", get(system_user))
        .route("/__sim/requests", get(requests).delete(clear_requests))
        .route("/__sim/redirect-rules", get(redirect_rules).put(set_redirect_rules))
        .route("/__sim/odata-next-links", put(set_next_links))
}

fn bad(message: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message.to_string()}))).into_response()
}

/// What was created (documents, appointments, agent emails, relayed mail) and the request log.
async fn records(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let tenant = lock(&sim.tenant).clone();
    Json(json!({
        "documents": tenant.documents,
        "appointments": tenant.appointments,
        "agent_emails": tenant.agent_emails,
        "mailbox": sim.mailbox.messages(),
        "requests": sim.requests.all(),
        "profile": tenant.profile.name,
        "node": sim.node_name(),
    }))
}

async fn profiles(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"current": lock(&sim.tenant).profile.clone(), "names": sim.profile_names()}))
}

async fn switch_profile(State(sim): State<Arc<Sim>>, Path(name): Path<String>) -> Response {
    match sim.set_profile(&name) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::NOT_FOUND, Json(json!({"error": e}))).into_response(),
    }
}

/// Body: a profile file's JSON; it is registered and becomes current.
async fn put_profile(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match Profile::from_json(&String::from_utf8_lossy(&body)) {
        Ok(p) => {
            sim.use_profile(p);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn faults(State(sim): State<Arc<Sim>>) -> Json<Vec<Fault>> {
    Json(sim.faults.active())
}

async fn add_fault(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(f) => {
            sim.faults.inject(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.faults.clear();
    StatusCode::NO_CONTENT
}

async fn relay_faults(State(sim): State<Arc<Sim>>) -> Json<Vec<crate::RelayFault>> {
    Json(sim.mailbox.faults())
}

/// Body: `"DropAfterData"` or `{"RejectRcpt": "550 5.1.1 No such user"}`.
async fn add_relay_fault(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<crate::RelayFault>(&body) {
        Ok(f) => {
            sim.mailbox.inject(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn clear_relay_faults(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.mailbox.clear_faults();
    StatusCode::NO_CONTENT
}

/// Body: `null` or a tamper name such as `"AlgNone"`.
async fn set_tamper(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Option<IdTokenTamper>>(&body) {
        Ok(t) => {
            *lock(&sim.tamper) = t;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn expire(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.oidc.expire_access_tokens();
    StatusCode::NO_CONTENT
}

async fn seed(State(sim): State<Arc<Sim>>, Path(n): Path<usize>) -> StatusCode {
    lock(&sim.tenant).seed_tasks(n.min(10_000));
    StatusCode::NO_CONTENT
}

async fn counters(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let c = lock(&sim.counters).clone();
    Json(json!({"code_exchanges": c.code_exchanges, "refreshes": c.refreshes, "requests": c.paths()}))
}

async fn system_user(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let r = sim.partner.registration(&sim.client.client_secret);
    Json(json!({"system_token": r.system_token, "private_key_pem": r.private_key_pem, "app_token": r.app_token}))
}

async fn requests(State(sim): State<Arc<Sim>>) -> Json<Vec<RequestRecord>> {
    Json(sim.requests.all())
}

async fn clear_requests(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.requests.clear();
    StatusCode::NO_CONTENT
}

async fn redirect_rules(State(sim): State<Arc<Sim>>) -> Json<Vec<String>> {
    Json(lock(&sim.redirect_rules).clone())
}

/// Body: a JSON array of rules (exact URLs or regular expressions).
async fn set_redirect_rules(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let rules = match serde_json::from_slice::<Vec<String>>(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    if let Err(e) = crate::redirect::validate(&rules) {
        return bad(e);
    }
    *lock(&sim.redirect_rules) = rules;
    StatusCode::NO_CONTENT.into_response()
}

/// Body: `"absolute"` or `"relative"`.
async fn set_next_links(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<String>(&body).as_deref() {
        Ok("absolute") => sim.absolute_links.store(true, std::sync::atomic::Ordering::SeqCst),
        Ok("relative") => sim.absolute_links.store(false, std::sync::atomic::Ordering::SeqCst),
        _ => return bad("body must be \"absolute\" or \"relative\""),
    }
    StatusCode::NO_CONTENT.into_response()
}
