//! Secret canaries. Unique values are planted as the client secret and the SMTP password
//! (chosen here) and captured as the refresh tokens (the simulator issues random ones, read back
//! from the keychain); then the whole flow runs with logging at its most verbose: `configure`,
//! sign-in through the loopback listener, intake, approval of one draft and of a selection,
//! sending over SMTP (STARTTLS + AUTH), archiving, a relay check, a refresh with rotation, a
//! resumed sign-in, failures with wrong secrets, a crash at a crash point and a panic in child
//! processes, and the sign-out (revocation). Afterwards every file it could have written is
//! searched for each canary, raw and encoded (URL-encoded, JSON-escaped, base64 and base64url at
//! every alignment, hex): the TRACE log, the SQLite outbox with its `-wal`, `config.json`, the
//! crash and panic output, the serialized IPC payloads and `Debug` dumps, and every file under
//! the temp directory changed during the test. Hits must be 0; the files and bytes searched are
//! printed.
//!
//! The keychain is the real Secret Service when `DBUS_SESSION_BUS_ADDRESS` is set (the test
//! script runs the tests in a D-Bus session with gnome-keyring), else `keychain::MemoryStore`.
//! A second test does the same with the real app binary (`SO_OUTBOX_LOG=trace`) in its window
//! through WebDriver, like `tests/e2e.rs`, where a display and `tauri-driver` are available.
//! `CANARY_KEEP=1` keeps the searched directories for a look.
//!
//! The flow's tests are here; their parts are in `tests/secret_canary/`: the canaries and the
//! search (`search.rs`), the log, sign-in, child runs and `configure` (`child.rs`), and the
//! real-app test (`real_app.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

#[path = "secret_canary/child.rs"]
mod child;
mod common;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "secret_canary/real_app.rs"]
mod real_app;
#[path = "secret_canary/search.rs"]
mod search;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use child::{configure, cvar, run_child, session_bus, sign_in, trace_to};
use child::{C_CLIENT_ID, C_CONTEXT, C_DATA, C_SECRET, C_SIM, C_SMTP_CA, C_SMTP_PASSWORD, C_SMTP_PORT, C_WRONG_SECRET};
use common::{SmtpServer, SMTP_USER};
use keychain::{Keychain, MemoryStore, Secret, SecretStore};
use outbox::{Delivery, Limits, Rep, SmtpSecurity, SmtpSettings, State, Store};
use search::{canary, percent_encode, random_hex, token_shapes, Canaries, Scan};
use superoffice::{refresh_token_key, AppointmentFilter, Client, Environment, Session};
use superoffice_sim::{SimConfig, SimHandle};
use testkit::smtp::{Options, Tls};

/// The app's keychain service (`so_outbox::KEYCHAIN_SERVICE`), which `so-outbox configure` uses.
const SERVICE: &str = so_outbox::KEYCHAIN_SERVICE;
const CHILD: &str = "CANARY_CHILD";
const FILTER_TASK_TYPE: i64 = 7;
/// Files larger than this under the temp directory are not read (none of ours comes close).
const MAX_TEMP_FILE: u64 = 64 << 20;

/// The search itself must work, or 0 hits would prove nothing: a file holding a canary raw,
/// inside a base64 blob at an odd offset, URL-encoded and JSON-escaped is found in each form.
#[test]
fn the_search_finds_every_encoding_of_a_canary() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let value = canary("self-test");
    let mut canaries = Canaries::default();
    canaries.add("probe", &value);
    let dir = tempfile::tempdir().expect("tempdir");
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("raw", format!("token={value};").into_bytes()),
        ("base64", STANDARD.encode(format!("\0anna@example.test\0{value}")).into_bytes()),
        ("base64url", URL_SAFE_NO_PAD.encode(format!("xy{value}z")).into_bytes()),
        ("url", format!("a=b&client_secret={}&c", percent_encode(&value, true)).into_bytes()),
        ("json", serde_json::to_vec(&serde_json::json!({ "s": value })).unwrap()),
        ("hex", value.bytes().map(|b| format!("{b:02x}")).collect::<String>().into_bytes()),
        ("shape", b"Bearer 8A:Cust1.abc and eyJhbGciOiJSUzI1NiJ9.e30.x".to_vec()),
    ];
    for (name, bytes) in &forms {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    let mut scan = Scan::default();
    scan.tree(dir.path(), "self-test", None, &[], &canaries, &token_shapes("Cust1"));
    for (name, _) in forms.iter().filter(|(n, _)| *n != "shape") {
        assert!(
            scan.hits.iter().any(|h| h.file.ends_with(name)),
            "the {name} form was not found; hits in {:?}",
            scan.hits.iter().map(|h| &h.file).collect::<Vec<_>>()
        );
    }
    assert_eq!(scan.shaped.len(), 2, "an access token and a JWT header are found by shape");
    assert_eq!(scan.files, forms.len());
}

