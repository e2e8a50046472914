//! `so-outbox diagnose` as an admin runs it: the real binary, headless, on the demo tenant and
//! on a configured tenant (the simulator) without a stored sign-in. Exit status 0 when a
//! channel that sends by itself works, 1 when only the handoff is left, 2 when it cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::process::{Command, Output};

fn diagnose(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_so-outbox"))
        .arg("diagnose")
        .args(args)
        .env("SO_OUTBOX_DATA_DIR", data_dir)
        .output()
        .expect("run so-outbox diagnose")
}

fn keychain_available() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() && keychain::Keychain::open("so-outbox-test").is_ok()
}

#[test]
fn demo_tenant_json_markdown_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = diagnose(&["--demo", "--json"], dir.path());
    if !keychain_available() {
        // No Secret Service: the diagnosis refuses to run rather than keep secrets elsewhere.
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("keychain"));
        return;
    }
    assert_eq!(out.status.code(), Some(0), "the demo sends by SMTP: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["recommendation"]["channel"], "smtp");
    assert_eq!(report["can_send"], true);
    let rep = report["rep"].as_array().unwrap();
    let ids: Vec<&str> = rep.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, diagnostics::REP_CHECKS.iter().map(|c| c.as_str()).collect::<Vec<_>>(), "the documented fields and checks");
    for c in rep {
        for field in ["status", "tried", "evidence", "cause", "owner", "action", "docs"] {
            assert!(c.get(field).is_some(), "{field} missing in {c}");
        }
    }
    let agent = rep.iter().find(|c| c["id"] == "email_agent").unwrap();
    assert_eq!((agent["status"].as_str(), agent["owner"].as_str()), (Some("fail"), Some("app_registration")));
    assert!(report["system_user"].as_array().is_some_and(|s| s.iter().any(|c| c["id"] == "associate_me")), "two columns in the demo");

    let md = diagnose(&["--demo", "--markdown"], dir.path());
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# SuperOffice sending capability report") && md.contains("### Option B"), "{md}");
    let text = diagnose(&["--demo"], dir.path());
    assert!(String::from_utf8_lossy(&text.stdout).contains("Recommended channel: smtp"));
}

#[tokio::test]
async fn configured_tenant_without_sign_in_is_handoff_only_and_no_tenant_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let none = tokio::task::spawn_blocking({
        let d = dir.path().to_owned();
        move || diagnose(&["--json"], &d)
    })
    .await
    .unwrap();
    assert_eq!(none.status.code(), Some(2), "nothing configured: cannot run");
    if !keychain_available() {
        return;
    }
    let sim = common::simulator().await;
    let config = serde_json::json!({
        "tenant": "superoffice",
        "superoffice": {
            "environment": sim.base_url(),
            "context_id": sim.context_id(),
            "client_id": sim.client().client_id,
            "task_type_id": 7,
            "smtp": { "host": "localhost", "port": sim.smtp_addr().port(), "security": "starttls", "username": "nobody@roboplanet.example", "ca_file": null }
        }
    });
    let file = dir.path().join("elsewhere.json");
    std::fs::write(&file, config.to_string()).unwrap();
    let d = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || diagnose(&["--json", "--config", file.to_str().unwrap()], &d)).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "no sign-in, no relay password: handoff only. {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rep = report["rep"].as_array().unwrap();
    let status = |id: &str| rep.iter().find(|c| c["id"] == id).map(|c| c["status"].as_str().unwrap().to_owned()).unwrap();
    assert_eq!(status("tenant_state"), "pass", "the tenant itself answers");
    assert_eq!(status("identity"), "unknown", "not signed in: could not test, not failed");
    assert_eq!(report["recommendation"]["channel"], "handoff");
}
