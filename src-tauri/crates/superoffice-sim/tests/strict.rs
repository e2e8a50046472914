//! The strict simulator: OData listings that accept only documented columns, operators and
//! value forms; the Native app redirect rule; the EMail agent's refusals and its delivery to
//! the mailbox; document refs; and the request log the conformance tests walk.
// Some tests steer the simulator over `/__sim/`: built with the `control` feature (on in every
// workspace build, through the app's test dependency).
#![cfg(feature = "control")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use superoffice_sim::SimHandle;

/// `GET {rest}/{path}` with query pairs, as the rep.
async fn list(sim: &SimHandle, token: &str, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = http().get(rest_url(sim, path)).query(query).bearer_auth(token).send().await.expect("list");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const OPEN_TASKS: &str = "associateId currentAssociate and rawType eq 2 and completed set false and type oneOf (7)";
const TASK_COLUMNS: &str = "appointmentId,text,person/personId,person/email/emailAddress,person/fullName,contact/name,contactId,saleId";

#[tokio::test]
async fn unknown_columns_and_wrong_operators_are_refused_with_the_error_body() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    for (path, query, needle) in [
        ("Appointment", vec![("$select", "appointmentId,description")], "Unknown column 'description'"),
        ("Appointment", vec![("$filter", "taskId eq 7")], "Unknown column 'taskId'"),
        ("Appointment", vec![("$orderBy", "nosuch")], "Unknown column 'nosuch'"),
        ("Document", vec![("$filter", "externalRef eq '<a@b>'")], "Unknown column 'externalRef'"),
        ("Document", vec![("$select", "documentId,header")], "Unknown column 'header'"),
        ("Appointment", vec![("$filter", "type eq 7")], "not valid for column 'type'"),
        ("Appointment", vec![("$filter", "associateId eq 18")], "not valid for column 'associateId'"),
        ("Appointment", vec![("$filter", "completed eq false")], "not valid for column 'completed'"),
        ("Appointment", vec![("$filter", "contactId eq 2")], "not valid for column 'contactId'"),
        ("Appointment", vec![("$filter", "rawType eq '2'")], "whole number"),
        ("Document", vec![("$filter", "ourref eq abc")], "single quotes"),
    ] {
        let (s, v) = list(&sim, &t.access, path, &query).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query:?}: {v}");
        assert_so_error(&v);
        assert_eq!(v["ErrorType"], "SoArchiveException", "{v}");
        assert!(v["ErrorMessage"].as_str().is_some_and(|m| m.contains(needle)), "{query:?}: {v}");
    }
}

#[tokio::test]
async fn the_reps_open_tasks_with_the_persons_email_in_one_page() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    // One of the drafts is done: it must not be listed.
    let (s, _) = call(
        &sim,
        &t.access,
        Method::PATCH,
        "Appointment/5003",
        Some(json!([{"op": "replace", "path": "/Completed", "value": "Completed"}])),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let q = [("$select", TASK_COLUMNS), ("$filter", OPEN_TASKS), ("$orderBy", "appointmentId"), ("$top", "200")];
    let (s, page) = list(&sim, &t.access, "Appointment", &q).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let rows = page["value"].as_array().expect("value");
    assert_eq!(rows.len(), 24);
    assert!(page.get("odata.nextLink").is_none(), "one page: {page}");
    assert!(page["odata.metadata"].as_str().is_some_and(|m| m.ends_with("/api/v1/archive$metadata")));
    let first = &rows[0];
    assert_eq!(first["PrimaryKey"], "5000");
    assert_eq!(first["EntityName"], "appointment");
    assert_eq!(first["person/email/emailAddress"], "jonas.weber@mueller-logistik.example");
    assert_eq!(first["person/fullName"], "Jonas Weber");
    assert_eq!(first["contact/name"], "Müller Logistik GmbH");
    assert_eq!(first["contactId"], "Müller Logistik GmbH", "SLIM display: a list column shows its text");
    assert_eq!(first["person/personId"], "2");
    assert!(first["text"].as_str().is_some_and(|d| d.starts_with("Subject: ")));
    assert!(!rows.iter().any(|r| r["appointmentId"] == "5003"));
    assert_eq!(rows.iter().filter(|r| r["person/email/emailAddress"] == "").count(), 2, "two persons have no address");
    // The same with the owner named by id and the joined id columns.
    let q = [
        ("$select", "appointmentId,appointment/description,contact/contactId,person/personId,saleId,person/email/emailAddress"),
        ("$filter", "associateId associateIsOneOf (18) and rawType eq 2 and completed set false and type oneOf (7)"),
        ("$top", "200"),
    ];
    let (s, page) = list(&sim, &t.access, "Appointment", &q).await;
    assert_eq!((s, page["value"].as_array().map(Vec::len)), (StatusCode::OK, Some(24)), "{page}");
    assert_eq!(page["value"][0]["contact/contactId"], "2");
    // Logical output: ids and numbers as JSON numbers.
    let q = [("$select", "appointmentId,contactId,type,completed"), ("$filter", OPEN_TASKS), ("$output", "Logical"), ("$top", "1")];
    let (_, page) = list(&sim, &t.access, "Appointment", &q).await;
    assert_eq!(
        page["value"][0],
        json!({"PrimaryKey": "5000", "EntityName": "appointment", "appointmentId": 5000, "contactId": 2, "type": 7, "completed": false})
    );
    // $jsonSafe renames the slash paths.
    let q = [("$select", "person/email/emailAddress"), ("$jsonSafe", "true"), ("$top", "1")];
    let (_, page) = list(&sim, &t.access, "Appointment", &q).await;
    assert_eq!(page["value"][0]["person_email_emailAddress"], "jonas.weber@mueller-logistik.example");
}

