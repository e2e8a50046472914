//! The middleware every request passes before routing: it counts requests, applies injected
//! faults, resolves the tenant's node prefix, answers for a tenant in maintenance, and writes
//! the request log (`reqlog.rs`).
//!
//! Node prefix: REST is served at `/{node}/{ctx}/api/v1/...` (the numbered host of SuperOffice
//! Online, e.g. `online3.superoffice.com/Cust12345`), with `/{ctx}/api/v1/...` kept as an alias
//! of the current node (the un-numbered `webapi_url` claim). When the tenant moves, the old node
//! answers 421 "Wrong subdomain used to access tenant" until the client asks the state API again.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::answer::so_error;
use crate::conn::ConnectionCutter;
use crate::faults::FaultKind;
use crate::reqlog::{self, MatchedRoute, ODataUse, RequestRecord};
use crate::{lock, Sim};

/// What the simulator has seen, for tests that check how often a client called.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Token-endpoint requests with `grant_type=authorization_code` (successful or not).
    pub code_exchanges: u64,
    /// Token-endpoint requests with `grant_type=refresh_token` (successful or not).
    pub refreshes: u64,
    /// Requests per path (query strings not included).
    paths: BTreeMap<String, u64>,
}

impl Counters {
    /// How many HTTP requests had a path containing `path_contains`.
    pub fn requests(&self, path_contains: &str) -> u64 {
        self.paths.iter().filter(|(p, _)| p.contains(path_contains)).map(|(_, n)| n).sum()
    }
    #[cfg(feature = "control")]
    pub(crate) fn paths(&self) -> &BTreeMap<String, u64> {
        &self.paths
    }
    pub(crate) fn count_path(&mut self, path: &str) {
        *self.paths.entry(path.to_owned()).or_default() += 1;
    }
}

/// `n1`, `n2`, … : the node the tenant currently lives on.
pub fn node_name(n: u32) -> String {
    format!("n{n}")
}

fn is_node(segment: &str) -> bool {
    segment.len() > 1 && segment.starts_with('n') && segment[1..].bytes().all(|b| b.is_ascii_digit())
}

/// `/{node}/{ctx}/api...` → `(node, "/{ctx}/api...")`.
pub fn split_node(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (node, after) = rest.split_once('/')?;
    let (_ctx, api) = after.split_once('/')?;
    (is_node(node) && (api == "api" || api.starts_with("api/"))).then(|| (node, &path[node.len() + 1..]))
}

/// `/{ctx}/api...` (after the node is removed), but not `/api/state/...` or `/login/...`.
fn is_rest(path: &str) -> bool {
    let mut segs = path.trim_start_matches('/').split('/');
    matches!((segs.next(), segs.next()), (Some(ctx), Some("api")) if !ctx.is_empty() && !ctx.starts_with("__") && !ctx.eq_ignore_ascii_case("login"))
}

/// The simulator answers only for itself: a `Host` other than its own address is refused (a
/// DNS-rebinding page reaches it under another name), and so is a request whose `Origin` is
/// another site (a cross-site form or `fetch` from a web page that learned the port). The app's
/// own HTTP client sends no `Origin`; the consent form is posted from the simulator's own page.
fn foreign_caller(sim: &Sim, req: &Request) -> Option<Response> {
    let own = url::Url::parse(&sim.base_url).ok()?;
    let own_host = format!("{}:{}", own.host_str().unwrap_or_default(), own.port_or_known_default().unwrap_or_default());
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if !host.eq_ignore_ascii_case(&own_host) {
        return Some(so_error(StatusCode::MISDIRECTED_REQUEST, "SoForeignHost", "This server answers only for its own address"));
    }
    let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("?").trim_end_matches('/').to_owned());
    if origin.is_some_and(|o| !o.eq_ignore_ascii_case(own.origin().ascii_serialization().as_str())) {
        return Some(so_error(StatusCode::FORBIDDEN, "SoForeignOrigin", "Requests from other sites are refused"));
    }
    None
}

