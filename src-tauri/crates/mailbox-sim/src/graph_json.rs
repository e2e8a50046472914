//! Graph's two ways of describing a message (microsoft.md §3.2–3.3): a JSON `message` resource
//! ([MR]), turned into the MIME Exchange would store, or base64 MIME in a `text/plain` body
//! ([MIME]); and the JSON shape a stored message is shown in ([PM], [MG]).

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::graph::error;
use crate::mailstore::{Folder, Message};
use crate::state::{random_token, rfc3339};
use crate::{mime, MessageIdPolicy, Sim};

/// [MR]: the `message` properties a client may set when creating or sending (attachments are
/// not simulated and are refused as unknown).
const WRITABLE: [&str; 14] = [
    "subject",
    "body",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "from",
    "sender",
    "importance",
    "internetMessageId",
    "internetMessageHeaders",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "categories",
];

/// [MR]: max 500 recipients (To+Cc+Bcc) per message.
const MAX_RECIPIENTS: usize = 500;

/// A message the client described, ready to store.
pub struct Described {
    pub mime: Vec<u8>,
    pub internet_message_id: String,
    pub recipients: Vec<String>,
}

/// A Message-ID as Exchange Online makes them ([PM] examples: `<MWHPR1301MB…@…prod.outlook.com>`).
pub fn exchange_message_id() -> String {
    let host = format!("AM{}PR0{}MB{}", rand::random::<u8>() % 9 + 1, rand::random::<u8>() % 9 + 1, 1000 + rand::random::<u16>() % 9000);
    let local: String = random_token(24).chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    format!("<{host}{local}@{host}.eurprd04.prod.outlook.com>")
}

/// The SIM policy on supplied Message-IDs (microsoft.md §3.8: `keep | replace`, default keep);
/// a missing one is made, with a `Date` if that is missing too (§3.2 SIM).
pub fn apply_policy(sim: &Sim, raw: Vec<u8>) -> (Vec<u8>, String) {
    let given = mime::header(&raw, "Message-ID");
    let mut raw = raw;
    if mime::header(&raw, "Date").is_none() {
        raw = mime::prepend_header(&raw, "Date", &mime::date(time::OffsetDateTime::now_utc()));
    }
    match (sim.config.message_id, given) {
        (MessageIdPolicy::Keep, Some(id)) => (raw, id),
        (_, _) => {
            let id = exchange_message_id();
            (mime::set_header(&raw, "Message-ID", &id), id)
        }
    }
}

/// The `text/plain` body of a MIME send: base64 of the whole message ([SM] "MIME"), invalid
/// → 400 `ErrorMimeContentInvalidBase64String` ([SM] Example 4, [PM]).
pub fn from_base64_mime(sim: &Sim, body: &[u8]) -> Result<Described, Response> {
    let text: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if text.is_empty() {
        // [MIME] "Error conditions": missing or empty MIME → 400 (code UNCONFIRMED).
        return Err(error(StatusCode::BAD_REQUEST, "ErrorMimeContentInvalid", "The MIME content is empty."));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."))?;
    let recipients = mime::recipients(&raw);
    check_recipients(recipients.len())?;
    let (mime, internet_message_id) = apply_policy(sim, raw);
    Ok(Described { mime, internet_message_id, recipients })
}

fn check_recipients(n: usize) -> Result<(), Response> {
    // Neither error code is documented (UNCONFIRMED); the Exchange names are used.
    if n == 0 {
        return Err(error(StatusCode::BAD_REQUEST, "ErrorInvalidRecipients", "At least one recipient isn't valid."));
    }
    if n > MAX_RECIPIENTS {
        return Err(error(StatusCode::BAD_REQUEST, "ErrorTooManyRecipients", "The message has too many recipients (at most 500)."));
    }
    Ok(())
}

fn body_read(message: &str) -> Response {
    // A property Graph does not know (3P `RequestBodyRead`; UNCONFIRMED).
    error(StatusCode::BAD_REQUEST, "RequestBodyRead", message)
}

fn recipients(m: &Map<String, Value>, key: &str) -> Result<Vec<String>, Response> {
    let Some(v) = m.get(key) else { return Ok(Vec::new()) };
    let list = v.as_array().ok_or_else(|| body_read(&format!("'{key}' must be a collection of recipients.")))?;
    list.iter()
        .map(|r| {
            r.pointer("/emailAddress/address")
                .and_then(Value::as_str)
                .filter(|a| a.contains('@'))
                .map(str::to_owned)
                .ok_or_else(|| error(StatusCode::BAD_REQUEST, "ErrorInvalidRecipients", "At least one recipient isn't valid."))
        })
        .collect()
}

/// A JSON `message` resource → stored MIME.
pub fn from_json_message(sim: &Sim, v: &Value) -> Result<Described, Response> {
    let m = v.as_object().ok_or_else(|| body_read("The message must be a JSON object."))?;
    if let Some(k) = m.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(body_read(&format!("The property '{k}' does not exist on type 'microsoft.graph.message'.")));
    }
    let (to, cc, bcc) = (recipients(m, "toRecipients")?, recipients(m, "ccRecipients")?, recipients(m, "bccRecipients")?);
    check_recipients(to.len() + cc.len() + bcc.len())?;
    let mut extra = Vec::new();
    for h in m.get("internetMessageHeaders").and_then(Value::as_array).into_iter().flatten() {
        let (Some(name), Some(value)) = (h.get("name").and_then(Value::as_str), h.get("value").and_then(Value::as_str)) else {
            return Err(body_read("internetMessageHeaders entries need 'name' and 'value'."));
        };
        // [MR]: custom headers must be named "starting with x-" (code UNCONFIRMED).
        if !name.to_ascii_lowercase().starts_with("x-") {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidInternetMessageHeader",
                &format!("The internet message header name '{name}' should start with 'x-' or 'X-'."),
            ));
        }
        extra.push((name.to_owned(), value.to_owned()));
    }
    let given = m.get("internetMessageId").and_then(Value::as_str);
    if given.is_some_and(|g| !mime::valid_message_id(g)) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidInternetMessageId",
            "The internetMessageId is not a valid RFC 2822 message ID.",
        ));
    }
    let internet_message_id = match (sim.config.message_id, given) {
        (MessageIdPolicy::Keep, Some(g)) => g.to_owned(),
        _ => exchange_message_id(),
    };
    let from = format!("\"{}\" <{}>", sim.config.user.display_name, sim.config.user.address);
    let body = m.get("body");
    let html = body.and_then(|b| b.get("contentType")).and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("html"));
    let content = body.and_then(|b| b.get("content")).and_then(Value::as_str).unwrap_or("");
    let mime = mime::build(&mime::Outgoing {
        from: &from,
        to: &to,
        cc: &cc,
        bcc: &bcc,
        subject: m.get("subject").and_then(Value::as_str).unwrap_or(""),
        html,
        body: content,
        message_id: &internet_message_id,
        extra: &extra,
    });
    Ok(Described { mime, internet_message_id, recipients: to.into_iter().chain(cc).chain(bcc).collect() })
}

