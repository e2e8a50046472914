//! The EMail agent as the strict simulator plays it (refusals, the mail server's answer, the
//! message it hands to the mailbox, a lost answer), document refs, and the request log.
// Some tests steer the simulator over `/__sim/`: built with the `control` feature (on in every
// workspace build, through the app's test dependency).
#![cfg(feature = "control")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use superoffice_sim::{Fault, FaultKind};

fn email(account: i64, subject: &str, body: &str) -> Value {
    json!({"To": [{"Address": "jonas.weber@mueller-logistik.example", "Name": "Jonas Weber"}], "Subject": subject, "PlainBody": body, "AccountId": account})
}

#[tokio::test]
async fn the_email_agent_refuses_what_no_mail_server_takes_and_delivers_the_rest() {
    let sim = sim().await;
    sim.set_profile("full").expect("full");
    let t = sign_in(&sim).await;
    let (_, acc) = call(&sim, &t.access, Method::POST, "Agents/EMail/GetCurrentAccount", None).await;
    let account = acc["EMailAccountId"].as_i64().expect("account");
    let send = |emails: Value| {
        let (sim, token) = (&sim, t.access.clone());
        async move { call(sim, &token, Method::POST, "Agents/EMail/Send", Some(json!({ "Emails": emails }))).await }
    };

    let (s, v) = send(json!([email(account, "Hallo\r\nBcc: all@example.com", "Text")])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_so_error(&v);
    assert_eq!(v["ErrorType"], "SoArgumentException");
    assert!(v["ErrorMessage"].as_str().is_some_and(|m| m.contains("Subject must not contain line breaks")), "{v}");
    let mut named = email(account, "Hallo", "Text");
    named["To"][0]["Name"] = json!("Jonas\nWeber");
    assert_eq!(send(json!([named])).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(send(json!([email(0, "Hallo", "Text")])).await.0, StatusCode::BAD_REQUEST, "AccountId 0");
    assert_eq!(send(json!([email(account + 1, "Hallo", "Text")])).await.0, StatusCode::BAD_REQUEST, "another account");

    let long = format!("Hallo,\n{}\nGrüße", "x".repeat(1200));
    let (s, v) = send(json!([email(account, "Lang", &long)])).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        (v["Error"].as_bool(), v["ErrorType"].as_str(), v["ErrorMessage"].as_str()),
        (Some(true), Some("SmtpCommandException"), Some("5.5.2 Line too long"))
    );
    assert!(sim.mailbox().messages().is_empty() && sim.tenant().agent_emails.is_empty(), "nothing was sent");

    let mut ok = email(account, "Grüße aus Stuttgart", "Hallo Herr Weber,\n\nviele Grüße\nAnna Berger");
    ok["MessageID"] = json!("<draft-5000@so-outbox.example>");
    ok["HTMLBody"] = json!("");
    let (s, sent) = send(json!([ok])).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    assert_eq!(sent[0]["MessageID"], "<draft-5000@so-outbox.example>");
    let messages = sim.mailbox().messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(
        (m.mail_from.as_str(), m.rcpt_to.as_slice()),
        ("anna.berger@roboplanet.example", &["jonas.weber@mueller-logistik.example".to_owned()][..])
    );
    assert!(m.auth_user.starts_with("superoffice-email-agent:"));
    let text = String::from_utf8(m.data.clone()).expect("utf8");
    assert!(text.contains("From: Anna Berger <anna.berger@roboplanet.example>\r\n"), "{text}");
    assert!(text.contains("To: Jonas Weber <jonas.weber@mueller-logistik.example>\r\n"));
    assert!(text.contains("Subject: =?utf-8?B?"), "non-ASCII subject is encoded: {text}");
    assert!(text.contains("Message-ID: <draft-5000@so-outbox.example>\r\n") && text.contains("\r\nDate: "));
    assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
    assert!(text.contains("viele Gr=C3=BC=C3=9Fe"));
    let record = &sim.tenant().agent_emails[0];
    assert!(record.empty_html_body, "the empty HTMLBody is noted");
    assert_eq!(record.mailbox_id, m.id);
}

#[tokio::test]
async fn a_lost_answer_to_send_still_sent_the_mail() {
    let sim = sim().await;
    sim.set_profile("full").expect("full");
    let t = sign_in(&sim).await;
    let (_, acc) = call(&sim, &t.access, Method::POST, "Agents/EMail/GetCurrentAccount", None).await;
    let account = acc["EMailAccountId"].as_i64().expect("account");
    sim.inject(Fault {
        path_contains: "/Agents/EMail/Send".into(),
        method: Some("POST".into()),
        kind: FaultKind::LoseAnswer,
        times: Some(1),
    });
    let result = http()
        .post(rest_url(&sim, "Agents/EMail/Send"))
        .bearer_auth(&t.access)
        .json(&json!({"Emails": [email(account, "Hallo", "Text")]}))
        .send()
        .await
        .and_then(|r| r.error_for_status());
    let answered = match result {
        Ok(r) => r.text().await.is_ok(),
        Err(_) => false,
    };
    assert!(!answered, "the answer is lost");
    assert_eq!(sim.mailbox().messages().len(), 1, "but the mail went out");
    let entry = sim.requests().into_iter().rev().find(|r| r.path.ends_with("/Agents/EMail/Send")).expect("logged");
    assert_eq!((entry.status, entry.answered, entry.route.as_deref()), (200, false, Some("/{ctx}/api/v1/Agents/EMail/{op}")));
}

#[tokio::test]
async fn documents_keep_their_refs_and_the_column_lengths() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    let body = json!({
        "Header": "Ihr Lager Nord", "Name": "mail.eml", "OurRef": "so-outbox:0123456789abcdef0123456789abcdef",
        "YourRef": "Ihre Anfrage", "Attention": "Herr Weber", "ExternalRef": "<draft-5000@so-outbox.example>",
        "Contact": {"ContactId": 2}, "Person": {"PersonId": 2},
    });
    let (s, d) = call(&sim, &t.access, Method::POST, "Document", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let id = d["DocumentId"].as_i64().expect("id");
    let (_, got) = call(&sim, &t.access, Method::GET, &format!("Document/{id}"), None).await;
    assert_eq!(
        (got["OurRef"].as_str(), got["YourRef"].as_str(), got["Attention"].as_str(), got["ExternalRef"].as_str()),
        (
            Some("so-outbox:0123456789abcdef0123456789abcdef"),
            Some("Ihre Anfrage"),
            Some("Herr Weber"),
            Some("<draft-5000@so-outbox.example>")
        )
    );
    let q =
        [("$select", "documentId,ourref,subject"), ("$filter", "ourref eq 'so-outbox:0123456789abcdef0123456789abcdef'"), ("$top", "10")];
    let resp = http().get(rest_url(&sim, "Document")).query(&q).bearer_auth(&t.access).send().await.expect("list");
    let page: Value = resp.json().await.expect("json");
    assert_eq!(
        page["value"],
        json!([{"PrimaryKey": id.to_string(), "EntityName": "document", "documentId": id.to_string(), "ourref": "so-outbox:0123456789abcdef0123456789abcdef", "subject": "Ihr Lager Nord"}])
    );
    for (field, len) in [("Header", 220), ("OurRef", 100), ("YourRef", 100), ("Attention", 100), ("ExternalRef", 512)] {
        let (s, v) = call(&sim, &t.access, Method::POST, "Document", Some(json!({ field: "x".repeat(len) }))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}");
        assert_so_error(&v);
    }
    let (s, _) = call(&sim, &t.access, Method::POST, "Document", Some(json!({"Header": "h".repeat(219), "OurRef": "r".repeat(99)}))).await;
    assert_eq!(s, StatusCode::OK, "the exact lengths fit");
}

#[tokio::test]
async fn the_request_log_names_routes_parameters_columns_and_operators() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    let q = [
        ("$select", "appointmentId,person/email/emailAddress"),
        ("$filter", "associateId currentAssociate and type oneOf (7)"),
        ("$orderBy", "appointmentId"),
        ("$top", "5"),
    ];
    let resp = http().get(rest_url(&sim, "Appointment")).query(&q).bearer_auth(&t.access).send().await.expect("list");
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, _) = call(&sim, &t.access, Method::GET, "Associate/Me", None).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "the seed profile's override");
    let _ = http().get(format!("{}/__sim/counters", sim.base_url())).send().await.expect("control");
    let log = sim.requests();
    assert!(log.iter().all(|r| !r.path.starts_with("/__sim/")), "control requests are not logged");
    let authorize = log.iter().find(|r| r.route.as_deref() == Some("/login/common/oauth/authorize")).expect("authorize");
    assert!(authorize.query_names.contains(&"redirect_uri".to_owned()));
    assert!(log.iter().any(|r| r.endpoint() == "POST /login/common/oauth/tokens"));
    let listing = log.iter().find(|r| r.endpoint() == "GET /{ctx}/api/v1/Appointment").expect("listing");
    assert_eq!(listing.query_names, ["$select", "$filter", "$orderBy", "$top"]);
    let o = listing.odata.as_ref().expect("odata");
    assert_eq!(o.provider, "FindAppointment");
    assert_eq!(o.columns(), ["appointmentId", "associateId", "person/email/emailAddress", "type"]);
    assert_eq!(o.operators, ["currentAssociate", "oneOf"]);
    let unknown = log.iter().find(|r| r.path.ends_with("/Associate/Me")).expect("Associate/Me");
    assert_eq!((unknown.route.as_deref(), unknown.status), (None, 500), "no documented route");
    let records: Value = http().get(format!("{}/__sim/records", sim.base_url())).send().await.expect("records").json().await.expect("json");
    assert!(records["requests"].as_array().is_some_and(|r| r.len() == log.len()));
}
