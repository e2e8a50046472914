//! The archive-backed OData listings `GET /{ctx}/api/v1/Appointment` (archive provider
//! FindAppointment) and `GET /{ctx}/api/v1/Document` (FindDocument), strict after SuperOffice's
//! public documentation (repo SuperOfficeDocs/superoffice-docs; pages cited below and beside
//! each rule). What a client can rely on, exactly:
//!
//! **Query options** (`.../rest/Appointment/v1AppointmentEntity_GetAll.md`,
//! `.../rest/Document/v1DocumentEntity_GetAll.md`): `$select`, `$filter`, `$orderBy`,
//! `$entities`, `$top`, `$skip`, `$mode`, `$options`, `$context`, `$format`, `$jsonSafe`,
//! `$output`; names are matched without regard to case (the pages write both `$orderBy` and
//! `$orderby`). Any other `$` option, or one given twice, is refused with 400. `$options` and
//! `$context` are accepted and ignored.
//!
//! **Columns**: only those of the provider's page (`docs/findappointment.tsv`,
//! `docs/finddocument.tsv`), matched without regard to case, answered under the page's
//! spelling. A column the page does not list, in `$select`, `$filter` or `$orderBy`, is refused
//! with HTTP 400 and SuperOffice's error body (`docs/en/api/reference/restful/rest/index.md`):
//! `{"Error": true, "ErrorType": "SoArchiveException", "ErrorMessage": "Unknown column 'x' …",
//! "ErrorSource": "SuperOffice.Services.Implementation"}`. No page documents the status or the
//! ErrorType of an archive error; both are the simulator's choice. `$orderBy` takes only columns
//! the page marks as orderable. Columns that are documented but hold no simulated data answer
//! an empty value of their type. Without `$select` a row carries only the provider's id column
//! (`appointmentId` / `documentId`); undocumented, the simulator's choice.
//!
//! **`$filter`**: see `parse.rs`. Operators per restriction type come from
//! `docs/odata-operators.tsv`; an operator the type does not take is a 400. E.g. `type` and
//! `contactId`/`personId` are `listAny` in FindAppointment (`type oneOf (7)`, not `type eq 7`),
//! `associateId` is `associate` (`associateId currentAssociate` or `associateIsOneOf (18)`),
//! `completed` is `bool` (`completed set false`), `rawType` is `int` (`rawType eq 2`), string
//! columns take `is`/`eq`/`contains`/`begins` … with values in single quotes.
//!
//! **Rows** (`docs/en/api/search/odata/using-filters.md`, the only real-looking response
//! examples): SLIM mode (the default; `$mode=Slim`, and `Wide`, which no page explains) gives
//! `{"PrimaryKey": "25", "EntityName": "appointment", <column>: <value>, …}` with
//! `PrimaryKey` a string, as in that example. Values, per `$output` ("Return Logical or Display
//! values in SLIM mode. Logical returns true/false for booleans, Display returns icon hints.
//! Dates are always returned as ISO strings."):
//! - `$output=Display` (the default; the page's SLIM example, without `$output`, shows a list
//!   column as its text: `"category": "Leverandør"`): strings as they are; ints and decimals as
//!   decimal strings (`"18"`); list (`listAny`) and associate columns as their display text
//!   (`contactId` → the company name, `personId` → the person's full name, `type` → the task
//!   type's name, `associateId` → the associate's login name); booleans as icon hints
//!   (`"[ICON:checked]"`/`"[ICON:unchecked]"`, strings of the simulator's making); dates as
//!   ISO strings `"2026-11-02T09:00:00"` (`""` when empty).
//! - `$output=Logical`: ints and decimals as JSON numbers, list and associate columns as their
//!   id (a JSON number), booleans as `true`/`false`, strings and ISO dates as strings. That ids
//!   come back in Logical mode is an inference from "Logical" (only booleans are described).
//! - `$mode=Full`: `{"PrimaryKey": 25, "EntityName", "StyleHint", "LinkHint", "TableRight":
//!   {"Mask", "Reason"}, "Column": {<column>: {"RawValue", "DisplayValue", "LinkHint",
//!   "TooltipHint"}}}`; `RawValue` as in Logical, `DisplayValue` encoded as
//!   `docs/en/api/archive-providers/encoded-values.md` says (`[I:18]`, `[F:1.5]`,
//!   `[DT:11/02/2026 09:00:00]`, `[D:02.11.2026]`; strings and list texts plain).
//! - `$jsonSafe=true`: "Replace all unsafe characters with _ underscore" in the output names:
//!   every character but ASCII letters, digits and `_` becomes `_`
//!   (`person/email/emailAddress` → `person_email_emailAddress`).
//!
//! **Paging**: `$skip` skips rows; `$top` is the page size, 200 when absent, at most 1000 (the
//! Archive agent's page: "Page size, which should be kept reasonable (say, no more than 1000
//! rows at a time)", `docs/api/reference/soap/Services85/Archive/GetArchiveListByColumnsWithHeaderWithContext2.md`);
//! neither number is documented for REST. Rows are in `appointmentId`/`documentId` order unless
//! `$orderBy` says otherwise. When rows remain after the page, `"odata.nextLink"` is present:
//! by default a link **relative to the request URL** — `Appointment?$select=…&$skip=200`, with
//! every option of the request kept in order and `$skip` set — because the generated pages'
//! only example is a bare relative token (`"odata.nextLink": "nesciunt"`); tests can switch to
//! absolute links (`SimHandle::set_absolute_next_links`). On the last page the member is absent.
//! `"odata.metadata"` is absolute, `{base}/…/api/v1/archive$metadata`, as in the pages' sample.
//!
//! **Visibility**: every row of the tenant is visible to every caller (the simulator has no
//! private appointments or VisibleFor data).

