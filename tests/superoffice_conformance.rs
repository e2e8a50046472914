//! Every request the production code makes, checked against `docs/superoffice-conformance.md`.
//!
//! Runs the app's flows against the strict simulator: sign-in, intake, a send by SMTP and one
//! by the email agent, archiving, the recovery after a lost `POST Document` answer, task
//! completion, the whole diagnosis with the write checks, the system user's column, sign-out.
//! Then it reads the simulator's request log and fails on any request whose method and route
//! are not a row of the table, or whose row is marked undocumented without naming its
//! confirmation step. The simulator itself refuses any OData column or operator that the
//! provider's page does not list, so a flow that used one would already have failed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use keychain::{MemoryStore, Secret};
use outbox::channel::ChannelWhy;
use outbox::{Channel, ChannelChoice, Delivery, Rep, State, Store};
use superoffice::AppointmentFilter;
use superoffice_sim::{Fault, FaultKind};

/// `(method, route)` of each row of the table, with its verdict.
fn table() -> Vec<(String, String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/superoffice-conformance.md")).unwrap();
    doc.lines()
        .filter(|l| {
            l.starts_with("| GET")
                || l.starts_with("| POST")
                || l.starts_with("| PUT")
                || l.starts_with("| PATCH")
                || l.starts_with("| DELETE")
        })
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_owned(), cells[2].trim_matches('`').to_owned(), cells[5].to_owned())
        })
        .collect()
}

/// A logged route matches a row: `/{ctx}` and `/{id}` are placeholders, the node prefix of a
/// numbered host (`/n1`) is not part of SuperOffice's path, and the revocation endpoint is
/// whatever discovery names.
fn row_for<'a>(rows: &'a [(String, String, String)], method: &str, route: &str) -> Option<&'a (String, String, String)> {
    let route = route.strip_prefix("/{node}").unwrap_or(route);
    rows.iter().find(|(m, r, _)| m == method && (r == route || (r.starts_with("the discovery") && route.ends_with("/oauth/revoke"))))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_is_in_the_conformance_table() {
    let sim = common::simulator().await;
    sim.set_profile("full").unwrap();
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).unwrap());
    let me = client.current_principal().await.unwrap();
    outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: me.associate_id, task_type_id: 7 }).await.unwrap();
    let smtp = common::sim_relay(&sim);
    let rep = Rep { associate_id: me.associate_id, name: me.full_name.clone(), email: me.email_address.clone() };
    let sendable: Vec<i64> = store.list().unwrap().into_iter().filter(|r| r.problem.is_none()).map(|r| r.id).take(3).collect();

    // SMTP, with the answer to the document's create lost: found again, confirmed.
    let by_smtp = Delivery::new(store.clone(), client.clone(), smtp.clone(), rep.clone())
        .with_channel(ChannelChoice::new(Channel::Smtp, ChannelWhy::Initial));
    sim.inject(Fault { path_contains: "/Document".into(), method: Some("POST".into()), kind: FaultKind::LoseAnswer, times: Some(1) });
    by_smtp.approve(sendable[0]).unwrap();
    let _ = by_smtp.deliver(sendable[0]).await;
    for _ in 0..5 {
        if store.get(sendable[0]).unwrap().state == State::Done {
            break;
        }
        let _ = by_smtp.finish(sendable[0]).await;
    }
    assert_eq!(store.get(sendable[0]).unwrap().state, State::Done, "{:?}", store.get(sendable[0]).unwrap().reason);
    // The email agent.
    let by_agent = Delivery::new(store.clone(), client.clone(), smtp.clone(), rep.clone())
        .with_channel(ChannelChoice::new(Channel::EmailAgent, ChannelWhy::Initial));
    by_agent.approve(sendable[1]).unwrap();
    assert_eq!(by_agent.deliver(sendable[1]).await.unwrap(), State::Done);

    // The whole diagnosis, with the write checks and the system user's column.
    let keychain: Arc<dyn keychain::SecretStore + Send + Sync> = Arc::new(MemoryStore::default());
    let setup = diagnostics::Setup {
        environment: superoffice::Environment::Custom(sim.base_url().to_owned()),
        context_id: sim.context_id(),
        task_type_id: 7,
        rep: Some(client.clone()),
        system_user: Some({
            let reg = sim.system_user();
            superoffice::SystemUserConfig {
                environment: superoffice::Environment::Custom(sim.base_url().to_owned()),
                context_id: sim.context_id(),
                system_token: reg.system_token.clone(),
                private_key_pem: Secret::new(reg.private_key_pem.clone()),
                app_token: Secret::new(reg.app_token.clone()),
                serial: None,
            }
        }),
        smtp: Some(smtp),
        keychain: Some(keychain),
        resolver: diagnostics::dns::Resolver::at(sim.dns_addr()),
        write: true,
        mailbox: None,
    };
    let report = diagnostics::run_all(&setup).await;
    assert_eq!(
        report.check(diagnostics::CheckId::Intake).map(|c| c.status),
        Some(diagnostics::Status::Pass),
        "{:?}",
        report.check(diagnostics::CheckId::Intake)
    );
    client.session().unwrap().sign_out().await.unwrap();

    let rows = table();
    let mut unknown = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let ctx = sim.context_id();
    for r in sim.requests() {
        // Unrouted requests (an undocumented path) are named by their path, with the node
        // prefix of a numbered host dropped and the tenant as `{ctx}`.
        let route = r.route.clone().unwrap_or_else(|| {
            let p = r.path.clone();
            let p = match p.strip_prefix("/n").and_then(|rest| rest.split_once('/')) {
                Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => format!("/{rest}"),
                _ => p,
            };
            p.replacen(&format!("/{ctx}/"), "/{ctx}/", 1)
        });
        // An agent's route names its operation as a parameter: the row names the operation.
        let route = match (route.strip_suffix("/{op}"), r.path.rsplit('/').next()) {
            (Some(agent), Some(op)) => format!("{agent}/{op}"),
            _ => route,
        };
        if route.starts_with("/mail/") || (r.method == "POST" && route == "/login/common/oauth/authorize") {
            continue; // the mail provider's token endpoint; the simulated browser's consent form
        }
        let odata = r.odata.as_ref().map(|o| format!(" {o:?}")).unwrap_or_default();
        println!("  {} {route} -> {}{odata}", r.method, r.status);
        match row_for(&rows, &r.method, &route) {
            Some((m, route, verdict)) => {
                assert!(
                    !verdict.starts_with("undocumented") || verdict.contains("decides nothing"),
                    "{m} {route} is undocumented and used without a confirmation step"
                );
                seen.insert(format!("{m} {route}"));
            }
            None => {
                unknown.insert(format!("{} {route}", r.method));
            }
        }
    }
    println!("conformance: {} routes exercised of {} in the table", seen.len(), rows.len());
    for (m, r, _) in &rows {
        if !seen.contains(&format!("{m} {r}")) {
            println!("  not exercised here: {m} {r}");
        }
    }
    assert!(unknown.is_empty(), "requests not in docs/superoffice-conformance.md: {unknown:#?}");
}