/// A child app run. `crash`: sends one draft and dies at the crash point the parent set
/// (`SO_OUTBOX_CRASH_AT`); `panic`: resumes the sign-in with a wrong client secret and panics
/// on the error, as an `expect` in the app would.
#[test]
#[ignore = "a child process: its parent test starts it (with --ignored) and gives it its environment"]
fn canary_child() {
    let mode = std::env::var(CHILD).expect("canary_child runs only as a child of the canary tests");
    let data = PathBuf::from(cvar(C_DATA));
    trace_to(&data.join("logs").join(format!("child-{mode}.log")));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
        let (url, client_id, ctx) = (cvar(C_SIM), cvar(C_CLIENT_ID), cvar(C_CONTEXT));
        let session = sign_in(&url, &client_id, &ctx, Some(Secret::new(cvar(C_SECRET))), store.clone()).await;
        tracing::info!(claims = ?session.claims(), "child signed in");
        if mode == "panic" {
            let resumed =
                Session::restore(Environment::Custom(url.clone()), client_id.clone(), &ctx, Some(Secret::new(cvar(C_WRONG_SECRET))), store)
                    .await;
            resumed.expect("resume the sign-in with the stored refresh token");
            return;
        }
        let client = Client::new(session);
        let outbox = Arc::new(Store::open(&data.join("outbox.sqlite")).expect("outbox"));
        outbox.recover_interrupted().expect("recover");
        let me = client.current_principal().await.expect("principal");
        let smtp = SmtpSettings::new(
            "localhost",
            cvar(C_SMTP_PORT).parse().expect("port"),
            SmtpSecurity::StartTls,
            SMTP_USER,
            Secret::new(cvar(C_SMTP_PASSWORD)),
        )
        .with_ca(Some(std::fs::read_to_string(cvar(C_SMTP_CA)).expect("ca")))
        .with_data_timeout(Duration::from_secs(30));
        tracing::debug!(?smtp, "relay settings");
        let delivery =
            Delivery::new(outbox.clone(), client, smtp, Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address });
        let id = outbox
            .list()
            .expect("list")
            .into_iter()
            .find(|d| d.problem.is_none() && d.state == State::Pending)
            .expect("a pending draft")
            .id;
        delivery.approve(id).expect("approve");
        let state = delivery.deliver(id).await;
        panic!("the crash point was not reached: {state:?}");
    });
}

/// The canary relay as the app reaches it (STARTTLS, its CA), with `password`.
fn relay_settings(relay: &SmtpServer, password: Secret) -> SmtpSettings {
    relay.settings(SmtpSecurity::StartTls, password).with_data_timeout(Duration::from_secs(30))
}

