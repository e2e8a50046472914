//! The OData listings `GET Appointment` and `GET Document`, which run SuperOffice's archive
//! providers FindAppointment and FindDocument. Only documented columns and operators are used
//! (`docs/en/api/archive-providers/reference/findappointment.md`, `.../finddocument.md`, the
//! restriction operators under `docs/en/api/netserver/search/odata/`), and every value is
//! decoded the ways the documentation shows it can come back: in SLIM mode a number may be a
//! JSON number, a string (`"PrimaryKey": "25"`) or an encoded display value (`[I:19]`,
//! `docs/en/api/archive-providers/encoded-values.md`). A row that cannot be decoded fails the
//! whole page with a clear error; no row is dropped silently.
//!
//! Why the columns are these (see also `docs/superoffice-conformance.md`):
//! - the ids come from the joined `int` columns (`contact/contactId`, `person/personId`,
//!   `saleId`), not from the `listAny` columns `contactId`/`personId`, which SLIM mode returns
//!   as display text;
//! - the draft text is `appointment/description` ("the text entered in the description
//!   field"); there is no top-level `description` column;
//! - the person's address is `person/email/emailAddress`, so one page carries 200 drafts with
//!   their recipients (no request per person).

use serde_json::{Map, Value};

use crate::{Error, Result};

/// Largest page requested when listing.
pub const PAGE_SIZE: usize = 200;

/// The columns of the appointment listing, in `$select` order.
pub const TASK_COLUMNS: &[&str] = &[
    "appointmentId",
    "appointment/description",
    "contact/contactId",
    "person/personId",
    "saleId",
    "person/email/emailAddress",
    "person/fullName",
    "contact/name",
];

/// `rawType` of a follow-up task: AppointmentType `inChecklist` (`docs/database/tables/enums/appointmenttype.md`).
pub const RAW_TYPE_TASK: i64 = 2;

/// Which follow-up tasks to take in: the rep's (`associateId`) open ones of one task type.
#[derive(Clone, Debug)]
pub struct AppointmentFilter {
    pub associate_id: i64,
    pub task_type_id: i64,
}

impl AppointmentFilter {
    /// The `$filter` of the intake query, with documented operators only: `associate`
    /// columns take `associateIsOneOf (…)`, `int` columns `eq`, `bool` columns `set`, and
    /// `listAny` columns (`type`, the task list entry) `oneOf (…)`.
    pub fn odata(&self) -> String {
        format!(
            "associateId associateIsOneOf ({}) and rawType eq {RAW_TYPE_TASK} and completed set false and type oneOf ({})",
            self.associate_id, self.task_type_id
        )
    }
}

/// One open follow-up task with what intake needs to make a draft of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppointmentRow {
    pub appointment_id: i64,
    /// The task's description (the GTM engine's draft).
    pub description: String,
    pub contact_id: i64,
    pub person_id: i64,
    pub sale_id: i64,
    /// The person's email address, if the person has one.
    pub email: Option<String>,
    pub person_name: String,
    pub company: String,
}

/// One page of a listing: the rows as JSON objects and the link to the next page, if any.
pub(crate) struct Page {
    pub rows: Vec<Map<String, Value>>,
    pub next_link: Option<String>,
}

/// Reads `{"odata.metadata": …, "odata.nextLink": …, "value": [ {…}, … ]}`.
pub(crate) fn page(bytes: &[u8], what: &str) -> Result<Page> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::Decode(format!("{what}: {e}")))?;
    let rows = v
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Decode(format!("{what}: the answer has no \"value\" list of rows")))?
        .iter()
        .enumerate()
        .map(|(i, r)| r.as_object().cloned().ok_or_else(|| Error::Decode(format!("{what}: row {i} is not an object"))))
        .collect::<Result<Vec<_>>>()?;
    let next_link = match v.get("odata.nextLink") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(Error::Decode(format!("{what}: odata.nextLink is not a string: {other}"))),
    };
    Ok(Page { rows, next_link })
}

/// A whole number as SuperOffice may write it: `25`, `"25"`, `"[I:25]"`; an empty or absent
/// value is 0 (no link).
pub(crate) fn int(row: &Map<String, Value>, column: &str) -> std::result::Result<i64, String> {
    match row.get(column) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{column} is not a whole number: {n}")),
        Some(Value::String(s)) => {
            let t = s.trim();
            let t = t.strip_prefix("[I:").and_then(|x| x.strip_suffix(']')).unwrap_or(t);
            if t.is_empty() {
                return Ok(0);
            }
            t.parse().map_err(|_| format!("{column} is not a whole number: {s:?}"))
        }
        Some(other) => Err(format!("{column} is not a whole number: {other}")),
    }
}

/// A text value; absent or null is empty.
pub(crate) fn text(row: &Map<String, Value>, column: &str) -> std::result::Result<String, String> {
    match row.get(column) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!("{column} is not text: {other}")),
    }
}

