//! The Gmail API subset (google.md §3–5): `users.messages.send` with a base64url `raw`
//! message, `users.messages.list` with `q=rfc822msgid:`, `users.messages.get`,
//! `users.getProfile`, each behind the bearer token and its scopes, with Google's error
//! envelope.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};

use crate::mailstore::{Folder, Message};
use crate::oauth::Access;
use crate::params::{media_type, Params};
use crate::state::{random_token, Controls};
use crate::{mime, MessageIdPolicy, Sim, Via};

const G: &str = "https://www.googleapis.com/auth/";
/// G3 (SEND, DISC): any one of these.
const SEND: [&str; 5] = [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.addons.current.action.compose",
];
/// L1 (DISC): list — not `gmail.send`, not `gmail.compose`.
const LIST: [&str; 4] = [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.metadata",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
];
/// L3 (DISC): get — the list scopes plus the add-on message scopes.
const GET: [&str; 6] = [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.metadata",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.addons.current.message.readonly",
    "https://www.googleapis.com/auth/gmail.addons.current.message.metadata",
];
/// I3 (DISC): getProfile — not `gmail.send`.
const PROFILE: [&str; 5] = [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.metadata",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
];

/// G6: `{"error":{"code","message","errors":[{"domain","reason","message"}],"status"}}`.
pub fn error(status: StatusCode, reason: &str, domain: &str, message: &str, rpc_status: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "errors": [{"message": message, "domain": domain, "reason": reason}], "status": rpc_status}});
    (status, axum::Json(body)).into_response()
}

fn bad(message: &str) -> Response {
    // G6: 400 `invalidArgument`, status `INVALID_ARGUMENT` (3P).
    error(StatusCode::BAD_REQUEST, "invalidArgument", "global", message, "INVALID_ARGUMENT")
}

/// G6: 401 `authError` at `Authorization`; 403 `insufficientPermissions` with the
/// `ACCESS_TOKEN_SCOPE_INSUFFICIENT` detail (3P live bodies). NA: the token may also come as
/// the `access_token` query parameter.
fn authorize(sim: &Sim, headers: &HeaderMap, query: Option<&str>, needed: &[&str]) -> Result<Access, Response> {
    let from_header =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_owned);
    let from_query = Params::parse(query.unwrap_or("")).ok().and_then(|p| p.get("access_token").map(str::to_owned));
    let Some(access) = from_header.or(from_query).and_then(|t| sim.oauth.access(t.trim())) else {
        let message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
        let body = json!({"error": {"code": 401, "message": message, "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"}], "status": "UNAUTHENTICATED"}});
        return Err((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"https://accounts.google.com/\"")],
            axum::Json(body),
        )
            .into_response());
    };
    if !crate::scopes::any_of(&access.scopes, needed) {
        let message = "Request had insufficient authentication scopes.";
        let body = json!({"error": {"code": 403, "message": message, "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}], "status": "PERMISSION_DENIED",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com", "metadata": {"service": "gmail.googleapis.com"}}]}});
        return Err((StatusCode::FORBIDDEN, axum::Json(body)).into_response());
    }
    Ok(access)
}

/// G1: `userId` is the address or `me`; another user is refused (3P "Delegation denied").
fn check_user(sim: &Sim, user: &str) -> Result<(), Response> {
    if user == "me" || user.eq_ignore_ascii_case(&sim.config.user.address) {
        Ok(())
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "global",
            &format!("Delegation denied for {}", sim.config.user.address),
            "PERMISSION_DENIED",
        ))
    }
}

/// G2 Sim: base64url with or without `=`; other characters (`+`, `/`) → 400.
fn decode_raw(raw: &str) -> Option<Vec<u8>> {
    if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=') {
        return None;
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).ok()
}

fn gmail_id() -> String {
    format!("{:016x}", rand::random::<u64>() >> 4 | 0x1000_0000_0000_0000)
}

