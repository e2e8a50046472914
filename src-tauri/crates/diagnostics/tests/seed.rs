//! The whole diagnosis against the simulator: for every permission profile the expected
//! matrix (status, owner) of both columns, the seed's five findings with corrected causes,
//! the channel that follows, the report, the write checks, DNS (SPF, DMARC) and a re-run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use std::sync::Arc;
use std::time::Duration;

use diagnostics::dns::Resolver;
use diagnostics::Cause;
use diagnostics::{Owner, Report, Setup, Status};
use keychain::{MemoryStore, Secret};
use outbox::{SmtpSecurity, SmtpSettings};
use superoffice::{Client, Environment, SystemUserConfig};
use superoffice_sim::dns::ZoneRecord;

/// Signs the demo rep in through the real loopback flow, playing the browser.
async fn signed_in_rep(sim: &superoffice_sim::SimHandle) -> Client {
    testkit::sign_in(sim).await
}

fn relay(sim: &superoffice_sim::SimHandle) -> SmtpSettings {
    let (user, password) = sim.relay_credentials();
    SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, user, Secret::new(password))
        .with_ca(Some(sim.relay_ca_pem().to_owned()))
        .with_data_timeout(Duration::from_secs(10))
}

async fn setup(sim: &superoffice_sim::SimHandle, profile: &str, system: bool) -> Setup {
    sim.set_profile(profile).unwrap();
    let reg = sim.system_user();
    let env = Environment::Custom(sim.base_url().to_owned());
    // Sign-in needs a running tenant; the maintenance profile is switched to after it.
    let rep = if profile == "maintenance" {
        sim.set_profile("full").unwrap();
        let c = signed_in_rep(sim).await;
        sim.set_profile(profile).unwrap();
        c
    } else {
        signed_in_rep(sim).await
    };
    Setup {
        environment: env.clone(),
        context_id: sim.context_id(),
        task_type_id: 7,
        rep: Some(rep),
        system_user: system.then(|| SystemUserConfig {
            environment: env,
            context_id: sim.context_id(),
            system_token: reg.system_token.clone(),
            private_key_pem: Secret::new(reg.private_key_pem.clone()),
            app_token: Secret::new(reg.app_token.clone()),
            serial: None,
        }),
        smtp: Some(relay(sim)),
        keychain: Some(Arc::new(MemoryStore::default())),
        resolver: Resolver::at(sim.dns_addr()),
        write: false,
        mailbox: None,
    }
}

fn status(checks: &[diagnostics::Check], id: &str) -> (Status, Option<Owner>) {
    let c = checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no check {id} in {checks:#?}"));
    (c.status, c.owner)
}

fn check<'a>(checks: &'a [diagnostics::Check], id: &str) -> &'a diagnostics::Check {
    checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no check {id}"))
}