pub async fn edge(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    lock(&sim.counters).count_path(&path);
    if let Some(refused) = foreign_caller(&sim, &req) {
        return refused;
    }
    if path.starts_with("/__sim/") {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let query_names = reqlog::query_names(req.uri().query());
    let (response, answered) = serve(&sim, req, next).await;
    // A `Reset` is cut before any handler ran: no status was produced.
    let status = match response.extensions().get::<Served>() {
        Some(s) => s.0,
        None if answered => response.status().as_u16(),
        None => 0,
    };
    sim.requests.push(RequestRecord {
        method,
        path,
        route: response.extensions().get::<MatchedRoute>().map(|m| m.0.clone()),
        query_names,
        status,
        answered,
        odata: response.extensions().get::<ODataUse>().cloned(),
    });
    response
}

/// The status a handler produced, kept when its answer is then lost.
#[derive(Clone, Copy)]
struct Served(u16);

/// Faults, node prefix, maintenance, then the routes. `false` = the answer is not delivered.
async fn serve(sim: &Arc<Sim>, mut req: Request, next: Next) -> (Response, bool) {
    let path = req.uri().path().to_owned();
    let method = req.method().as_str().to_owned();
    let mut slow_body = None;
    let mut lose_answer = false;
    // Faults match the path and the query, so a test can aim at one OData filter.
    let target = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| path.clone());
    match sim.faults.take(&method, &target) {
        None => {}
        Some(FaultKind::Latency { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultKind::Status { status, error_type, message }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (so_error(status, &error_type, &message), true);
        }
        Some(FaultKind::TooManyRequests { retry_after_secs }) => {
            let mut r = so_error(StatusCode::TOO_MANY_REQUESTS, "SoTooManyRequestsException", "Too many requests");
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return (r, true);
        }
        Some(FaultKind::Reset) => return (cut_connection(&req), false),
        Some(FaultKind::LoseAnswer) => lose_answer = true,
        Some(FaultKind::SlowBody { delay_ms }) => slow_body = Some(Duration::from_millis(delay_ms)),
        Some(FaultKind::MisdirectOnce) => {
            let moved_to = sim.node.fetch_add(1, Ordering::SeqCst) + 1;
            tracing::info!(node = %node_name(moved_to), "simulated tenant moved to a new node");
            return (misdirected(), true);
        }
    }
    if let Some((node, rest)) = split_node(&path) {
        if node != node_name(sim.node.load(Ordering::SeqCst)) {
            return (misdirected(), true);
        }
        let target = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        let Ok(uri) = target.parse::<Uri>() else {
            return (so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "bad request path"), true);
        };
        if req.extensions().get::<OriginalUri>().is_none() {
            let original = OriginalUri(req.uri().clone());
            req.extensions_mut().insert(original);
        }
        *req.uri_mut() = uri;
    }
    if is_rest(req.uri().path()) {
        let profile = lock(&sim.tenant).profile.clone();
        if !profile.running {
            let r = so_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SoTenantOfflineException",
                &format!("The tenant is not available (state {})", profile.state()),
            );
            return (r, true);
        }
    }
    let cutter = req.extensions().get::<ConnectInfo<ConnectionCutter>>().map(|c| c.0.clone());
    let response = next.run(req).await;
    if lose_answer {
        // The request took effect; keep what was served for the log, then cut.
        let mut cut = cut_after(cutter);
        let ext = cut.extensions_mut();
        ext.insert(Served(response.status().as_u16()));
        if let Some(m) = response.extensions().get::<MatchedRoute>() {
            ext.insert(m.clone());
        }
        if let Some(o) = response.extensions().get::<ODataUse>() {
            ext.insert(o.clone());
        }
        return (cut, false);
    }
    match slow_body {
        Some(delay) => (trickle(response, delay).await, true),
        None => (response, true),
    }
}

fn misdirected() -> Response {
    so_error(StatusCode::MISDIRECTED_REQUEST, "SoMisdirectedRequestException", "Wrong subdomain used to access tenant")
}

/// Drops the connection without an answer. Without connect info (a test calling the router
/// directly) the body fails instead, which also aborts the connection.
fn cut_connection(req: &Request) -> Response {
    if let Some(ConnectInfo(cutter)) = req.extensions().get::<ConnectInfo<ConnectionCutter>>() {
        cutter.cut();
    }
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset"))
    });
    (StatusCode::INTERNAL_SERVER_ERROR, Body::from_stream(failing)).into_response()
}

/// The answer is lost after the request took effect: the connection is cut instead.
fn cut_after(cutter: Option<ConnectionCutter>) -> Response {
    if let Some(c) = cutter {
        c.cut();
    }
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected: answer lost"))
    });
    (StatusCode::INTERNAL_SERVER_ERROR, Body::from_stream(failing)).into_response()
}

/// Sends the head and the first byte now, the rest of the body after `delay`.
async fn trickle(response: Response, delay: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let head = bytes.slice(..bytes.len().min(1));
    let tail = bytes.slice(head.len()..);
    parts.headers.remove(header::CONTENT_LENGTH);
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) });
    let rest = futures_util::stream::once(async move {
        tokio::time::sleep(delay).await;
        Ok::<_, std::io::Error>(tail)
    });
    Response::from_parts(parts, Body::from_stream(first.chain(rest)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn node_prefixes_are_recognised() {
        assert_eq!(split_node("/n1/Cust1/api/v1/Document"), Some(("n1", "/Cust1/api/v1/Document")));
        assert_eq!(split_node("/n12/Cust1/api"), Some(("n12", "/Cust1/api")));
        assert_eq!(split_node("/Cust1/api/v1/Document"), None);
        assert_eq!(split_node("/login/common/oauth/tokens"), None);
        assert_eq!(split_node("/nx/Cust1/api/v1"), None);
        assert!(is_rest("/Cust1/api/v1/User/currentPrincipal"));
        assert!(!is_rest("/api/state/Cust1"));
        assert!(!is_rest("/login/common/oauth/tokens"));
    }

    #[test]
    fn counters_sum_by_substring() {
        let mut c = Counters::default();
        c.count_path("/Cust1/api/v1/Document");
        c.count_path("/Cust1/api/v1/Document");
        c.count_path("/n1/Cust1/api/v1/Document/3/Content");
        c.count_path("/api/state/Cust1");
        assert_eq!(c.requests("/Document"), 3);
        assert_eq!(c.requests("/api/state/"), 1);
        assert_eq!(c.requests("nothing"), 0);
    }
}
