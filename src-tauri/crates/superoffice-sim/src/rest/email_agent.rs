//! The EMail agent (`POST /{ctx}/api/v1/Agents/EMail/{op}`), "Online Restricted": granted per
//! app registration (`docs/en/api/reference/restful/agent/EMail_Agent/v1EMailAgent_Send.md` and
//! its siblings). `GetCurrentAccount` / `GetCurrentAccountId` give the rep's SuperOffice Inbox
//! account; `Send` builds each message (see `mime.rs`) and hands it to the rep's outgoing mail
//! server, played by the simulator's [`crate::Mailbox`].
//!
//! The Send page documents the EMailEntity fields and nothing about validation, errors,
//! `AccountId` 0 or `IsSent`. What the simulator does, strictly:
//! - 400 `SoArgumentException` (nothing is sent) when a `Subject`, a recipient's `Address` or
//!   `Name`, or a `CustomHeaderList` entry contains CR, LF or NUL: such text cannot be put in a
//!   header, so it never reaches a mail server; when `To`/`Cc`/`Bcc` items are not EMailAddress
//!   objects (the documented type) or have no address; when there is no recipient; when
//!   `AccountId` is not the caller's account (`GetCurrentAccount`'s `EMailAccountId`) — also
//!   when it is 0 or absent, because which account the agent would use then is not
//!   documented; when `From` names another address than the account's ("send as" is not
//!   documented). `Attachments` are not simulated (501).
//! - `"HTMLBody": ""` beside a `PlainBody` is accepted and noted on the record
//!   (`AgentEmail::empty_html_body`).
//! - The mail server's answer, modelled (no SuperOffice page describes it): a body line longer
//!   than 998 octets (RFC 5322 §2.1.1) is refused by the server; the agent answers HTTP 500
//!   `{"ErrorType": "SmtpCommandException", "ErrorMessage": "5.5.2 Line too long", …}` and
//!   nothing was sent. SuperOffice sends with MailKit (`docs/api/config/mail.md`), whose
//!   `SmtpClient.Send` throws `SmtpCommandException` when the server answers with an error
//!   code and `SmtpProtocolException`/`IOException` on connection trouble
//!   (mimekit.net/docs, `M_MailKit_Net_Smtp_SmtpClient_Send_1`). Note that MailKit normally
//!   re-encodes long lines before sending (`MimeMessage.Prepare`, MailKit issue #891), so this
//!   refusal is a conservative model, not an observed behaviour. A pending relay fault plays
//!   too: `RejectRcpt` → 500 `SmtpCommandException` with the server's reply (not sent);
//!   `DropAfterData` → the server kept the message but the connection dropped → 500
//!   `SmtpProtocolException` (outcome unknown to the client).
//! - Emails are sent one by one; a 500 on one leaves the earlier ones sent.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::mime;
use super::{json_body, now_local, so_error, Caller, S};
use crate::data::{AgentEmail, Tenant};
use crate::{lock, RelayFault};

/// The rep's Inbox account id (one account per associate in the simulator).
fn account_id(associate_id: i64) -> i64 {
    associate_id + 100
}

/// The caller's SuperOffice Inbox account: only the rep's, and only when the profile says so.
/// Its address is the rep's first email (a documented requirement for sending).
fn current_account(t: &Tenant, me: Caller) -> Option<Value> {
    if me.system || me.associate_id != t.rep_associate_id || !t.profile.rep.inbox_account {
        return None;
    }
    let rep = t.rep();
    Some(json!({
        "EMailAccountId": account_id(rep.id), "EMailAddress": rep.email, "AssociateId": rep.id,
        "IncomingCredentials": null, "OutgoingCredentials": null,
        "AccountStatus": 1, "ErrorCount": 0, "ErrorReason": "", "InboxFolder": "INBOX", "SentFolder": "Sent",
        "SimpleMode": 0, "LastFetch": now_local(),
    }))
}

/// `POST Agents/EMail/{op}`.
pub async fn email(State(sim): State<S>, me: Caller, Path((_ctx, op)): Path<(String, String)>, body: Bytes) -> Response {
    let granted = lock(&sim.tenant).profile.email_agent_granted;
    if !granted {
        // Restricted in Online: access is granted per app registration by SuperOffice.
        return so_error(
            StatusCode::UNAUTHORIZED,
            "SoAccessDeniedException",
            &format!("The EMail agent ({op}) is not available to this application"),
        );
    }
    match op.as_str() {
        "GetCurrentAccount" => {
            let t = lock(&sim.tenant).clone();
            Json(current_account(&t, me).unwrap_or(Value::Null)).into_response()
        }
        "GetCurrentAccountId" => {
            let t = lock(&sim.tenant).clone();
            Json(current_account(&t, me).map(|a| a["EMailAccountId"].clone()).unwrap_or(json!(0))).into_response()
        }
        "Send" => send(&sim, me, &body),
        _ => super::agents::not_simulated(&format!("Agents/EMail/{op}")),
    }
}

