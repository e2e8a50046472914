//! The system-user flow against the simulator, and the seed's findings reproduced with it.

use keychain::Secret;
use superoffice::{Client, Environment, Method, SystemSession, SystemUserConfig};

#[tokio::test]
async fn the_system_user_has_no_person_and_the_seed_profile_reproduces_the_analysis() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap_or_else(|e| panic!("{e}"));
    sim.set_profile("seed-feb-2026").unwrap_or_else(|e| panic!("{e}"));
    let reg = sim.system_user();
    let cfg = SystemUserConfig {
        environment: Environment::Custom(sim.base_url().to_owned()),
        context_id: sim.context_id(),
        system_token: reg.system_token.clone(),
        private_key_pem: Secret::new(reg.private_key_pem.clone()),
        app_token: Secret::new(reg.app_token.clone()),
        serial: None,
    };
    let client = Client::system(SystemSession::authenticate(&cfg).await.unwrap_or_else(|e| panic!("{e}")));
    let me = client.current_principal().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((me.person_id, me.email_address.as_str()), (0, ""), "a system user is nobody: it cannot send as anyone");
    assert!(client.document_default().await.is_ok(), "documents work (the seed's 200)");
    let status = |r: superoffice::Result<serde_json::Value>| r.err().and_then(|e| e.status());
    assert_eq!(status(client.probe(Method::GET, "Associate/Me").await), Some(500), "an undocumented endpoint");
    assert_eq!(client.email_current_account().await.err().and_then(|e| e.status()), Some(401), "Email agent not granted to the app");
    assert_eq!(client.crmscript_execute("print(\"x\");").await.err().and_then(|e| e.status()), Some(403), "CRMScript not granted");

    let bad = SystemUserConfig { app_token: Secret::new("wrong"), ..cfg };
    let e = SystemSession::authenticate(&bad).await.err().unwrap_or_else(|| panic!("a wrong app token must fail"));
    assert_eq!(e.code(), "system_user_rejected");
    assert!(!e.to_string().contains(&reg.app_token), "no secret in the error");
}