/// `POST /gmail/v1/users/{userId}/messages/send` (G1–G5).
pub async fn send(
    State(sim): State<Arc<Sim>>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&sim, &headers, q.as_deref(), &SEND).and_then(|_| check_user(&sim, &user)) {
        return r;
    }
    // G1: the metadata URL takes a JSON `Message`; media goes to `/upload/…` (not simulated).
    if media_type(&headers).as_deref() != Some("application/json") {
        return error(
            StatusCode::BAD_REQUEST,
            "badRequest",
            "global",
            "The metadata URL takes a JSON Message; upload media through /upload/gmail/v1/.",
            "INVALID_ARGUMENT",
        );
    }
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) else { return bad("Invalid JSON payload received.") };
    if let Some(k) = m.keys().find(|k| !["raw", "threadId"].contains(&k.as_str())) {
        // SIM (strict): only `raw` and `threadId` mean anything to `send` (DISC).
        return bad(&format!("Invalid JSON payload received. Unknown name \"{k}\": Cannot find field."));
    }
    // G2: `raw` is required (the message text is UNCONFIRMED, 3P).
    let Some(raw) = m.get("raw").and_then(Value::as_str).filter(|r| !r.is_empty()) else {
        return bad("'raw' RFC822 payload message string or uploading message via /upload/* URL required");
    };
    let Some(mut mime) = decode_raw(raw) else { return bad("Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed.") };
    let recipients = mime::recipients(&mime);
    if recipients.is_empty() {
        return bad("Recipient address required"); // G6 (3P)
    }
    if recipients.len() > 100 {
        return bad("Too many recipients: at most 100 per message through the Gmail API.");
        // W1; error shape UNCONFIRMED
    }
    let thread_id = match m.get("threadId").and_then(Value::as_str) {
        Some(t) if sim.store.folder(Folder::SentItems).iter().any(|x| x.thread_id == t) => Some(t.to_owned()),
        Some(_) => return error(StatusCode::NOT_FOUND, "notFound", "global", "Requested entity was not found.", "NOT_FOUND"),
        None => None,
    };
    if let Err(wait) = sim.store.admit_send() {
        // G6 live quota bodies: 429, "User-rate limit exceeded.  Retry after <ISO>" (two
        // spaces), no `Retry-After` header (its presence is UNCONFIRMED).
        let at = time::OffsetDateTime::now_utc() + wait;
        let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        let message = format!("User-rate limit exceeded.  Retry after {}", at.format(&f).unwrap_or_default());
        return error(StatusCode::TOO_MANY_REQUESTS, "rateLimitExceeded", "usageLimits", &message, "RESOURCE_EXHAUSTED");
    }
    // G5 (3P): the API files its own Message-ID `<CA…@mail.gmail.com>` (switch "keep"), sends
    // from the account address whatever `From` says, and adds a `Received … HTTPREST` line.
    let address = &sim.config.user.address;
    let from_ok = mime::header(&mime, "From").is_some_and(|f| mime::addresses(&f).iter().any(|a| a.eq_ignore_ascii_case(address)));
    if !from_ok {
        mime = mime::set_header(&mime, "From", &format!("\"{}\" <{address}>", sim.config.user.display_name));
    }
    if mime::header(&mime, "Date").is_none() {
        mime = mime::prepend_header(&mime, "Date", &mime::date(time::OffsetDateTime::now_utc()));
    }
    let kept = mime::header(&mime, "Message-ID").filter(|id| mime::valid_message_id(id));
    let internet_message_id = match (sim.config.message_id, kept) {
        (MessageIdPolicy::Keep, Some(id)) => id,
        _ => {
            let id = format!("<CA{}@mail.gmail.com>", random_token(33).replace(['-', '_'], "x"));
            mime = mime::set_header(&mime, "Message-ID", &id);
            id
        }
    };
    let received =
        format!("from 918273645012 named unknown by gmailapi.google.com with HTTPREST; {}", mime::date(time::OffsetDateTime::now_utc()));
    mime = mime::prepend_header(&mime, "Received", &received);
    let to_self = recipients.iter().any(|r| r.eq_ignore_ascii_case(address));
    let mut message = Message::draft(internet_message_id, mime, recipients);
    message.immutable_id = gmail_id();
    message.thread_id = thread_id.unwrap_or_else(|| message.immutable_id.clone());
    // G4 (3P): `labelIds` `["SENT"]`, plus `INBOX`, `UNREAD` when sent to oneself.
    message.labels = if to_self { vec!["UNREAD".into(), "SENT".into(), "INBOX".into()] } else { vec!["SENT".into()] };
    let answer = json!({"id": message.immutable_id, "threadId": message.thread_id, "labelIds": message.labels});
    // ERR: "You can't assume that a 200 response means the email was successfully sent".
    if !Controls::take(&sim.controls.fail_sends) {
        sim.store.file_sent(message, Via::GmailApi);
    }
    axum::Json(answer).into_response()
}

/// L2: the `q` operators simulated: `rfc822msgid:` (with or without `<>`) and `in:sent`. SIM:
/// any other search term is refused rather than silently ignored.
fn matches_q(q: &str, m: &Message) -> Result<bool, String> {
    let mut ok = true;
    for term in q.split_whitespace() {
        if let Some(id) = term.strip_prefix("rfc822msgid:") {
            let bare = |s: &str| s.trim_start_matches('<').trim_end_matches('>').to_owned();
            // L5 Sim: indexed by the stored Message-ID only.
            ok &= bare(id) == bare(&m.internet_message_id);
        } else if term.eq_ignore_ascii_case("in:sent") || term.eq_ignore_ascii_case("label:sent") {
            ok &= m.labels.iter().any(|l| l == "SENT");
        } else {
            return Err(format!("The search term '{term}' is not simulated."));
        }
    }
    Ok(ok)
}