#[test]
fn planted_secrets_reach_no_log_database_config_temp_file_crash_output_or_payload() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let since = SystemTime::now() - Duration::from_secs(2);
    let root = tempfile::Builder::new().prefix("so-outbox-canary-").tempdir().expect("tempdir");
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    trace_to(&data.join("logs").join("so-outbox.log"));

    let client_secret = canary("client-secret");
    let smtp_password = canary("smtp-password");
    let wrong_secret = canary("wrong-client-secret");
    let wrong_password = canary("wrong-smtp-password");
    let mut canaries = Canaries::default();
    canaries.add("client secret", &client_secret);
    canaries.add("SMTP password", &smtp_password);
    canaries.add("wrong client secret", &wrong_secret);
    canaries.add("wrong SMTP password", &wrong_password);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut config = SimConfig::demo();
    // A client id of its own, so the keychain entries never collide with the demo tenant's.
    config.client.client_id = format!("so-outbox-canary-{}", &random_hex()[..8]);
    config.client.client_secret = client_secret.clone();
    let sim: SimHandle = rt.block_on(superoffice_sim::start(config)).expect("simulator");
    let (url, ctx, client_id) = (sim.base_url().to_owned(), sim.context_id(), sim.client().client_id.clone());
    let relay = SmtpServer::start_with(Options::new(Tls::StartTls).password(&smtp_password).in_dir(&root.path().join("relay")));
    let secret_key = format!("superoffice-client-secret:127.0.0.1:{ctx}:{client_id}");
    let relay_key = format!("smtp-password:{}@localhost:{}", SMTP_USER, relay.port);
    let rt_key = refresh_token_key(&Environment::Custom(url.clone()), &ctx, &client_id);

    // The admin's `so-outbox configure`: config.json and the keychain. Without a Secret Service
    // it must refuse (and write nothing); the in-memory store stands in for the rest.
    let code = configure(&data, [&url, &ctx, &client_id], &relay, [&client_secret, &smtp_password], &root.path().join("configure.out"));
    let (keychain, kind): (Arc<dyn SecretStore>, &str) = if session_bus() {
        assert_eq!(code, Some(0), "configure failed: {}", std::fs::read_to_string(root.path().join("configure.out")).unwrap_or_default());
        (Arc::new(Keychain::open(SERVICE).expect("the Secret Service")), "the Secret Service")
    } else {
        let out = std::fs::read_to_string(root.path().join("configure.out")).unwrap_or_default();
        assert_eq!(code, Some(1), "without a keychain configure must fail: {out}");
        assert!(out.contains("keychain is not available") && !data.join("config.json").exists(), "{out}");
        let memory = MemoryStore::default();
        memory.set(&secret_key, &Secret::new(client_secret.clone())).expect("set");
        memory.set(&relay_key, &Secret::new(smtp_password.clone())).expect("set");
        (Arc::new(memory), "keychain::MemoryStore (no D-Bus session)")
    };
    println!("keychain: {kind}");

    let mut payloads = serde_json::Map::new();
    let mut debug = String::new();
    let mut refresh_tokens = vec![];
    rt.block_on(async {
        // As the app: the secrets come from the keychain.
        let secret = keychain.get(&secret_key).expect("keychain").expect("client secret stored");
        let password = keychain.get(&relay_key).expect("keychain").expect("SMTP password stored");
        assert_eq!(secret.expose(), client_secret, "the keychain holds the planted client secret");
        let session = sign_in(&url, &client_id, &ctx, Some(secret.clone()), keychain.clone()).await;
        refresh_tokens.push(keychain.get(&rt_key).expect("keychain").expect("refresh token stored after sign-in").expose().to_owned());
        payloads.insert("session_info".into(), serde_json::to_value(session.info()).unwrap());
        debug.push_str(&format!("session claims: {:?}\n", session.claims()));
        let client = Client::new(session);
        let me = client.current_principal().await.expect("principal");
        let store = Arc::new(Store::open(&data.join("outbox.sqlite")).expect("outbox"));
        store.recover_interrupted().expect("recover");
        let intake = outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: me.associate_id, task_type_id: FILTER_TASK_TYPE })
            .await
            .expect("intake");
        payloads.insert("refresh_outbox".into(), serde_json::to_value(&intake).unwrap());
        let smtp = relay_settings(&relay, password);
        debug.push_str(&format!("smtp settings: {smtp:?}\n{smtp:#?}\n"));
        let probe = outbox::smtp::probe(&smtp, &me.email_address).await;
        assert!(probe.failure.is_none(), "relay check with the right password: {probe:?}");
        let wrong = outbox::smtp::probe(&relay_settings(&relay, Secret::new(wrong_password.clone())), &me.email_address).await;
        assert!(wrong.failure.is_some(), "the relay must refuse the wrong password: {wrong:?}");
        payloads.insert("relay_check".into(), serde_json::json!({ "ok": probe.steps, "wrong_password": [wrong.steps, wrong.failure] }));
        debug.push_str(&format!("probes: {probe:?} {wrong:?}\n"));
        let delivery = Delivery::new(store.clone(), client, smtp, Rep { associate_id: me.associate_id, name: me.full_name.clone(), email: me.email_address.clone() });
        let sendable: Vec<i64> = store.list().expect("list").into_iter().filter(|d| d.problem.is_none()).map(|d| d.id).take(3).collect();
        assert_eq!(sendable.len(), 3);
        // One approval, then a selection of two (approve_draft, approve_many); the ticker sends.
        for id in &sendable {
            delivery.approve(*id).expect("approve");
        }
        let mut ticks = vec![];
        loop {
            let report = delivery.tick(&Limits::default()).await.expect("tick");
            let changed = report.changed();
            ticks.push(report);
            if !changed {
                break;
            }
        }
        payloads.insert("ticks".into(), serde_json::to_value(&ticks).unwrap());
        for id in &sendable {
            assert_eq!(store.get(*id).expect("row").state, State::Done, "draft {id} was sent and archived");
        }
        // A refresh with rotation (the `full` profile rotates), then the resume at start.
        sim.set_profile("full").expect("profile");
        delivery.client.session().expect("session").refresh_now().await.expect("refresh");
        refresh_tokens.push(keychain.get(&rt_key).expect("keychain").expect("rotated token").expose().to_owned());
        let resumed = Session::restore(Environment::Custom(url.clone()), client_id.clone(), &ctx, Some(secret.clone()), keychain.clone())
            .await
            .expect("resume")
            .expect("a stored sign-in");
        refresh_tokens.push(keychain.get(&rt_key).expect("keychain").expect("rotated token").expose().to_owned());
        // Failures with a wrong secret: their texts are what the UI would show.
        let refused = Session::restore(Environment::Custom(url.clone()), client_id.clone(), &ctx, Some(Secret::new(wrong_secret.clone())), keychain.clone())
            .await
            .err()
            .expect("a wrong client secret is refused");
        payloads.insert("error_wrong_client_secret".into(), serde_json::json!({ "code": refused.code(), "message": refused.to_string() }));
        debug.push_str(&format!("error: {refused:?}\n"));
        // What the UI receives: the list, and each draft's detail.
        let rows = store.list().expect("list");
        payloads.insert("list_drafts".into(), serde_json::to_value(&rows).unwrap());
        for r in &rows {
            payloads.insert(
                format!("get_draft {}", r.id),
                serde_json::json!({ "draft": r, "timeline": store.timeline(r.id).expect("timeline"), "versions": store.versions(r.id).expect("versions") }),
            );
        }
        payloads.insert("channel".into(), serde_json::to_value(delivery.channel()).unwrap());
        resumed.sign_out().await.expect("sign out (revocation)");
        assert_eq!(keychain.get(&rt_key).expect("keychain"), None, "signing out deletes the refresh token");
    });
    let counters = sim.counters();
    assert!(counters.refreshes >= 3, "the refresh token went over the wire (refreshes: {})", counters.refreshes);
    let envelopes: Vec<serde_json::Value> = relay.received().into_iter().map(|(envelope, _)| envelope).collect();
    assert_eq!(envelopes.len(), 3, "three messages reached the relay");
    assert!(envelopes.iter().all(|e| e["login"] == true && e["tls"] == true), "each after AUTH over TLS: {envelopes:?}");
    refresh_tokens.dedup();
    assert!(refresh_tokens.len() >= 2, "the refresh token was rotated");
    for (i, t) in refresh_tokens.iter().enumerate() {
        canaries.add(&format!("refresh token {}", i + 1), t);
    }

    // Crash and panic output of child app runs, their TRACE logs in the same data directory.
    let crash = root.path().join("crash");
    std::fs::create_dir_all(&crash).expect("crash dir");
    let env = [
        (C_SIM, url.clone()),
        (C_CLIENT_ID, client_id.clone()),
        (C_CONTEXT, ctx.clone()),
        (C_SECRET, client_secret.clone()),
        (C_WRONG_SECRET, wrong_secret.clone()),
        (C_SMTP_PORT, relay.port.to_string()),
        (C_SMTP_CA, relay.ca_file().display().to_string()),
        (C_SMTP_PASSWORD, smtp_password.clone()),
        (C_DATA, data.display().to_string()),
    ];
    assert_eq!(
        run_child("crash", &env, Some("after_smtp_accepted"), &crash.join("crash.out")),
        Some(137),
        "the crash child dies at its point"
    );
    assert_eq!(run_child("panic", &env, None, &crash.join("panic.out")), Some(101), "the panic child panics");
    let panic_text = std::fs::read_to_string(crash.join("panic.out")).unwrap_or_default();
    // The error's code as `Debug` shows it: its wire name, or its `codes::ErrorCode` variant.
    let names_code = panic_text.contains("token_invalid_client") || panic_text.contains("TokenInvalidClient");
    assert!(panic_text.contains("panicked") && names_code, "the panic output: {panic_text}");

    // The UI's payloads and Debug dumps, kept as files to be searched like the rest.
    std::fs::write(data.join("ipc-payloads.json"), serde_json::to_vec_pretty(&payloads).unwrap()).expect("payloads");
    std::fs::write(data.join("debug-dump.txt"), &debug).expect("debug dump");
    let log = std::fs::read_to_string(data.join("logs/so-outbox.log")).unwrap_or_default();
    assert!(log.contains(" TRACE ") && log.len() > 10_000, "the TRACE log is written ({} bytes)", log.len());

    // Search. The keychain's own files (gnome-keyring's, if it keeps any under the temp dir)
    // hold the secrets by design and are left out.
    let shapes = token_shapes(&ctx);
    let mut scan = Scan::default();
    scan.tree(&data, "data directory", None, &[], &canaries, &shapes);
    scan.tree(&crash, "crash and panic output", None, &[], &canaries, &shapes);
    scan.file(&root.path().join("configure.out"), "configure output", &canaries, &shapes);
    scan.tree(&root.path().join("relay"), "the relay's received mail", None, &[], &canaries, &shapes);
    let keyrings: Vec<PathBuf> =
        [std::env::var_os("XDG_DATA_HOME").map(PathBuf::from), std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share"))]
            .into_iter()
            .flatten()
            .map(|d| d.join("keyrings"))
            .collect();
    let mut skip = keyrings.clone();
    skip.push(root.path().to_owned());
    // Only the canaries there: other programs' files may hold token-shaped strings of their own.
    scan.tree(&std::env::temp_dir(), "temp files changed during the test", Some(since), &skip, &canaries, &[]);
    let report = scan.report(&canaries);
    println!("{report}");
    // For the record, not required: the keychain's own files (gnome-keyring encrypts them).
    let mut own = Scan::default();
    for dir in &keyrings {
        own.tree(dir, "keychain files", None, &[], &canaries, &[]);
    }
    println!("the keychain's own files: {} files, {} bytes, {} canary hits", own.files, own.bytes, own.hits.len());
    let files: Vec<String> =
        std::fs::read_dir(&data).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    println!("data directory: {}", files.join(", "));
    let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("canary-summary.txt"), format!("{kind}: {report}\n"));
    if session_bus() {
        for key in [&secret_key, &relay_key, &rt_key] {
            let _ = keychain.delete(key);
        }
    }
    assert!(data.join("outbox.sqlite-wal").exists() || data.join("outbox.sqlite").exists(), "the outbox was searched");
    if std::env::var_os("CANARY_KEEP").is_some() {
        println!("kept {}", root.keep().display());
    }
    scan.assert_clean(&canaries);
}
