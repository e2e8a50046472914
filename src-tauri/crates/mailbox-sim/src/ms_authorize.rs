//! Microsoft's authorize endpoint `GET /{tenant}/oauth2/v2.0/authorize` for the simulated
//! public desktop client: validates the request as microsoft.md §1 describes, shows an error
//! page (never a redirect) while `client_id` or `redirect_uri` cannot be trusted, redirects
//! other errors back to the app, and otherwise shows the consent page.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

use crate::oauth::{challenge_well_formed, Pending, ResponseMode};
use crate::params::{ParamError, Params};
use crate::scopes::{self, ScopeError};
use crate::state::lock;
use crate::{aad, consent, ConsentRefusal, Provider, Sim};

/// The registered redirect URI (platform "Mobile and desktop applications", system browser):
/// `http://localhost` ([DR] "Redirect URIs").
pub const REGISTERED_REDIRECT: &str = "http://localhost";

/// [AC] "Request an authorization code": the documented parameters.
const DOCUMENTED: [&str; 13] = [
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "response_mode",
    "state",
    "prompt",
    "login_hint",
    "domain_hint",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "claims",
];

/// [AC] `{tenant}`: `common`, `organizations`, `consumers`, or the tenant's id or domain. The
/// simulated user is a work account, so `consumers` cannot sign it in (SIM).
pub fn tenant_ok(sim: &Sim, tenant: &str) -> bool {
    ["common", "organizations"].iter().any(|t| t.eq_ignore_ascii_case(tenant))
        || tenant.eq_ignore_ascii_case(&sim.config.user.tenant_id)
        || tenant.eq_ignore_ascii_case(sim.domain())
}

/// The tenant error page. The AADSTS code for an unknown tenant (90002) is not in the rule
/// book (UNCONFIRMED).
pub fn unknown_tenant_message(tenant: &str) -> String {
    format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
}

/// [RU]: `http` only for localhost; the port is ignored for localhost URIs ("Localhost
/// exceptions"); the path must match (case-sensitive); no query parameters for this app; none
/// of `! $ ' ( ) , ;`. The registered URI has no path, so `http://localhost:PORT` and
/// `http://localhost:PORT/` match (INF: the empty path and `/` are the same URL). SIM: the host
/// must match exactly (`127.0.0.1` and `[::1]` do not match `localhost`; [RU] says `[::1]` is
/// "not currently supported").
pub fn redirect_matches(uri: &str) -> bool {
    if uri.len() > 256 || uri.contains(['!', '$', '\'', '(', ')', ',', ';']) {
        return false;
    }
    let Ok(u) = url::Url::parse(uri) else { return false };
    u.scheme() == "http"
        && u.host_str() == Some("localhost")
        && u.username().is_empty()
        && u.password().is_none()
        && u.path() == "/"
        && u.query().is_none()
        && u.fragment().is_none()
}

pub async fn authorize(State(sim): State<Arc<Sim>>, Path(tenant): Path<String>, RawQuery(query): RawQuery) -> Response {
    let p = match Params::parse(query.as_deref().unwrap_or("")) {
        Ok(p) => p,
        // RFC 6749 §3.1; AADSTS9002313 "Invalid request. Request is malformed or invalid." [EC]
        Err(ParamError::Repeated(n) | ParamError::Undocumented(n)) => {
            return aad::error_page(9002313, &format!("Invalid request. Request is malformed or invalid. Parameter '{n}' is repeated."));
        }
    };
    if !tenant_ok(&sim, &tenant) {
        return aad::error_page(90002, &unknown_tenant_message(&tenant));
    }
    // Pre-validation failures are pages, not redirects (microsoft.md §1.2 SIM).
    let Some(client_id) = p.get("client_id").filter(|c| !c.is_empty()) else {
        return aad::error_page(900144, "The request body must contain the following parameter: 'client_id'.");
    };
    if client_id != sim.config.client_id {
        // [EC] AADSTS700016 (unknown app).
        return aad::error_page(
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."),
        );
    }
    let Some(redirect_uri) = p.get("redirect_uri").filter(|r| !r.is_empty()) else {
        // [EC] AADSTS900971: no reply address.
        return aad::error_page(900971, "No reply address provided.");
    };
    if !redirect_matches(redirect_uri) {
        // [SA50011] "Symptoms": the error page, never a redirect.
        return aad::error_page(
            50011,
            &format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."),
        );
    }
    let mut request = Pending {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: Vec::new(),
        state: p.get("state").map(strip_html),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge: String::new(),
        response_mode: ResponseMode::Query,
        refusal: None,
    };
    // [AC] `response_mode`: `query` (default for a code), `fragment`, `form_post`; a bad value
    // is AADSTS70007 [EC]. SIM: `form_post` is not simulated and is refused the same way.
    match p.get("response_mode") {
        None | Some("query") => {}
        Some("fragment") => request.response_mode = ResponseMode::Fragment,
        Some(other) => {
            return back(
                &request,
                "invalid_request",
                70007,
                &format!("'{other}' is not a supported value of response_mode for this request."),
            )
        }
    }
    match validate(&p, &mut request) {
        Ok(()) => {}
        Err((error, code, message)) => return back(&request, error, code, &message),
    }
    let refusal = lock(&sim.controls.refusal).take();
    match refusal {
        // [EC] AADSTS90094 AdminConsentRequired: an interactive page (microsoft.md §1.2 SIM).
        Some(ConsentRefusal::AdminConsentRequired | ConsentRefusal::AdminPolicy) => aad::error_page(
            90094,
            "Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin.",
        ),
        Some(ConsentRefusal::UserDeclined | ConsentRefusal::AccessDenied) => {
            request.refusal = Some(ConsentRefusal::UserDeclined);
            consent::begin(&sim, request)
        }
        None => consent::begin(&sim, request),
    }
}