/// Well-known folder ids as the simulator spells them.
pub fn folder_id(f: Folder) -> &'static str {
    match f {
        Folder::Drafts => "AQMkADAwATM0MDAAMS1iNWVmLTYwMDIALTAwCgAuAAADDraftsAAAA",
        Folder::SentItems => "AQMkADAwATM0MDAAMS1iNWVmLTYwMDIALTAwCgAuAAADSentItemsAA",
    }
}

fn recipient_list(raw: &[u8], header: &str) -> Value {
    let list: Vec<Value> = mime::header(raw, header)
        .map(|v| mime::addresses(&v))
        .unwrap_or_default()
        .into_iter()
        .map(|a| json!({"emailAddress": {"name": a, "address": a}}))
        .collect();
    Value::Array(list)
}

/// The message resource ([PM] 201 body, [MG]): `id` is the immutable one when asked for.
pub fn to_json(sim: &Sim, m: &Message, immutable: bool, with_body: bool) -> Value {
    let id = if immutable { m.immutable_id.clone() } else { m.regular_id() };
    let text = String::from_utf8_lossy(mime::body(&m.mime)).into_owned();
    let html = mime::header(&m.mime, "Content-Type").is_some_and(|c| c.to_ascii_lowercase().starts_with("text/html"));
    let me = json!({"emailAddress": {"name": sim.config.user.display_name, "address": sim.config.user.address}});
    let mut v = json!({
        "id": id,
        "createdDateTime": rfc3339(m.created),
        "lastModifiedDateTime": rfc3339(m.sent_at.unwrap_or(m.created)),
        "sentDateTime": m.sent_at.map(rfc3339),
        "hasAttachments": false,
        "internetMessageId": m.internet_message_id,
        "subject": mime::header(&m.mime, "Subject").unwrap_or_default(),
        "importance": "normal",
        "parentFolderId": folder_id(m.folder),
        "conversationId": format!("AAQkAD{}", &m.immutable_id[m.immutable_id.len().saturating_sub(20)..]),
        "isRead": true,
        "isDraft": m.is_draft(),
        "webLink": format!("https://outlook.office365.com/owa/?ItemID={}&exvsurl=1&viewmodel=ReadMessageItem", m.immutable_id),
        "sender": me,
        "from": me,
        "toRecipients": recipient_list(&m.mime, "To"),
        "ccRecipients": recipient_list(&m.mime, "Cc"),
        "bccRecipients": recipient_list(&m.mime, "Bcc"),
        "replyTo": [],
    });
    if with_body {
        v["bodyPreview"] = json!(text.chars().take(255).collect::<String>());
        v["body"] = json!({"contentType": if html { "html" } else { "text" }, "content": text});
    }
    v
}
