//! Who is who: the current principal and associate (rep or system user), persons, contacts,
//! sales, and the lists a client reads to set up (document templates, task types), plus the
//! licences and functional rights the profile gives the caller.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{not_found, Caller, S};
use crate::data::{Associate, Tenant};
use crate::lock;

/// A licence module: (ModuleLicenseId, Name, Description).
pub struct Module {
    pub id: i64,
    pub name: &'static str,
    pub description: &'static str,
}

pub const SALES: Module = Module { id: 1, name: "SuperOffice CRM Sales", description: "Sales User" };
/// The exact module name of the Marketing licence is not documented; this is the simulator's.
pub const MARKETING: Module = Module { id: 5, name: "Marketing User", description: "SuperOffice Marketing user licence" };

/// The modules assigned to an associate under the current profile.
pub fn assigned_modules(t: &Tenant, associate_id: i64) -> Vec<&'static Module> {
    let Some(a) = t.associate(associate_id) else { return Vec::new() };
    if a.kind != crate::data::INTERNAL_ASSOCIATE {
        return Vec::new();
    }
    let mut m = vec![&SALES];
    if associate_id == t.rep_associate_id && t.profile.rep.marketing_licence {
        m.push(&MARKETING);
    }
    m
}

/// Functional rights (the exact key strings SuperOffice uses are not documented).
pub fn function_rights(t: &Tenant, me: Caller) -> Vec<String> {
    let mut rights = vec!["allow-followups".to_owned()];
    if me.system || t.profile.rep.archive_rights {
        rights.push("allow-archive-documents".into());
    }
    rights.sort();
    rights
}

fn licence_json(m: &Module) -> Value {
    json!({
        "OwnerId": 1, "OwnerName": "SuperOffice", "OwnerDescription": "SuperOffice CRM",
        "ModuleId": m.id, "Name": m.name, "Description": m.description, "Version": "10.5",
        "LicenseType": "User", "ExtraFlags": 0, "ExtraInfo": "", "SortOrder": m.id, "LicenseNumber": "",
        "IsHidden": false, "IsUnrestricted": false, "ExpiryDate": "2027-12-31T00:00:00",
    })
}

pub async fn current_principal(State(sim): State<S>, me: Caller) -> Response {
    let t = lock(&sim.tenant).clone();
    let Some(a) = t.associate(me.associate_id) else { return not_found("Associate", me.associate_id) };
    let licences: Vec<Value> = assigned_modules(&t, a.id).into_iter().map(licence_json).collect();
    let rights = function_rights(&t, me);
    if me.system {
        // Not documented for a system-user ticket: the simulator answers with the system
        // associate, no person and an empty email address.
        return Json(json!({
            "UserType": "SystemAssociate",
            "Associate": a.name, "AssociateId": a.id, "IsPerson": false, "PersonId": 0,
            "ContactId": 0, "CountryId": 0, "HomeCountryId": 0, "GroupId": 0, "BusinessId": 0, "CategoryId": 0,
            "ContactOwner": 0, "RoleId": 0, "RoleName": "", "RoleDescription": "", "RoleType": "",
            "Licenses": licences, "FullName": a.full_name, "EMailAddress": "", "FunctionRights": rights,
            "EjUserId": 0, "EjAccessLevel": 0, "EjUserStatus": "Unknown", "ProvidedCredentials": "", "SecondaryGroups": [],
            "DatabaseContextIdentifier": t.context_id, "UserName": a.username,
        }))
        .into_response();
    }
    Json(json!({
        "UserType": "InternalAssociate",
        "Associate": a.name, "AssociateId": a.id, "IsPerson": true, "PersonId": a.person_id,
        "ContactId": a.contact_id, "CountryId": 368, "HomeCountryId": 368, "GroupId": 2, "BusinessId": 0, "CategoryId": 0,
        "ContactOwner": a.id, "RoleId": 2, "RoleName": "Sales", "RoleDescription": "Sales representative", "RoleType": "Employee",
        "Licenses": licences,
        "FullName": a.full_name, "EMailAddress": a.email,
        "FunctionRights": rights,
        "EjUserId": 0, "EjAccessLevel": 0, "EjUserStatus": "Unknown", "ProvidedCredentials": "", "SecondaryGroups": [],
        "DatabaseContextIdentifier": t.context_id, "UserName": a.username,
    }))
    .into_response()
}