type Refusal = (&'static str, u32, String);

/// The checks made once the redirect URI is trusted; errors go back to the app.
fn validate(p: &Params, request: &mut Pending) -> Result<(), Refusal> {
    if p.has("resource") {
        // [EC] AADSTS901002: the v1 `resource` parameter is not supported.
        return Err(("invalid_request", 901002, "The 'resource' request parameter is not supported.".into()));
    }
    if let Some(n) = p.undocumented(&DOCUMENTED) {
        // SIM (strict): an undocumented parameter is refused as malformed (AADSTS9002313 [EC]).
        return Err(("invalid_request", 9002313, format!("Invalid request. Request is malformed or invalid. Unknown parameter '{n}'.")));
    }
    if let Some(missing) = p.first_missing(&["response_type", "scope"]) {
        return Err(("invalid_request", 900144, format!("The request body must contain the following parameter: '{missing}'.")));
    }
    match p.get("response_type").unwrap_or("") {
        "code" => {}
        // [AC] "hybrid flow" needs the implicit ID-token setting: AADSTS700054 [EC].
        rt if rt.split(' ').any(|t| t == "id_token") => {
            return Err(("unsupported_response_type", 700054, "response_type 'id_token' is not enabled for the application.".into()))
        }
        rt => return Err(("unsupported_response_type", 9002313, format!("Invalid request. The response_type '{rt}' is not supported."))),
    }
    request.scopes = scopes::parse(Provider::Microsoft, p.get("scope").unwrap_or("")).map_err(|e| {
        let text = match e {
            ScopeError::Unknown(s) => {
                format!("The provided value for the input parameter 'scope' is not valid. The scope '{s}' is not valid.")
            }
            ScopeError::DefaultMixed => {
                "The provided value for the input parameter 'scope' is not valid. '.default' cannot be combined with other resource scopes."
                    .into()
            }
            ScopeError::Empty => "The provided value for the input parameter 'scope' is not valid.".into(),
        };
        // [AC] token error sample: AADSTS70011 invalid_scope.
        ("invalid_scope", 70011, text)
    })?;
    match p.get("prompt") {
        None | Some("login" | "consent" | "select_account") => {}
        // [AC] `prompt=none` with nobody signed in → `login_required`. The simulated browser
        // keeps no session, so nobody ever is. (AADSTS50058 is not in the rule book: UNCONFIRMED.)
        Some("none") => return Err(("login_required", 50058, "A silent sign-in request was sent but no user is signed in.".into())),
        Some(other) => return Err(("invalid_request", 9002313, format!("Invalid request. Invalid value '{other}' for prompt."))),
    }
    if let Some(claims) = p.get("claims") {
        // [CC] "Claims request": a JSON object.
        if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(claims).is_err() {
            return Err(("invalid_request", 9002313, "Invalid request. The claims parameter is not valid JSON.".into()));
        }
    }
    pkce(p, request)
}

/// [AC]: `code_challenge` "Required if `code_challenge_method` is included"; S256 or plain.
/// SIM (microsoft.md §1.1): PKCE with S256 is required; a challenge of the wrong size is
/// AADSTS501491 [EC].
fn pkce(p: &Params, request: &mut Pending) -> Result<(), Refusal> {
    let Some(challenge) = p.get("code_challenge").filter(|c| !c.is_empty()) else {
        if p.has("code_challenge_method") {
            return Err(("invalid_request", 900144, "The request body must contain the following parameter: 'code_challenge'.".into()));
        }
        return Err((
            "invalid_request",
            9002313,
            "Invalid request. This simulator requires PKCE: send code_challenge with code_challenge_method=S256.".into(),
        ));
    };
    if p.get("code_challenge_method") != Some("S256") {
        return Err((
            "invalid_request",
            9002313,
            "Invalid request. This simulator requires code_challenge_method=S256 (plain is not accepted).".into(),
        ));
    }
    if !challenge_well_formed(challenge) {
        return Err(("invalid_request", 501491, "Invalid size of Code_Challenge parameter.".into()));
    }
    request.code_challenge = challenge.to_owned();
    Ok(())
}

/// An error sent back to the app: `error`, `error_description`, `state` ([AC] "Error response").
fn back(request: &Pending, error: &str, code: u32, message: &str) -> Response {
    consent::redirect(request, vec![("error".into(), error.into()), ("error_description".into(), aad::redirect_description(code, message))])
}

/// [RU] "Use a state parameter": "The Microsoft Entra authorization endpoint strips HTML from
/// the state parameter".
fn strip_html(state: &str) -> String {
    let mut out = String::with_capacity(state.len());
    let mut in_tag = false;
    for ch in state.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn localhost_any_port_no_path_only() {
        for ok in ["http://localhost", "http://localhost:5000", "http://localhost:5000/", "http://LOCALHOST:1"] {
            assert!(redirect_matches(ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:5000",
            "http://[::1]:5000",
            "https://localhost:5000",
            "http://localhost:5000/callback",
            "http://localhost:5000/?x=1",
            "http://localhost.evil.example:5000",
            "http://user@localhost:5000",
            "http://localhost:5000/;x",
        ] {
            assert!(!redirect_matches(bad), "{bad}");
        }
        assert_eq!(strip_html("a<script>b</script>c"), "abc");
    }
}