/// `GET /gmail/v1/users/{userId}/messages` (L1).
pub async fn list(State(sim): State<Arc<Sim>>, Path(user): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let access = match authorize(&sim, &headers, q.as_deref(), &LIST).and_then(|a| check_user(&sim, &user).map(|_| a)) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(p) = Params::parse_documented(
        q.as_deref().unwrap_or(""),
        &["q", "labelIds", "includeSpamTrash", "maxResults", "pageToken", "access_token"],
    ) else {
        return bad("Unknown or repeated query parameter.");
    };
    let only_metadata = !crate::scopes::any_of(&access.scopes, &[LIST[0], LIST[2], LIST[3]]);
    if only_metadata && p.has("q") {
        // L1: `q` "cannot be used when accessing the api using the gmail.metadata scope".
        return error(StatusCode::FORBIDDEN, "forbidden", "global", "Metadata scope does not support 'q' parameter", "PERMISSION_DENIED");
    }
    let mut found = Vec::new();
    for m in sim.store.folder(Folder::SentItems) {
        match matches_q(p.get("q").unwrap_or(""), &m) {
            Ok(true) => found.push(json!({"id": m.immutable_id, "threadId": m.thread_id})),
            Ok(false) => {}
            Err(e) => return bad(&e),
        }
    }
    found.reverse(); // newest first
                     // L1: empty result → `{"resultSizeEstimate":0}` without `messages` (3P).
    let mut v = json!({"resultSizeEstimate": found.len()});
    if !found.is_empty() {
        v["messages"] = Value::Array(found);
    }
    axum::Json(v).into_response()
}

/// `GET /gmail/v1/users/{userId}/messages/{id}` (L3): `format` minimal | full | raw | metadata.
pub async fn get(
    State(sim): State<Arc<Sim>>,
    Path((user, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let access = match authorize(&sim, &headers, q.as_deref(), &GET).and_then(|a| check_user(&sim, &user).map(|_| a)) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let query = q.as_deref().unwrap_or("");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !["format", "metadataHeaders", "access_token"].contains(&k.as_str())) {
        return bad(&format!("Unknown query parameter '{k}'."));
    }
    let format = pairs.iter().find(|(k, _)| k == "format").map(|(_, v)| v.as_str()).unwrap_or("full");
    let metadata_only = access.scopes.iter().all(|s| s == &format!("{G}gmail.metadata") || !GET.contains(&s.as_str()));
    if metadata_only && matches!(format, "full" | "raw") {
        // L3: `full`/`raw` "cannot be used … using the gmail.metadata scope".
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "global",
            &format!("Metadata scope doesn't allow format {}", format.to_ascii_uppercase()),
            "PERMISSION_DENIED",
        );
    }
    let Some(m) = sim.store.get(&id).filter(|m| !m.thread_id.is_empty()) else {
        return error(StatusCode::NOT_FOUND, "notFound", "global", "Requested entity was not found.", "NOT_FOUND");
    };
    let mut v = json!({"id": m.immutable_id, "threadId": m.thread_id, "labelIds": m.labels, "sizeEstimate": m.mime.len(),
        "internalDate": m.sent_at.map(|t| (t.unix_timestamp_nanos() / 1_000_000).to_string())});
    let wanted: Vec<&str> = pairs.iter().filter(|(k, _)| k == "metadataHeaders").map(|(_, v)| v.as_str()).collect();
    let headers_json = |all: bool| -> Value {
        mime::all_headers(&m.mime)
            .into_iter()
            .filter(|(n, _)| all || wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(n)))
            .map(|(n, val)| json!({"name": n, "value": val}))
            .collect()
    };
    match format {
        "minimal" => {}
        "metadata" => v["payload"] = json!({"headers": headers_json(false)}),
        "raw" => v["raw"] = json!(base64::engine::general_purpose::URL_SAFE.encode(&m.mime)),
        "full" => {
            let body = mime::body(&m.mime);
            let ct = mime::header(&m.mime, "Content-Type").unwrap_or_else(|| "text/plain".into());
            v["payload"] = json!({"mimeType": ct.split(';').next().unwrap_or("text/plain").trim(), "headers": headers_json(true),
                "body": {"size": body.len(), "data": base64::engine::general_purpose::URL_SAFE.encode(body)}});
        }
        other => return bad(&format!("Invalid value at 'format' ({other})")),
    }
    axum::Json(v).into_response()
}

/// `GET /gmail/v1/users/{userId}/profile` (I3).
pub async fn profile(State(sim): State<Arc<Sim>>, Path(user): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&sim, &headers, q.as_deref(), &PROFILE).and_then(|_| check_user(&sim, &user)) {
        return r;
    }
    let n = sim.store.count();
    axum::Json(json!({"emailAddress": sim.config.user.address, "messagesTotal": n, "threadsTotal": n, "historyId": (1000 + n).to_string()}))
        .into_response()
}
