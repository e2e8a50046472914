//! The simulated sign-in and consent page both providers show after a valid authorize request,
//! the form it posts back (`/_sim/consent`, the simulator's own page, not a provider API), and
//! the redirect to the app's loopback listener that ends the browser leg, with a code or with
//! the user's refusal.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::oauth::{Pending, ResponseMode};
use crate::state::lock;
use crate::{aad, scopes, ConsentRefusal, Provider, Sim};

/// Where the consent form posts.
pub const CONSENT_PATH: &str = "/_sim/consent";

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The consent page for a stored request.
pub fn page(sim: &Sim, request_id: &str, request: &Pending) -> Response {
    let who = match sim.config.provider {
        Provider::Microsoft => "Microsoft",
        Provider::Google => "Google",
    };
    let list: String = request.scopes.iter().map(|s| format!("<li>{}</li>", html_escape(s))).collect();
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>{who} sign-in (simulated)</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto">
<h1>{who} (simulated)</h1>
<p>Signed in as <strong>{name}</strong> ({address}).</p>
<p>The application <code>{client}</code> asks for:</p><ul>{list}</ul>
<form method="post" action="{CONSENT_PATH}">
<input type="hidden" name="request_id" value="{request_id}">
<button type="submit" name="decision" value="allow" id="allow">Accept</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form></body></html>"#,
        name = html_escape(&sim.config.user.display_name),
        address = html_escape(&sim.config.user.address),
        client = html_escape(&request.client_id),
    ))
    .into_response()
}

/// The consent form's answer: a redirect to the app with a code, or with `access_denied`.
pub async fn answer(State(sim): State<Arc<Sim>>, body: String) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(request) = field("request_id").and_then(|id| sim.oauth.take_pending(&id)) else {
        return (StatusCode::BAD_REQUEST, Html("<h1>This sign-in request has expired. Start again from the app.</h1>")).into_response();
    };
    let allow = field("decision").as_deref() == Some("allow");
    let declined = !allow || matches!(request.refusal, Some(ConsentRefusal::UserDeclined | ConsentRefusal::AccessDenied));
    let provider = sim.config.provider;
    if declined {
        let mut pairs = vec![("error".to_owned(), "access_denied".to_owned())];
        if provider == Provider::Microsoft {
            // [AC] "Error response": `error=access_denied`; [EC] AADSTS65004 UserDeclinedConsent
            // (how it is returned is UNCONFIRMED; microsoft.md §1.2 SIM: this redirect).
            pairs.push(("error_description".into(), aad::redirect_description(65004, "User declined to consent to access the app.")));
        }
        // NA Step 4: "`error=access_denied` indicates that the user declined"; `state` is
        // echoed too (3P).
        return redirect(&request, pairs);
    }
    let only = lock(&sim.controls.grant_only).clone();
    let granted = scopes::consented(provider, &request.scopes, only.as_deref());
    let ttl = *lock(&sim.controls.code_ttl);
    let mut pairs = Vec::new();
    match provider {
        Provider::Microsoft => {
            let code = sim.oauth.issue_code("1.A", request.clone(), granted, ttl);
            // [AC] "Successful response": `code`, `state`; `session_state` (3P, SIM optional).
            pairs.push(("code".to_owned(), code));
            if let Some(s) = &request.state {
                pairs.push(("state".into(), s.clone()));
            }
            pairs.push(("session_state".into(), crate::state::guid()));
        }
        Provider::Google => {
            let scope_param = google_scope_param(&granted);
            let code = sim.oauth.issue_code("4/0A", request.clone(), granted, ttl);
            // A4: `code`, `state` in the query; observed extras `scope` (granted), `authuser`,
            // `prompt`, `hd` (Workspace), `iss` (3P), sent so the listener proves it ignores
            // what it does not know.
            if let Some(s) = &request.state {
                pairs.push(("state".to_owned(), s.clone()));
            }
            pairs.push(("iss".into(), "https://accounts.google.com".into()));
            pairs.push(("code".into(), code));
            pairs.push(("scope".into(), scope_param));
            pairs.push(("authuser".into(), "0".into()));
            if !sim.domain().eq_ignore_ascii_case("gmail.com") {
                pairs.push(("hd".into(), sim.domain().to_owned()));
            }
            pairs.push(("prompt".into(), "consent".into()));
        }
    }
    redirect_raw(&request.redirect_uri, request.response_mode, &pairs)
}

/// A4's observed form: `email openid https://www.googleapis.com/auth/userinfo.email …` (the
/// short identity name next to the long one).
fn google_scope_param(granted: &[String]) -> String {
    let mut out = Vec::new();
    for s in granted {
        if s.ends_with("/userinfo.email") {
            out.push("email".to_owned());
        } else if s.ends_with("/userinfo.profile") {
            out.push("profile".to_owned());
        }
    }
    out.extend(granted.iter().cloned());
    out.join(" ")
}

/// An error redirect: `error`, `error_description`, then `state` ([AC] "Error response").
pub fn redirect(request: &Pending, mut pairs: Vec<(String, String)>) -> Response {
    if let Some(s) = &request.state {
        pairs.push(("state".into(), s.clone()));
    }
    redirect_raw(&request.redirect_uri, request.response_mode, &pairs)
}

/// `302` to the redirect URI with `pairs` in the query or the fragment. A registered URI
/// without a path gets a trailing `/` in query and fragment mode ([RU] "Trailing slash"); the
/// same serialization serves Google's loopback URIs.
pub fn redirect_raw(redirect_uri: &str, mode: ResponseMode, pairs: &[(String, String)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response();
    };
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    match mode {
        ResponseMode::Query => {
            let q = match url.query() {
                Some(existing) if !existing.is_empty() => format!("{existing}&{encoded}"),
                _ => encoded,
            };
            url.set_query(Some(&q));
        }
        ResponseMode::Fragment => url.set_fragment(Some(&encoded)),
    }
    (StatusCode::FOUND, [(header::LOCATION, url.as_str().to_owned()), (header::CACHE_CONTROL, "no-store".to_owned())]).into_response()
}

/// Stores a request and shows the consent page.
pub fn begin(sim: &Sim, request: Pending) -> Response {
    let id = sim.oauth.begin(request.clone());
    page(sim, &id, &request)
}
