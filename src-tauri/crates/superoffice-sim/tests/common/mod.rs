//! Shared helpers for the simulator's integration tests: a started demo simulator, a rep signed
//! in through the consent page (without a loopback listener: the redirect is read, not
//! followed), and small REST helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::{Method, StatusCode};
use serde_json::Value;
use superoffice_sim::{SimConfig, SimHandle};

pub async fn sim() -> SimHandle {
    superoffice_sim::start(SimConfig::demo()).await.expect("simulator")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub id_token: String,
}

/// The Native app template allows a loopback port and no path.
pub const REDIRECT: &str = "http://127.0.0.1:49152";

/// Authorize, press "Allow", and return the code from the redirect.
pub async fn authorization_code(sim: &SimHandle, nonce: &str) -> String {
    let c = http();
    let page = c
        .get(format!("{}/login/common/oauth/authorize", sim.base_url()))
        .query(&[
            ("client_id", sim.client().client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
            ("nonce", nonce),
        ])
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("page");
    let rid = page.split("name=\"request_id\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("request_id");
    let resp = c
        .post(format!("{}/login/common/oauth/authorize", sim.base_url()))
        .form(&[("request_id", rid), ("decision", "allow")])
        .send()
        .await
        .expect("consent");
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("redirect").to_owned();
    let url = url::Url::parse(&location).expect("url");
    url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("code")
}

pub async fn token_request(sim: &SimHandle, form: &[(&str, &str)]) -> reqwest::Response {
    let secret = sim.client().client_secret.clone();
    let mut all: Vec<(&str, &str)> = vec![("client_id", sim.client().client_id.as_str()), ("client_secret", secret.as_str())];
    all.extend_from_slice(form);
    http().post(format!("{}/login/common/oauth/tokens", sim.base_url())).form(&all).send().await.expect("tokens")
}

/// A signed-in rep.
pub async fn sign_in(sim: &SimHandle) -> Tokens {
    let code = authorization_code(sim, "nonce-1").await;
    let resp = token_request(sim, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.expect("json");
    Tokens {
        access: v["access_token"].as_str().expect("access").to_owned(),
        refresh: v["refresh_token"].as_str().expect("refresh").to_owned(),
        id_token: v["id_token"].as_str().expect("id_token").to_owned(),
    }
}

/// `{base}/{ctx}/api/v1/{path}` (the un-numbered alias).
pub fn rest_url(sim: &SimHandle, path: &str) -> String {
    format!("{}/{}/api/v1/{path}", sim.base_url(), sim.context_id())
}

/// A REST call as the rep; returns status and JSON (Null when the body is not JSON).
pub async fn call(sim: &SimHandle, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    call_url(&rest_url(sim, path), &format!("Bearer {token}"), None, method, body).await
}

pub async fn call_url(url: &str, authorization: &str, app_token: Option<&str>, method: Method, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = http().request(method, url).header("Authorization", authorization).header("Accept", "application/json");
    if let Some(t) = app_token {
        req = req.header("SO-AppToken", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The decoded claims (second part) of a JWT, without checking anything.
pub fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).expect("claims part");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

/// Asserts SuperOffice's error body.
pub fn assert_so_error(v: &Value) {
    assert_eq!(v["Error"], true, "error body: {v}");
    assert!(v["ErrorType"].is_string() && v["ErrorMessage"].is_string() && v["ErrorSource"].is_string(), "{v}");
}