fn bad(message: &str) -> Response {
    so_error(StatusCode::BAD_REQUEST, "SoArgumentException", message)
}

/// The mail server's refusal or a broken connection, as the agent reports it.
fn smtp_error(kind: &str, message: &str) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"Error": true, "ErrorType": kind, "ErrorMessage": message, "ErrorSource": "MailKit"})))
        .into_response()
}

fn has_break(s: &str) -> bool {
    s.contains(['\r', '\n', '\0'])
}

/// One recipient list: `(name, address)` pairs of EMailAddress objects.
#[allow(clippy::result_large_err)] // the error is the answer
fn recipients(v: &Value, field: &str) -> Result<Vec<(String, String)>, Response> {
    let Some(items) = v.as_array() else {
        return if v.is_null() { Ok(Vec::new()) } else { Err(bad(&format!("{field} must be an array of EMailAddress"))) };
    };
    let mut out = Vec::new();
    for x in items {
        if !x.is_object() {
            return Err(bad(&format!("{field} items must be EMailAddress objects (with Address), not {x}")));
        }
        let address = x["Address"].as_str().unwrap_or("").trim();
        let name = x["Name"].as_str().unwrap_or("");
        if has_break(address) || has_break(name) {
            return Err(bad(&format!("A {field} recipient's Address or Name must not contain line breaks")));
        }
        if address.is_empty() || !address.contains('@') {
            return Err(bad(&format!("A {field} recipient has no valid Address")));
        }
        out.push((name.to_owned(), address.to_owned()));
    }
    Ok(out)
}

/// An email that passed the checks.
struct Outgoing {
    entity: Value,
    to: Vec<(String, String)>,
    cc: Vec<(String, String)>,
    bcc: Vec<(String, String)>,
    subject: String,
    plain: String,
    html: String,
    empty_html: bool,
    message_id: String,
}

#[allow(clippy::result_large_err)] // the error is the answer
fn check(e: &Value, account_id: i64, account_address: &str) -> Result<Outgoing, Response> {
    if !e.is_object() {
        return Err(bad("Emails must hold EMailEntity objects"));
    }
    let (to, cc, bcc) = (recipients(&e["To"], "To")?, recipients(&e["Cc"], "Cc")?, recipients(&e["Bcc"], "Bcc")?);
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(bad("An email needs at least one recipient"));
    }
    let subject = e["Subject"].as_str().unwrap_or("");
    if has_break(subject) {
        return Err(bad("Subject must not contain line breaks"));
    }
    match e["AccountId"].as_i64().unwrap_or(0) {
        0 => {
            return Err(bad(&format!(
            "AccountId is required: use GetCurrentAccount's EMailAccountId ({account_id}); what the agent does with 0 is not documented"
        )))
        }
        a if a != account_id => return Err(bad(&format!("AccountId {a} is not the current user's e-mail account"))),
        _ => {}
    }
    if let Some(from) = e["From"]["Address"].as_str().filter(|f| !f.is_empty()) {
        if !from.eq_ignore_ascii_case(account_address) {
            return Err(bad(&format!("From {from} is not the account's address; sending as another address is not documented")));
        }
    }
    for h in e["CustomHeaderList"].as_array().into_iter().flatten() {
        let name = h["Name"].as_str().unwrap_or("");
        let values = h["Values"].as_array().into_iter().flatten().filter_map(Value::as_str);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic() && c != ':') || values.into_iter().any(has_break) {
            return Err(bad("CustomHeaderList entries need a header name and values without line breaks"));
        }
    }
    if e["Attachments"].as_array().is_some_and(|a| !a.is_empty()) {
        return Err(super::agents::not_simulated("Sending attachments through the EMail agent"));
    }
    let plain = e["PlainBody"].as_str().unwrap_or("").to_owned();
    let html_raw = e["HTMLBody"].as_str();
    let message_id = match e["MessageID"].as_str().map(str::trim).filter(|s| !s.is_empty()) {
        Some(m) if has_break(m) => return Err(bad("MessageID must not contain line breaks")),
        Some(m) if m.starts_with('<') => m.to_owned(),
        Some(m) => format!("<{m}>"),
        None => format!("<{}@sim.superoffice.invalid>", crate::oidc::random_token(12)),
    };
    Ok(Outgoing {
        entity: e.clone(),
        to,
        cc,
        bcc,
        subject: subject.to_owned(),
        empty_html: html_raw == Some("") && !plain.is_empty(),
        html: html_raw.unwrap_or("").to_owned(),
        plain,
        message_id,
    })
}

