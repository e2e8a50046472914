//! The RESTful agents the app probes or may use, gated like SuperOffice Online gates them: the
//! EMail and CRMScript agents are "Online Restricted" (granted per app registration), the
//! Sentry and License agents report rights and licences, and shipments need the Marketing
//! User licence.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::people::{assigned_modules, function_rights, MARKETING, SALES};
use super::{json_body, now_local, so_error, Caller, S};
use crate::data::{AgentEmail, Tenant};
use crate::lock;

fn not_simulated(what: &str) -> Response {
    so_error(StatusCode::NOT_IMPLEMENTED, "SoNotImplemented", &format!("{what} is not simulated"))
}

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

/// `To`/`Cc`/`Bcc` as addresses: EMailAddress objects (`Address`) or plain strings.
fn addresses(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x["Address"].as_str().or(x.as_str()).map(str::to_owned)).collect()).unwrap_or_default()
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
        _ => not_simulated(&format!("Agents/EMail/{op}")),
    }
}

fn send(sim: &crate::Sim, me: Caller, body: &[u8]) -> Response {
    let v = match json_body(body, "a list of EMailEntity") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut t = lock(&sim.tenant);
    let Some(account) = current_account(&t, me) else {
        return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "The current user has no SuperOffice Inbox account to send from");
    };
    let Some(emails) = v["Emails"].as_array() else {
        return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "Emails is required");
    };
    let from_default = account["EMailAddress"].as_str().unwrap_or("").to_owned();
    let mut answer = Vec::new();
    for e in emails {
        let to = addresses(&e["To"]);
        let (cc, bcc) = (addresses(&e["Cc"]), addresses(&e["Bcc"]));
        if to.is_empty() && cc.is_empty() && bcc.is_empty() {
            return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "An email needs at least one recipient");
        }
        let from = e["From"]["Address"].as_str().or(e["From"].as_str()).filter(|s| !s.is_empty()).unwrap_or(&from_default).to_owned();
        let message_id = match e["MessageID"].as_str().filter(|s| !s.is_empty()) {
            Some(m) => m.to_owned(),
            None => format!("<{}@sim.superoffice.invalid>", crate::oidc::random_token(12)),
        };
        let sent = now_local();
        t.agent_emails.push(AgentEmail {
            associate_id: me.associate_id,
            account_id: account_id(me.associate_id),
            from: from.clone(),
            to,
            cc,
            bcc,
            subject: e["Subject"].as_str().unwrap_or("").to_owned(),
            plain_body: e["PlainBody"].as_str().unwrap_or("").to_owned(),
            html_body: e["HTMLBody"].as_str().unwrap_or("").to_owned(),
            message_id: message_id.clone(),
            sent: sent.clone(),
        });
        let mut out = if e.is_object() { e.clone() } else { json!({}) };
        if out["From"].is_null() {
            out["From"] = json!({"Address": from, "Name": t.rep().full_name, "AssociateId": me.associate_id});
        }
        out["MessageID"] = json!(message_id);
        out["IsSent"] = json!(true);
        out["Sent"] = json!(sent);
        out["AccountId"] = json!(account_id(me.associate_id));
        answer.push(out);
    }
    Json(answer).into_response()
}

fn crmscript_denied(what: &str) -> Response {
    so_error(
        StatusCode::FORBIDDEN,
        "SoAccessDeniedException",
        &format!("The CRMScript agent ({what}) is not available to this application"),
    )
}

/// `POST Agents/CRMScript/{op}`.
pub async fn crmscript(State(sim): State<S>, _me: Caller, Path((_ctx, op)): Path<(String, String)>, body: Bytes) -> Response {
    if !lock(&sim.tenant).profile.crmscript_granted {
        return crmscript_denied(&op);
    }
    if op != "ExecuteScriptByString" {
        return not_simulated(&format!("Agents/CRMScript/{op}"));
    }
    let v = match json_body(&body, "a script request") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let output = run_prints(v["Script"].as_str().unwrap_or(""));
    let parameters = if v["Parameters"].is_null() { json!({}) } else { v["Parameters"].clone() };
    Json(json!({
        "Output": output, "Parameters": parameters, "TraceRun": null, "Eventdata": v["EventData"].clone(),
        "Success": true, "ErrorInformation": null, "StatusCode": 0, "StatusMessage": "", "Headers": {},
    }))
    .into_response()
}

