//! The Graph mail calls (microsoft.md §3.2–3.6): `sendMail` (JSON or base64 MIME), creating a
//! draft, sending it, reading it back by id (regular or immutable), its MIME, and looking up
//! Sent Items by `internetMessageId`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::graph::{authorize, error, throttled, MAIL_READ, MAIL_READ_BASIC, MAIL_SEND, MAIL_WRITE};
use crate::graph_json::{from_base64_mime, from_json_message, to_json, Described};
use crate::mailstore::{Folder, Message, SendRefusal};
use crate::params::{media_type, Params};
use crate::state::{lock, Controls};
use crate::{Sim, Via};

/// [IMM]: `Prefer: IdType="ImmutableId"` applies to the request that carries it.
fn wants_immutable(headers: &HeaderMap) -> bool {
    headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).any(|v| v.split(',').any(|p| p.trim() == "IdType=\"ImmutableId\""))
}

fn with_preference(mut r: Response, immutable: bool) -> Response {
    if immutable {
        // The `Preference-Applied` echo is documented for the body-content-type preference
        // ([MG]); echoing this one too is INF.
        r.headers_mut().insert("preference-applied", HeaderValue::from_static("IdType=\"ImmutableId\""));
    }
    r
}

/// The body, as JSON or MIME by `Content-Type` ([SM] "Headers": `application/json` for JSON,
/// `text/plain` for MIME). Others: 415 ([ERR] status; code SIM).
fn describe(sim: &Sim, headers: &HeaderMap, body: &[u8], wrapped: bool) -> Result<(Described, bool), Response> {
    match media_type(headers).as_deref() {
        Some("application/json") => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| error(StatusCode::BAD_REQUEST, "RequestBodyRead", &format!("Invalid JSON: {e}")))?;
            if !wrapped {
                return Ok((from_json_message(sim, &v)?, true));
            }
            // [SM] JSON: `{"message":{…},"saveToSentItems":bool}`; `message` required.
            let obj = v.as_object().ok_or_else(|| error(StatusCode::BAD_REQUEST, "RequestBodyRead", "The body must be a JSON object."))?;
            if let Some(k) = obj.keys().find(|k| *k != "message" && *k != "saveToSentItems") {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "RequestBodyRead",
                    &format!("The parameter '{k}' in the request payload is not a valid parameter for the operation 'sendMail'."),
                ));
            }
            let message = obj
                .get("message")
                .ok_or_else(|| error(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The value of the parameter 'Message' is empty."))?;
            // [SM]: a boolean; the doc's own string `"false"` is refused (microsoft.md §3.2 SIM).
            let save = match obj.get("saveToSentItems") {
                None => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "RequestBodyRead",
                        "Cannot convert the literal to the expected type 'Edm.Boolean' for 'saveToSentItems'.",
                    ))
                }
            };
            Ok((from_json_message(sim, message)?, save))
        }
        // [SM] "This method saves the message in the Sent Items folder" for MIME.
        Some("text/plain") => Ok((from_base64_mime(sim, body)?, true)),
        other => Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalidRequest",
            &format!("Unsupported Content-Type '{}': use application/json or text/plain (base64 MIME).", other.unwrap_or("")),
        )),
    }
}

fn send_delay(sim: &Sim) -> std::time::Duration {
    *lock(&sim.controls.sent_copy_delay)
}

/// `POST /v1.0/me/sendMail` → 202, empty body ([SM]). [TK]: step 1 makes a draft; it moves to
/// Sent Items after transport takes it.
pub async fn send_mail(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorize(&sim, &headers, &MAIL_SEND) {
        return r;
    }
    let (described, save) = match describe(&sim, &headers, &body, true) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Err(wait) = sim.store.admit_send() {
        return throttled(wait);
    }
    let id = sim.store.insert(Message::draft(described.internet_message_id, described.mime, described.recipients));
    let fail = Controls::take(&sim.controls.fail_sends);
    let _ = sim.store.submit(&id, send_delay(&sim), fail, save, Via::GraphSendMail);
    StatusCode::ACCEPTED.into_response()
}