impl AppointmentRow {
    /// Decodes one row of the intake query. Errors name the row and the column.
    pub(crate) fn from_row(row: &Map<String, Value>) -> std::result::Result<Self, String> {
        let appointment_id = int(row, "appointmentId")?;
        if appointment_id <= 0 {
            // The row's column names, not its values: the error reaches the banner and the log.
            let columns: Vec<&str> = row.keys().map(String::as_str).collect();
            return Err(format!("a row without an appointmentId (columns: {})", columns.join(", ")));
        }
        let at = |e: String| format!("appointment {appointment_id}: {e}");
        let email = text(row, "person/email/emailAddress").map_err(at)?;
        Ok(AppointmentRow {
            appointment_id,
            description: text(row, "appointment/description").map_err(at)?,
            contact_id: int(row, "contact/contactId").map_err(at)?,
            person_id: int(row, "person/personId").map_err(at)?,
            sale_id: int(row, "saleId").map_err(at)?,
            email: Some(email.trim().to_owned()).filter(|e| !e.is_empty()),
            person_name: text(row, "person/fullName").map_err(at)?.trim().to_owned(),
            company: text(row, "contact/name").map_err(at)?.trim().to_owned(),
        })
    }
}

/// The value stored in a document's `OurRef` to find it again by its Message-ID: FindDocument
/// cannot search `ExternalRef` (no such column), but it can search `ourref`, a String(99)
/// (`docs/database/tables/document.md`), too short for every Message-ID. So the reference is
/// `so-outbox:` and the first 32 hex digits of the Message-ID's SHA-256 (42 characters).
/// A document found by it is only used after `GET Document/{id}` shows both this reference
/// and the Message-ID itself in `ExternalRef`.
pub fn archive_ref(message_id: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(message_id.as_bytes());
    let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("so-outbox:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn numbers_in_every_documented_shape() {
        let r = row(json!({"a": 25, "b": "25", "c": "[I:25]", "d": "", "e": null}));
        assert_eq!(["a", "b", "c", "d", "e", "missing"].map(|c| int(&r, c)), [Ok(25), Ok(25), Ok(25), Ok(0), Ok(0), Ok(0)]);
        assert!(int(&row(json!({"a": "Bäckerei"})), "a").is_err(), "display text where an id belongs is an error");
        assert!(int(&row(json!({"a": 2.5})), "a").is_err());
    }

    #[test]
    fn an_intake_row_decodes_or_says_why_not() {
        let good = row(json!({
            "PrimaryKey": "5001", "EntityName": "appointment", "appointmentId": "5001",
            "appointment/description": "Subject: Hi\n\nBody", "contact/contactId": "[I:12]", "person/personId": 34,
            "saleId": "", "person/email/emailAddress": " a@b.example ", "person/fullName": "Ann", "contact/name": "Acme"
        }));
        let r = AppointmentRow::from_row(&good).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.appointment_id, r.contact_id, r.person_id, r.sale_id, r.email.as_deref(), r.company.as_str()),
            (5001, 12, 34, 0, Some("a@b.example"), "Acme")
        );
        let bad = row(json!({"appointmentId": 7, "contact/contactId": "Acme GmbH"}));
        let e = AppointmentRow::from_row(&bad).err().unwrap_or_default();
        assert!(e.contains("appointment 7") && e.contains("contact/contactId"), "{e}");
        assert!(AppointmentRow::from_row(&row(json!({"appointment/description": "x"}))).is_err(), "no id, no draft");
    }

    #[test]
    fn pages_and_their_links() {
        let p = page(br#"{"odata.metadata":"m","odata.nextLink":"Appointment?$skip=200","value":[{"appointmentId":1}]}"#, "t")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.rows.len(), p.next_link.as_deref()), (1, Some("Appointment?$skip=200")));
        assert!(page(br#"{"value":"none"}"#, "t").is_err());
        assert!(page(br#"{"value":[1]}"#, "t").is_err());
        assert!(page(br#"{"value":[],"odata.nextLink":5}"#, "t").is_err());
        assert!(page(br#"{"value":[],"odata.nextLink":""}"#, "t").is_ok_and(|p| p.next_link.is_none()));
    }

    #[test]
    fn the_filter_uses_documented_operators() {
        let f = AppointmentFilter { associate_id: 18, task_type_id: 7 }.odata();
        assert_eq!(f, "associateId associateIsOneOf (18) and rawType eq 2 and completed set false and type oneOf (7)");
        let r = archive_ref("<0123456789abcdef0123456789abcdef@a-rather-long-subdomain.of-a-company.example>");
        assert!(r.len() <= 99 && r.starts_with("so-outbox:") && r.len() == 42, "{r}");
        assert_ne!(r, archive_ref("<other@x.example>"));
    }
}
