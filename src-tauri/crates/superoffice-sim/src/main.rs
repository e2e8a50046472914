//! `so-outbox-sim`: runs the SuperOffice simulator on its own, for manual tries and for tests
//! that want it as a separate process. Prints one JSON line with its endpoints and the demo
//! client registration, then serves until killed.

use std::time::Duration;

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args().skip_while(|a| a != name);
    it.next()?;
    it.next()
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
        Err(e) => {
            eprintln!("so-outbox-sim: {e}");
            std::process::exit(1);
        }
    };
    let (user, password) = handle.relay_credentials();
    let info = serde_json::json!({
        "base_url": handle.base_url(),
        "context_id": handle.context_id(),
        "client_id": handle.client().client_id,
        "client_secret": handle.client().client_secret,
        "smtp": { "host": "localhost", "port": handle.smtp_addr().port(), "user": user, "password": password, "ca_pem": handle.relay_ca_pem() },
    });
    println!("{info}");
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