/// Asserts a column against `(id, status, owner)` rows, listing every mismatch at once.
fn expect(column: &str, checks: &[diagnostics::Check], rows: &[(&str, Status, Option<Owner>)]) {
    let wrong: Vec<String> = rows
        .iter()
        .filter(|(id, s, o)| status(checks, id) != (*s, *o))
        .map(|(id, s, o)| format!("{column}/{id}: expected {s:?}/{o:?}, got {:?}: {:?}", status(checks, id), check(checks, id).evidence))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

use Owner::*;
use Status::*;

#[tokio::test]
async fn seed_profile_both_columns_corrected() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let s = setup(&sim, "seed-feb-2026", true).await;
    let report = diagnostics::run_all(&s).await;
    let sys = report.system_user.as_deref().expect("a system-user column");
    // The seed's five rows, with corrected causes and owners.
    expect(
        "system",
        sys,
        &[
            ("system_sign_in", Pass, None),
            ("identity", Fail, None),
            ("archive_documents", Pass, None),
            ("email_agent", Fail, Some(AppRegistration)),
            ("crmscript", Warn, Some(AppRegistration)),
            ("marketing", Warn, None),
            ("associate_me", Warn, None),
        ],
    );
    assert!(check(sys, "archive_documents").evidence[0].starts_with("200"), "the seed's 200 for documents");
    assert!(check(sys, "email_agent").evidence[0].contains("401"));
    assert!(check(sys, "email_agent").cause == Some(Cause::EmailAgentNotGranted));
    assert!(check(sys, "crmscript").evidence[0].contains("403"));
    assert!(
        check(sys, "marketing").tried == ["GET User/currentPrincipal (Licenses)"]
            && check(sys, "marketing").cause == Some(Cause::ShipmentsAreBulk { caller: diagnostics::Caller::SystemUser }),
        "read-only: the licences, never the undocumented POST /Shipment"
    );
    let me = check(sys, "associate_me");
    assert!(me.evidence[0].contains("500") && me.cause == Some(Cause::AssociateMeUndocumented));
    assert!(check(sys, "identity").cause == Some(Cause::SystemUserNotAPerson));

    // What the rep's own sign-in fixes (identity) and what it does not (the Email agent).
    expect(
        "rep",
        &report.rep,
        &[
            ("tenant_state", Pass, None),
            ("sign_in", Pass, None),
            ("identity", Pass, None),
            ("archive_documents", Pass, None),
            ("email_template", Pass, None),
            ("task_handoff", Pass, None),
            ("intake", Pass, None),
            ("email_agent", Fail, Some(AppRegistration)),
            ("inbox_account", Unknown, None),
            ("crmscript", Warn, Some(AppRegistration)),
            ("marketing", Warn, None),
            ("smtp_relay", Pass, None),
            ("sender_domain", Pass, None),
            ("keychain", Pass, None),
        ],
    );
    assert_eq!(report.rep.iter().map(|c| c.id).collect::<Vec<_>>(), diagnostics::REP_CHECKS, "every check, in order");
    assert!(report.rep.iter().all(|c| c.id != "associate_me"));
    assert_eq!(report.recommendation.channel, outbox::Channel::Smtp, "{:?}", report.recommendation.reasons);
    assert!(report.can_send);
    let caps = report.capabilities();
    assert_eq!(outbox::channel::choose(outbox::ChannelSetting::Auto, &caps).channel, outbox::Channel::Smtp, "{caps:?}");
    // From the checks' structured fields, not their words.
    assert_eq!(caps.email_agent, outbox::channel::AgentAccess::NotGranted(401));
    assert!(caps.smtp_configured);
    let agent = report.rep.iter().find(|c| c.id == "email_agent").unwrap();
    assert_eq!(agent.http_status, Some(401));
    assert_eq!(report.first_email_template(), Some(3), "\"Email - outgoing\", the first outgoing email template");

    let md = diagnostics::markdown(&report);
    for heading in [
        "## Executive summary",
        "## Technical findings",
        "### System user",
        "### Signed-in rep",
        "### Option A",
        "### Option B",
        "## Immediate workaround",
    ] {
        assert!(md.contains(heading), "missing {heading}:\n{md}");
    }
    assert!(md.contains("| email_agent | Fail |") && md.contains("app registration"));
    let json = serde_json::to_string(&report).unwrap();
    let reg = sim.system_user();
    let (_, relay_password) = sim.relay_credentials();
    for secret in [&reg.app_token, &reg.private_key_pem, &reg.system_token, &sim.client().client_secret, &relay_password] {
        assert!(!md.contains(secret.as_str()) && !json.contains(secret.as_str()), "no secret in the report");
    }
    // Kept for the closing note and the docs.
    let _ = std::fs::write(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("seed-report.md"), &md);
}

