//! Sign-in extras (tampered id_tokens, expired access tokens, refresh rotation, revocation,
//! counters) and the system-user flow (signed system token → JWT → SOTicket).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use superoffice_sim::{IdTokenTamper, SimHandle};

async fn jwks_key(sim: &SimHandle) -> DecodingKey {
    let jwks: Value =
        http().get(format!("{}/login/.well-known/jwks", sim.base_url())).send().await.expect("jwks").json().await.expect("json");
    DecodingKey::from_rsa_components(jwks["keys"][0]["n"].as_str().expect("n"), jwks["keys"][0]["e"].as_str().expect("e")).expect("key")
}

fn header_of(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').next().expect("header");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

#[tokio::test]
async fn tampered_id_tokens_expiry_rotation_revocation_and_counters() {
    let sim = sim().await;
    let discovery: Value = http()
        .get(format!("{}/login/.well-known/openid-configuration", sim.base_url()))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["revocation_endpoint"], format!("{}/login/common/oauth/revoke", sim.base_url()));

    let sound = sign_in(&sim).await;
    assert_eq!(claims(&sound.id_token)["nonce"], "nonce-1");
    sim.set_id_token_tamper(Some(IdTokenTamper::AlgNone));
    let t = sign_in(&sim).await;
    assert!(t.id_token.ends_with('.') && header_of(&t.id_token)["alg"] == "none");
    sim.set_id_token_tamper(Some(IdTokenTamper::WrongNonce));
    assert_eq!(claims(&sign_in(&sim).await.id_token)["nonce"], "not-the-nonce");
    sim.set_id_token_tamper(Some(IdTokenTamper::Expired));
    let c = claims(&sign_in(&sim).await.id_token);
    assert_eq!(c["exp"].as_i64().zip(c["iat"].as_i64()).map(|(e, i)| e - i), Some(1800));
    sim.set_id_token_tamper(None);
    let c = claims(&sign_in(&sim).await.id_token);
    assert_eq!(c["http://schemes.superoffice.net/identity/webapi_url"], format!("{}/{}/api/", sim.base_url(), sim.context_id()));

    // Expired access tokens: REST answers 401 until the client refreshes.
    let (s, _) = call(&sim, &sound.access, Method::GET, "User/currentPrincipal", None).await;
    assert_eq!(s, StatusCode::OK);
    sim.expire_access_tokens();
    let (s, v) = call(&sim, &sound.access, Method::GET, "User/currentPrincipal", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_so_error(&v);

    // Without rotation the refresh token is reusable and none is returned.
    let r: Value =
        token_request(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &sound.refresh)]).await.json().await.expect("json");
    assert!(r["access_token"].is_string() && r.get("refresh_token").is_none());
    let (s, _) = call(&sim, r["access_token"].as_str().expect("access"), Method::GET, "User/currentPrincipal", None).await;
    assert_eq!(s, StatusCode::OK);
    // With rotation every refresh returns a new one and the old one stops working.
    sim.set_profile("full").expect("full rotates refresh tokens");
    let r: Value =
        token_request(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &sound.refresh)]).await.json().await.expect("json");
    let rotated = r["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(rotated, sound.refresh);
    let old = token_request(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &sound.refresh)]).await;
    assert_eq!(old.status(), StatusCode::BAD_REQUEST);
    // Revocation.
    let secret = sim.client().client_secret.clone();
    let form = [
        ("token", rotated.as_str()),
        ("token_type_hint", "refresh_token"),
        ("client_id", sim.client().client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let revoked = http().post(format!("{}/login/common/oauth/revoke", sim.base_url())).form(&form).send().await.expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = token_request(&sim, &[("grant_type", "refresh_token"), ("refresh_token", &rotated)]).await;
    assert_eq!(after.status(), StatusCode::BAD_REQUEST);

    let c = sim.counters();
    assert_eq!((c.code_exchanges, c.refreshes), (5, 4));
    assert_eq!(c.requests("/User/currentPrincipal"), 3);
    assert_eq!(c.requests("/login/common/oauth/revoke"), 1);
}

#[tokio::test]
async fn the_system_user_flow_and_the_seed_behaviour() {
    let sim = sim().await;
    let reg = sim.system_user();
    assert!(reg.system_token.starts_with("SuperOffice Outbox-") && reg.private_key_pem.contains("PRIVATE KEY"));
    assert_eq!(reg.app_token, sim.client().client_secret);
    let now = time::OffsetDateTime::now_utc();
    let auth = |signed: String, app: String, ctx: String| {
        let url = format!("{}/Login/api/PartnerSystemUser/Authenticate", sim.base_url());
        async move {
            let body = json!({"SignedSystemToken": signed, "ApplicationToken": app, "ContextIdentifier": ctx, "ReturnTokenType": "JWT"});
            let resp = http().post(url).json(&body).send().await.expect("authenticate");
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.expect("json")
        }
    };
    let ctx = sim.context_id();
    let signed = reg.sign(now).expect("sign");
    for (s, app, c) in [
        (signed.clone(), "wrong".to_owned(), ctx.clone()),
        (signed.clone(), reg.app_token.clone(), "Cust1".to_owned()),
        (reg.sign(now - time::Duration::minutes(40)).expect("sign"), reg.app_token.clone(), ctx.clone()),
        (signed.replace(&reg.system_token, "SuperOffice Outbox-other"), reg.app_token.clone(), ctx.clone()),
    ] {
        let v = auth(s, app, c).await;
        assert_eq!(v["IsSuccessful"], false, "{v}");
        assert!(v["ErrorMessage"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let v = auth(signed, reg.app_token.clone(), ctx.clone()).await;
    assert_eq!((v["IsSuccessful"].as_bool(), v["ErrorMessage"].as_str()), (Some(true), Some("")));
    let jwt = v["Token"].as_str().expect("jwt");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&["SuperOffice AS"]);
    validation.set_audience(&[format!("spn:{}", sim.tenant().serial)]);
    let data = jsonwebtoken::decode::<Value>(jwt, &jwks_key(&sim).await, &validation).expect("valid system JWT");
    let c = data.claims;
    assert!((c["exp"].as_i64().unwrap_or(0) - c["iat"].as_i64().unwrap_or(0)) >= 6 * 3600 - 5);
    let ticket = c["http://schemes.superoffice.net/identity/ticket"].as_str().expect("ticket").to_owned();
    assert!(ticket.starts_with("7T:"));

    let soticket = format!("SOTicket {ticket}");
    let app = Some(reg.app_token.as_str());
    let (s, v) = call_url(&rest_url(&sim, "User/currentPrincipal"), &soticket, None, Method::GET, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "no SO-AppToken");
    assert_so_error(&v);
    let (s, _) = call_url(&rest_url(&sim, "User/currentPrincipal"), &soticket, Some("wrong"), Method::GET, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, p) = call_url(&rest_url(&sim, "User/currentPrincipal"), &soticket, app, Method::GET, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (p["UserType"].as_str(), p["IsPerson"].as_bool(), p["PersonId"].as_i64(), p["EMailAddress"].as_str()),
        (Some("SystemAssociate"), Some(false), Some(0), Some(""))
    );
    let (_, a) = call_url(&rest_url(&sim, "User/currentAssociate"), &soticket, app, Method::GET, None).await;
    assert_eq!((a["AssociateId"].as_i64(), a["Type"].as_str()), (p["AssociateId"].as_i64(), Some("SystemAssociate")));
    // The seed analysis, for the system user.
    let expect = [
        (Method::POST, "Document", StatusCode::OK),
        (Method::POST, "Shipment", StatusCode::INTERNAL_SERVER_ERROR),
        (Method::GET, "Shipment/1", StatusCode::INTERNAL_SERVER_ERROR),
        (Method::POST, "Agents/EMail/GetCurrentAccount", StatusCode::UNAUTHORIZED),
        (Method::POST, "Agents/CRMScript/ExecuteScriptByString", StatusCode::FORBIDDEN),
        (Method::GET, "Associate/Me", StatusCode::INTERNAL_SERVER_ERROR),
    ];
    for (m, path, status) in expect {
        let (s, _) = call_url(&rest_url(&sim, path), &soticket, app, m, Some(json!({"Header": "System", "Script": "print(\"x\")"}))).await;
        assert_eq!(s, status, "{path}");
    }
    // With everything granted, the system user may run scripts and has no Inbox account.
    sim.set_profile("full").expect("full");
    let (s, acc) = call_url(&rest_url(&sim, "Agents/EMail/GetCurrentAccount"), &soticket, app, Method::POST, None).await;
    assert_eq!((s, acc), (StatusCode::OK, Value::Null));
    // No REST operation /Shipment is documented: outside the seed profile it is an unknown route.
    let (s, _) = call_url(&rest_url(&sim, "Shipment"), &soticket, app, Method::POST, Some(json!({}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, right) = call_url(
        &rest_url(&sim, "Agents/Sentry/HasFunctionRight"),
        &soticket,
        app,
        Method::POST,
        Some(json!({"FunctionRight": "anything"})),
    )
    .await;
    assert_eq!(right, json!(true), "not restricted by functional rights");
}
