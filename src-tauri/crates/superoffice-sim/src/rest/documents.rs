//! The archive: `Document/default`, creating document entities (the server may amend the
//! file name; fields longer than their database column are refused), the FindDocument rows
//! behind `GET Document` (the listing itself is `odata/`), and storing and reading content.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};

use super::appointments::{linked_cells, significant};
use super::odata::{self, find_document, Cell, Request, Row};
use super::{id_of, not_found, now_local, so_error, Caller, S};
use crate::data::{Document, Tenant};
use crate::lock;

fn document_json(t: &Tenant, d: &Document) -> Value {
    let ent = |id: i64, v: Value| if id == 0 { Value::Null } else { v };
    json!({
        "DocumentId": d.id, "Header": d.header, "Name": d.name, "Description": d.description,
        "ExternalRef": d.external_ref, "OurRef": d.our_ref, "YourRef": d.your_ref, "Attention": d.attention,
        "DocumentTemplate": {"DocumentTemplateId": d.template_id, "Name": t.templates.iter().find(|x| x.id == d.template_id).map(|x| x.name.clone())},
        "Contact": ent(d.contact_id, json!({"ContactId": d.contact_id})),
        "Person": ent(d.person_id, json!({"PersonId": d.person_id})),
        "Sale": ent(d.sale_id, json!({"SaleId": d.sale_id})),
        "Associate": {"AssociateId": d.associate_id},
        "Date": d.date, "Type": "Document", "Completed": "Completed",
    })
}

pub async fn default(State(sim): State<S>, caller: Caller) -> Response {
    let me = caller.associate_id;
    let t = lock(&sim.tenant).clone();
    let d = Document {
        id: 0,
        header: String::new(),
        name: String::new(),
        description: String::new(),
        external_ref: String::new(),
        our_ref: String::new(),
        your_ref: String::new(),
        attention: String::new(),
        contact_id: 0,
        person_id: 0,
        sale_id: 0,
        associate_id: me,
        template_id: 1,
        date: now_local(),
        content: None,
        content_base64: None,
    };
    let mut entity = document_json(&t, &d);
    // Entity responses carry the caller's table rights (superoffice-api.md §3).
    let allowed = if caller.system { t.profile.system_user.archive_rights } else { t.profile.rep.archive_rights };
    entity["TableRight"] = json!({ "Mask": if allowed { "Select, Insert, Update, Delete" } else { "Select" }, "Reason": if allowed { "" } else { "Role does not allow creating documents" } });
    Json(entity).into_response()
}

pub async fn create(State(sim): State<S>, caller: Caller, body: Bytes) -> Response {
    let me = caller.associate_id;
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "The request body is not a DocumentEntity");
    };
    let mut t = lock(&sim.tenant);
    let allowed = if caller.system { t.profile.system_user.archive_rights } else { t.profile.rep.archive_rights };
    if !allowed {
        return so_error(StatusCode::FORBIDDEN, "SoSecurityException", "You do not have the right to create documents");
    }
    let (contact_id, person_id) = (id_of(&v, "Contact", "ContactId"), id_of(&v, "Person", "PersonId"));
    if person_id != 0 && t.person(person_id).is_some_and(|p| contact_id != 0 && p.contact_id != contact_id) {
        return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "The person does not belong to the contact");
    }
    if let Err(r) = check_lengths(&v) {
        return r;
    }
    let id = t.documents.iter().map(|d| d.id).max().unwrap_or(400) + 1;
    let requested = v["Name"].as_str().unwrap_or("").trim().to_owned();
    // The server may amend the file name; clients must use the returned entity.
    let name = if requested.is_empty() {
        format!("document-{id}.eml")
    } else if t.documents.iter().any(|d| d.name == requested) {
        format!("{id}-{requested}")
    } else {
        requested
    };
    let doc = Document {
        id,
        header: v["Header"].as_str().unwrap_or("").to_owned(),
        name,
        description: significant(v["Description"].as_str().unwrap_or("")),
        external_ref: v["ExternalRef"].as_str().unwrap_or("").to_owned(),
        our_ref: v["OurRef"].as_str().unwrap_or("").to_owned(),
        your_ref: v["YourRef"].as_str().unwrap_or("").to_owned(),
        attention: v["Attention"].as_str().unwrap_or("").to_owned(),
        contact_id,
        person_id,
        sale_id: id_of(&v, "Sale", "SaleId"),
        associate_id: match id_of(&v, "Associate", "AssociateId") {
            0 => me,
            a => a,
        },
        template_id: match id_of(&v, "DocumentTemplate", "DocumentTemplateId") {
            0 => 1,
            x => x,
        },
        date: v["Date"].as_str().map(str::to_owned).unwrap_or_else(now_local),
        content: None,
        content_base64: None,
    };
    t.documents.push(doc.clone());
    let snapshot = t.clone();
    // Documented: 200 OK with the (possibly amended) entity.
    Json(document_json(&snapshot, &doc)).into_response()
}