/// `POST /v1.0/me/messages` → 201 with the draft ([PM]).
pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorize(&sim, &headers, &MAIL_WRITE) {
        return r;
    }
    let described = match describe(&sim, &headers, &body, false) {
        Ok((d, _)) => d,
        Err(r) => return r,
    };
    let id = sim.store.insert(Message::draft(described.internet_message_id, described.mime, described.recipients));
    let Some(m) = sim.store.get(&id) else { return not_found() };
    let immutable = wants_immutable(&headers);
    let mut v = to_json(&sim, &m, immutable, true);
    v["@odata.context"] = json!("https://graph.microsoft.com/v1.0/$metadata#users('me')/messages/$entity");
    with_preference((StatusCode::CREATED, axum::Json(v)).into_response(), immutable)
}

/// SIM code (microsoft.md §3.0): 404 `ErrorItemNotFound`.
fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "ErrorItemNotFound", "The specified object was not found in the store.")
}

/// `POST /v1.0/me/messages/{id}/send` → 202 ([MS]); "`Content-Length` | 0. Required."
pub async fn send_draft(State(sim): State<Arc<Sim>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorize(&sim, &headers, &MAIL_SEND) {
        return r;
    }
    match headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) {
        // 411 is INF from [ERR].
        None => return error(StatusCode::LENGTH_REQUIRED, "invalidRequest", "Length Required: send Content-Length: 0."),
        Some("0") if body.is_empty() => {}
        Some(_) => return error(StatusCode::BAD_REQUEST, "invalidRequest", "This action takes no request body (Content-Length: 0)."),
    }
    let Some(m) = sim.store.get(&id) else { return not_found() };
    if !m.is_draft() {
        // microsoft.md §3.4 SIM: a non-draft → 400 (code UNCONFIRMED).
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidOperation", "The item has already been sent and is not a draft.");
    }
    if m.recipients.is_empty() {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRecipients", "At least one recipient isn't valid.");
    }
    if let Err(wait) = sim.store.admit_send() {
        return throttled(wait);
    }
    if m.submitted() {
        sim.store.resubmit_copy(&id, send_delay(&sim), Via::GraphDraftSend);
        return StatusCode::ACCEPTED.into_response();
    }
    let fail = Controls::take(&sim.controls.fail_sends);
    match sim.store.submit(&id, send_delay(&sim), fail, true, Via::GraphDraftSend) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(SendRefusal::NotFound) => not_found(),
        Err(SendRefusal::NotADraft) => error(StatusCode::BAD_REQUEST, "ErrorInvalidOperation", "The item is not a draft."),
    }
}

/// `$select` only (SIM: other query options are not simulated and are refused).
fn select(query: Option<&str>, allowed: &[&str]) -> Result<Params, Response> {
    let p = Params::parse(query.unwrap_or("")).map_err(|e| error(StatusCode::BAD_REQUEST, "BadRequest", &format!("{e:?}")))?;
    if let Some(n) = p.undocumented(allowed) {
        return Err(error(StatusCode::BAD_REQUEST, "BadRequest", &format!("Query option '{n}' is not supported by this simulator.")));
    }
    Ok(p)
}

fn apply_select(m: &Message, mut v: Value, select: Option<&str>) -> Value {
    let Some(fields) = select else { return v };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let mut out = serde_json::Map::new();
    out.insert("id".into(), v["id"].take());
    for f in &wanted {
        if *f == "id" {
            // Always returned (above); selecting it again must not replace it with nothing.
            continue;
        }
        if *f == "internetMessageHeaders" {
            // [MR]: returned only with `$select=internetMessageHeaders`.
            let hs: Vec<Value> = crate::mime::all_headers(&m.mime).into_iter().map(|(n, val)| json!({"name": n, "value": val})).collect();
            out.insert("internetMessageHeaders".into(), Value::Array(hs));
        } else if let Some(x) = v.get_mut(*f) {
            out.insert((*f).to_owned(), x.take());
        }
    }
    Value::Object(out)
}

