//! The end-to-end tests' harness: the real app binary in its WebKitGTK window under Xvfb,
//! driven through `tauri-driver` (WebDriver) with `fantoccini`. Shared by `tests/e2e.rs`,
//! `tests/e2e_hostile.rs` and `tests/e2e_perf.rs` (`#[path = "e2e/harness.rs"] mod harness;`).
//!
//! Each test starts the app once, on a data directory of its own and a fixed simulator port
//! (`SO_OUTBOX_DEMO_HTTP_PORT`, so the test can ask the simulated SuperOffice and its mail relay
//! what really happened at `/__sim/records`). The system browser is `tests/e2e/browser.py`
//! (`$BROWSER`). Tests run one at a time: the demo tenant's secrets share keychain entries.
//!
//! Needs a display, a D-Bus session with an unlocked Secret Service, `tauri-driver` and
//! `WebKitWebDriver` (`scripts/test.sh` or `tests/e2e/run.sh` provide them). Without them a test
//! is skipped locally and fails in CI.
//!
//! Screenshots: `SO_OUTBOX_SCREENSHOTS=1` makes `App::shot` save PNGs to `docs/screenshots/`
//! (with `SO_OUTBOX_SCREENSHOT_SUFFIX`, e.g. `-dark`, appended to the name); `E2E_LANG=de` runs
//! the UI in German; `GTK_THEME=Adwaita:dark` is passed on to the app.
//!
//! This file starts the app (`App::start`) and holds what every test needs around it; the
//! steps a test takes in the window are in `harness/ui.rs`, the X display, the clipboard and
//! the notification server in `harness/desktop.rs`.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // each test binary uses some of it

#[path = "harness/desktop.rs"]
mod desktop;
#[path = "harness/ui.rs"]
mod ui;

pub use desktop::*;
pub use ui::import_file;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

pub const WAIT: Duration = Duration::from_secs(30);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the end-to-end tests need: a display, a D-Bus session, `tauri-driver` and
/// `WebKitWebDriver`; the reason when one is missing.
pub fn prerequisites() -> Result<(), String> {
    if std::env::var_os("DISPLAY").is_none() {
        return Err("no DISPLAY".into());
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Err("no D-Bus session".into());
    }
    for tool in ["tauri-driver", "WebKitWebDriver"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            return Err(format!("{tool} is not installed"));
        }
    }
    Ok(())
}

/// `None` (and a note) when the end-to-end prerequisites are missing outside CI.
pub fn can_run(test: &str) -> bool {
    match prerequisites() {
        Ok(()) => true,
        Err(why) => {
            assert!(std::env::var_os("CI").is_none(), "the e2e test {test} cannot run in CI: {why}");
            eprintln!("skipping the e2e test {test}: {why} (run scripts/test.sh or tests/e2e/run.sh)");
            false
        }
    }
}

/// One app at a time per test binary (the demo's keychain entries are shared).
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Starts the end-to-end test `test`: `None` when it has to be skipped ([`can_run`]), else the
/// guard that keeps its app the only one of this test binary ([`serial`]).
pub async fn begin(test: &str) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    if !can_run(test) {
        return None;
    }
    Some(serial().await)
}

/// tauri-driver, stopped with SIGTERM (it only stops WebKitWebDriver, and with it the app, on
/// SIGTERM/SIGINT).
pub struct Driver(pub Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

/// How to start the app.
#[derive(Default, Clone)]
pub struct Start {
    /// Extra environment for the app (inherited through tauri-driver).
    pub env: Vec<(String, String)>,
    /// Written as `config.json` before the start (e.g. `{"tenant": "demo", "hold_secs": 1}`).
    pub config: Option<Value>,
}

impl Start {
    pub fn demo(hold_secs: u64) -> Start {
        Start { env: Vec::new(), config: Some(json!({ "tenant": "demo", "hold_secs": hold_secs })) }
    }
    pub fn env(mut self, k: &str, v: &str) -> Start {
        self.env.push((k.into(), v.into()));
        self
    }
}

pub struct App {
    pub c: Client,
    pub data: PathBuf,
    pub sim_port: u16,
    pub started: Instant,
    name: String,
    _driver: Driver,
}

/// A data directory for one test (kept on failure for a look, under target/tmp/e2e).
pub fn data_dir(name: &str) -> PathBuf {
    let dir = root().join("target/tmp/e2e").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

/// The pids of app processes running on `data` (found by their environment in /proc).
pub fn apps_on(data: &Path) -> Vec<u32> {
    let want = format!("SO_OUTBOX_DATA_DIR={}", data.display());
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "so-outbox"))
        .filter(|pid| std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|e| e.split(|b| *b == 0).any(|kv| kv == want.as_bytes())))
        .collect()
}

