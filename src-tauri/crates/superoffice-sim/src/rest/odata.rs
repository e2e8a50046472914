//! The OData-style listing shared by `GET Appointment` and `GET Document`: a tiny `$filter`
//! (`column eq|ne value` joined by `and`), `$top`/`$skip` paging and `odata.nextLink`.

use std::collections::HashMap;

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A tiny OData `$filter`: clauses `column eq|ne value` joined by `and`.
pub fn matches_filter(filter: &str, get: &dyn Fn(&str) -> Option<Value>) -> Result<bool, String> {
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

pub fn odata_page(uri: &axum::http::Uri, base_url: &str, q: &HashMap<String, String>, rows: Vec<Value>, entity: &str) -> Response {
    let top = q.get("$top").and_then(|v| v.parse::<usize>().ok()).unwrap_or(200).clamp(1, 1000);
    let skip = q.get("$skip").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(skip).take(top).collect();
    let mut body = json!({ "odata.metadata": format!("{base_url}{}/$metadata", uri.path()), "value": page });
    if skip + top < total {
        let mut next = url::Url::parse(&format!("{base_url}{}", uri.path()))
            .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!()));
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