/// `GET /v1.0/me/messages/{id}` ([MG]); the body only with more than `Mail.ReadBasic`.
pub async fn get(State(sim): State<Arc<Sim>>, Path(id): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let access = match authorize(&sim, &headers, &MAIL_READ_BASIC) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let p = match select(q.as_deref(), &["$select"]) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(m) = sim.store.get(&id) else { return not_found() };
    let immutable = wants_immutable(&headers);
    let v = to_json(&sim, &m, immutable, crate::scopes::any_of(&access.scopes, &MAIL_READ));
    let v = apply_select(&m, v, p.get("$select"));
    with_preference(axum::Json(v).into_response(), immutable)
}

/// `GET /v1.0/me/messages/{id}/$value`: the MIME ([MG] Ex. 2, 4).
pub async fn get_mime(State(sim): State<Arc<Sim>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&sim, &headers, &MAIL_READ) {
        return r;
    }
    match sim.store.get(&id) {
        Some(m) => ([(header::CONTENT_TYPE, "text/plain")], m.mime).into_response(),
        None => not_found(),
    }
}

/// `internetMessageId eq '<…>'` with `''` for a quote ([QP] "Escaping single quotes").
fn parse_filter(f: &str) -> Option<String> {
    let (prop, rest) = f.trim().split_once(' ')?;
    let literal = rest.trim_start().strip_prefix("eq")?.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    if !prop.eq_ignore_ascii_case("internetMessageId") || literal.replace("''", "").contains('\'') {
        return None;
    }
    Some(literal.replace("''", "'"))
}

/// `GET /v1.0/me/mailFolders/{folder}/messages` ([FLM], [LM]): well-known names ([MF]),
/// `$filter=internetMessageId eq '<…>'` (exact, case-sensitive: microsoft.md §3.6 SIM), `$top`
/// (1–1000, default 10) with `@odata.nextLink`.
pub async fn folder_messages(
    State(sim): State<Arc<Sim>>,
    Path(folder): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize(&sim, &headers, &MAIL_READ_BASIC) {
        return r;
    }
    let p = match select(q.as_deref(), &["$filter", "$select", "$top", "$skip"]) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let store_folder = match folder.to_ascii_lowercase().as_str() {
        "sentitems" => Some(Folder::SentItems),
        "drafts" => Some(Folder::Drafts),
        "inbox" | "deleteditems" | "outbox" | "archive" | "junkemail" => None,
        _ => return not_found(),
    };
    let top: usize = match p.get("$top").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid $top value: 1 to 1000."),
    };
    let skip: usize = p.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let wanted = match p.get("$filter") {
        None => None,
        Some(f) => match parse_filter(f) {
            Some(id) => Some(id),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "Invalid filter clause: only internetMessageId eq '<id>' is simulated.",
                )
            }
        },
    };
    let all: Vec<Message> = store_folder
        .map(|f| sim.store.folder(f))
        .unwrap_or_default()
        .into_iter()
        .filter(|m| wanted.as_ref().is_none_or(|w| *w == m.internet_message_id))
        .collect();
    let immutable = wants_immutable(&headers);
    let page: Vec<Value> =
        all.iter().skip(skip).take(top).map(|m| apply_select(m, to_json(&sim, m, immutable, false), p.get("$select"))).collect();
    let mut v = json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/mailFolders('sentitems')/messages", "value": page });
    if all.len() > skip + top {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for k in ["$filter", "$select"] {
            if let Some(val) = p.get(k) {
                next.append_pair(k, val);
            }
        }
        next.append_pair("$top", &top.to_string()).append_pair("$skip", &(skip + top).to_string());
        v["@odata.nextLink"] = json!(format!("{}/v1.0/me/mailFolders/{folder}/messages?{}", sim.base_url, next.finish()));
    }
    with_preference(axum::Json(v).into_response(), immutable)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::parse_filter;

    #[test]
    fn filter_literals_unescape_doubled_quotes() {
        assert_eq!(parse_filter("internetMessageId eq '<a@b>'").as_deref(), Some("<a@b>"));
        assert_eq!(parse_filter("internetMessageId eq '<it''s@b>'").as_deref(), Some("<it's@b>"));
        assert_eq!(parse_filter("internetMessageId eq '<it's@b>'"), None);
        assert_eq!(parse_filter("subject eq 'x'"), None);
        assert_eq!(parse_filter("internetMessageId ne '<a@b>'"), None);
    }
}