/// The `document` table's column lengths (`docs/database/tables/document.md`): `header`
/// String(219), `name` String(511), `our_ref` String(99), `your_ref` String(99), `attention`
/// String(99), `extref` String(511). The pages give the lengths but not what the server does
/// with a longer value; the simulator refuses it (400) rather than cut it silently.
const LIMITS: &[(&str, &str, usize)] = &[
    ("Header", "header", 219),
    ("Name", "name", 511),
    ("OurRef", "our_ref", 99),
    ("YourRef", "your_ref", 99),
    ("Attention", "attention", 99),
    ("ExternalRef", "extref", 511),
];

#[allow(clippy::result_large_err)] // the error is the answer
fn check_lengths(v: &Value) -> Result<(), Response> {
    for (field, column, max) in LIMITS {
        let n = v[*field].as_str().map(|s| s.chars().count()).unwrap_or(0);
        if n > *max {
            return Err(so_error(
                StatusCode::BAD_REQUEST,
                "SoArgumentException",
                &format!("{field} is {n} characters; the document table's {column} column holds {max} (docs/database/tables/document.md)"),
            ));
        }
    }
    Ok(())
}

/// A FindDocument row of the simulator's data.
fn document_row(t: &Tenant, d: &Document) -> Row {
    let template = t.templates.iter().find(|x| x.id == d.template_id);
    let mut cells = vec![
        ("documentId", Cell::Int(d.id)),
        // `subject` ("Subject") is taken to be the visible title, `Header` (inference: the page
        // does not say which field it shows; FindDocument has no `header` column).
        ("subject", Cell::Text(d.header.clone())),
        ("name", Cell::Text(d.name.clone())),
        ("ourref", Cell::Text(d.our_ref.clone())),
        ("yourref", Cell::Text(d.your_ref.clone())),
        ("attention", Cell::Text(d.attention.clone())),
        // `keywords` is a FindDocument column, but neither the document table nor the
        // DocumentEntity has a keywords field: it stays empty here.
        ("text", Cell::Text(significant(&d.description))),
        ("document/description", Cell::Text(significant(&d.description))),
        ("date", Cell::date(&d.date)),
        // For a document, `appointment.task_idx` links to the DocTmpl list (`docs/database/tables/appointment.md`).
        ("type", Cell::Item { id: d.template_id, text: template.map(|x| x.name.clone()).unwrap_or_default() }),
        ("completed", Cell::Bool(true)),
        ("isMail", Cell::Bool(template.is_some_and(|x| x.record_type == 3))),
    ];
    cells.extend(linked_cells(t, d.associate_id, d.contact_id, d.person_id, d.sale_id));
    Row { key: d.id, cells }
}

/// `GET Document`: FindDocument, see `odata/mod.rs`.
pub async fn list(State(sim): State<S>, me: Caller, OriginalUri(uri): OriginalUri) -> Response {
    let t = lock(&sim.tenant).clone();
    let rows = t.documents.iter().map(|d| document_row(&t, d)).collect();
    let req = Request { uri: &uri, base_url: &sim.base_url, absolute_links: sim.absolute_next_links(), associate_id: me.associate_id };
    odata::list(find_document(), rows, &["documentId"], req)
}

pub async fn get_one(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let t = lock(&sim.tenant).clone();
    match t.documents.iter().find(|d| d.id == id) {
        Some(d) => Json(document_json(&t, d)).into_response(),
        None => not_found("Document", id),
    }
}

pub async fn put_content(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>, body: Bytes) -> Response {
    let mut t = lock(&sim.tenant);
    let Some(idx) = t.documents.iter().position(|d| d.id == id) else {
        return not_found("Document", id);
    };
    t.documents[idx].content = Some(body.to_vec());
    t.documents[idx].content_base64 = Some(base64::engine::general_purpose::STANDARD.encode(&body));
    let snapshot = t.clone();
    Json(document_json(&snapshot, &snapshot.documents[idx])).into_response()
}

pub async fn get_content(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let t = lock(&sim.tenant).clone();
    match t.documents.iter().find(|d| d.id == id).and_then(|d| d.content.clone()) {
        Some(c) => ([(header::CONTENT_TYPE, "application/octet-stream")], c).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Document id {id} has no content")),
    }
}

/// `DELETE Document/{id}`: needs the same right as creating one.
pub async fn delete(State(sim): State<S>, caller: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let mut t = lock(&sim.tenant);
    let allowed = if caller.system { t.profile.system_user.archive_rights } else { t.profile.rep.archive_rights };
    if !allowed {
        return so_error(StatusCode::FORBIDDEN, "SoSecurityException", "You do not have the right to delete documents");
    }
    let Some(idx) = t.documents.iter().position(|d| d.id == id) else {
        return not_found("Document", id);
    };
    t.documents.remove(idx);
    StatusCode::NO_CONTENT.into_response()
}
