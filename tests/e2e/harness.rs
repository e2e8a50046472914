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
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub const WAIT: Duration = Duration::from_secs(30);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn prerequisites() -> Result<(), String> {
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

/// tauri-driver, stopped with SIGTERM (it only stops WebKitWebDriver, and with it the app, on
/// SIGTERM/SIGINT).
struct Driver(Child);

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

    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        match self.c.wait().at_most(timeout).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let _ = self.shot_always(&format!("failed-{}", self.name)).await;
                self.fail(format!("{css} did not appear: {e}"))
            }
        }
    }

    pub async fn wait(&self, css: &str) -> Element {
        self.wait_for(css, WAIT).await
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => self.fail(format!("{css} not found: {e}")),
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    /// Clicks like the rep: the element brought to the middle of its scroll area first (WebDriver
    /// would scroll it to the bottom edge, under a sticky footer).
    pub async fn click(&self, css: &str) {
        let el = self.wait(css).await;
        let _ = self
            .c
            .execute(
                "arguments[0].scrollIntoView({ block: 'center', inline: 'nearest' }); return 1;",
                vec![serde_json::to_value(&el).unwrap()],
            )
            .await;
        if let Err(e) = el.click().await {
            self.fail(format!("click {css}: {e}"));
        }
    }

    /// The element's rendered text (`innerText` when WebKitWebDriver's own answer is empty, as
    /// it is for some elements in flex rows with hidden overflow).
    pub async fn text(&self, css: &str) -> String {
        let el = self.wait(css).await;
        match el.text().await {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => {
                let v = self.c.execute("return arguments[0].innerText", vec![serde_json::to_value(&el).unwrap()]).await;
                v.ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            }
            Err(e) => self.fail(format!("text of {css}: {e}")),
        }
    }

    /// Replaces a field's value by typing (WebDriver's clear fires no `input` event, so one is
    /// dispatched for the UI's bindings).
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.ok();
        let _ = self
            .c
            .execute(
                "arguments[0].dispatchEvent(new Event('input', { bubbles: true })); return 1;",
                vec![serde_json::to_value(&el).unwrap()],
            )
            .await;
        if !text.is_empty() {
            if let Err(e) = el.send_keys(text).await {
                self.fail(format!("type into {css}: {e}"));
            }
        }
    }

    /// Presses keys with the focus wherever it is (the app's shortcuts listen on the window).
    pub async fn keys(&self, keys: &str) {
        if let Ok(el) = self.c.active_element().await {
            if el.send_keys(keys).await.is_ok() {
                return;
            }
        }
        let script = "const k = arguments[0]; for (const ch of k) { \
            const t = document.activeElement || document.body; \
            t.dispatchEvent(new KeyboardEvent('keydown', { key: ch, bubbles: true, cancelable: true })); } return 1;";
        if let Err(e) = self.c.execute(script, vec![json!(keys)]).await {
            self.fail(format!("keys {keys}: {e}"));
        }
    }

    pub async fn wait_text(&self, css: &str, want: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            if self.exists(css).await {
                let t = self.text(css).await;
                if t.contains(want) {
                    return t;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let _ = self.shot_always(&format!("failed-{}", self.name)).await;
        self.fail(format!("{css} never showed {want:?}; last text: {last:?}"))
    }

    /// Runs `script` (a function body) in the main frame.
    pub async fn js(&self, script: &str) -> Value {
        match tokio::time::timeout(WAIT, self.c.execute(script, vec![])).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => self.fail(format!("script failed: {e}")),
            Err(_) => self.fail("a script did not return within 30 s (is the window hung?)"),
        }
    }

    /// The count shown on a view tab (`to_review`, `sent`, …).
    pub async fn count(&self, view: &str) -> u64 {
        let t = self.text(&format!("#view-{view} .view-count")).await;
        t.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)
    }

    pub async fn wait_count(&self, view: &str, want: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut last = 0;
        while Instant::now() < deadline {
            last = self.count(view).await;
            if last == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        self.fail(format!("view {view} never counted {want}; last {last}"))
    }

    /// From the first-run screen (or the sign-in screen of a chosen demo) to the outbox.
    pub async fn sign_in_demo(&self) {
        let el = self.wait("#choose-demo, #sign-in").await;
        if el.attr("id").await.ok().flatten().as_deref() == Some("choose-demo") {
            el.click().await.ok();
        }
        self.wait("#demo-banner").await;
        self.click("#sign-in").await;
        self.wait_for(".draft-row", Duration::from_secs(60)).await;
    }

    /// Clicks the row at `index` in the current view and waits for its detail.
    pub async fn select_row(&self, index: usize) -> i64 {
        let row = self.wait(&format!(".draft-row[data-index=\"{index}\"]")).await;
        let id: i64 = row.attr("data-id").await.ok().flatten().and_then(|s| s.parse().ok()).unwrap_or(-1);
        row.click().await.ok();
        self.wait("#draft-status").await;
        id
    }

    pub async fn view(&self, view: &str) {
        self.click(&format!("#view-{view}")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// What the simulated SuperOffice and its mail relay hold (asked directly, not the app).
    pub async fn records(&self) -> Value {
        let url = format!("http://127.0.0.1:{}/__sim/records", self.sim_port);
        match reqwest::get(&url).await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(e) => self.fail(format!("records: {e}")),
        }
    }

    pub async fn mailbox(&self) -> Vec<Value> {
        self.records().await["mailbox"].as_array().cloned().unwrap_or_default()
    }

    /// Saves a screenshot when `SO_OUTBOX_SCREENSHOTS` is set.
    pub async fn shot(&self, name: &str) {
        if std::env::var_os("SO_OUTBOX_SCREENSHOTS").is_some() {
            let suffix = std::env::var("SO_OUTBOX_SCREENSHOT_SUFFIX").unwrap_or_default();
            tokio::time::sleep(Duration::from_millis(400)).await;
            let _ = self.shot_always(&format!("{name}{suffix}")).await;
        }
    }

    async fn shot_always(&self, name: &str) -> Result<(), String> {
        let png = self.c.screenshot().await.map_err(|e| e.to_string())?;
        let dir = if name.starts_with("failed-") { root().join("target/tmp/e2e") } else { root().join("docs/screenshots") };
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(format!("{name}.png")), png).map_err(|e| e.to_string())
    }

    /// Ends a flow: no uncaught error in the UI; prints and records how long the test took.
    pub async fn done(&self) {
        // Known and not the UI's: the notification plugin's init script asks
        // `is_permission_granted`, which the capability does not grant (reported to the core).
        let errors =
            self.js("return (window.__uiErrors || []).filter(e => !e.includes('notification.is_permission_granted not allowed'))").await;
        if errors.as_array().is_some_and(|a| !a.is_empty()) {
            self.fail(format!("the UI reported errors: {errors}"));
        }
        let secs = self.started.elapsed().as_secs_f64();
        eprintln!("[e2e] {}: {secs:.1} s", self.name);
        let dir = root().join("target/tmp");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("e2e-timings.txt")) {
            use std::io::Write as _;
            let _ = writeln!(f, "{}\t{secs:.1}", self.name);
        }
    }
}

