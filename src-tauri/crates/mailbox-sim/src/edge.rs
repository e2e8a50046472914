//! The routes of each provider, and the middleware every request passes first: the simulator
//! answers only under its own `Host` (421 otherwise: a DNS-rebinding page reaches it under
//! another name), refuses a browser `Origin` on the token endpoint and a foreign one elsewhere,
//! applies the Graph per-mailbox concurrency limit, the test latency and lost answers, and
//! writes the request log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::conn::ConnectionCutter;
use crate::state::{lock, Controls};
use crate::{aad, consent, gmail, google_auth, google_token, graph, graph_mail, ms_authorize, ms_token, LoggedRequest, Provider, Sim};

/// [THL] Outlook include: "four concurrent requests" per app and mailbox.
const GRAPH_CONCURRENCY: usize = 4;

pub fn router(sim: Arc<Sim>) -> Router {
    let routes = Router::new().route(consent::CONSENT_PATH, post(consent::answer));
    let routes = match sim.config.provider {
        Provider::Microsoft => routes
            .route("/{tenant}/oauth2/v2.0/authorize", get(ms_authorize::authorize))
            .route("/{tenant}/oauth2/v2.0/token", post(ms_token::token).get(ms_token::wrong_verb))
            .route("/{tenant}/discovery/v2.0/keys", get(jwks))
            .route("/v1.0/me", get(graph::me))
            .route("/v1.0/me/sendMail", post(graph_mail::send_mail))
            .route("/v1.0/me/messages", post(graph_mail::create))
            .route("/v1.0/me/messages/{id}", get(graph_mail::get))
            .route("/v1.0/me/messages/{id}/$value", get(graph_mail::get_mime))
            .route("/v1.0/me/messages/{id}/send", post(graph_mail::send_draft))
            .route("/v1.0/me/mailFolders/{folder}/messages", get(graph_mail::folder_messages))
            .route("/v1.0/{*rest}", get(graph::unknown_segment).post(graph::unknown_segment)),
        Provider::Google => routes
            .route("/o/oauth2/v2/auth", get(google_auth::authorize))
            .route("/token", post(google_token::token))
            .route("/revoke", post(google_token::revoke).get(google_token::revoke_get))
            .route("/oauth2/v3/certs", get(jwks))
            .route("/gmail/v1/users/{user}/messages/send", post(gmail::send))
            .route("/gmail/v1/users/{user}/messages", get(gmail::list))
            .route("/gmail/v1/users/{user}/messages/{id}", get(gmail::get))
            .route("/gmail/v1/users/{user}/profile", get(gmail::profile)),
    };
    routes.with_state(sim.clone()).layer(axum::middleware::from_fn_with_state(sim, edge))
}

async fn jwks(State(sim): State<Arc<Sim>>) -> axum::Json<serde_json::Value> {
    axum::Json(sim.keys.jwks())
}

fn is_token_endpoint(sim: &Sim, path: &str) -> bool {
    match sim.config.provider {
        Provider::Microsoft => path.ends_with("/oauth2/v2.0/token"),
        Provider::Google => path == "/token",
    }
}

/// The send calls whose answers [`crate::MailboxSim::lose_next_answers`] loses.
fn is_send(sim: &Sim, method: &Method, path: &str) -> bool {
    method == Method::POST
        && match sim.config.provider {
            Provider::Microsoft => path == "/v1.0/me/sendMail" || (path.starts_with("/v1.0/me/messages/") && path.ends_with("/send")),
            Provider::Google => path.starts_with("/gmail/v1/users/") && path.ends_with("/messages/send"),
        }
}

/// A refusal before routing, or `None`.
fn foreign_caller(sim: &Sim, req: &Request) -> Option<Response> {
    let own_host = sim.base_url.trim_start_matches("http://");
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if !host.eq_ignore_ascii_case(own_host) {
        return Some((StatusCode::MISDIRECTED_REQUEST, "This server answers only for its own address.").into_response());
    }
    let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("?").trim_end_matches('/').to_owned())?;
    if is_token_endpoint(sim, req.uri().path()) {
        return Some(match sim.config.provider {
            // [AC] "Redirect URIs for SPAs": an `Origin` with a non-`spa` redirect is refused
            // (microsoft.md §2.1 SIM: refuse it for the desktop client). The code, AADSTS9002326,
            // is not quoted in the rule book (UNCONFIRMED).
            Provider::Microsoft => aad::token_error(
                "invalid_request",
                9002326,
                &format!("Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '{origin}'."),
            ),
            // SIM: a Desktop client's token request never comes from a web page.
            Provider::Google => google_token::error("invalid_request", "Cross-origin requests are not allowed for Desktop clients."),
        });
    }
    if !origin.eq_ignore_ascii_case(&sim.base_url) {
        return Some((StatusCode::FORBIDDEN, "Requests from other sites are refused.").into_response());
    }
    None
}

async fn edge(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query_names: Vec<String> =
        req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).map(|(k, _)| k.into_owned()).collect()).unwrap_or_default();
    let (response, status, answered) = decide(&sim, req, next, &method, &path).await;
    sim.log(LoggedRequest { method: method.to_string(), path, query_names, status, answered });
    response
}

/// The answer, the status produced, and whether the answer is delivered.
async fn decide(sim: &Arc<Sim>, req: Request, next: Next, method: &Method, path: &str) -> (Response, u16, bool) {
    if let Some(refused) = foreign_caller(sim, &req) {
        let s = refused.status().as_u16();
        return (refused, s, true);
    }
    let api = path.starts_with("/v1.0/") || path.starts_with("/gmail/");
    let _in_flight = if path.starts_with("/v1.0/") {
        let guard = InFlight::enter(&sim.graph_in_flight);
        if guard.before >= GRAPH_CONCURRENCY {
            // [THL]: beyond four concurrent requests → 429 (Retry-After: SIM 1 second).
            return (graph::throttled(Duration::from_secs(1)), 429, true);
        }
        Some(guard)
    } else {
        None
    };
    let latency = *lock(&sim.controls.latency);
    if api && !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let cutter = req.extensions().get::<ConnectInfo<ConnectionCutter>>().map(|c| c.0.clone());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    if is_send(sim, method, path) && response.status().is_success() && Controls::take(&sim.controls.lose_answers) {
        // The send took effect; the client gets no answer: the connection is cut.
        return (cut(cutter), status, false);
    }
    (response, status, true)
}

/// One Graph request being served; counted down when it ends, however it ends.
struct InFlight<'a> {
    counter: &'a AtomicUsize,
    before: usize,
}

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        InFlight { counter, before: counter.fetch_add(1, Ordering::SeqCst) }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Closes the connection without a response: every further read or write on it fails, so the
/// HTTP server abandons it; the body also fails, for a caller without connect info.
fn cut(cutter: Option<ConnectionCutter>) -> Response {
    if let Some(c) = cutter {
        c.cut();
    }
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "answer lost (simulated)"))
    });
    (StatusCode::INTERNAL_SERVER_ERROR, Body::from_stream(failing)).into_response()
}
