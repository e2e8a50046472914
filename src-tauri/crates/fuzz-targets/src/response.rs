//! SuperOffice answers as the client decodes them (`superoffice::models`, the error body).

use serde_json::Value;
use superoffice::fuzz::{api_error, appointment_page};
use superoffice::models::{DocumentTemplate, EMailAccount, Person, Principal, TenantState};
use superoffice::Error;

/// The input's first line names the answer (`principal`, `person`, `appointments`,
/// `email_account`, `tenant_state`, `document_templates`, or `error <status>
/// [<Retry-After>]`), the rest is the body; with any other first line the whole input goes
/// through every decoder. A decoded value must carry exactly the fields of the JSON (read
/// independently as `serde_json::Value`), and an error answer must keep its status, its
/// `Retry-After` and a message that is the server's or a cleaned, bounded excerpt.
pub fn superoffice_response(data: &[u8]) {
    let (kind, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (String::new(), data),
    };
    let mut words = kind.split(' ');
    match words.next().unwrap_or_default() {
        "principal" => principal(body),
        "person" => person(body),
        "appointments" => appointments(body),
        "email_account" => email_account(body),
        "tenant_state" => tenant_state(body),
        "document_templates" => document_templates(body),
        "error" => {
            let status = words.next().and_then(|s| s.parse().ok()).unwrap_or(500);
            error(status, words.next(), body);
        }
        _ => {
            principal(data);
            person(data);
            appointments(data);
            email_account(data);
            tenant_state(data);
            document_templates(data);
            error(500, None, data);
            error(429, Some("30"), data);
        }
    }
}

/// The JSON as a plain value, to compare a typed decode with. (No check that the typed decode
/// fails where this does: serde skips ignored fields without checking their strings' UTF-8 or
/// their numbers' range.)
fn value<T>(body: &[u8], _typed: &serde_json::Result<T>) -> Option<Value> {
    serde_json::from_slice::<Value>(body).ok()
}

fn int(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn principal(body: &[u8]) {
    let typed = serde_json::from_slice::<Principal>(body);
    let (Some(v), Ok(p)) = (value(body, &typed), typed) else { return };
    assert_eq!(Some(p.associate_id), v.get("AssociateId").and_then(Value::as_i64));
    assert_eq!((p.person_id, p.contact_id), (int(&v, "PersonId"), int(&v, "ContactId")));
    assert_eq!((p.email_address.as_str(), p.full_name.as_str()), (text(&v, "EMailAddress"), text(&v, "FullName")));
    let rights: Vec<&str> =
        v.get("FunctionRights").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    assert_eq!(p.function_rights, rights);
}

fn person(body: &[u8]) {
    let typed = serde_json::from_slice::<Person>(body);
    let (Some(v), Ok(p)) = (value(body, &typed), typed) else { return };
    assert_eq!(Some(p.person_id), v.get("PersonId").and_then(Value::as_i64));
    let emails: Vec<&str> =
        v.get("Emails").and_then(Value::as_array).map(|a| a.iter().map(|e| text(e, "Value")).collect()).unwrap_or_default();
    assert_eq!(p.emails.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), emails);
    // The address intake sends to: the first non-blank one, trimmed.
    assert_eq!(p.primary_email(), emails.iter().map(|e| e.trim()).find(|e| !e.is_empty()));
    let name = p.display_name();
    match p.full_name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(full) => assert_eq!(name, full),
        None => assert_eq!(name, format!("{} {}", p.firstname, p.lastname).trim()),
    }
    let contact = v.get("Contact").filter(|c| !c.is_null());
    assert_eq!(p.contact.map(|c| c.contact_id), contact.and_then(|c| c.get("ContactId")).and_then(Value::as_i64));
}

