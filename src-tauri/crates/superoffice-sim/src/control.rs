//! The test-only control surface (not SuperOffice endpoints): the [`SimHandle`] methods that
//! switch profiles, inject faults, break id_tokens, expire tokens, seed tasks, change the app
//! registration's redirect rules, choose the `odata.nextLink` form, and read counters and the
//! request log, and the same operations over HTTP under `/__sim/` for the `so-outbox-sim` binary.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::edge::Counters;
use crate::faults::Fault;
use crate::profiles::Profile;
use crate::reqlog::RequestRecord;
use crate::system_user::SystemUserRegistration;
use crate::tamper::IdTokenTamper;
use crate::{lock, Sim, SimHandle};

impl Sim {
    pub(crate) fn set_profile(&self, name: &str) -> Result<(), String> {
        let found = lock(&self.profiles).iter().find(|p| p.name == name).cloned();
        let profile = found.ok_or_else(|| format!("unknown profile '{name}' (known: {})", self.profile_names().join(", ")))?;
        tracing::info!(profile = %name, "simulator profile switched");
        lock(&self.tenant).profile = profile;
        Ok(())
    }

    pub(crate) fn profile_names(&self) -> Vec<String> {
        lock(&self.profiles).iter().map(|p| p.name.clone()).collect()
    }

    /// Registers a profile (replacing one of the same name) and switches to it.
    pub(crate) fn use_profile(&self, profile: Profile) {
        let name = profile.name.clone();
        {
            let mut list = lock(&self.profiles);
            list.retain(|p| p.name != name);
            list.push(profile.clone());
        }
        lock(&self.tenant).profile = profile;
    }
}

impl SimHandle {
    /// Switches to a known profile (built in or loaded).
    pub fn set_profile(&self, name: &str) -> Result<(), String> {
        self.sim.set_profile(name)
    }
    /// The names of the known profiles.
    pub fn profile_names(&self) -> Vec<String> {
        self.sim.profile_names()
    }
    /// The current profile.
    pub fn profile(&self) -> Profile {
        lock(&self.sim.tenant).profile.clone()
    }
    /// Registers `profile` (replacing one of the same name) and switches to it.
    pub fn use_profile(&self, profile: Profile) {
        self.sim.use_profile(profile)
    }
    /// Loads a profile file, registers it and switches to it; returns its name.
    pub fn load_profile(&self, path: impl AsRef<std::path::Path>) -> Result<String, String> {
        let p = Profile::from_path(path)?;
        let name = p.name.clone();
        self.sim.use_profile(p);
        Ok(name)
    }
    /// Adds a fault; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        self.sim.faults.inject(fault)
    }
    /// The faults not used up yet (a test can check that its fault really happened).
    pub fn active_faults(&self) -> Vec<Fault> {
        self.sim.faults.active()
    }

    pub fn clear_faults(&self) {
        self.sim.faults.clear()
    }
    /// Breaks the id_tokens the token endpoint issues from now on (`None` = sound tokens).
    pub fn set_id_token_tamper(&self, tamper: Option<IdTokenTamper>) {
        *lock(&self.sim.tamper) = tamper;
    }
    /// Every access token issued so far stops working (REST answers 401).
    pub fn expire_access_tokens(&self) {
        self.sim.oidc.expire_access_tokens()
    }
    /// Token-endpoint and per-path request counts so far.
    pub fn counters(&self) -> Counters {
        lock(&self.sim.counters).clone()
    }
    /// Adds `n` open drafted follow-ups for the rep.
    pub fn seed_tasks(&self, n: usize) {
        lock(&self.sim.tenant).seed_tasks(n)
    }
    /// The partner app's system-user registration (the test plays the partner).
    pub fn system_user(&self) -> SystemUserRegistration {
        self.sim.partner.registration(&self.sim.client.client_secret)
    }
    /// The node the tenant lives on now (`n1`, `n2`, …).
    pub fn node(&self) -> String {
        self.sim.node_name()
    }
    /// The REST base on the current node, `{base}/{node}/{ctx}/api` (the state API's `Api`).
    pub fn webapi_url(&self) -> String {
        format!("{}/{}/{}/api", self.sim.base_url, self.sim.node_name(), self.context_id())
    }
    /// Every request received so far (REST, OIDC, state API; not `/__sim/`), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.requests.all()
    }
    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.sim.requests.clear()
    }
    /// The app registration's redirect rules now (see `redirect.rs`).
    pub fn redirect_rules(&self) -> Vec<String> {
        lock(&self.sim.redirect_rules).clone()
    }
    /// Replaces the app registration's redirect rules (exact URLs or regular expressions);
    /// refused when one is not a valid regular expression.
    pub fn set_redirect_rules(&self, rules: Vec<String>) -> Result<(), String> {
        crate::redirect::validate(&rules)?;
        *lock(&self.sim.redirect_rules) = rules;
        Ok(())
    }
    /// `odata.nextLink` as an absolute URL (`true`) or relative to the request (the default).
    pub fn set_absolute_next_links(&self, absolute: bool) {
        self.sim.absolute_links.store(absolute, std::sync::atomic::Ordering::SeqCst)
    }
}

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
