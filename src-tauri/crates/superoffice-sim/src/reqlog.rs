//! The request log, for conformance tests: every request the HTTP side (REST, OIDC, state API)
//! received, as the route template it matched, the names of its query parameters, its status,
//! and for the OData listings the columns and operators it used. A test runs every flow of the
//! app, then walks this log and checks each entry against the table of documented requests
//! (`docs/superoffice-conformance.md`). Control requests (`/__sim/…`) are not logged.
//!
//! Read it with [`crate::SimHandle::requests`] or under `"requests"` in `GET /__sim/records`.

use std::sync::Mutex;

use serde::Serialize;

use crate::lock;

/// At most this many entries are kept (the oldest are dropped), so a long demo cannot grow
/// without bound.
const MAX_ENTRIES: usize = 20_000;

/// One request the simulator received.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as received (a node prefix such as `/n1` included).
    pub path: String,
    /// The route template it matched, e.g. `/{ctx}/api/v1/Appointment`; `None` when it matched
    /// no route (an unknown or undocumented path), or was answered before routing (an injected
    /// fault, a tenant on another node, a tenant in maintenance).
    pub route: Option<String>,
    /// The names of the query parameters, in order (`$select`, `$filter`, …).
    pub query_names: Vec<String>,
    /// The HTTP status the handler produced.
    pub status: u16,
    /// False when the answer was not delivered (an injected `Reset` or `LoseAnswer`).
    pub answered: bool,
    /// What an OData listing used.
    pub odata: Option<ODataUse>,
}

impl RequestRecord {
    /// `METHOD route`, e.g. `GET /{ctx}/api/v1/Appointment` (`METHOD path` when unrouted).
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.route.as_deref().unwrap_or(&self.path))
    }
}

/// The columns, operators and functions an OData listing request named, as written.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ODataUse {
    /// The archive provider that ran it, e.g. `FindAppointment`.
    pub provider: String,
    pub select: Vec<String>,
    pub filter_columns: Vec<String>,
    pub order_by: Vec<String>,
    /// Operators in `$filter` (`eq`, `oneOf`, `currentAssociate`, …).
    pub operators: Vec<String>,
    /// Functions in `$filter` (`startswith`, …).
    pub functions: Vec<String>,
}

impl ODataUse {
    /// Every column named anywhere in the request.
    pub fn columns(&self) -> Vec<String> {
        let mut all: Vec<String> = self.select.iter().chain(&self.filter_columns).chain(&self.order_by).cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}

/// The route a request matched, carried from the router to the edge in the response.
#[derive(Clone, Debug)]
pub struct MatchedRoute(pub String);

#[derive(Default)]
pub struct RequestLog {
    entries: Mutex<Vec<RequestRecord>>,
}

impl RequestLog {
    pub fn push(&self, r: RequestRecord) {
        let mut e = lock(&self.entries);
        if e.len() >= MAX_ENTRIES {
            e.remove(0);
        }
        e.push(r);
    }
    pub fn all(&self) -> Vec<RequestRecord> {
        lock(&self.entries).clone()
    }
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }
}

/// The decoded names of a query string's parameters, in order.
pub fn query_names(query: Option<&str>) -> Vec<String> {
    query.map(|q| url::form_urlencoded::parse(q.as_bytes()).map(|(k, _)| k.into_owned()).collect()).unwrap_or_default()
}

/// Copies the route template axum matched into the response, for the edge to log. Runs
/// after routing (a `Router::layer`), where [`axum::extract::MatchedPath`] is known.
pub async fn mark_route(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let matched = req.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_owned());
    let mut resp = next.run(req).await;
    // A nested router's fallback is matched as a catch-all route; that is "no route".
    if let Some(m) = matched.filter(|m| !m.contains("{*")) {
        resp.extensions_mut().insert(MatchedRoute(m));
    }
    resp
}
