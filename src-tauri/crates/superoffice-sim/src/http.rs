//! Routing of the simulator's HTTP side, the OIDC sign-in endpoints (discovery, JWKS,
//! authorize and consent) and the state API. The token endpoint is in `token.rs`, REST in
//! `rest/`, the test-only control API in `control.rs`; every request first passes `edge.rs`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::oidc::PendingAuthorization;
use crate::{edge, lock, redirect, reqlog, rest, system_user, token, Sim};

pub fn router(sim: Arc<Sim>) -> Router {
    let routes = Router::new()
        .route("/login/.well-known/openid-configuration", get(discovery))
        .route("/login/.well-known/jwks", get(jwks))
        .route("/login/common/oauth/authorize", get(authorize).post(consent))
        .route("/login/common/oauth/tokens", post(token::tokens))
        .route("/login/common/oauth/revoke", post(token::revoke))
        .route("/mail/oauth2/token", post(mail_token))
        .route("/Login/api/PartnerSystemUser/Authenticate", post(system_user::authenticate))
        .route("/api/state/{ctx}", get(tenant_state))
        .route("/{ctx}/default.aspx", get(web_client))
        .nest("/{ctx}/api/v1", rest::router());
    // The `/__sim/` control API exists only in builds with the `control` feature (tests).
    #[cfg(feature = "control")]
    let routes = routes.merge(crate::control_http::router());
    let routes = routes
        // After routing: note the matched route template for the request log (edge.rs).
        .layer(axum::middleware::from_fn(reqlog::mark_route))
        .with_state(sim.clone());
    // The edge middleware rewrites node-prefixed paths, so it must run before routing: the
    // routes sit in a fallback of an otherwise empty router that carries the layer.
    Router::new().fallback_service(routes).layer(axum::middleware::from_fn_with_state(sim, edge::edge))
}

async fn discovery(State(sim): State<Arc<Sim>>) -> Json<serde_json::Value> {
    let b = &sim.base_url;
    // As documented: the document lives under /login/ but the issuer is the bare host.
    Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/login/common/oauth/authorize"),
        "token_endpoint": format!("{b}/login/common/oauth/tokens"),
        "jwks_uri": format!("{b}/login/.well-known/jwks"),
        "revocation_endpoint": format!("{b}/login/common/oauth/revoke"),
        "scopes_supported": ["openid"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "response_modes_supported": ["form_post", "fragment", "query"],
        "grant_types_supported": ["implicit", "authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    }))
}

#[derive(Deserialize)]
struct WebClientQuery {
    document_id: Option<i64>,
}

/// A stand-in for SuperOffice's web client at `/{ctx}/default.aspx?document_id=N`: the
/// archived document's header, links and content, so the demo's "open in SuperOffice" shows
/// what was archived.
async fn web_client(State(sim): State<Arc<Sim>>, Path(ctx): Path<String>, Query(q): Query<WebClientQuery>) -> Response {
    let t = lock(&sim.tenant).clone();
    if !ctx.eq_ignore_ascii_case(&t.context_id) {
        return (StatusCode::NOT_FOUND, "unknown tenant").into_response();
    }
    let Some(d) = q.document_id.and_then(|id| t.documents.iter().find(|d| d.id == id)) else {
        return (StatusCode::NOT_FOUND, Html("<h1>Document not found</h1>".to_owned())).into_response();
    };
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let content = d.content.as_deref().map(String::from_utf8_lossy).map(|c| esc(&c)).unwrap_or_else(|| "(no content)".into());
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>{h} – SuperOffice (simulated)</title><body style=\"font:14px system-ui;margin:2em\"><p><em>Simulated SuperOffice web client, tenant {ctx}</em></p><h1>{h}</h1><p>Document {id} · {name} · contact {c} · person {p} · sale {s} · ExternalRef {r}</p><pre style=\"white-space:pre-wrap;border:1px solid #ccc;padding:1em\">{content}</pre></body>",
        h = esc(&d.header),
        id = d.id,
        name = esc(&d.name),
        c = d.contact_id,
        p = d.person_id,
        s = d.sale_id,
        r = esc(&d.external_ref),
    ))
    .into_response()
}

async fn jwks(State(sim): State<Arc<Sim>>) -> Json<serde_json::Value> {
    Json(sim.oidc.jwks())
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    acr_values: Option<String>,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (status, Html(format!("<!doctype html><title>Error</title><h1>Sign-in error</h1><p>{}</p>", html_escape(message)))).into_response()
}

