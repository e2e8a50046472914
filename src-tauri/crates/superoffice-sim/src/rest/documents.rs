//! The archive: `Document/default`, creating document entities (the server may amend the
//! file name), listing them OData-style, and storing and reading their content.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};

use super::odata::{matches_filter, odata_page};
use super::{id_of, not_found, now_local, so_error, Caller, S};
use crate::data::{Document, Tenant};
use crate::lock;

fn document_json(t: &Tenant, d: &Document) -> Value {
    let ent = |id: i64, v: Value| if id == 0 { Value::Null } else { v };
    json!({
        "DocumentId": d.id, "Header": d.header, "Name": d.name, "Description": d.description,
        "ExternalRef": d.external_ref,
        "DocumentTemplate": {"DocumentTemplateId": d.template_id, "Name": t.templates.iter().find(|x| x.id == d.template_id).map(|x| x.name.clone())},
        "Contact": ent(d.contact_id, json!({"ContactId": d.contact_id})),
        "Person": ent(d.person_id, json!({"PersonId": d.person_id})),
        "Sale": ent(d.sale_id, json!({"SaleId": d.sale_id})),
        "Associate": {"AssociateId": d.associate_id},
        "Date": d.date, "Type": "Document", "Completed": "Completed",
        "OurRef": "", "YourRef": "", "Attention": "",
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
        header: v["Header"].as_str().unwrap_or("").chars().take(255).collect(),
        name,
        description: v["Description"].as_str().unwrap_or("").chars().take(2047).collect(),
        external_ref: v["ExternalRef"].as_str().unwrap_or("").to_owned(),
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

fn document_column(d: &Document, col: &str) -> Option<Value> {
    Some(match col {
        "documentId" => json!(d.id),
        "externalRef" => json!(d.external_ref),
        "header" => json!(d.header),
        "contactId" => json!(d.contact_id),
        "personId" => json!(d.person_id),
        "date" => json!(d.date),
        _ => return None,
    })
}

pub async fn list(State(sim): State<S>, _me: Caller, OriginalUri(uri): OriginalUri, Query(q): Query<HashMap<String, String>>) -> Response {
    let t = lock(&sim.tenant).clone();
    let select: Vec<String> =
        q.get("$select").map(|s| s.split(',').map(|c| c.trim().to_owned()).collect()).unwrap_or_else(|| vec!["documentId".into()]);
    let mut rows = Vec::new();
    for d in &t.documents {
        if let Some(f) = q.get("$filter") {
            match matches_filter(f, &|c| document_column(d, c)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => return so_error(StatusCode::BAD_REQUEST, "SoODataException", &e),
            }
        }
        let mut row = json!({"PrimaryKey": d.id, "EntityName": "document"});
        for c in &select {
            match document_column(d, c) {
                Some(v) => row[c] = v,
                None => return so_error(StatusCode::BAD_REQUEST, "SoODataException", &format!("unknown column '{c}'")),
            }
        }
        rows.push(row);
    }
    odata_page(&uri, &sim.base_url, &q, rows, "document")
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