#[tokio::test]
async fn every_profile_has_its_expected_matrix() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let full = diagnostics::run_all(&setup(&sim, "full", true).await).await;
    expect(
        "full",
        &full.rep,
        &[
            ("identity", Pass, None),
            ("archive_documents", Pass, None),
            ("email_agent", Pass, None),
            ("inbox_account", Pass, None),
            ("crmscript", Pass, None),
            ("smtp_relay", Pass, None),
        ],
    );
    assert_eq!(full.recommendation.channel, outbox::Channel::EmailAgent);
    assert_eq!(
        full.capabilities().email_agent,
        outbox::channel::AgentAccess::Granted { account: Some("anna.berger@roboplanet.example".into()) },
        "the Inbox account's address, as found"
    );

    let no_inbox = diagnostics::run_all(&setup(&sim, "no-inbox", false).await).await;
    expect(
        "no-inbox",
        &no_inbox.rep,
        &[("email_agent", Pass, None), ("inbox_account", Fail, Some(Rep)), ("crmscript", Warn, Some(AppRegistration))],
    );
    assert!(no_inbox.system_user.is_none(), "no system user configured: one column");
    assert_eq!(no_inbox.recommendation.channel, outbox::Channel::Smtp, "{:?}", no_inbox.recommendation.reasons);

    let no_archive = diagnostics::run_all(&setup(&sim, "no-archive-rights", false).await).await;
    expect(
        "no-archive-rights",
        &no_archive.rep,
        &[("archive_documents", Fail, Some(TenantAdmin)), ("email_agent", Fail, Some(AppRegistration))],
    );

    let down = diagnostics::run_all(&setup(&sim, "maintenance", false).await).await;
    expect("maintenance", &down.rep, &[("tenant_state", Fail, Some(TenantAdmin)), ("archive_documents", Unknown, None)]);
    assert!(check(&down.rep, "archive_documents").evidence[0].contains("503"), "{:?}", check(&down.rep, "archive_documents"));
}

/// The rep's person card cannot be read (404): the diagnosis still knows the address mail is
/// sent from (`currentPrincipal`'s `EMailAddress`), tests the relay with it, and recommends
/// what the running app uses (SMTP), instead of calling the relay untestable.
#[tokio::test]
async fn an_unreadable_person_card_does_not_make_the_relay_untestable() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let s = setup(&sim, "seed-feb-2026", false).await;
    sim.inject(superoffice_sim::Fault {
        path_contains: "/Person/".into(),
        method: Some("GET".into()),
        kind: superoffice_sim::FaultKind::Status {
            status: 404,
            error_type: "SoNotFoundException".into(),
            message: "Person id 1 not found".into(),
        },
        times: None,
    });
    let report = diagnostics::run_all(&s).await;
    let identity = check(&report.rep, "identity");
    assert_eq!((identity.status, identity.owner), (Warn, Some(TenantAdmin)), "{:?}", identity.evidence);
    assert!(identity.evidence.iter().any(|e| e.contains("anna.berger@roboplanet.example")), "{:?}", identity.evidence);
    assert_eq!(status(&report.rep, "smtp_relay"), (Pass, None), "{:?}", check(&report.rep, "smtp_relay").evidence);
    assert_eq!(report.recommendation.channel, outbox::Channel::Smtp, "the diagnosis agrees with the channel in use");
    assert!(report.can_send);
}

#[tokio::test]
async fn no_working_channel_means_handoff_and_cannot_send() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let mut s = setup(&sim, "seed-feb-2026", false).await;
    s.smtp.as_mut().unwrap().password = Secret::new("wrong");
    let r = diagnostics::run_all(&s).await;
    assert_eq!(status(&r.rep, "smtp_relay"), (Fail, Some(MailAdmin)));
    assert_eq!((r.recommendation.channel, r.can_send), (outbox::Channel::Handoff, false));
    assert!(!r.capabilities().smtp_configured);
    s.smtp = None;
    let r = diagnostics::run_all(&s).await;
    assert_eq!(status(&r.rep, "smtp_relay"), (Unknown, Some(MailAdmin)));
    assert!(!r.can_send && !r.capabilities().smtp_configured);
    let nobody = Setup { rep: None, ..s };
    let r = diagnostics::run_all(&nobody).await;
    assert_eq!(status(&r.rep, "identity"), (Unknown, Some(Rep)), "without a sign-in: could not test, not failed");
    assert_eq!(status(&r.rep, "tenant_state").0, Pass);
}

