//! Appointments and follow-up tasks: the OData-style listing the client uses to find drafted
//! follow-ups, reading, JSON Patch and PUT updates, and creation with server defaults (the
//! activity hand-off).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::odata::{matches_filter, odata_page};
use super::{id_of, json_body, not_found, now_local, so_error, Caller, S};
use crate::data::{Appointment, Tenant};
use crate::lock;

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

pub async fn list(State(sim): State<S>, _me: Caller, OriginalUri(uri): OriginalUri, Query(q): Query<HashMap<String, String>>) -> Response {
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

pub fn appointment_json(t: &Tenant, a: &Appointment) -> Value {
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

pub async fn get_one(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let t = lock(&sim.tenant).clone();
    match t.appointments.iter().find(|a| a.id == id) {
        Some(a) => Json(appointment_json(&t, a)).into_response(),
        None => not_found("Appointment", id),
    }
}

/// JSON Patch (`[{"op":"replace","path":"/Completed","value":"Completed"}]`).
pub async fn patch(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>, Json(ops): Json<Vec<Value>>) -> Response {
    let mut t = lock(&sim.tenant);
    let Some(idx) = t.appointments.iter().position(|a| a.id == id) else {
        return not_found("Appointment", id);
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

pub async fn put(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>, Json(body): Json<Value>) -> Response {
    let mut t = lock(&sim.tenant);
    let Some(idx) = t.appointments.iter().position(|a| a.id == id) else {
        return not_found("Appointment", id);
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

/// A new appointment with the server's defaults: owned by the caller, in the diary, now.
fn defaults(t: &Tenant, me: Caller) -> Appointment {
    Appointment {
        id: 0,
        associate_id: me.associate_id,
        contact_id: 0,
        person_id: 0,
        sale_id: 0,
        task_id: t.task_types.first().map(|x| x.id).unwrap_or(0),
        kind: "inDiary".into(),
        completed: "NotStarted".into(),
        description: String::new(),
        start_date: now_local(),
    }
}

/// `GET Appointment/default`.
pub async fn default(State(sim): State<S>, me: Caller) -> Response {
    let t = lock(&sim.tenant).clone();
    let a = defaults(&t, me);
    Json(appointment_json(&t, &a)).into_response()
}

/// `POST Appointment`: the server fills in what the body leaves out; the caller becomes
/// `Associate` unless one is given.
pub async fn create(State(sim): State<S>, me: Caller, body: Bytes) -> Response {
    let v = match json_body(&body, "an AppointmentEntity") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut t = lock(&sim.tenant);
    let mut a = defaults(&t, me);
    let (contact_id, person_id) = (id_of(&v, "Contact", "ContactId"), id_of(&v, "Person", "PersonId"));
    if contact_id != 0 && t.contact(contact_id).is_none() {
        return not_found("Contact", contact_id);
    }
    if person_id != 0 {
        match t.person(person_id) {
            None => return not_found("Person", person_id),
            Some(p) if contact_id != 0 && p.contact_id != contact_id => {
                return so_error(StatusCode::BAD_REQUEST, "SoArgumentException", "The person does not belong to the contact")
            }
            Some(_) => {}
        }
    }
    let associate_id = id_of(&v, "Associate", "AssociateId");
    if associate_id != 0 && t.associate(associate_id).is_none() {
        return not_found("Associate", associate_id);
    }
    a.id = t.appointments.iter().map(|x| x.id).max().unwrap_or(4999) + 1;
    if associate_id != 0 {
        a.associate_id = associate_id;
    }
    a.contact_id = contact_id;
    a.person_id = person_id;
    a.sale_id = id_of(&v, "Sale", "SaleId");
    if let Some(task) = v["Task"]["TaskListItemId"].as_i64().filter(|x| *x != 0) {
        a.task_id = task;
    }
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    a.kind = text("Type").unwrap_or(a.kind);
    a.completed = text("Completed").unwrap_or(a.completed);
    a.description = text("Description").unwrap_or_default();
    a.start_date = text("StartDate").unwrap_or(a.start_date);
    t.appointments.push(a.clone());
    let snapshot = t.clone();
    Json(appointment_json(&snapshot, &a)).into_response()
}
