//! Injected faults as a reqwest client sees them, and the node-prefixed URL scheme with a
//! tenant that moves (421 once, then a new endpoint from the state API).
// Some tests steer the simulator over `/__sim/`: built with the `control` feature (on in every
// workspace build, through the app's test dependency).
#![cfg(feature = "control")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use superoffice_sim::{Fault, FaultKind, SimHandle};

fn fault(path: &str, kind: FaultKind, times: Option<u32>) -> Fault {
    Fault { path_contains: path.into(), method: None, kind, times }
}

async fn state(sim: &SimHandle) -> Value {
    http().get(format!("{}/api/state/{}", sim.base_url(), sim.context_id())).send().await.expect("state").json().await.expect("json")
}

#[tokio::test]
async fn latency_status_throttling_reset_and_slow_bodies() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    sim.inject(fault("/User/currentPrincipal", FaultKind::Latency { ms: 300 }, Some(1)));
    let started = Instant::now();
    let (s, _) = call(&sim, &t.access, Method::GET, "User/currentPrincipal", None).await;
    assert!(s == StatusCode::OK && started.elapsed() >= Duration::from_millis(300));

    sim.inject(fault(
        "/Document",
        FaultKind::Status { status: 500, error_type: "SoServerException".into(), message: "boom".into() },
        Some(2),
    ));
    for _ in 0..2 {
        let (s, v) = call(&sim, &t.access, Method::GET, "Document/default", None).await;
        assert_eq!((s, v["ErrorMessage"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("boom")));
        assert_so_error(&v);
    }
    let (s, _) = call(&sim, &t.access, Method::GET, "Document/default", None).await;
    assert_eq!(s, StatusCode::OK, "used up after two");

    sim.inject(fault("/login/common/oauth/tokens", FaultKind::TooManyRequests { retry_after_secs: 7 }, Some(1)));
    let resp = token_request(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &t.refresh)]).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));

    sim.inject(Fault { path_contains: "/Appointment".into(), method: Some("PUT".into()), kind: FaultKind::Reset, times: Some(1) });
    let (s, _) = call(&sim, &t.access, Method::GET, "Appointment/5000", None).await;
    assert_eq!(s, StatusCode::OK, "the method filter spares GET");
    let err = http().put(rest_url(&sim, "Appointment/5000")).bearer_auth(&t.access).json(&json!({"Completed": "Completed"})).send().await;
    let err = err.expect_err("a reset is a transport error, not a status");
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(sim.tenant().appointments[0].completed, "NotStarted", "the connection is cut before the request is served");
    let (s, _) = call(&sim, &t.access, Method::GET, "Appointment/5000", None).await;
    assert_eq!(s, StatusCode::OK, "the next connection is fine");

    sim.inject(fault("/Person/2", FaultKind::SlowBody { delay_ms: 600 }, None));
    let started = Instant::now();
    let resp = http().get(rest_url(&sim, "Person/2")).bearer_auth(&t.access).send().await.expect("head");
    assert!(started.elapsed() < Duration::from_millis(500), "headers arrive at once");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("body");
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(body["PersonId"], 2);
    let quick = reqwest::Client::builder().read_timeout(Duration::from_millis(200)).build().expect("client");
    let resp = quick.get(rest_url(&sim, "Person/2")).bearer_auth(&t.access).send().await.expect("head");
    assert!(resp.text().await.is_err(), "a client with a read timeout gives up on the body");
    sim.clear_faults();
    let started = Instant::now();
    let (s, _) = call(&sim, &t.access, Method::GET, "Person/2", None).await;
    assert!(s == StatusCode::OK && started.elapsed() < Duration::from_millis(500));
}

#[tokio::test]
async fn the_tenant_moves_to_a_new_node() {
    let sim = sim().await;
    let t = sign_in(&sim).await;
    let st = state(&sim).await;
    let n1 = format!("{}/n1/{}", sim.base_url(), sim.context_id());
    assert_eq!((st["Endpoint"].as_str(), st["Api"].as_str()), (Some(n1.as_str()), Some(format!("{n1}/api").as_str())));
    assert_eq!(sim.webapi_url(), format!("{n1}/api"));
    let bearer = format!("Bearer {}", t.access);
    let (s, _) = call_url(&format!("{n1}/api/v1/User/currentPrincipal"), &bearer, None, Method::GET, None).await;
    assert_eq!(s, StatusCode::OK);
    // OData links stay on the node the client used: relative to the request by default…
    let first = format!("{n1}/api/v1/Appointment?$top=5&$select=appointmentId");
    let (_, page) = call_url(&first, &bearer, None, Method::GET, None).await;
    let next = url::Url::parse(&first).expect("url").join(page["odata.nextLink"].as_str().expect("nextLink")).expect("join");
    assert!(next.as_str().starts_with(&format!("{n1}/api/v1/Appointment?")), "{page}");
    // …or absolute when a test asks for that form.
    sim.set_absolute_next_links(true);
    let (_, page) = call_url(&first, &bearer, None, Method::GET, None).await;
    assert!(page["odata.nextLink"].as_str().is_some_and(|l| l.starts_with(&format!("{n1}/api/v1/Appointment?"))), "{page}");
    sim.set_absolute_next_links(false);

    // Over HTTP, as the binary's users do.
    let body = json!({"path_contains": "/api/v1/", "kind": "MisdirectOnce", "times": 1});
    let r = http().post(format!("{}/__sim/faults", sim.base_url())).json(&body).send().await.expect("inject");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, v) = call_url(&format!("{n1}/api/v1/User/currentPrincipal"), &bearer, None, Method::GET, None).await;
    assert_eq!((s, v["ErrorMessage"].as_str()), (StatusCode::MISDIRECTED_REQUEST, Some("Wrong subdomain used to access tenant")));
    for _ in 0..2 {
        let (s, _) = call_url(&format!("{n1}/api/v1/User/currentPrincipal"), &bearer, None, Method::GET, None).await;
        assert_eq!(s, StatusCode::MISDIRECTED_REQUEST, "the old node keeps answering 421");
    }
    let n2 = state(&sim).await["Api"].as_str().expect("api").to_owned();
    assert_eq!(n2, format!("{}/n2/{}/api", sim.base_url(), sim.context_id()));
    assert_eq!(sim.node(), "n2");
    let (s, _) = call_url(&format!("{n2}/v1/User/currentPrincipal"), &bearer, None, Method::GET, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&sim, &t.access, Method::GET, "User/currentPrincipal", None).await;
    assert_eq!(s, StatusCode::OK, "the un-numbered alias follows the tenant");

    let r = http()
        .post(format!("{}/__sim/faults", sim.base_url()))
        .json(&json!({"path_contains": "/api/state/", "kind": {"Status": {"status": 503, "error_type": "Down", "message": "down"}}}))
        .send()
        .await
        .expect("inject");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let faults: Vec<Fault> = http().get(format!("{}/__sim/faults", sim.base_url())).send().await.expect("list").json().await.expect("json");
    assert_eq!(faults.len(), 1);
    let resp = http().get(format!("{}/api/state/{}", sim.base_url(), sim.context_id())).send().await.expect("state");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = http().delete(format!("{}/__sim/faults", sim.base_url())).send().await.expect("clear");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(state(&sim).await["IsRunning"], true);
}
