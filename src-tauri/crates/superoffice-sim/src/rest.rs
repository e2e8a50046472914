//! The REST endpoints under `/{ctx}/api/v1`, with the documented JSON shapes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use crate::data::{Appointment, Document, Tenant};
use crate::{lock, Sim};

type S = Arc<Sim>;

pub fn router() -> Router<S> {
    Router::new()
        .route("/User/currentPrincipal", get(current_principal))
        .route("/Person/{id}", get(person))
        .route("/Contact/{id}", get(contact))
        .route("/Sale/{id}", get(sale))
        .route("/Appointment", get(list_appointments))
        .route("/Appointment/{id}", get(get_appointment).patch(patch_appointment).put(put_appointment))
        .route("/Document/default", get(document_default))
        .route("/Document", post(create_document).get(list_documents))
        .route("/Document/{id}", get(get_document))
        .route("/Document/{id}/Content", put(put_content).get(get_content))
        .route("/Agents/EMail/{op}", post(email_agent))
        .route("/Associate/{what}", patch(undocumented).get(undocumented))
}

/// SuperOffice's error body.
fn so_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"Error": true, "ErrorType": kind, "ErrorMessage": message, "ErrorSource": "SuperOffice.Services.Implementation"})),
    )
        .into_response()
}

/// The signed-in associate, or a 401 like SuperOffice's.
fn caller(sim: &Sim, headers: &HeaderMap, ctx: &str) -> Result<i64, Response> {
    let tenant_ctx = lock(&sim.tenant).context_id.clone();
    if !ctx.eq_ignore_ascii_case(&tenant_ctx) {
        return Err(so_error(StatusCode::MISDIRECTED_REQUEST, "WrongSubdomain", "Wrong subdomain used to access tenant"));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| so_error(StatusCode::UNAUTHORIZED, "SoAuthenticationException", "No credentials provided"))?;
    sim.oidc
        .session(token)
        .map(|s| s.associate_id)
        .ok_or_else(|| so_error(StatusCode::UNAUTHORIZED, "SoAuthenticationException", "The access token is invalid or expired"))
}

macro_rules! auth {
    ($sim:expr, $headers:expr, $ctx:expr) => {
        match caller(&$sim, &$headers, &$ctx) {
            Ok(a) => a,
            Err(r) => return r,
        }
    };
}

async fn current_principal(State(sim): State<S>, headers: HeaderMap, Path(ctx): Path<String>) -> Response {
    let me = auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    let Some(a) = t.associate(me) else { return so_error(StatusCode::NOT_FOUND, "SoNotFoundException", "associate not found") };
    Json(json!({
        "UserType": "InternalAssociate",
        "Associate": a.name, "AssociateId": a.id, "IsPerson": true, "PersonId": a.person_id,
        "ContactId": a.contact_id, "CountryId": 368, "HomeCountryId": 368, "GroupId": 2, "BusinessId": 0, "CategoryId": 0,
        "ContactOwner": a.id, "RoleId": 2, "RoleName": "Sales", "RoleDescription": "Sales representative", "RoleType": "Employee",
        "Licenses": [{"ModuleId": 1, "Name": "SuperOffice CRM Sales", "Description": "Sales User", "LicenseType": "User", "IsUnrestricted": false}],
        "FullName": a.full_name, "EMailAddress": a.email,
        "FunctionRights": ["allow-archive-documents", "allow-followups"],
        "EjUserId": 0, "EjAccessLevel": 0, "EjUserStatus": "Unknown", "ProvidedCredentials": "", "SecondaryGroups": [],
        "DatabaseContextIdentifier": t.context_id, "UserName": a.username,
    }))
    .into_response()
}

fn person_json(t: &Tenant, id: i64) -> Option<Value> {
    let p = t.person(id)?;
    let c = t.contact(p.contact_id);
    let emails: Vec<Value> = p
        .email
        .iter()
        .map(|e| json!({"Value": e, "StrippedValue": e, "Description": "", "Rank": 1}))
        .collect();
    Some(json!({
        "PersonId": p.id, "Firstname": p.first_name, "Lastname": p.last_name,
        "FullName": format!("{} {}", p.first_name, p.last_name), "Title": p.title,
        "Emails": emails,
        "Contact": c.map(|c| json!({"ContactId": c.id, "Name": c.name})),
    }))
}