mod columns;
mod dates;
mod eval;
mod parse;

use std::cmp::Ordering;

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

pub use columns::{find_appointment, find_document, Provider};
pub use eval::Cell;

use crate::reqlog::ODataUse;

/// Page size when `$top` is absent (undocumented; the simulator's choice).
pub const DEFAULT_TOP: usize = 200;
/// Largest page (see the module header).
pub const MAX_TOP: usize = 1000;

/// A refused listing: SuperOffice's error body with this status and type.
#[derive(Debug)]
pub struct ODataError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
}

impl ODataError {
    pub fn new(status: StatusCode, error_type: &'static str, message: String) -> Self {
        ODataError { status, error_type, message }
    }
    /// A 400 from the archive layer. No documentation page shows an archive error's
    /// ErrorType; `SoArchiveException` is the simulator's name for it.
    pub fn archive(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "SoArchiveException", message)
    }
    pub fn unknown_column(p: &Provider, name: &str) -> Self {
        Self::archive(format!("Unknown column '{name}' in archive provider {} (see {})", p.name, p.page))
    }
}

/// One row: its primary key and the values the simulator has for some columns (by the
/// page's spelling); other documented columns are empty.
pub struct Row {
    pub key: i64,
    pub cells: Vec<(&'static str, Cell)>,
}

impl Row {
    fn get(&self, col: &columns::Column) -> Cell {
        self.cells.iter().find(|(n, _)| *n == col.name).map(|(_, c)| c.clone()).unwrap_or_else(|| Cell::empty(col.kind))
    }
}

/// Where the request came from, for links and `currentAssociate`.
pub struct Request<'a> {
    /// The URI as the client sent it (node prefix included).
    pub uri: &'a Uri,
    pub base_url: &'a str,
    pub absolute_links: bool,
    pub associate_id: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Display,
    Logical,
    Full,
}

const OPTIONS: &[&str] =
    &["$select", "$filter", "$orderby", "$entities", "$top", "$skip", "$mode", "$options", "$context", "$format", "$jsonsafe", "$output"];