async fn authorize(State(sim): State<Arc<Sim>>, Query(q): Query<AuthorizeQuery>) -> Response {
    let Some(client_id) = q.client_id.filter(|c| *c == sim.client.client_id) else {
        return error_page(StatusCode::BAD_REQUEST, "Unknown client_id.");
    };
    let rules = lock(&sim.redirect_rules).clone();
    let Some(redirect_uri) = q.redirect_uri.filter(|r| redirect::allowed(&rules, r)) else {
        // Not a redirect: an error page, as "Authorization error: InvalidRedirectUrl (2)"
        // ("The redirect URL your used is not registered", AuthorizeErrorCode 2 in
        // `docs/api/authentication/online/error-codes.md`). The rules: `redirect.rs`.
        return error_page(
            StatusCode::BAD_REQUEST,
            "Authorization error: InvalidRedirectUrl (2). The redirect_uri is not registered for this application.",
        );
    };
    if q.response_type.as_deref() != Some("code") || !q.scope.unwrap_or_default().split(' ').any(|s| s == "openid") {
        return error_page(StatusCode::BAD_REQUEST, "Only response_type=code with scope openid is supported here.");
    }
    let tenant = lock(&sim.tenant).clone();
    if let Some(acr) = q.acr_values.as_deref().and_then(|a| a.strip_prefix("tenant:")) {
        if acr != tenant.context_id {
            return error_page(StatusCode::BAD_REQUEST, "This user has no access to the requested tenant.");
        }
    }
    let request_id = sim.oidc.begin(PendingAuthorization {
        client_id,
        redirect_uri,
        state: q.state,
        nonce: q.nonce,
        code_challenge: q.code_challenge,
        // SuperOffice defaults to `plain` when the method is omitted.
        code_challenge_method: q.code_challenge_method.unwrap_or_else(|| "plain".into()),
    });
    let rep = tenant.rep();
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>SuperOffice sign-in (simulated)</title></head>
<body style="font-family:sans-serif;max-width:34em;margin:3em auto">
<h1>SuperOffice CRM Online</h1>
<p><strong>Simulated sign-in</strong> on this computer (demo tenant {ctx}, {company}).</p>
<p>Signed in as <strong>{name}</strong> ({email}).</p>
<p>The application <strong>SuperOffice Outbox</strong> asks to access SuperOffice on your behalf.</p>
<form method="post" action="/login/common/oauth/authorize">
<input type="hidden" name="request_id" value="{rid}">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>"#,
        ctx = html_escape(&tenant.context_id),
        company = html_escape(&tenant.company_name),
        name = html_escape(&rep.full_name),
        email = html_escape(&rep.email),
        rid = request_id,
    ))
    .into_response()
}

#[derive(Deserialize)]
struct ConsentForm {
    request_id: String,
    decision: String,
}

async fn consent(State(sim): State<Arc<Sim>>, Form(f): Form<ConsentForm>) -> Response {
    let rep_id = lock(&sim.tenant).rep_associate_id;
    // `http://127.0.0.1:5555` + `?code=…&state=…`: the browser then requests
    // `GET /?code=…&state=…` on the app's loopback listener.
    let with = |req: &PendingAuthorization, pairs: &[(&str, &str)]| {
        let mut u = match url::Url::parse(&req.redirect_uri) {
            Ok(u) => u,
            Err(_) => return error_page(StatusCode::BAD_REQUEST, "bad redirect_uri"),
        };
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            if let Some(s) = &req.state {
                q.append_pair("state", s);
            }
        }
        Redirect::to(u.as_str()).into_response()
    };
    if f.decision == "allow" {
        match sim.oidc.grant(&f.request_id, rep_id) {
            Some((req, code)) => with(&req, &[("code", &code)]),
            None => error_page(StatusCode::BAD_REQUEST, "This sign-in request has expired. Start again from the app."),
        }
    } else {
        match sim.oidc.deny(&f.request_id) {
            Some(req) => with(&req, &[("error", "access_denied"), ("error_description", "The user denied access")]),
            None => error_page(StatusCode::BAD_REQUEST, "This sign-in request has expired."),
        }
    }
}

async fn tenant_state(State(sim): State<Arc<Sim>>, Path(ctx): Path<String>) -> Response {
    let tenant = lock(&sim.tenant).clone();
    if !ctx.eq_ignore_ascii_case(&tenant.context_id) {
        return (StatusCode::NOT_FOUND, Json(json!({"Error": true, "ErrorType": "NotFound", "ErrorMessage": "Unknown tenant"})))
            .into_response();
    }
    let endpoint = format!("{}/{}/{}", sim.base_url, sim.node_name(), tenant.context_id);
    Json(json!({
        "ContextIdentifier": tenant.context_id,
        "Endpoint": endpoint,
        "State": tenant.profile.state(),
        "IsRunning": tenant.profile.running,
        "ValidUntil": "2026-12-31T00:00:00Z",
        "Api": format!("{endpoint}/api"),
        "Version": "10.5.3",
    }))
    .into_response()
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The client id of the rep's app at the simulated mail provider.
pub const MAIL_CLIENT_ID: &str = "so-outbox-mail-client";

#[derive(Deserialize)]
struct MailTokenForm {
    grant_type: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
}

/// The mail provider's token endpoint (not SuperOffice's): the refresh grant for the relay's
/// XOAUTH2 access token, answered as Microsoft and Google do (RFC 6749 §5.1 and §5.2).
async fn mail_token(State(sim): State<Arc<Sim>>, Form(f): Form<MailTokenForm>) -> Response {
    let err = |status: StatusCode, error: &str, description: &str| {
        (status, Json(json!({ "error": error, "error_description": description }))).into_response()
    };
    if f.grant_type.as_deref() != Some("refresh_token") {
        return err(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only refresh_token is supported here");
    }
    if f.client_id.as_deref() != Some(MAIL_CLIENT_ID) {
        return err(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    }
    match f.refresh_token.as_deref().and_then(|r| sim.mailbox.renew(r)) {
        Some((access, refresh)) => {
            Json(json!({ "token_type": "Bearer", "access_token": access, "expires_in": 3599, "refresh_token": refresh })).into_response()
        }
        None => err(StatusCode::BAD_REQUEST, "invalid_grant", "The refresh token is invalid or expired."),
    }
}
