//! Part of `tests/secret_canary.rs`: the real app binary at TRACE in its window, driven
//! through WebDriver like the end-to-end tests (their harness starts `tauri-driver`), with the
//! canaries read back from the Secret Service where the app put them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use keychain::{Keychain, SecretStore};
use superoffice::{refresh_token_key, Environment};

use crate::harness::{free_port, prerequisites, Driver};
use crate::search::{token_shapes, Canaries, Scan};
use crate::SMTP_USER;
use crate::{CHILD, SERVICE};

/// The demo tenant in the real app (`SO_OUTBOX_LOG=trace`): choose the demo, sign in, approve
/// one draft, wait for it to be archived; then ask the app over IPC what the UI can ask
/// (status, drafts with timelines and versions, the demo mailbox). The canaries are what the
/// app put in the Secret Service: the demo's client secret and relay password (random per
/// start) and the refresh token. Searched: the data directory (log, outbox, config), the app's
/// console output, the IPC answers, the webview's storage and the temp files of the run.
#[tokio::test(flavor = "multi_thread")]
async fn the_real_app_at_trace_level_leaks_no_secret() {
    use fantoccini::{ClientBuilder, Locator};
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    if let Err(why) = prerequisites() {
        assert!(std::env::var_os("CI").is_none(), "the real-app canary test cannot run in CI: {why}");
        eprintln!("skipping the real-app canary test: {why} (run scripts/test.sh)");
        return;
    }
    let since = SystemTime::now() - Duration::from_secs(2);
    let root = tempfile::Builder::new().prefix("so-outbox-canary-app-").tempdir().expect("tempdir");
    let data = root.path().join("data");
    let console = root.path().join("console.out");
    let (sim_port, port, native) = (free_port(), free_port(), free_port());
    let out = std::fs::File::create(&console).expect("console file");
    let driver = Driver(
        Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("SO_OUTBOX_DATA_DIR", &data)
            .env("SO_OUTBOX_LOG", "trace")
            .env("SO_OUTBOX_DEMO_HTTP_PORT", sim_port.to_string())
            .env("RUST_BACKTRACE", "1")
            .env("BROWSER", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/browser.py"))
            .env("BROWSER_LOG", root.path().join("browser.log"))
            .stdout(out.try_clone().expect("clone"))
            .stderr(out)
            .spawn()
            .expect("start tauri-driver"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), serde_json::json!({ "application": env!("CARGO_BIN_EXE_so-outbox") }));
    let c = ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session");
    let wait = Duration::from_secs(60);
    let run = async {
        c.wait().at_most(wait).for_element(Locator::Css("#choose-demo")).await?.click().await?;
        c.wait().at_most(wait).for_element(Locator::Css("#sign-in")).await?.click().await?;
        c.wait().at_most(wait).for_element(Locator::Css(".draft-row")).await?;
        c.find_all(Locator::Css(".draft-row")).await?[0].click().await?;
        c.find(Locator::Css("#approve")).await?.click().await?;
        let deadline = Instant::now() + wait;
        loop {
            let status = c.find(Locator::Css("#draft-status")).await?.text().await?;
            if status.contains("archived as document") {
                break;
            }
            assert!(Instant::now() < deadline, "the approved draft was not archived; status {status:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // What the UI can ask for, through the real IPC.
        let script = r#"
            const done = arguments[arguments.length - 1];
            const invoke = window.__TAURI_INTERNALS__.invoke;
            (async () => {
                const out = { app_status: await invoke('app_status'), list_drafts: await invoke('list_drafts'), demo_mailbox: await invoke('demo_mailbox') };
                for (const d of out.list_drafts) { out['get_draft ' + d.id] = await invoke('get_draft', { id: d.id }); }
                return out;
            })().then(v => done(JSON.stringify(v)), e => done('ERROR ' + String(e)));
        "#;
        c.execute_async(script, vec![]).await
    };
    let payloads = run.await;
    let _ = c.close().await;
    drop(driver);
    let payloads = payloads
        .unwrap_or_else(|e| panic!("driving the app failed: {e}; console: {}", std::fs::read_to_string(&console).unwrap_or_default()));
    let payloads = payloads.as_str().unwrap_or_default().to_owned();
    assert!(payloads.starts_with('{') && payloads.contains("\"list_drafts\""), "IPC answers: {payloads:.300}");
    std::fs::write(root.path().join("ipc-payloads.json"), &payloads).expect("payloads");

    // The canaries, from where the app keeps them.
    let logs: Vec<PathBuf> = std::fs::read_dir(data.join("logs")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    let log: String = logs.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();
    assert!(log.contains(" TRACE "), "the app logged at TRACE ({} bytes in {logs:?})", log.len());
    let smtp_port = log
        .split("demo tenant started")
        .nth(1)
        .and_then(|rest| rest.split("smtp=127.0.0.1:").nth(1))
        .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_else(|| panic!("the log names the demo relay's port"));
    let (ctx, client_id) = ("Demo26720", "so-outbox-demo");
    let keychain = Keychain::open(SERVICE).expect("the Secret Service");
    let mut canaries = Canaries::default();
    for (name, key) in [
        ("client secret", format!("superoffice-client-secret:127.0.0.1:{ctx}:{client_id}")),
        ("SMTP password", format!("smtp-password:{}@localhost:{smtp_port}", SMTP_USER)),
        ("refresh token", refresh_token_key(&Environment::Custom("http://127.0.0.1".into()), ctx, client_id)),
    ] {
        let value = keychain.get(&key).expect("keychain").unwrap_or_else(|| panic!("the app stored no {name} under {key}"));
        canaries.add(name, value.expose());
    }

    let shapes = token_shapes(ctx);
    let mut scan = Scan::default();
    scan.tree(&data, "data directory", None, &[], &canaries, &shapes);
    scan.file(&console, "console output (app and driver)", &canaries, &shapes);
    scan.file(&root.path().join("ipc-payloads.json"), "IPC answers", &canaries, &shapes);
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let share = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".local/share"));
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".cache"));
    for dir in [share.join(so_outbox::IDENTIFIER), cache.join(so_outbox::IDENTIFIER), cache.join("so-outbox")] {
        scan.tree(&dir, "webview storage and caches", Some(since), &[], &canaries, &shapes);
    }
    let skip = vec![share.join("keyrings"), home.join(".local/share/keyrings"), root.path().to_owned()];
    // Only the canaries there: other programs' files may hold token-shaped strings of their own.
    scan.tree(&std::env::temp_dir(), "temp files changed during the test", Some(since), &skip, &canaries, &[]);
    let report = scan.report(&canaries);
    println!("real app: {report}");
    let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("canary-app-summary.txt"), format!("real app at TRACE: {report}\n"));
    if std::env::var_os("CANARY_KEEP").is_some() {
        println!("kept {}", root.keep().display());
    }
    scan.assert_clean(&canaries);
}