async fn person(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    match person_json(&t, id) {
        Some(v) => Json(v).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Person id {id} not found")),
    }
}

async fn contact(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    match t.contact(id) {
        Some(c) => Json(json!({"ContactId": c.id, "Name": c.name, "Department": "", "PostalAddress": {"City": {"Value": c.city}}, "Country": {"TwoLetterISOCountry": c.country}})).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Contact id {id} not found")),
    }
}

async fn sale(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    match t.sale(id) {
        Some(s) => Json(json!({"SaleId": s.id, "Heading": s.heading, "Amount": s.amount, "Contact": {"ContactId": s.contact_id}})).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Sale id {id} not found")),
    }
}

/// The columns the OData-style listing of appointments knows.
fn appointment_column(a: &Appointment, col: &str) -> Option<Value> {
    Some(match col {
        "appointmentId" => json!(a.id),
        "description" => json!(a.description),
        "associateId" => json!(a.associate_id),
        "contactId" => json!(a.contact_id),
        "personId" => json!(a.person_id),
        "saleId" => json!(a.sale_id),
        "taskId" => json!(a.task_id),
        "type" => json!(a.kind),
        "completed" => json!(a.completed),
        "date" => json!(a.start_date),
        _ => return None,
    })
}

/// A tiny OData `$filter`: clauses `column eq|ne value` joined by `and`.
fn matches_filter(filter: &str, get: &dyn Fn(&str) -> Option<Value>) -> Result<bool, String> {
    for clause in filter.split(" and ") {
        let mut parts = clause.trim().splitn(3, ' ');
        let (Some(col), Some(op), Some(raw)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("cannot parse filter clause '{clause}'"));
        };
        let actual = get(col).ok_or_else(|| format!("unknown column '{col}'"))?;
        let raw = raw.trim();
        let expected = if let Some(s) = raw.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            json!(s.replace("''", "'"))
        } else if let Ok(n) = raw.parse::<i64>() {
            json!(n)
        } else {
            return Err(format!("cannot parse value '{raw}'"));
        };
        let same = actual == expected || actual.as_str().is_some_and(|a| expected.as_str().is_some_and(|e| a.eq_ignore_ascii_case(e)));
        let ok = match op {
            "eq" => same,
            "ne" => !same,
            _ => return Err(format!("unsupported operator '{op}'")),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn odata_page(
    uri: &axum::http::Uri,
    base_url: &str,
    q: &HashMap<String, String>,
    rows: Vec<Value>,
    entity: &str,
) -> Response {
    let top = q.get("$top").and_then(|v| v.parse::<usize>().ok()).unwrap_or(200).clamp(1, 1000);
    let skip = q.get("$skip").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(skip).take(top).collect();
    let mut body = json!({ "odata.metadata": format!("{base_url}{}/$metadata", uri.path()), "value": page });
    if skip + top < total {
        let mut next = url::Url::parse(&format!("{base_url}{}", uri.path())).unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!()));
        {
            let mut qp = next.query_pairs_mut();
            for (k, v) in q.iter().filter(|(k, _)| k.as_str() != "$skip") {
                qp.append_pair(k, v);
            }
            qp.append_pair("$skip", &(skip + top).to_string());
        }
        body["odata.nextLink"] = json!(next.as_str());
    }
    let _ = entity;
    Json(body).into_response()
}

async fn list_appointments(
    State(sim): State<S>,
    headers: HeaderMap,
    Path(ctx): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    let select: Vec<String> = q
        .get("$select")
        .map(|s| s.split(',').map(|c| c.trim().to_owned()).collect())
        .unwrap_or_else(|| vec!["appointmentId".into(), "description".into()]);
    let mut rows = Vec::new();
    for a in &t.appointments {
        if let Some(f) = q.get("$filter") {
            match matches_filter(f, &|c| appointment_column(a, c)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => return so_error(StatusCode::BAD_REQUEST, "SoODataException", &e),
            }
        }
        let mut row = json!({"PrimaryKey": a.id, "EntityName": "appointment"});
        for c in &select {
            match appointment_column(a, c) {
                Some(v) => row[c] = v,
                None => return so_error(StatusCode::BAD_REQUEST, "SoODataException", &format!("unknown column '{c}'")),
            }
        }
        rows.push(row);
    }
    odata_page(&uri, &sim.base_url, &q, rows, "appointment")
}

