//! `so-outbox-sim`: runs the SuperOffice simulator on its own, for manual tries and for tests
//! that want it as a separate process. Prints one JSON line with its endpoints and the demo
//! client registration, then serves until killed.
//!
//! Options: `--port N`, `--smtp-port N`, `--profile NAME` (a built-in profile) and
//! `--profile-file PATH` (a profile JSON file). At run time, `PUT /__sim/profile/{name}`
//! switches profiles and `POST /__sim/faults` injects faults.

use std::time::Duration;

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args().skip_while(|a| a != name);
    it.next()?;
    it.next()
}

fn fail(message: &str) -> ! {
    eprintln!("so-outbox-sim: {message}");
    std::process::exit(1);
}

#[tokio::main]
async fn main() {
    let mut config = superoffice_sim::SimConfig::demo();
    if let Some(p) = arg("--port").and_then(|p| p.parse().ok()) {
        config.http_port = p;
    }
    if let Some(p) = arg("--smtp-port").and_then(|p| p.parse().ok()) {
        config.smtp_port = p;
    }
    let handle = match superoffice_sim::start(config).await {
        Ok(h) => h,
        Err(e) => fail(&e.to_string()),
    };
    if let Some(path) = arg("--profile-file") {
        if let Err(e) = handle.load_profile(&path) {
            fail(&e);
        }
    }
    if let Some(name) = arg("--profile") {
        if let Err(e) = handle.set_profile(&name) {
            fail(&e);
        }
    }
    let (user, password) = handle.relay_credentials();
    let system = handle.system_user();
    let info = serde_json::json!({
        "base_url": handle.base_url(),
        "context_id": handle.context_id(),
        "webapi_url": handle.webapi_url(),
        "profile": handle.profile().name,
        "profiles": handle.profile_names(),
        "client_id": handle.client().client_id,
        "client_secret": handle.client().client_secret,
        "system_user": { "system_token": system.system_token, "private_key_pem": system.private_key_pem },
        "smtp": { "host": "localhost", "port": handle.smtp_addr().port(), "user": user, "password": password, "ca_pem": handle.relay_ca_pem() },
    });
    println!("{info}");
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