fn appointments(body: &[u8]) {
    let typed = appointment_page(body);
    let Ok((rows, next)) = typed else { return };
    let Some(v) = serde_json::from_slice::<Value>(body).ok() else { panic!("decoded a page that is not JSON") };
    let values = v.get("value").and_then(Value::as_array).unwrap_or_else(|| panic!("decoded a page without a value list"));
    assert_eq!(rows.len(), values.len(), "every row decoded, none dropped");
    // The documented shapes of a number: 25, "25", "[I:25]"; absent or empty is 0.
    let num = |j: &Value, k: &str| match j.get(k) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
        Some(Value::String(s)) => {
            let t = s.trim();
            let t = t.strip_prefix("[I:").and_then(|x| x.strip_suffix(']')).unwrap_or(t);
            if t.is_empty() {
                0
            } else {
                t.parse().unwrap_or(-1)
            }
        }
        _ => 0,
    };
    for (r, j) in rows.iter().zip(values) {
        assert_eq!(r.appointment_id, num(j, "appointmentId"));
        assert_eq!((r.contact_id, r.person_id, r.sale_id), (num(j, "contact/contactId"), num(j, "person/personId"), num(j, "saleId")));
        if let Some(d) = j.get("appointment/description").and_then(Value::as_str) {
            assert_eq!(r.description, d);
        }
        // Intake reads every description; it must cope with whatever the tenant holds.
        crate::draft::draft_description(r.description.as_bytes());
    }
    assert_eq!(next.as_deref(), v.get("odata.nextLink").and_then(Value::as_str));
}

fn email_account(body: &[u8]) {
    let typed = serde_json::from_slice::<Option<EMailAccount>>(body);
    let (Some(v), Ok(a)) = (value(body, &typed), typed) else { return };
    match a {
        None => assert!(v.is_null()),
        Some(a) => {
            assert_eq!((a.e_mail_account_id, a.associate_id), (int(&v, "EMailAccountId"), int(&v, "AssociateId")));
            assert_eq!(a.email_address, text(&v, "EMailAddress"));
        }
    }
}

fn tenant_state(body: &[u8]) {
    let typed = serde_json::from_slice::<TenantState>(body);
    let (Some(v), Ok(s)) = (value(body, &typed), typed) else { return };
    assert_eq!(s.api.as_deref(), v.get("Api").and_then(Value::as_str));
    assert_eq!(s.is_running, v.get("IsRunning").and_then(Value::as_bool).unwrap_or(false));
    assert_eq!(s.context_identifier, text(&v, "ContextIdentifier"));
}

fn document_templates(body: &[u8]) {
    let typed = serde_json::from_slice::<Vec<DocumentTemplate>>(body);
    let (Some(v), Ok(t)) = (value(body, &typed), typed) else { return };
    assert_eq!(Some(t.len()), v.as_array().map(Vec::len));
    for (d, j) in t.iter().zip(v.as_array().into_iter().flatten()) {
        assert_eq!(Some(d.document_template_id), j.get("DocumentTemplateId").and_then(Value::as_i64));
        if d.is_outgoing_email() {
            let deleted = j.get("Deleted").unwrap_or(&Value::Null);
            assert!(deleted.as_bool() != Some(true) && deleted.as_i64().unwrap_or(0) == 0, "a deleted template chosen");
        }
    }
}

fn error(status: u16, retry_after: Option<&str>, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let e = api_error(status, retry_after, &text);
    let Error::Api { status: s, ref error_type, ref message, retry_after: r } = e else { panic!("not an API error: {e}") };
    assert_eq!(s, status);
    assert_eq!(r, retry_after.and_then(|v| v.trim().parse::<u64>().ok()));
    assert_eq!(message.trim(), message, "message not trimmed");
    let server = serde_json::from_str::<ErrorBody>(&text).ok();
    assert_eq!(error_type, &server.as_ref().and_then(|b| b.error_type.clone()));
    match server.and_then(|b| b.error_message) {
        Some(m) => assert_eq!(message, m.trim(), "the server's message"),
        None => {
            // No message from the server: an excerpt of the answer, without control characters.
            assert!(message.chars().count() <= 200, "message not bounded");
            assert!(!message.chars().any(char::is_control), "control character in {message:?}");
            assert!(text.contains(message.as_str()) || text.chars().any(char::is_control), "{message:?} is not from the answer");
        }
    }
    assert_eq!(e.status(), Some(status));
    assert_eq!(e.is_transient(), status >= 500 || [408, 421, 429].contains(&status));
    assert_eq!(e.needs_sign_in(), status == 401);
    assert!(e.code().as_str().starts_with("superoffice_"));
    assert!(!e.to_string().is_empty());
}

/// SuperOffice's documented error body (`ErrorType`, `ErrorMessage`), the oracle for which
/// answers the client must read as one.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    error_type: Option<String>,
    error_message: Option<String>,
}