fn appointment_json(t: &Tenant, a: &Appointment) -> Value {
    let ent = |id: i64, v: Value| if id == 0 { Value::Null } else { v };
    json!({
        "AppointmentId": a.id,
        "Associate": t.associate(a.associate_id).map(|x| json!({"AssociateId": x.id, "Name": x.name, "FullName": x.full_name})),
        "Contact": ent(a.contact_id, json!({"ContactId": a.contact_id, "Name": t.contact(a.contact_id).map(|c| c.name.clone())})),
        "Person": ent(a.person_id, json!({"PersonId": a.person_id})),
        "Sale": ent(a.sale_id, json!({"SaleId": a.sale_id, "Heading": t.sale(a.sale_id).map(|s| s.heading.clone())})),
        "Task": {"TaskListItemId": a.task_id, "Value": t.task_types.iter().find(|x| x.id == a.task_id).map(|x| x.name.clone())},
        "Description": a.description,
        "StartDate": a.start_date, "EndDate": a.start_date,
        "Type": a.kind, "Completed": a.completed,
    })
}

async fn get_appointment(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    match t.appointments.iter().find(|a| a.id == id) {
        Some(a) => Json(appointment_json(&t, a)).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Appointment id {id} not found")),
    }
}

/// JSON Patch (`[{"op":"replace","path":"/Completed","value":"Completed"}]`).
async fn patch_appointment(
    State(sim): State<S>,
    headers: HeaderMap,
    Path((ctx, id)): Path<(String, i64)>,
    Json(ops): Json<Vec<Value>>,
) -> Response {
    auth!(sim, headers, ctx);
    let mut t = lock(&sim.tenant);
    let Some(idx) = t.appointments.iter().position(|a| a.id == id) else {
        return so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Appointment id {id} not found"));
    };
    for op in &ops {
        let path = op["path"].as_str().unwrap_or("");
        let value = op["value"].as_str().unwrap_or("").to_owned();
        match (op["op"].as_str(), path) {
            (Some("replace" | "add"), "/Completed") => t.appointments[idx].completed = value,
            (Some("replace" | "add"), "/Description") => t.appointments[idx].description = value,
            _ => return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", &format!("unsupported patch of '{path}'")),
        }
    }
    let snapshot = t.clone();
    Json(appointment_json(&snapshot, &snapshot.appointments[idx])).into_response()
}

async fn put_appointment(
    State(sim): State<S>,
    headers: HeaderMap,
    Path((ctx, id)): Path<(String, i64)>,
    Json(body): Json<Value>,
) -> Response {
    auth!(sim, headers, ctx);
    let mut t = lock(&sim.tenant);
    let Some(idx) = t.appointments.iter().position(|a| a.id == id) else {
        return so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Appointment id {id} not found"));
    };
    if let Some(c) = body["Completed"].as_str() {
        t.appointments[idx].completed = c.to_owned();
    }
    if let Some(d) = body["Description"].as_str() {
        t.appointments[idx].description = d.to_owned();
    }
    let snapshot = t.clone();
    Json(appointment_json(&snapshot, &snapshot.appointments[idx])).into_response()
}

fn now_local() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc().format(&f).unwrap_or_default()
}

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

async fn document_default(State(sim): State<S>, headers: HeaderMap, Path(ctx): Path<String>) -> Response {
    let me = auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    let d = Document {
        id: 0, header: String::new(), name: String::new(), description: String::new(), external_ref: String::new(),
        contact_id: 0, person_id: 0, sale_id: 0, associate_id: me, template_id: 1, date: now_local(),
        content: None, content_base64: None,
    };
    Json(document_json(&t, &d)).into_response()
}

fn id_of(v: &Value, entity: &str, key: &str) -> i64 {
    v[entity][key].as_i64().unwrap_or(0)
}