/// Answers a listing of `rows` from `provider`; `default_select` when `$select` is absent.
pub fn list(provider: &'static Provider, rows: Vec<Row>, default_select: &[&str], req: Request<'_>) -> Response {
    let mut used = ODataUse { provider: provider.name.to_owned(), ..ODataUse::default() };
    let mut resp = match answer(provider, rows, default_select, &req, &mut used) {
        Ok(body) => Json(body).into_response(),
        Err(e) => super::so_error(e.status, e.error_type, &e.message),
    };
    resp.extensions_mut().insert(used);
    resp
}

fn answer(
    provider: &'static Provider,
    mut rows: Vec<Row>,
    default_select: &[&str],
    req: &Request<'_>,
    used: &mut ODataUse,
) -> Result<Value, ODataError> {
    let pairs: Vec<(String, String)> =
        req.uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let mut opt: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (k, v) in &pairs {
        let Some(name) = OPTIONS.iter().find(|o| o.eq_ignore_ascii_case(k)) else {
            if k.starts_with('$') {
                return Err(ODataError::archive(format!("Unknown query option '{k}' (documented: {})", OPTIONS.join(", "))));
            }
            continue;
        };
        if opt.insert(name, v.as_str()).is_some() {
            return Err(ODataError::archive(format!("Query option '{k}' is given twice")));
        }
    }

    // $select
    let select: Vec<String> = match opt.get("$select").map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()) {
        Some(list) if !list.is_empty() => list.into_iter().map(str::to_owned).collect(),
        _ => default_select.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut selected = Vec::new();
    for name in &select {
        used.select.push(name.clone());
        if name.contains('(') || name.contains(':') && !name.contains('/') {
            return Err(ODataError::new(
                StatusCode::NOT_IMPLEMENTED,
                "SoNotImplemented",
                format!("Aggregation in $select ('{name}') is not simulated"),
            ));
        }
        selected.push(provider.column(name).ok_or_else(|| ODataError::unknown_column(provider, name))?);
    }

    // $filter
    let filter = match opt.get("$filter").map(|f| f.trim()).filter(|f| !f.is_empty()) {
        Some(f) => Some(parse::parse(f, provider, used)?),
        None => None,
    };

    // $orderBy
    let mut order = Vec::new();
    for part in opt.get("$orderby").map(|o| o.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()).unwrap_or_default() {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or("");
        used.order_by.push(name.to_owned());
        let col = provider.column(name).ok_or_else(|| ODataError::unknown_column(provider, name))?;
        if !col.orderable {
            return Err(ODataError::archive(format!(
                "Column '{}' cannot be used in $orderBy ({} does not mark it as orderable)",
                col.name, provider.page
            )));
        }
        let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(ODataError::archive(format!("Bad sort direction '{other}' in $orderBy"))),
        };
        order.push((col, desc));
    }

    // $entities
    if let Some(e) = opt.get("$entities") {
        for ent in e.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !ent.eq_ignore_ascii_case(provider.entity) {
                return Err(ODataError::archive(format!("{} has no entity '{ent}' (supported: \"{}\")", provider.name, provider.entity)));
            }
        }
    }

    let count = |name: &str| -> Result<Option<usize>, ODataError> {
        opt.get(name)
            .map(|v| v.trim().parse::<usize>().map_err(|_| ODataError::archive(format!("{name} must be a whole number ≥ 0, not '{v}'"))))
            .transpose()
    };
    let top = count("$top")?.unwrap_or(DEFAULT_TOP).min(MAX_TOP);
    let skip = count("$skip")?.unwrap_or(0);
    let full = match opt.get("$mode").map(|m| m.to_ascii_lowercase()) {
        None => false,
        Some(m) if m == "slim" || m == "wide" => false,
        Some(m) if m == "full" => true,
        Some(m) => return Err(ODataError::archive(format!("$mode must be Slim, Wide or Full, not '{m}'"))),
    };
    let mode = match (full, opt.get("$output").map(|m| m.to_ascii_lowercase())) {
        (true, _) => Mode::Full,
        (false, None) => Mode::Display,
        (false, Some(o)) if o == "display" => Mode::Display,
        (false, Some(o)) if o == "logical" => Mode::Logical,
        (_, Some(o)) => return Err(ODataError::archive(format!("$output must be Logical or Display, not '{o}'"))),
    };
    match opt.get("$format").map(|f| f.to_ascii_lowercase()) {
        None => {}
        Some(f) if f == "json" => {}
        Some(f) if f == "xml" => {
            return Err(ODataError::new(StatusCode::NOT_IMPLEMENTED, "SoNotImplemented", "XML output is not simulated".into()))
        }
        Some(f) => return Err(ODataError::archive(format!("$format must be JSON or XML, not '{f}'"))),
    }
    let json_safe = match opt.get("$jsonsafe").map(|f| f.to_ascii_lowercase()) {
        None => false,
        Some(b) if b == "true" => true,
        Some(b) if b == "false" => false,
        Some(b) => return Err(ODataError::archive(format!("$jsonSafe must be true or false, not '{b}'"))),
    };

    // Filter, order, page.
    let ctx = eval::Ctx { associate_id: req.associate_id, today: time::OffsetDateTime::now_utc().date() };
    if let Some(f) = &filter {
        rows.retain(|r| eval::matches(f, &|c| r.get(c), &ctx));
    }
    rows.sort_by_key(|r| r.key);
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            order.iter().fold(Ordering::Equal, |acc, (col, desc)| {
                acc.then_with(|| {
                    let o = a.get(col).compare(&b.get(col));
                    if *desc {
                        o.reverse()
                    } else {
                        o
                    }
                })
            })
        });
    }
    let total = rows.len();
    let name = |n: &str| {
        if json_safe {
            n.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
        } else {
            n.to_owned()
        }
    };
    let value: Vec<Value> = rows
        .iter()
        .skip(skip)
        .take(top)
        .map(|r| {
            let mut cols = Map::new();
            for c in &selected {
                let cell = r.get(c);
                let v = match mode {
                    Mode::Display => cell.display(),
                    Mode::Logical => cell.logical(),
                    Mode::Full => cell.full(),
                };
                cols.insert(name(&c.name), v);
            }
            if mode == Mode::Full {
                json!({
                    "PrimaryKey": r.key, "EntityName": provider.entity, "StyleHint": "",
                    "LinkHint": format!("nav={e}&{e}_id={k}", e = provider.entity, k = r.key),
                    "TableRight": {"Mask": 1, "Reason": ""}, "Column": cols,
                })
            } else {
                let mut row = Map::new();
                row.insert("PrimaryKey".into(), json!(r.key.to_string()));
                row.insert("EntityName".into(), json!(provider.entity));
                row.extend(cols);
                Value::Object(row)
            }
        })
        .collect();
    let path = req.uri.path();
    let api = path.find("/api/v1").map(|i| &path[..i]).unwrap_or("");
    let mut body = json!({ "odata.metadata": format!("{}{api}/api/v1/archive$metadata", req.base_url), "value": value });
    if top > 0 && skip + top < total {
        body["odata.nextLink"] = json!(next_link(req, &pairs, skip + top));
    }
    Ok(body)
}

