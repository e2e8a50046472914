//! Part of the end-to-end harness: what a test does in the app's window, as the rep would
//! (wait for, click, type, press keys, read texts and counts, sign in to the demo, import a
//! file), what it asks the simulated servers directly, and the screenshots and timings.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::{json, Value};

use super::{root, App, WAIT};

impl App {
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