async fn create_document(State(sim): State<S>, headers: HeaderMap, Path(ctx): Path<String>, body: Bytes) -> Response {
    let me = auth!(sim, headers, ctx);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "The request body is not a DocumentEntity");
    };
    let mut t = lock(&sim.tenant);
    if !t.profile.archive_rights {
        return so_error(StatusCode::FORBIDDEN, "SoSecurityException", "You do not have the right to create documents");
    }
    let (contact_id, person_id) = (id_of(&v, "Contact", "ContactId"), id_of(&v, "Person", "PersonId"));
    if person_id != 0 && t.person(person_id).is_some_and(|p| contact_id != 0 && p.contact_id != contact_id) {
        return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "The person does not belong to the contact");
    }
    let id = t.documents.iter().map(|d| d.id).max().unwrap_or(400) + 1;
    let requested = v["Name"].as_str().unwrap_or("").trim().to_owned();
    // The server may amend the file name; clients must use the returned entity.
    let name = if requested.is_empty() { format!("document-{id}.eml") } else if t.documents.iter().any(|d| d.name == requested) { format!("{id}-{requested}") } else { requested };
    let doc = Document {
        id,
        header: v["Header"].as_str().unwrap_or("").chars().take(255).collect(),
        name,
        description: v["Description"].as_str().unwrap_or("").chars().take(2047).collect(),
        external_ref: v["ExternalRef"].as_str().unwrap_or("").to_owned(),
        contact_id,
        person_id,
        sale_id: id_of(&v, "Sale", "SaleId"),
        associate_id: match id_of(&v, "Associate", "AssociateId") { 0 => me, a => a },
        template_id: match id_of(&v, "DocumentTemplate", "DocumentTemplateId") { 0 => 1, x => x },
        date: v["Date"].as_str().map(str::to_owned).unwrap_or_else(now_local),
        content: None,
        content_base64: None,
    };
    t.documents.push(doc.clone());
    let snapshot = t.clone();
    (StatusCode::CREATED, Json(document_json(&snapshot, &doc))).into_response()
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

async fn list_documents(
    State(sim): State<S>,
    headers: HeaderMap,
    Path(ctx): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    let select: Vec<String> = q.get("$select").map(|s| s.split(',').map(|c| c.trim().to_owned()).collect()).unwrap_or_else(|| vec!["documentId".into()]);
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

async fn get_document(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    match t.documents.iter().find(|d| d.id == id) {
        Some(d) => Json(document_json(&t, d)).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Document id {id} not found")),
    }
}

async fn put_content(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>, body: Bytes) -> Response {
    auth!(sim, headers, ctx);
    let mut t = lock(&sim.tenant);
    let Some(idx) = t.documents.iter().position(|d| d.id == id) else {
        return so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Document id {id} not found"));
    };
    t.documents[idx].content = Some(body.to_vec());
    t.documents[idx].content_base64 = Some(base64::engine::general_purpose::STANDARD.encode(&body));
    let snapshot = t.clone();
    Json(document_json(&snapshot, &snapshot.documents[idx])).into_response()
}

async fn get_content(State(sim): State<S>, headers: HeaderMap, Path((ctx, id)): Path<(String, i64)>) -> Response {
    auth!(sim, headers, ctx);
    let t = lock(&sim.tenant).clone();
    match t.documents.iter().find(|d| d.id == id).and_then(|d| d.content.clone()) {
        Some(c) => ([(header::CONTENT_TYPE, "application/octet-stream")], c).into_response(),
        None => so_error(StatusCode::NOT_FOUND, "SoNotFoundException", &format!("Document id {id} has no content")),
    }
}

async fn email_agent(State(sim): State<S>, headers: HeaderMap, Path((ctx, op)): Path<(String, String)>) -> Response {
    auth!(sim, headers, ctx);
    let granted = lock(&sim.tenant).profile.email_agent_granted;
    if !granted {
        // Restricted in Online: access is granted per app registration by SuperOffice.
        return so_error(StatusCode::UNAUTHORIZED, "SoAccessDeniedException", &format!("The EMail agent ({op}) is not available to this application"));
    }
    so_error(StatusCode::NOT_IMPLEMENTED, "SoNotImplemented", "The EMail agent is not simulated yet")
}

/// `/Associate/Me` and friends are not documented; the seed saw a 500.
async fn undocumented(Path((_ctx, what)): Path<(String, String)>) -> Response {
    so_error(StatusCode::INTERNAL_SERVER_ERROR, "SoServerException", &format!("Object reference not set to an instance of an object. (Associate/{what})"))
}