/// The request's own URL with `$skip` set to `next` (relative to the request by default).
fn next_link(req: &Request<'_>, pairs: &[(String, String)], next: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut skip_set = false;
    for (k, v) in pairs {
        let v = if k.eq_ignore_ascii_case("$skip") {
            skip_set = true;
            next.to_string()
        } else {
            v.clone()
        };
        parts.push(format!("{}={}", encode(k), encode(&v)));
    }
    if !skip_set {
        parts.push(format!("$skip={next}"));
    }
    let query = parts.join("&");
    let path = req.uri.path();
    if req.absolute_links {
        format!("{}{path}?{query}", req.base_url)
    } else {
        format!("{}?{query}", path.rsplit('/').next().unwrap_or(path))
    }
}

/// Percent-encoding for a query component: unreserved characters and `$ , / : ( ) '` stay.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$,/:()'".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        (1..=5)
            .map(|i| Row {
                key: i,
                cells: vec![
                    ("appointmentId", Cell::Int(i)),
                    ("rawType", Cell::Int(if i % 2 == 0 { 2 } else { 1 })),
                    ("type", Cell::Item { id: 7, text: "GTM email draft".into() }),
                    ("associateId", Cell::Item { id: 18, text: "ABE".into() }),
                    ("completed", Cell::Bool(i == 4)),
                    ("text", Cell::Text(format!("Subject: {i}"))),
                    ("date", Cell::date("2026-11-02T09:00:00")),
                ],
            })
            .collect()
    }

    fn run(query: &str) -> (StatusCode, Value) {
        let uri: Uri = format!("/Cust1/api/v1/Appointment?{query}").parse().expect("uri");
        let req = Request { uri: &uri, base_url: "http://sim", absolute_links: false, associate_id: 18 };
        let mut used = ODataUse::default();
        match answer(find_appointment(), rows(), &["appointmentId"], &req, &mut used) {
            Ok(v) => (StatusCode::OK, v),
            Err(e) => (e.status, json!({"ErrorType": e.error_type, "ErrorMessage": e.message})),
        }
    }

    #[test]
    fn documented_queries_are_answered() {
        let (s, v) = run("$select=appointmentId,text,type&$filter=associateId%20currentAssociate%20and%20rawType%20eq%202%20and%20completed%20set%20false%20and%20type%20oneOf%20(7)");
        assert_eq!(s, StatusCode::OK, "{v}");
        let value = v["value"].as_array().expect("value");
        assert_eq!(value.len(), 1);
        assert_eq!(
            value[0],
            json!({"PrimaryKey": "2", "EntityName": "appointment", "appointmentId": "2", "text": "Subject: 2", "type": "GTM email draft"})
        );
        let (_, v) = run("$select=appointmentId,type,completed&$output=Logical&$filter=appointmentId%20between%20(2,3)");
        assert_eq!(v["value"][0]["type"], 7);
        assert_eq!(v["value"][1]["completed"], false);
        let (_, v) = run("$select=appointmentId,date&$mode=Full&$top=1&$orderBy=appointmentId%20desc");
        assert_eq!(v["value"][0]["Column"]["date"]["DisplayValue"], "[DT:11/02/2026 09:00:00]");
        assert_eq!(v["value"][0]["PrimaryKey"], 5);
        assert_eq!(v["odata.nextLink"], "Appointment?$select=appointmentId,date&$mode=Full&$top=1&$orderBy=appointmentId%20desc&$skip=1");
        let (_, v) = run("$filter=text%20contains%20'subject:%203'%20or%20startswith(text,'Subject:%201')");
        assert_eq!(v["value"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn undocumented_things_are_refused() {
        for (q, needle) in [
            ("$select=description", "Unknown column 'description'"),
            ("$filter=taskId%20eq%207", "Unknown column 'taskId'"),
            ("$filter=type%20eq%207", "not valid for column 'type'"),
            ("$filter=completed%20eq%200", "not valid for column 'completed'"),
            ("$filter=appointmentId%20le%205", "fails"),
            ("$filter=text%20is%20'a''b'", "Unexpected"),
            ("$filter=rawType%20eq%20'2'", "whole number"),
            ("$filter=time%20eq%201", "no restriction type"),
            ("$orderBy=time", "orderable"),
            ("$inlineCount=true", "Unknown query option"),
            ("$top=-1", "$top"),
            ("$entities=person", "no entity"),
        ] {
            let (s, v) = run(q);
            assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
            assert!(v["ErrorMessage"].as_str().is_some_and(|m| m.contains(needle)), "{q}: {v}");
            assert_eq!(v["ErrorType"], "SoArchiveException");
        }
    }
}
