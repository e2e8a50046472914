//! A locked keychain. In a private D-Bus session of its own (so locking it cannot disturb the
//! other tests), gnome-keyring is started unlocked, the app's keychain opens and stores an
//! entry, then the default collection is locked through the Secret Service API
//! (`org.freedesktop.Secret.Service.Lock`). No one can answer the unlock prompt (there is no
//! display for gnome-keyring's prompter), as when the rep dismisses it. Then:
//! - `Keychain::open` fails closed, promptly, with `keychain_unavailable` and a message that
//!   says what to do, and no fallback store is used;
//! - a handle opened before the lock does not report a stored secret as missing (`Ok(None)`
//!   would make the app believe no password was ever configured) and does not write;
//! - `so-outbox configure` stops with that message and writes no `config.json`.
//!
//! The missing-Secret-Service case is `crates/keychain/tests/secret_service.rs`.
//!
//! Linux only: the lock is the Secret Service's (gnome-keyring over D-Bus). Windows' Credential
//! Manager has no lock of its own that a test could set; it is open while the user is signed in.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use keychain::{Keychain, Secret, SecretStore};

const CHILD: &str = "KEYCHAIN_LOCKED_CHILD";
const SERVICE: &str = "so-outbox-locked-test";
/// Longer than any answer of a working keychain; a call still waiting then hangs the app.
const PATIENCE: Duration = Duration::from_secs(20);

