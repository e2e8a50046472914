//! The REST side per permission profile: what the signed-in rep may do under the demo (seed)
//! profile and the others, the new endpoints' shapes, and switching profiles at run time.
// Some tests steer the simulator over `/__sim/`: built with the `control` feature (on in every
// workspace build, through the app's test dependency).
#![cfg(feature = "control")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn the_demo_is_the_seed_situation_for_the_rep() {
    let sim = sim().await;
    assert_eq!(sim.profile().name, "seed-feb-2026");
    for name in ["full", "seed-feb-2026", "no-inbox", "no-archive-rights", "maintenance"] {
        assert!(sim.profile_names().iter().any(|n| n == name), "{name}");
    }
    let t = sign_in(&sim).await;
    let (s, p) = call(&sim, &t.access, Method::GET, "User/currentPrincipal", None).await;
    assert_eq!((s, p["UserType"].as_str(), p["AssociateId"].as_i64()), (StatusCode::OK, Some("InternalAssociate"), Some(18)));
    assert_eq!(p["EMailAddress"], "anna.berger@roboplanet.example");
    assert!(!p["Licenses"].as_array().expect("licences").iter().any(|l| l["Name"] == "Marketing User"));
    let (s, v) = call(&sim, &t.access, Method::POST, "Agents/EMail/GetCurrentAccount", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_so_error(&v);
    let (s, _) = call(&sim, &t.access, Method::POST, "Agents/EMail/Send", Some(json!({"Emails": []}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) =
        call(&sim, &t.access, Method::POST, "Agents/CRMScript/ExecuteScriptByString", Some(json!({"Script": "print(\"x\");"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_so_error(&v);
    let (s, _) = call(&sim, &t.access, Method::POST, "Shipment", Some(json!({}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no documented REST operation /Shipment");
    let (s, _) = call(&sim, &t.access, Method::GET, "Associate/Me", None).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let (s, d) =
        call(&sim, &t.access, Method::POST, "Document", Some(json!({"Header": "h", "Name": "a.eml", "Contact": {"ContactId": 2}}))).await;
    assert_eq!(s, StatusCode::OK, "documented: 200 with the entity");
    assert!(d["DocumentId"].as_i64().is_some_and(|id| id > 0));
    let (s, lic) = call(&sim, &t.access, Method::POST, "Agents/License/GetUserLicenses", Some(json!({"AssociateId": 18}))).await;
    assert_eq!(s, StatusCode::OK);
    let modules = lic[0]["RestrictedModuleLicenses"].as_array().expect("modules");
    let marketing = modules.iter().find(|m| m["Name"] == "Marketing User").expect("marketing module");
    assert_eq!(marketing["Assigned"], false);
    for k in [
        "ModuleLicenseId",
        "Description",
        "CanAssign",
        "Total",
        "Free",
        "InUse",
        "Unrestricted",
        "IsHidden",
        "PrerequisiteModuleName",
        "SortOrder",
        "ExtraFlags",
    ] {
        assert!(!marketing[k].is_null(), "{k}");
    }
}

#[tokio::test]
async fn full_profile_grants_the_agents_and_records_agent_email() {
    let sim = sim().await;
    sim.set_profile("full").expect("full");
    let t = sign_in(&sim).await;
    let (s, acc) = call(&sim, &t.access, Method::POST, "Agents/EMail/GetCurrentAccount", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(acc["EMailAddress"], "anna.berger@roboplanet.example");
    assert_eq!(acc["AssociateId"], 18);
    for k in [
        "EMailAccountId",
        "IncomingCredentials",
        "OutgoingCredentials",
        "AccountStatus",
        "ErrorCount",
        "ErrorReason",
        "InboxFolder",
        "SentFolder",
        "SimpleMode",
        "LastFetch",
    ] {
        assert!(acc.get(k).is_some(), "{k}");
    }
    let account = acc["EMailAccountId"].as_i64().expect("account id");
    let email = json!({"To": [{"Address": "jonas.weber@mueller-logistik.example", "Name": "Jonas Weber"}], "Subject": "Hallo", "PlainBody": "Text", "MessageID": "<m1@x>", "AccountId": account});
    let second = json!({"To": [{"Address": "k.hansen@hansen-maschinenbau.example"}], "Subject": "Zwei", "HTMLBody": "<p>2</p>", "AccountId": account});
    let (s, sent) = call(&sim, &t.access, Method::POST, "Agents/EMail/Send", Some(json!({"Emails": [email, second]}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((sent[0]["IsSent"].as_bool(), sent[0]["MessageID"].as_str()), (Some(true), Some("<m1@x>")));
    assert!(sent[1]["MessageID"].as_str().is_some_and(|m| m.starts_with('<')) && sent[1]["Sent"].is_string());
    let records: Value = http().get(format!("{}/__sim/records", sim.base_url())).send().await.expect("records").json().await.expect("json");
    let mails = records["agent_emails"].as_array().expect("agent_emails");
    assert_eq!(mails.len(), 2);
    assert_eq!(
        (mails[0]["to"][0].as_str(), mails[0]["from"].as_str()),
        (Some("jonas.weber@mueller-logistik.example"), Some("anna.berger@roboplanet.example"))
    );
    let (s, run) = call(
        &sim,
        &t.access,
        Method::POST,
        "Agents/CRMScript/ExecuteScriptByString",
        Some(json!({"Script": "print(\"x\");", "Parameters": {}})),
    )
    .await;
    assert_eq!((s, run["Output"].as_str(), run["Success"].as_bool()), (StatusCode::OK, Some("x"), Some(true)));
    for k in ["Parameters", "TraceRun", "Eventdata", "ErrorInformation", "StatusCode", "StatusMessage", "Headers"] {
        assert!(run.get(k).is_some(), "{k}");
    }
    let (_, p) = call(&sim, &t.access, Method::GET, "User/currentPrincipal", None).await;
    assert!(p["Licenses"].as_array().expect("licences").iter().any(|l| l["Name"] == "Marketing User"));
    let (s, _) = call(&sim, &t.access, Method::GET, "Shipment/12", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "an unknown route");
    let (_, yes) =
        call(&sim, &t.access, Method::POST, "Agents/Sentry/HasFunctionRight", Some(json!({"FunctionRight": "allow-archive-documents"})))
            .await;
    let (_, no) = call(&sim, &t.access, Method::POST, "Agents/Sentry/HasFunctionRight", Some(json!({"FunctionRight": "admin-all"}))).await;
    assert_eq!((yes, no), (json!(true), json!(false)));
}

#[tokio::test]
async fn no_inbox_no_archive_rights_and_maintenance() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    sim.set_profile("no-inbox").expect("no-inbox");
    let (s, acc) = call(&sim, &t.access, Method::POST, "Agents/EMail/GetCurrentAccount", None).await;
    assert_eq!((s, acc), (StatusCode::OK, Value::Null));
    let (s, v) =
        call(&sim, &t.access, Method::POST, "Agents/EMail/Send", Some(json!({"Emails": [{"To": ["a@b.example"], "Subject": "s"}]}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_so_error(&v);

    sim.set_profile("no-archive-rights").expect("no-archive-rights");
    let (s, v) = call(&sim, &t.access, Method::POST, "Document", Some(json!({"Header": "h"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_so_error(&v);

    sim.set_profile("maintenance").expect("maintenance");
    let state: Value =
        http().get(format!("{}/api/state/{}", sim.base_url(), sim.context_id())).send().await.expect("state").json().await.expect("json");
    assert_eq!((state["State"].as_str(), state["IsRunning"].as_bool()), (Some("OfflineMaintenance"), Some(false)));
    let (s, v) = call(&sim, &t.access, Method::GET, "User/currentPrincipal", None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_so_error(&v);
    // Switching back over the control API, as the binary's users do.
    let r = http().put(format!("{}/__sim/profile/full", sim.base_url())).send().await.expect("put");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(http().put(format!("{}/__sim/profile/nope", sim.base_url())).send().await.expect("put").status(), StatusCode::NOT_FOUND);
    let (s, _) = call(&sim, &t.access, Method::GET, "User/currentPrincipal", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(sim.set_profile("nope").is_err());
    // A profile posted as JSON is registered and becomes current.
    let mut custom = sim.profile();
    custom.name = "custom".into();
    custom.rep.archive_rights = false;
    let r = http().put(format!("{}/__sim/profile", sim.base_url())).json(&custom).send().await.expect("put");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.profile(), custom);
    assert!(sim.profile_names().contains(&"custom".to_owned()));
}

#[tokio::test]
async fn lists_defaults_and_new_appointments() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    let (s, a) = call(&sim, &t.access, Method::GET, "User/currentAssociate", None).await;
    assert_eq!((s, a["AssociateId"].as_i64(), a["Type"].as_str()), (StatusCode::OK, Some(18), Some("InternalAssociate")));
    for k in ["Name", "PersonId", "Rank", "Tooltip", "GroupIdx", "FullName", "FormalName", "Deleted", "EjUserId", "UserName"] {
        assert!(a.get(k).is_some(), "{k}");
    }
    let (_, templates) = call(&sim, &t.access, Method::GET, "List/DocumentTemplate/Items", None).await;
    let email = templates.as_array().expect("templates").iter().find(|x| x["RecordType"] == 3).expect("email template");
    assert_eq!(email["Direction"], 2);
    assert!(email["MimeType"].is_string() && email["EmailSubject"].is_string() && email.get("Deleted").is_some());
    let (_, tasks) = call(&sim, &t.access, Method::GET, "MDOList/task", None).await;
    let draft = tasks.as_array().expect("tasks").iter().find(|x| x["Id"] == 7).expect("task 7");
    for k in [
        "Name",
        "ToolTip",
        "Deleted",
        "Rank",
        "Type",
        "ColorBlock",
        "IconHint",
        "Selected",
        "LastChanged",
        "ChildItems",
        "ExtraInfo",
        "StyleHint",
        "FullName",
    ] {
        assert!(draft.get(k).is_some(), "{k}");
    }
    let (s, d) = call(&sim, &t.access, Method::GET, "Appointment/default", None).await;
    assert_eq!((s, d["AppointmentId"].as_i64(), d["Associate"]["AssociateId"].as_i64()), (StatusCode::OK, Some(0), Some(18)));
    let (s, created) =
        call(&sim, &t.access, Method::POST, "Appointment", Some(json!({"Contact": {"ContactId": 2}, "Description": "Call back"}))).await;
    assert_eq!(s, StatusCode::OK);
    let id = created["AppointmentId"].as_i64().expect("id");
    assert_eq!((created["Associate"]["AssociateId"].as_i64(), created["Description"].as_str()), (Some(18), Some("Call back")));
    let (s, again) = call(&sim, &t.access, Method::GET, &format!("Appointment/{id}"), None).await;
    assert_eq!((s, again["Contact"]["ContactId"].as_i64()), (StatusCode::OK, Some(2)));
    let (s, _) = call(&sim, &t.access, Method::POST, "Appointment", Some(json!({"Contact": {"ContactId": 9999}}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    sim.seed_tasks(300);
    let filter = "associateId currentAssociate and rawType eq 2 and completed set false and type oneOf (7)";
    let resp = http()
        .get(rest_url(&sim, "Appointment"))
        .query(&[("$select", "appointmentId,text"), ("$filter", filter), ("$top", "1000")])
        .bearer_auth(&t.access)
        .header("Accept-Language", "de-DE,de;q=0.9")
        .header("SO-Language", "de")
        .header("SO-Culture", "de")
        .header("SO-TimeZone", "CET")
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), StatusCode::OK, "language headers are accepted");
    let page: Value = resp.json().await.expect("json");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(325));
    assert_eq!(sim.tenant().appointments.len(), 326);
}