/// The `Associate` carrier. `Type` is the enum name: 1 `InternalAssociate` … 5 `SystemAssociate`.
pub fn associate_json(a: &Associate) -> Value {
    json!({
        "AssociateId": a.id, "Name": a.name, "PersonId": a.person_id, "Rank": a.id,
        "Tooltip": a.full_name, "Type": a.kind, "GroupIdx": if a.person_id == 0 { 0 } else { 2 },
        "FullName": a.full_name, "FormalName": a.full_name, "Deleted": false, "EjUserId": 0,
        "UserName": a.username,
    })
}

pub async fn current_associate(State(sim): State<S>, me: Caller) -> Response {
    let t = lock(&sim.tenant).clone();
    match t.associate(me.associate_id) {
        Some(a) => Json(associate_json(a)).into_response(),
        None => not_found("Associate", me.associate_id),
    }
}

fn person_json(t: &Tenant, id: i64) -> Option<Value> {
    let p = t.person(id)?;
    let c = t.contact(p.contact_id);
    let emails: Vec<Value> = p.email.iter().map(|e| json!({"Value": e, "StrippedValue": e, "Description": "", "Rank": 1})).collect();
    Some(json!({
        "PersonId": p.id, "Firstname": p.first_name, "Lastname": p.last_name,
        "FullName": format!("{} {}", p.first_name, p.last_name), "Title": p.title,
        "Emails": emails,
        "Contact": c.map(|c| json!({"ContactId": c.id, "Name": c.name})),
    }))
}

pub async fn person(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let t = lock(&sim.tenant).clone();
    match person_json(&t, id) {
        Some(v) => Json(v).into_response(),
        None => not_found("Person", id),
    }
}

pub async fn contact(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let t = lock(&sim.tenant).clone();
    match t.contact(id) {
        Some(c) => Json(json!({"ContactId": c.id, "Name": c.name, "Department": "", "PostalAddress": {"City": {"Value": c.city}}, "Country": {"TwoLetterISOCountry": c.country}})).into_response(),
        None => not_found("Contact", id),
    }
}

pub async fn sale(State(sim): State<S>, _me: Caller, Path((_ctx, id)): Path<(String, i64)>) -> Response {
    let t = lock(&sim.tenant).clone();
    match t.sale(id) {
        Some(s) => {
            Json(json!({"SaleId": s.id, "Heading": s.heading, "Amount": s.amount, "Contact": {"ContactId": s.contact_id}})).into_response()
        }
        None => not_found("Sale", id),
    }
}

/// `GET List/DocumentTemplate/Items`: DocumentTemplateEntity-like items.
pub async fn document_templates(State(sim): State<S>, _me: Caller) -> Response {
    let t = lock(&sim.tenant).clone();
    let items: Vec<Value> = t
        .templates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let email = d.record_type == 3;
            json!({
                "DocumentTemplateId": d.id, "Name": d.name, "Tooltip": d.name, "SaveInDb": 1,
                "Filename": if email { "template.somail" } else { "template.docx" }, "DefaultOref": "",
                "RecordType": d.record_type, "Deleted": 0, "Direction": d.direction, "AutoeventId": 0,
                "IntentId": 0, "IsDefaultPublished": false, "Rank": i + 1, "LoadTemplateFromPlugin": 0,
                "MimeType": d.mime_type, "IsInUseInGuides": false, "DocumentTypeKey": "",
                "QuoteDocType": "Unknown", "PrivacyDocType": "None",
                "EmailSubject": if email { "Follow-up" } else { "" }, "IncludeSignature": email,
                "ShowCurrents": false, "SenderEmailMode": "UseDefaultSender", "SenderEmailAddress": "",
                "InvitationDocType": "None",
            })
        })
        .collect();
    Json(items).into_response()
}

/// `GET MDOList/task`: the task types as MDO list items.
pub async fn mdo_task(State(sim): State<S>, _me: Caller) -> Response {
    let t = lock(&sim.tenant).clone();
    let items: Vec<Value> = t
        .task_types
        .iter()
        .enumerate()
        .map(|(i, x)| {
            json!({
                "Id": x.id, "Name": x.name, "ToolTip": x.name, "Deleted": false, "Rank": i + 1,
                "Type": "", "ColorBlock": 0, "IconHint": "", "Selected": false,
                "LastChanged": "2026-01-05T08:00:00", "ChildItems": [], "ExtraInfo": "", "StyleHint": "",
                "FullName": x.name,
            })
        })
        .collect();
    Json(items).into_response()
}