#[tokio::test]
async fn sender_domain_spf_and_dmarc() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let mut s = setup(&sim, "seed-feb-2026", false).await;
    let (email, _) = sim.relay_credentials();
    let domain = email.rsplit_once('@').unwrap().1.to_owned();
    let ok = diagnostics::sender_domain(&s.resolver, &email, Some("localhost")).await;
    assert_eq!(ok.status, Pass, "{ok:?}");
    assert!(ok.evidence.iter().any(|e| e.contains("SPF pass for the relay address 127.0.0.1")), "{:?}", ok.evidence);

    // SPF through an include that does not list the relay, DMARC reject: mail would bounce.
    let zone = sim.dns_zone();
    zone.set(&domain, vec![ZoneRecord::Txt("v=spf1 include:_spf.provider.example -all".into())]);
    zone.set("_spf.provider.example", vec![ZoneRecord::Txt("v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 -all".into())]);
    zone.set(&format!("_dmarc.{domain}"), vec![ZoneRecord::Txt("v=DMARC1; p=reject".into())]);
    let bad = diagnostics::sender_domain(&s.resolver, &email, Some("localhost")).await;
    assert_eq!((bad.status, bad.owner), (Fail, Some(DnsOwner)), "{bad:?}");
    // The same include authorizing the relay passes.
    zone.set("_spf.provider.example", vec![ZoneRecord::Txt("v=spf1 ip4:127.0.0.0/8 -all".into())]);
    assert_eq!(diagnostics::sender_domain(&s.resolver, &email, Some("localhost")).await.status, Pass);
    // A record too long for a 512-byte UDP answer: the simulator truncates it, TCP brings it.
    let many: Vec<String> = (0..40).map(|i| format!("ip4:198.51.100.{i}")).collect();
    zone.set(&domain, vec![ZoneRecord::Txt(format!("v=spf1 {} ip4:127.0.0.1 -all", many.join(" ")))]);
    let long = diagnostics::sender_domain(&s.resolver, &email, Some("localhost")).await;
    assert_eq!(long.status, Pass, "{long:?}");
    // No DMARC: a warning for the DNS owner.
    zone.set(&format!("_dmarc.{domain}"), vec![]);
    let warn = diagnostics::sender_domain(&s.resolver, &email, Some("localhost")).await;
    assert_eq!((warn.status, warn.owner), (Warn, Some(DnsOwner)), "{warn:?}");
    // DNS unreachable (nothing listens there): could not test, not failed.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.resolver = Resolver::at(dead.local_addr().unwrap()).with_timeout(Duration::from_millis(300));
    let offline = diagnostics::sender_domain(&s.resolver, &email, Some("localhost")).await;
    assert_eq!(offline.status, Unknown, "{offline:?}");
}

#[tokio::test]
async fn write_checks_only_on_request_and_leave_nothing_behind() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let mut s = setup(&sim, "seed-feb-2026", false).await;
    let docs_before = sim.tenant().documents.len();
    let read_only = diagnostics::run_all(&s).await;
    assert!(read_only.rep.iter().all(|c| c.id != "archive_write" && c.id != "test_email"));
    assert_eq!((sim.tenant().documents.len(), sim.mailbox().messages().len()), (docs_before, 0), "read-only by default");

    s.write = true;
    let r = diagnostics::run_all(&s).await;
    assert_eq!(status(&r.rep, "archive_write").0, Pass, "{:?}", check(&r.rep, "archive_write"));
    assert_eq!(status(&r.rep, "test_email").0, Pass, "{:?}", check(&r.rep, "test_email"));
    assert_eq!(sim.tenant().documents.len(), docs_before, "the test document was deleted");
    let mail = sim.mailbox().messages();
    let (rep_email, _) = sim.relay_credentials();
    assert_eq!(mail.len(), 1, "exactly one test email");
    assert_eq!(mail[0].rcpt_to, vec![rep_email.clone()], "to the rep's own address");

    sim.set_profile("no-archive-rights").unwrap();
    let denied = diagnostics::run_all(&s).await;
    assert_eq!(status(&denied.rep, "archive_write"), (Fail, Some(TenantAdmin)));
}