/// Imports a draft file through the outbox's own file input (made visible for WebDriver).
pub async fn import_file(app: &App, path: &Path) {
    app.js("const i = document.querySelector('#import-file'); i.hidden = false; i.style.display = 'block'; return 1;").await;
    let input = app.find("#import-file").await;
    if let Err(e) = input.send_keys(&path.display().to_string()).await {
        app.fail(format!("import {}: {e}", path.display()));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    app.wait_text("#notice", &name, WAIT).await;
    app.js("const i = document.querySelector('#import-file'); i.hidden = true; i.style.display = ''; return 1;").await;
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

/// The X11 CLIPBOARD selection as another X client on the app's display reads it
/// (`xclip -selection clipboard -o`, UTF-8); `None` when no client owns the selection.
pub fn x_clipboard() -> Option<String> {
    let out = Command::new("timeout")
        .args(["5", "xclip", "-selection", "clipboard", "-t", "UTF8_STRING", "-o"])
        .stdin(Stdio::null())
        .output()
        .expect("run xclip (apt-get install xclip)");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Takes the CLIPBOARD selection for another X client holding `text` (xclip, which stays in the
/// background until some client takes the selection from it), so a test starts from known
/// clipboard contents.
pub fn x_clipboard_set(text: &str) {
    use std::io::Write as _;
    let mut child = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run xclip (apt-get install xclip)");
    child.stdin.take().expect("xclip stdin").write_all(text.as_bytes()).expect("write to xclip");
    // xclip forks into the background once it owns the selection; the parent's exit says so.
    let _ = child.wait();
    assert_eq!(x_clipboard().as_deref(), Some(text), "xclip did not take the clipboard");
}

fn xdotool(args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("5")
        .arg("xdotool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run xdotool (apt-get install xdotool)");
    assert!(out.status.success(), "xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The X window that has the input focus (`xdotool getwindowfocus`; the root window or
/// PointerRoot show up as their own ids).
pub fn x_focus() -> String {
    xdotool(&["getwindowfocus", "-f"])
}

/// The app's top-level X window: the visible window of the app process running on `data`
/// named like the app (its `_NET_WM_PID` is the process).
pub fn x_app_window(data: &Path) -> String {
    let pids = apps_on(data);
    assert_eq!(pids.len(), 1, "one app on {}: {pids:?}", data.display());
    let ids = xdotool(&["search", "--all", "--onlyvisible", "--pid", &pids[0].to_string(), "--name", "SuperOffice Outbox"]);
    let ids: Vec<&str> = ids.lines().collect();
    assert_eq!(ids.len(), 1, "one visible top-level window of the app: {ids:?}");
    ids[0].to_owned()
}

/// Gives the X input focus to `window` (XSetInputFocus; there is no window manager on the
/// test display to ask).
pub fn x_set_focus(window: &str) {
    xdotool(&["windowfocus", "--sync", window]);
}

/// A desktop notification server on the session bus (`tests/e2e/notifyd.py`): every
/// `Notify` call it receives is a line in `log`. Stopped (SIGTERM) when dropped.
pub struct Notifyd {
    child: Child,
    pub log: PathBuf,
}

impl Notifyd {
    /// Starts the server and waits until it owns `org.freedesktop.Notifications`.
    pub fn start(log: &Path) -> Notifyd {
        let _ = std::fs::remove_file(log);
        // The system Python: python3-dbus and python3-gi are Debian packages.
        let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let child = Command::new(python)
            .arg(root().join("tests/e2e/notifyd.py"))
            .arg(log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tests/e2e/notifyd.py");
        let mut server = Notifyd { child, log: log.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !log.exists() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = server.child.stderr.take() {
                    use std::io::Read as _;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the notification server exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "the notification server did not own its name within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The notifications received so far (`Notify` calls, oldest first).
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("summary").is_some())
            .collect()
    }
}

impl Drop for Notifyd {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The root window of the display (`xdotool search --maxdepth 0`).
pub fn x_root_window() -> String {
    xdotool(&["search", "--maxdepth", "0", "--name", ""])
}

/// Puts the pointer and the X focus back as they were (the focus on PointerRoot, as the X
/// server starts) when dropped, so the next test's window starts focused as usual.
pub struct XFocusRestore {
    x: String,
    y: String,
}

impl XFocusRestore {
    pub fn new() -> XFocusRestore {
        let at = xdotool(&["getmouselocation", "--shell"]);
        let get = |k: &str| at.lines().find_map(|l| l.strip_prefix(k)).unwrap_or("0").to_owned();
        XFocusRestore { x: get("X="), y: get("Y=") }
    }
}

impl Drop for XFocusRestore {
    fn drop(&mut self) {
        for args in [vec!["mousemove", "--sync", &self.x, &self.y], vec!["windowfocus", "1"]] {
            let _ = Command::new("timeout").arg("5").arg("xdotool").args(&args).stderr(Stdio::null()).status();
        }
    }
}

/// Takes the keyboard focus away from every window: the pointer goes to the screen's
/// bottom-right corner, over no window, and the X focus to the root window. (With the focus on
/// the root, or PointerRoot as an X server starts, the window under the pointer gets the
/// keyboard, and GTK counts that as focused; there is no window manager here.)
pub fn x_focus_nothing() {
    let size = xdotool(&["getdisplaygeometry"]);
    let (w, h) = size.split_once(' ').expect("display geometry");
    let (x, y) = (w.parse::<u32>().expect("width") - 1, h.parse::<u32>().expect("height") - 1);
    xdotool(&["mousemove", "--sync", &x.to_string(), &y.to_string()]);
    let root = x_root_window();
    let under = xdotool(&["getmouselocation", "--shell"]);
    assert!(under.lines().any(|l| l == format!("WINDOW={root}")), "the pointer is over the root window only: {under}");
    x_set_focus(&root);
}

impl App {
    /// Sends a request to the demo simulator's control API (`/__sim/…`, not a SuperOffice
    /// endpoint), trying again while the simulator is not up yet; fails unless it answers 2xx.
    pub async fn sim_control(&self, method: reqwest::Method, path: &str, body: Option<Value>) {
        let url = format!("http://127.0.0.1:{}{path}", self.sim_port);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mut req = client.request(method.clone(), &url);
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    self.fail(format!("{method} {path}: {status} {text}"));
                }
                Err(e) if Instant::now() < deadline && e.is_connect() => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => self.fail(format!("{method} {path}: {e}")),
            }
        }
    }
}