impl App {
    /// Starts the app on `data` (created by `data_dir`, reused across restarts of one test),
    /// once the app of a previous start on it has really gone (one instance per data dir).
    pub async fn start(name: &str, data: &Path, sim_port: u16, opts: Start) -> App {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !apps_on(data).is_empty() {
            assert!(Instant::now() < deadline, "an earlier app on {} did not exit", data.display());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(cfg) = &opts.config {
            std::fs::write(data.join("config.json"), serde_json::to_vec_pretty(cfg).unwrap()).unwrap();
        }
        let port = free_port();
        let native = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("SO_OUTBOX_DATA_DIR", data)
            .env("SO_OUTBOX_DEMO_HTTP_PORT", sim_port.to_string())
            .env("BROWSER", root().join("tests/e2e/browser.py"))
            .env("BROWSER_LOG", data.join("browser.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let driver = Driver(cmd.spawn().expect("start tauri-driver"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), json!({ "application": env!("CARGO_BIN_EXE_so-outbox") }));
        // The session starts the app; should the app never come up, fail instead of hanging.
        let url = format!("http://127.0.0.1:{port}");
        // tauri-driver answers before its WebKitWebDriver is ready on a cold start: a session
        // request that cannot even be sent is tried again (up to 3 times).
        let mut attempt = 0;
        let c = loop {
            attempt += 1;
            let mut builder = ClientBuilder::rustls().expect("tls");
            builder.capabilities(caps.clone());
            match tokio::time::timeout(Duration::from_secs(90), builder.connect(&url)).await {
                Ok(Ok(c)) => break c,
                Ok(Err(
                    e @ (fantoccini::error::NewSessionError::FailedC(_)
                    | fantoccini::error::NewSessionError::Failed(_)
                    | fantoccini::error::NewSessionError::Lost(_)),
                )) if attempt < 3 => {
                    eprintln!("{name}: WebDriver not ready ({e}), trying again");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Ok(Err(e)) => panic!("{name}: no WebDriver session: {e}"),
                Err(_) => panic!("{name}: the app did not start within 90 s"),
            }
        };
        let app = App { c, data: data.to_owned(), sim_port, started: Instant::now(), name: name.to_owned(), _driver: driver };
        // The language is remembered in WebKit's storage, which every app of a run shares: each
        // starts in the run's language (English unless `E2E_LANG`), whatever a test before chose.
        let lang = std::env::var("E2E_LANG").unwrap_or_else(|_| "en".into());
        app.wait("#app .app").await;
        let switched = app
            .js(&format!(
                "if ((localStorage.getItem('so-outbox.lang') || 'en') === '{lang}') return false; localStorage.setItem('so-outbox.lang', '{lang}'); location.reload(); return true;"
            ))
            .await;
        if switched == Value::Bool(true) {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        app
    }

    /// A fresh data directory, a free simulator port, and the app on them.
    pub async fn fresh(name: &str, opts: Start) -> App {
        let data = data_dir(name);
        App::start(name, &data, free_port(), opts).await
    }

    pub async fn close(self) {
        let _ = self.c.close().await;
    }

    /// Fails the test with what the browser helper logged.
    pub fn fail(&self, what: impl std::fmt::Display) -> ! {
        let log = std::fs::read_to_string(self.data.join("browser.log")).unwrap_or_default();
        panic!("{}: {what}\nbrowser log: {log}\ndata dir: {}", self.name, self.data.display());
    }
}

/// A loopback HTTP server that counts every connection (and answers each with a 1×1 GIF), to
/// prove that a preview fetches nothing.
pub struct Canary {
    pub port: u16,
    pub hits: Arc<AtomicUsize>,
    pub paths: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Canary {
    pub fn start() -> Canary {
        let listener = TcpListener::bind("127.0.0.1:0").expect("canary");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (h, p) = (hits.clone(), paths.clone());
        std::thread::spawn(move || {
            use std::io::{Read as _, Write as _};
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                h.fetch_add(1, Ordering::SeqCst);
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned();
                p.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                let gif: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
                let _ = s.write_all(
                    format!("HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", gif.len())
                        .as_bytes(),
                );
                let _ = s.write_all(gif);
            }
        });
        Canary { port, hits, paths }
    }

    pub fn count(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<String> {
        self.paths.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
