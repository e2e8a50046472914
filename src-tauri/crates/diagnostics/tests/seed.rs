//! The seed's findings, reproduced with the simulator's `seed-feb-2026` profile and corrected:
//! the system-user column and the signed-in rep's column.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use std::sync::Arc;
use std::time::Duration;

use diagnostics::{Caller, Owner, Status};
use keychain::{MemoryStore, Secret};
use superoffice::{Client, Environment, PendingSignIn, SignInRequest, SystemSession, SystemUserConfig};

/// Signs the demo rep in through the real loopback flow, playing the browser.
async fn signed_in_rep(sim: &superoffice_sim::SimHandle, env: Environment) -> Client {
    let pending = PendingSignIn::start(SignInRequest {
        environment: env,
        client_id: sim.client().client_id.clone(),
        tenant: Some(sim.context_id()),
        login_hint: None,
    })
    .await
    .unwrap();
    let url = pending.authorize_url().to_owned();
    let secret = Some(Secret::new(sim.client().client_secret.clone()));
    let finish = tokio::spawn(pending.finish(secret, Arc::new(MemoryStore::default()), Duration::from_secs(20)));
    superoffice_sim::browser::consent(&url, true).await.unwrap();
    Client::new(finish.await.unwrap().unwrap())
}

fn by_id<'a>(checks: &'a [diagnostics::Check], id: &str) -> &'a diagnostics::Check {
    checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no check {id}"))
}

#[tokio::test]
async fn seed_profile_system_user_and_rep_columns() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    sim.set_profile("seed-feb-2026").unwrap();
    let env = Environment::Custom(sim.base_url().to_owned());

    let reg = sim.system_user();
    let system = Client::system(
        SystemSession::authenticate(&SystemUserConfig {
            environment: env.clone(),
            context_id: sim.context_id(),
            system_token: reg.system_token.clone(),
            private_key_pem: Secret::new(reg.private_key_pem.clone()),
            app_token: Secret::new(reg.app_token.clone()),
            serial: None,
        })
        .await
        .unwrap(),
    );
    let sys = diagnostics::run(&system, Caller::SystemUser, 7).await;
    assert_eq!(by_id(&sys, "archive_documents").status, Status::Pass, "the seed's 200 for documents");
    let agent = by_id(&sys, "email_agent");
    assert_eq!((agent.status, agent.owner), (Status::Fail, Some(Owner::AppRegistration)), "401 → app registration, not the token");
    assert!(agent.evidence[0].contains("401"));
    assert_eq!(by_id(&sys, "crmscript").owner, Some(Owner::AppRegistration));
    assert!(by_id(&sys, "crmscript").evidence[0].contains("403"));
    assert!(by_id(&sys, "marketing").evidence[0].contains("500"), "the seed's /Shipment 500");
    assert!(by_id(&sys, "marketing").cause.as_deref().unwrap_or("").contains("bulk mailings"));
    let me = by_id(&sys, "associate_me");
    assert!(me.evidence[0].contains("500") && me.cause.as_deref().unwrap_or("").contains("not a documented endpoint"));
    assert_eq!(by_id(&sys, "identity").status, Status::Fail, "a system user cannot send as anyone");

    let rep = signed_in_rep(&sim, env).await;
    let mine = diagnostics::run(&rep, Caller::Rep, 7).await;
    assert_eq!(by_id(&mine, "identity").status, Status::Pass, "the rep's own sign-in fixes identity");
    assert_eq!(by_id(&mine, "email_agent").status, Status::Fail, "…but not the Email agent: that is the app registration");
    assert_eq!(by_id(&mine, "inbox_account").status, Status::Unknown, "not testable without the agent");
    assert_eq!(by_id(&mine, "task_handoff").status, Status::Pass);
    assert!(mine.iter().all(|c| c.id != "associate_me"));

    let rec = diagnostics::recommend(&mine, true);
    assert_eq!(rec.channel, "smtp", "{:?}", rec.reasons);
    assert_eq!(diagnostics::recommend(&mine, false).channel, "handoff");
    let report = diagnostics::markdown(&sim.context_id(), &mine, Some(&sys), &rec);
    for heading in [
        "## Executive summary",
        "## Technical findings",
        "### System user",
        "### Signed-in rep",
        "### Option A",
        "### Option B",
        "## Immediate workaround",
    ] {
        assert!(report.contains(heading), "missing {heading}:\n{report}");
    }
    assert!(report.contains("| email_agent | Fail |") && report.contains("app registration"));
    assert!(!report.contains(&reg.app_token) && !report.contains(&sim.client().client_secret), "no secret in the report");
    // Kept for the closing note and the docs.
    let _ = std::fs::write(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("seed-report.md"), &report);
}

#[tokio::test]
async fn full_profile_everything_works() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    sim.set_profile("full").unwrap();
    let env = Environment::Custom(sim.base_url().to_owned());
    let rep = signed_in_rep(&sim, env).await;
    let checks = diagnostics::run(&rep, Caller::Rep, 7).await;
    for id in ["identity", "archive_documents", "email_template", "task_handoff", "email_agent", "inbox_account", "crmscript"] {
        assert_eq!(by_id(&checks, id).status, Status::Pass, "{id}: {:?}", by_id(&checks, id));
    }
}