fn pairs(v: &[(String, String)]) -> Vec<mime::Mailbox<'_>> {
    v.iter().map(|(n, a)| (n.as_str(), a.as_str())).collect()
}

/// The first body line longer than SMTP allows (998 octets without CRLF).
fn too_long(o: &Outgoing) -> bool {
    [&o.plain, &o.html].iter().any(|b| b.split('\n').any(|l| l.strip_suffix('\r').unwrap_or(l).len() > 998))
}

fn send(sim: &crate::Sim, me: Caller, body: &[u8]) -> Response {
    let v = match json_body(body, "a list of EMailEntity") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut t = lock(&sim.tenant);
    let Some(account) = current_account(&t, me) else {
        return bad("The current user has no SuperOffice Inbox account to send from");
    };
    let Some(emails) = v["Emails"].as_array() else {
        return bad("Emails is required");
    };
    let from = account["EMailAddress"].as_str().unwrap_or("").to_owned();
    let account = account_id(me.associate_id);
    let mut checked = Vec::new();
    for e in emails {
        match check(e, account, &from) {
            Ok(o) => checked.push(o),
            Err(r) => return r,
        }
    }
    let from_name = t.rep().full_name.clone();
    let mut answer = Vec::new();
    for o in checked {
        if too_long(&o) {
            return smtp_error("SmtpCommandException", "5.5.2 Line too long");
        }
        if let Some(RelayFault::RejectRcpt(reply)) = sim.mailbox.take_fault(|f| matches!(f, RelayFault::RejectRcpt(_))) {
            let text = reply.trim().split_once(' ').map(|(_, r)| r.to_owned()).unwrap_or(reply);
            return smtp_error("SmtpCommandException", &text);
        }
        let date = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
        let data = mime::build(&mime::Message {
            from: (&from_name, &from),
            to: pairs(&o.to),
            cc: pairs(&o.cc),
            subject: &o.subject,
            plain: &o.plain,
            html: &o.html,
            message_id: &o.message_id,
            date: &date,
        });
        let rcpt: Vec<String> = o.to.iter().chain(&o.cc).chain(&o.bcc).map(|(_, a)| a.clone()).collect();
        let mailbox_id = sim.mailbox.deliver(&from, rcpt, data, &format!("superoffice-email-agent:{account}"));
        let sent = now_local();
        let addresses = |v: &[(String, String)]| v.iter().map(|(_, a)| a.clone()).collect::<Vec<_>>();
        t.agent_emails.push(AgentEmail {
            associate_id: me.associate_id,
            account_id: account,
            from: from.clone(),
            to: addresses(&o.to),
            cc: addresses(&o.cc),
            bcc: addresses(&o.bcc),
            subject: o.subject.clone(),
            plain_body: o.plain.clone(),
            html_body: o.html.clone(),
            message_id: o.message_id.clone(),
            sent: sent.clone(),
            empty_html_body: o.empty_html,
            mailbox_id,
        });
        if sim.mailbox.take_fault(|f| *f == RelayFault::DropAfterData).is_some() {
            return smtp_error("SmtpProtocolException", "The SMTP server has unexpectedly disconnected.");
        }
        let mut out = o.entity;
        if out["From"].is_null() {
            out["From"] = json!({"Address": from, "Name": from_name, "AssociateId": me.associate_id});
        }
        out["MessageID"] = json!(o.message_id);
        out["IsSent"] = json!(true);
        out["Sent"] = json!(sent);
        answer.push(out);
    }
    Json(answer).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let ok =
            json!({"To": [{"Address": "a@b.example", "Name": "A"}], "Subject": "Hi", "PlainBody": "x", "HTMLBody": "", "AccountId": 118});
        let o = check(&ok, 118, "me@x.example").map_err(|r| r.status()).expect("ok");
        assert!(o.empty_html && o.message_id.starts_with('<'));
        for (bad_email, why) in [
            (json!({"To": [{"Address": "a@b.example"}], "Subject": "Hi\r\nBcc: x@y", "AccountId": 118}), "subject"),
            (json!({"To": [{"Address": "a@b.example", "Name": "A\nB"}], "AccountId": 118}), "name"),
            (json!({"To": ["a@b.example"], "AccountId": 118}), "string recipient"),
            (json!({"To": [{"Address": "a@b.example"}], "AccountId": 0}), "account 0"),
            (json!({"To": [{"Address": "a@b.example"}], "AccountId": 7}), "other account"),
            (json!({"To": [{"Address": "a@b.example"}], "AccountId": 118, "From": {"Address": "boss@x.example"}}), "send as"),
            (json!({"AccountId": 118}), "no recipient"),
        ] {
            assert_eq!(check(&bad_email, 118, "me@x.example").err().map(|r| r.status()), Some(StatusCode::BAD_REQUEST), "{why}");
        }
    }
}