fn secret_service(args: &[&str]) -> String {
    let out = Command::new("gdbus")
        .args(["call", "--session", "--dest", "org.freedesktop.secrets"])
        .args(args)
        .output()
        .expect("gdbus (libglib2.0-bin)");
    assert!(out.status.success(), "gdbus {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs `f` on a thread; `None` when it has not answered within [`PATIENCE`].
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(PATIENCE).ok()
}

/// Runs inside the private session started by the parent test. Prints `KEY=value` lines.
#[test]
#[ignore = "a child process: its parent test starts it (with --ignored) and gives it its environment"]
fn locked_keychain_child() {
    assert!(std::env::var_os(CHILD).is_some(), "locked_keychain_child runs only as a child of the locked-keychain test");
    let unlocked = Keychain::open(SERVICE).unwrap_or_else(|e| panic!("the unlocked keychain must open: {e}"));
    let entry = "smtp-password:probe";
    unlocked.set(entry, &Secret::new("locked-test-value")).expect("store an entry while unlocked");
    println!("UNLOCKED_OPEN=ok");

    let default =
        secret_service(&["--object-path", "/org/freedesktop/secrets", "--method", "org.freedesktop.Secret.Service.ReadAlias", "default"]);
    let collection = default.split('\'').nth(1).unwrap_or_else(|| panic!("no default collection: {default}")).to_owned();
    let locked = secret_service(&[
        "--object-path",
        "/org/freedesktop/secrets",
        "--method",
        "org.freedesktop.Secret.Service.Lock",
        &format!("['{collection}']"),
    ]);
    let state = secret_service(&[
        "--object-path",
        &collection,
        "--method",
        "org.freedesktop.DBus.Properties.Get",
        "org.freedesktop.Secret.Collection",
        "Locked",
    ]);
    println!("LOCK={locked} STATE={state}");

    let started = Instant::now();
    match within(|| Keychain::open(SERVICE).map(|_| ())) {
        None => println!("OPEN=hang"),
        Some(Ok(())) => println!("OPEN=ok"),
        Some(Err(e)) => println!("OPEN=err SECS={:.1} CODE={} MESSAGE={e}", started.elapsed().as_secs_f64(), e.code()),
    }
    let handle = std::sync::Arc::new(unlocked);
    let h = handle.clone();
    match within(move || h.get(entry).map(|v| v.is_some())) {
        None => println!("GET=hang"),
        Some(Ok(found)) => println!("GET=ok FOUND={found}"),
        Some(Err(e)) => println!("GET=err CODE={}", e.code()),
    }
    let h = handle.clone();
    match within(move || h.set("smtp-password:written-while-locked", &Secret::new("x"))) {
        None => println!("SET=hang"),
        Some(Ok(())) => println!("SET=ok"),
        Some(Err(e)) => println!("SET=err CODE={}", e.code()),
    }

    // The admin's command: it must stop before writing anything.
    let data = tempfile::tempdir().expect("tempdir");
    let mut configure = Command::new(env!("CARGO_BIN_EXE_so-outbox"))
        .args(["configure", "--environment", "online", "--tenant", "Cust12345", "--client-id", "locked-test"])
        .args(["--smtp-host", "smtp.example.com", "--smtp-user", "anna@example.com", "--client-secret-stdin", "--smtp-password-stdin"])
        .env("SO_OUTBOX_DATA_DIR", data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("so-outbox configure");
    writeln!(configure.stdin.take().expect("stdin"), "locked-client-secret\nlocked-smtp-password").expect("stdin");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(configure.wait_with_output());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(Ok(out)) => println!(
            "CONFIGURE_EXIT={:?} CONFIG_WRITTEN={} CONFIGURE_SAYS={}",
            out.status.code(),
            data.path().join("config.json").exists(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        _ => println!("CONFIGURE_EXIT=hang"),
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// What follows `KEY=` (a whole word) on the first line that has it.
fn line<'a>(out: &'a str, key: &str) -> &'a str {
    let pattern = format!("{key}=");
    out.lines()
        .find_map(|l| {
            l.match_indices(&pattern)
                .find(|(i, _)| l[..*i].chars().next_back().is_none_or(char::is_whitespace))
                .map(|(i, _)| &l[i + pattern.len()..])
        })
        .unwrap_or("(not printed)")
}

/// Runs [`locked_keychain_child`] in a private D-Bus session with its own gnome-keyring;
/// returns its output (`None` when the tools are missing outside CI: the test is skipped).
fn locked_session() -> Option<(String, String)> {
    let missing: Vec<&str> = ["dbus-run-session", "gnome-keyring-daemon", "gdbus"].into_iter().filter(|t| !have(t)).collect();
    if !missing.is_empty() {
        assert!(std::env::var_os("CI").is_none(), "CI must have {missing:?} (scripts/test.sh installs them)");
        eprintln!("skipped: {missing:?} not installed (run scripts/test.sh)");
        return None;
    }
    let xdg = tempfile::tempdir().expect("tempdir");
    let script = r#"echo -n so-outbox-locked-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90
exec "$0" --ignored --exact locked_keychain_child --nocapture --test-threads=1"#;
    let mut child = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", script])
        .arg(std::env::current_exe().expect("exe"))
        .env(CHILD, "1")
        // No display: gnome-keyring's unlock prompt cannot be shown, so no one answers it.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_DATA_HOME", xdg.path().join("share"))
        .env("XDG_RUNTIME_DIR", xdg.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("dbus-run-session");
    let pgid = child.id();
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        rx
    };
    let out_rx = read(Box::new(child.stdout.take().expect("stdout")));
    let err_rx = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + PATIENCE * 5;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The session's daemons (dbus, gnome-keyring) are in the child's process group.
    let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pgid}")]).status();
    let _ = child.wait();
    let out = out_rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    let err = err_rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    let all = format!("{out}\n--- stderr ---\n{err}");
    assert!(status.is_some(), "the private session did not finish:\n{all}");
    println!("{}", out.lines().filter(|l| l.contains('=')).collect::<Vec<_>>().join("\n"));
    assert_eq!(line(&out, "UNLOCKED_OPEN"), "ok", "the keychain works before the lock:\n{all}");
    assert!(line(&out, "STATE").contains("true"), "the collection is locked:\n{all}");
    Some((out, all))
}

#[test]
fn a_locked_keychain_stops_the_app_with_keychain_unavailable_and_no_fallback() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let Some((out, all)) = locked_session() else { return };
    let open = line(&out, "OPEN");
    assert!(open.starts_with("err"), "opening a locked keychain must fail closed, not {open:?}:\n{all}");
    assert!(open.contains("CODE=keychain_unavailable"), "{open}");
    let get = line(&out, "GET");
    assert!(
        get.starts_with("err") && get.contains("keychain_unavailable"),
        "a stored secret in a locked keychain must not read as missing: GET={get}"
    );
    assert!(line(&out, "SET").starts_with("err"), "nothing is written to a locked keychain: SET={}", line(&out, "SET"));
    let configure = line(&out, "CONFIGURE_EXIT");
    assert!(configure.starts_with("Some(1) CONFIG_WRITTEN=false"), "configure must stop before writing: {configure}");
    assert!(configure.contains("keychain is not available"), "{configure}");
}

/// The admin or rep must learn what to do. Without a Secret Service the message says "start
/// gnome-keyring or KWallet and unlock it"; for a locked one `Keychain::open` says "the OS
/// keychain is not available: could not store a test entry: the OS keychain is not available:
/// Couldn't access platform storage: SS error: prompt dismissed" (its self-test wraps an
/// `Unavailable` in another). The window adds its own help text for `keychain_*` codes, but
/// `so-outbox configure` and the log show only this.
#[test]
fn a_locked_keychain_says_it_is_locked_and_how_to_unlock_it() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let Some((out, _)) = locked_session() else { return };
    let message = line(&out, "OPEN").split_once("MESSAGE=").map(|(_, m)| m).unwrap_or_default().to_owned();
    assert!(message.to_lowercase().contains("unlock"), "the message says to unlock the keychain: {message}");
    assert_eq!(message.matches("not available").count(), 1, "the message says it once: {message}");
}
