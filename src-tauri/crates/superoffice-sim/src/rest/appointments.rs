//! Appointments and follow-up tasks: the FindAppointment rows behind `GET Appointment` (the
//! listing itself is `odata/`), reading, JSON Patch and PUT updates, and creation with server
//! defaults (the activity hand-off).

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::odata::{self, find_appointment, Cell, Request, Row};
use super::{id_of, json_body, not_found, now_local, so_error, Caller, S};
use crate::data::{Appointment, Tenant};
use crate::lock;

/// `appointment.type` as the AppointmentType enum number (`docs/database/tables/enums/appointmenttype.md`).
fn raw_type(kind: &str) -> i64 {
    match kind {
        "inDiary" => 1,
        "inChecklist" => 2,
        "Note" => 3,
        "Document" => 4,
        "SavedReport" => 5,
        "BookingForDiary" => 6,
        "BookingForChecklist" => 7,
        "MergeDraft" => 8,
        "MergeFinal" => 9,
        _ => 0,
    }
}

/// `appointment.status` as the AppointmentStatus enum number (`docs/database/tables/enums/appointmentstatus.md`).
fn raw_status(completed: &str) -> i64 {
    match completed {
        "NotStarted" => 1,
        "Started" => 2,
        "Completed" => 3,
        _ => 0,
    }
}

/// "The actual text, max 2047 significant characters" (`docs/database/tables/text.md`, the
/// `text` table that holds appointment and document descriptions; the same words describe
/// the entities' `Description`). Longer text is cut there, so the archive columns and the
/// entity show at most that much.
pub const MAX_TEXT: usize = 2047;

pub fn significant(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

/// The joined company, person, sale and owner columns both providers list
/// (`contact/…`, `person/…`, `sale/…`, `associate/…`), plus the list columns
/// `associateId`, `contactId`, `personId` (listAny/associate: id and display text).
pub fn linked_cells(t: &Tenant, associate_id: i64, contact_id: i64, person_id: i64, sale_id: i64) -> Vec<(&'static str, Cell)> {
    let item = |id: i64, text: Option<String>| Cell::Item { id, text: if id == 0 { String::new() } else { text.unwrap_or_default() } };
    let text = |s: Option<String>| Cell::Text(s.unwrap_or_default());
    let contact = t.contact(contact_id);
    let person = t.person(person_id);
    let full_name = person.map(|p| format!("{} {}", p.first_name, p.last_name));
    let associate = t.associate(associate_id);
    let sale = t.sale(sale_id);
    vec![
        ("associateId", item(associate_id, associate.map(|a| a.name.clone()))),
        ("associate/assocName", item(associate_id, associate.map(|a| a.name.clone()))),
        ("associate/fullName", text(associate.map(|a| a.full_name.clone()))),
        ("contactId", item(contact_id, contact.map(|c| c.name.clone()))),
        ("contact/contactId", Cell::Int(contact.map(|c| c.id).unwrap_or(0))),
        ("contact/name", text(contact.map(|c| c.name.clone()))),
        ("personId", item(person_id, full_name.clone())),
        ("person/personId", Cell::Int(person.map(|p| p.id).unwrap_or(0))),
        ("person/contactId", Cell::Int(person.map(|p| p.contact_id).unwrap_or(0))),
        ("person/fullName", text(full_name)),
        ("person/firstName", text(person.map(|p| p.first_name.clone()))),
        ("person/lastName", text(person.map(|p| p.last_name.clone()))),
        ("person/email/emailAddress", text(person.and_then(|p| p.email.clone()))),
        ("saleId", Cell::Int(sale_id)),
        ("sale/saleId", Cell::Int(sale.map(|s| s.id).unwrap_or(0))),
        ("sale/heading", text(sale.map(|s| s.heading.clone()))),
    ]
}

/// A FindAppointment row of the simulator's data.
fn appointment_row(t: &Tenant, a: &Appointment) -> Row {
    let task = t.task_types.iter().find(|x| x.id == a.task_id).map(|x| x.name.clone()).unwrap_or_default();
    let mut cells = vec![
        ("appointmentId", Cell::Int(a.id)),
        ("text", Cell::Text(significant(&a.description))),
        ("appointment/description", Cell::Text(significant(&a.description))),
        ("rawType", Cell::Int(raw_type(&a.kind))),
        ("rawStatus", Cell::Int(raw_status(&a.completed))),
        // `type` "Displays the type of an activity": the task list entry (`appointment.task_idx`,
        // "Link to Task list", `docs/database/tables/appointment.md`).
        ("type", Cell::Item { id: a.task_id, text: task }),
        ("completed", Cell::Bool(a.completed == "Completed")),
        ("date", Cell::date(&a.start_date)),
        ("endDate", Cell::date(&a.start_date)),
    ];
    cells.extend(linked_cells(t, a.associate_id, a.contact_id, a.person_id, a.sale_id));
    Row { key: a.id, cells }
}

/// `GET Appointment`: FindAppointment, see `odata/mod.rs`.
pub async fn list(State(sim): State<S>, me: Caller, OriginalUri(uri): OriginalUri) -> Response {
    let t = lock(&sim.tenant).clone();
    let rows = t.appointments.iter().map(|a| appointment_row(&t, a)).collect();
    let req = Request { uri: &uri, base_url: &sim.base_url, absolute_links: sim.absolute_next_links(), associate_id: me.associate_id };
    odata::list(find_appointment(), rows, &["appointmentId"], req)
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
            (Some("replace" | "add"), "/Description") => t.appointments[idx].description = significant(&value),
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
        t.appointments[idx].description = significant(d);
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
    a.description = significant(&text("Description").unwrap_or_default());
    a.start_date = text("StartDate").unwrap_or(a.start_date);
    t.appointments.push(a.clone());
    let snapshot = t.clone();
    Json(appointment_json(&snapshot, &a)).into_response()
}