#[tokio::test]
async fn next_links_page_through_450_rows() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    sim.seed_tasks(425);
    let mut url = url::Url::parse(&rest_url(&sim, "Appointment")).expect("url");
    url.query_pairs_mut().append_pair("$select", "appointmentId").append_pair("$filter", OPEN_TASKS).append_pair("$top", "200");
    let mut sizes = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    loop {
        let (s, page) = call_url(url.as_str(), &format!("Bearer {}", t.access), None, Method::GET, None).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let rows = page["value"].as_array().expect("value");
        sizes.push(rows.len());
        ids.extend(rows.iter().map(|r| r["PrimaryKey"].as_str().expect("key").to_owned()));
        match page["odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with("Appointment?") && next.contains("$skip="), "relative to the request: {next}");
                url = url.join(next).expect("join");
            }
            None => break,
        }
    }
    assert_eq!(sizes, vec![200, 200, 50]);
    assert_eq!(ids.len(), 450);
}

/// The authorize page for `redirect_uri`.
async fn authorize(sim: &SimHandle, redirect_uri: &str) -> (StatusCode, String) {
    let resp = http()
        .get(format!("{}/login/common/oauth/authorize", sim.base_url()))
        .query(&[
            ("client_id", sim.client().client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
        ])
        .send()
        .await
        .expect("authorize");
    (resp.status(), resp.text().await.expect("page"))
}

#[tokio::test]
async fn the_native_app_redirect_rule_allows_a_bare_port_only() {
    let sim = sim().await;
    assert_eq!(sim.redirect_rules(), vec![superoffice_sim::NATIVE_APP_REDIRECT_RULE.to_owned()]);
    for refused in ["http://127.0.0.1:5555/callback", "http://127.0.0.1:5555/", "http://localhost:5555"] {
        let (s, page) = authorize(&sim, refused).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{refused}");
        assert!(page.contains("InvalidRedirectUrl"), "{page}");
    }
    let (s, page) = authorize(&sim, "http://127.0.0.1:5555").await;
    assert_eq!(s, StatusCode::OK);
    let rid = page.split("name=\"request_id\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("request_id");
    let resp = http()
        .post(format!("{}/login/common/oauth/authorize", sim.base_url()))
        .form(&[("request_id", rid), ("decision", "allow")])
        .send()
        .await
        .expect("consent");
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("redirect").to_owned();
    let target = url::Url::parse(&location).expect("url");
    assert_eq!((target.path(), target.port()), ("/", Some(5555)), "the browser requests GET /?code=…&state=…");
    let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    assert_eq!(pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["code", "state"]);
    let code = pairs[0].1.clone();
    // The token endpoint compares the redirect_uri as a string: a trailing slash is another URI.
    let r = token_request(&sim, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://127.0.0.1:5555/")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A registration with more rules, changed over the control API.
    let rules = json!([superoffice_sim::NATIVE_APP_REDIRECT_RULE, "http://127.0.0.1:7890/desktop-callback/"]);
    let r = http().put(format!("{}/__sim/redirect-rules", sim.base_url())).json(&rules).send().await.expect("put");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(authorize(&sim, "http://127.0.0.1:7890/desktop-callback/").await.0, StatusCode::OK);
    let r = http().put(format!("{}/__sim/redirect-rules", sim.base_url())).json(&json!(["("])).send().await.expect("put");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "not a regular expression");
    assert!(sim.set_redirect_rules(vec!["^http://127.0.0.1:5555/callback$".into()]).is_ok());
    assert_eq!(authorize(&sim, "http://127.0.0.1:5555/callback").await.0, StatusCode::OK);
    assert_eq!(authorize(&sim, "http://127.0.0.1:5555").await.0, StatusCode::BAD_REQUEST);
}
