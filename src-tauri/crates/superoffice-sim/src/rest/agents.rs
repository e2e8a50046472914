//! The RESTful agents the app probes, gated like SuperOffice Online gates them: the CRMScript
//! agent is "Online Restricted" (granted per app registration), the Sentry and License agents
//! report rights and licences. The EMail agent is in `email_agent.rs`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::people::{assigned_modules, function_rights, MARKETING, SALES};
use super::{json_body, so_error, Caller, S};
use crate::lock;

pub fn not_simulated(what: &str) -> Response {
    so_error(StatusCode::NOT_IMPLEMENTED, "SoNotImplemented", &format!("{what} is not simulated"))
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