/// `POST CRMScript/{id}/Execute`.
pub async fn crmscript_rest(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, String)>) -> Response {
    if !lock(&sim.tenant).profile.crmscript_granted {
        return crmscript_denied(&format!("CRMScript/{id}/Execute"));
    }
    not_simulated("CRMScript/{id}/Execute")
}

/// The output of a script's `print("…")` and `printLine("…")` calls; nothing else runs.
fn run_prints(script: &str) -> String {
    let mut out = String::new();
    let mut rest = script;
    while let Some(pos) = rest.find("print") {
        rest = &rest[pos + "print".len()..];
        let line = rest.starts_with("Line");
        if line {
            rest = &rest["Line".len()..];
        }
        let Some(after) = rest.trim_start().strip_prefix('(').map(str::trim_start).and_then(|r| r.strip_prefix('"')) else { continue };
        let mut text = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = i + 1;
                    break;
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some(other) => text.push(other),
                    None => {}
                },
                _ => text.push(c),
            }
        }
        out.push_str(&text);
        if line {
            out.push('\n');
        }
        rest = &after[end..];
    }
    out
}

/// `POST Agents/Sentry/HasFunctionRight`. The system user is not restricted by functional rights.
pub async fn has_function_right(State(sim): State<S>, me: Caller, body: Bytes) -> Response {
    let v = match json_body(&body, "a function right request") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let right = v["FunctionRight"].as_str().unwrap_or("");
    let t = lock(&sim.tenant).clone();
    Json(me.system || function_rights(&t, me).iter().any(|r| r.eq_ignore_ascii_case(right))).into_response()
}

/// `POST Agents/License/GetUserLicenses`.
pub async fn user_licenses(State(sim): State<S>, _me: Caller, body: Bytes) -> Response {
    let v = match json_body(&body, "a licence request") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let associate_id = v["AssociateId"].as_i64().unwrap_or(0);
    let t = lock(&sim.tenant).clone();
    if t.associate(associate_id).is_none() {
        return super::not_found("Associate", associate_id);
    }
    let assigned = assigned_modules(&t, associate_id);
    let module = |m: &super::people::Module, total: i64, in_use: i64| {
        let mine = assigned.iter().any(|a| a.id == m.id);
        json!({
            "ModuleLicenseId": m.id, "Name": m.name, "Description": m.description, "Tooltip": m.description,
            "Assigned": mine, "CanAssign": false, "Total": total, "Free": total - in_use, "InUse": in_use,
            "Unrestricted": false, "IsHidden": false, "PrerequisiteModuleName": "", "SortOrder": m.id, "ExtraFlags": 0,
        })
    };
    let marketing_in_use = if t.profile.rep.marketing_licence { 1 } else { 0 };
    Json(json!([{
        "Name": "SuperOffice",
        "Description": "SuperOffice CRM Online",
        "RestrictedModuleLicenses": [module(&SALES, 10, 1), module(&MARKETING, 2, marketing_in_use)],
        "UnrestrictedModuleLicenses": [],
    }]))
    .into_response()
}

/// Anything under `/Shipment`: mailings need the Marketing User licence; sending one is not
/// simulated (no REST operation to start a shipment is documented).
pub async fn shipment(State(sim): State<S>, me: Caller) -> Response {
    let t = lock(&sim.tenant).clone();
    if !me.system && !t.profile.rep.marketing_licence {
        return so_error(StatusCode::FORBIDDEN, "SoSecurityException", "Shipments require the Marketing User licence");
    }
    not_simulated("Shipment")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::run_prints;

    #[test]
    fn prints_are_the_output() {
        assert_eq!(run_prints(r#"print("x");"#), "x");
        assert_eq!(run_prints("printLine(\"a\");\nprint( \"b\\\"c\" ); Integer i = 1;"), "a\nb\"c");
        assert_eq!(run_prints("String s = \"print\"; print(s);"), "");
    }
}
