//! The keychain against the real Secret Service (gnome-keyring in a private D-Bus session, as
//! `scripts/test.sh` sets up), and its refusal to run without one. Linux only: Windows'
//! store is `tests/windows_credential_manager.rs`.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use std::process::Command;

use keychain::{Keychain, Secret, SecretStore};

fn have_session_bus() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

#[test]
fn stores_reads_and_deletes_in_the_secret_service() {
    if !have_session_bus() {
        assert!(std::env::var_os("CI").is_none(), "CI must run this test inside a D-Bus session");
        eprintln!("skipped: no D-Bus session (run scripts/test.sh)");
        return;
    }
    let k = Keychain::open("so-outbox-test").unwrap_or_else(|e| panic!("keychain: {e}"));
    let name = format!("refresh-token:test:{}", std::process::id());
    let value = Secret::new("CANARY-RT-0f9e8d7c");
    k.set(&name, &value).expect("set");
    assert_eq!(k.get(&name).expect("get"), Some(value.clone()));
    // A second handle (as after a restart) sees the same entry: it is really stored.
    let again = Keychain::open("so-outbox-test").expect("reopen");
    assert_eq!(again.get(&name).expect("get again"), Some(value));
    k.delete(&name).expect("delete");
    assert_eq!(again.get(&name).expect("get after delete"), None);
    k.delete(&name).expect("deleting a missing entry is fine");
}

/// Runs only as a child of `without_a_secret_service_the_keychain_refuses`.
#[test]
fn child_open_keychain() {
    if std::env::var_os("KEYCHAIN_CHILD").is_none() {
        return;
    }
    match Keychain::open("so-outbox-test") {
        Ok(_) => std::process::exit(10),
        Err(e) => {
            println!("CODE={} MESSAGE={}", e.code(), e);
            std::process::exit(20);
        }
    }
}

#[test]
fn without_a_secret_service_the_keychain_refuses() {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "child_open_keychain", "--nocapture", "--test-threads=1"])
        .env("KEYCHAIN_CHILD", "1")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/so-outbox-test-bus")
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(20), "the keychain must fail closed; child said: {stdout}");
    assert!(stdout.contains("CODE=keychain_unavailable"), "{stdout}");
    assert!(stdout.contains("Secret Service"), "the message says what is missing: {stdout}");
}