#[tokio::test]
async fn one_check_can_be_rerun() {
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let s = setup(&sim, "seed-feb-2026", true).await;
    let start = sim.counters();
    let mut report: Report = diagnostics::run_all(&s).await;
    let full_run = sim.counters().requests("") - start.requests("");
    assert_eq!(status(&report.rep, "email_agent").0, Fail);
    // SuperOffice grants the agent; only that check is run again, in both columns.
    sim.set_profile("full").unwrap();
    let before = sim.counters();
    assert!(diagnostics::rerun(&s, &mut report, diagnostics::CheckId::EmailAgent).await);
    assert_eq!(status(&report.rep, "email_agent").0, Pass);
    assert_eq!(status(&report.rep, "inbox_account").0, Pass);
    assert_eq!(status(report.system_user.as_deref().unwrap(), "email_agent").0, Pass);
    assert_eq!(report.recommendation.channel, outbox::Channel::EmailAgent);
    let after = sim.counters();
    let rerun = after.requests("") - before.requests("");
    assert!(rerun * 3 <= full_run, "a re-run asks only what it needs: {rerun} calls (a full run: {full_run})");
    // A check that cannot run now (no signed-in rep) is refused; an id that is no check does not
    // even parse (the UI sends a `CheckId`).
    assert!(!diagnostics::rerun(&Setup { rep: None, ..s.clone() }, &mut report, diagnostics::CheckId::SignIn).await);
    assert!(serde_json::from_str::<diagnostics::CheckId>("\"no_such_check\"").is_err());
}

/// Benchmark (printed, not asserted): with 200 ms added to every simulated SuperOffice call,
/// the whole diagnosis (both columns) against its dependency critical path — two calls deep
/// (`User/currentPrincipal` → `Person/{id}` for the rep; the system user's ticket → its checks)
/// — and against asking every question one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run alone (scripts/test.sh and scripts/bench.sh do), not beside other tests"]
async fn benchmark_wall_time_vs_critical_path() {
    const LATENCY_MS: u64 = 200;
    const DEPTH: u64 = 2;
    let sim = superoffice_sim::start(superoffice_sim::SimConfig::demo()).await.unwrap();
    let s = setup(&sim, "seed-feb-2026", true).await;
    sim.inject(superoffice_sim::Fault {
        path_contains: "/".into(),
        method: None,
        kind: superoffice_sim::FaultKind::Latency { ms: LATENCY_MS },
        times: None,
    });
    let before = sim.counters().requests("");
    let t = std::time::Instant::now();
    let report = diagnostics::run_all(&s).await;
    let wall = t.elapsed().as_millis() as u64;
    let calls = sim.counters().requests("") - before;
    assert_eq!(report.recommendation.channel, outbox::Channel::Smtp, "the same verdict under latency");
    assert_eq!(report.rep.len(), diagnostics::REP_CHECKS.len());
    let critical = LATENCY_MS * DEPTH;
    let line = format!(
        "diagnostics: {calls} simulated calls, {LATENCY_MS} ms each; wall {wall} ms; critical path {critical} ms ({DEPTH} calls deep); wall/critical = {:.2} (target <= 1.2); one-after-another would take {} ms ({:.1}x the wall time)",
        wall as f64 / critical as f64,
        calls * LATENCY_MS,
        (calls * LATENCY_MS) as f64 / wall as f64
    );
    println!("{line}");
    let _ = std::fs::write(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("diagnostics-bench.txt"), line);
}
