//! The demo's servers answer only for themselves: a request under another `Host` (DNS
//! rebinding) or from another site's `Origin` (a web page that learned the port) gets 4xx,
//! before any route runs; the app's own calls and the simulator's own consent page still work.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use superoffice_sim::SimConfig;

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let sim = superoffice_sim::start(SimConfig::demo()).await.unwrap();
    let http = reqwest::Client::new();
    let state = format!("{}/api/state/{}", sim.base_url(), sim.context_id());
    assert_eq!(http.get(&state).send().await.unwrap().status(), 200, "the app's own call");
    let rebound = http.get(&state).header("Host", "attacker.example").send().await.unwrap();
    assert_eq!(rebound.status(), 421, "another host name (DNS rebinding)");
    let cross_site = http
        .post(format!("{}/login/common/oauth/tokens", sim.base_url()))
        .header("Origin", "https://attacker.example")
        .header("Content-Type", "text/plain")
        .body("grant_type=refresh_token")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "a cross-site POST");
    let null_origin = http.get(&state).header("Origin", "null").send().await.unwrap();
    assert_eq!(null_origin.status(), 403, "a sandboxed page's null origin");
    let own_origin = http.get(&state).header("Origin", sim.base_url()).send().await.unwrap();
    assert_eq!(own_origin.status(), 200, "the simulator's own pages");
    // The JWKS and discovery, too: nothing answers a foreign caller.
    let jwks =
        http.get(format!("{}/login/.well-known/jwks", sim.base_url())).header("Host", "localhost.attacker.example").send().await.unwrap();
    assert_eq!(jwks.status(), 421);
}
