//! End to end, in the real app window (WebKitGTK under Xvfb) through WebDriver: choose the
//! demo tenant, sign in through the system browser (played by `tests/e2e/browser.py` via
//! `$BROWSER`), approve one draft. Then the servers themselves are asked what happened: the
//! demo tenant's mail relay must hold exactly one message with the right From/To/Subject, and
//! the simulated SuperOffice exactly one document whose content equals the received bytes.
//!
//! Needs a display, a D-Bus session with an unlocked Secret Service, `tauri-driver` and
//! `WebKitWebDriver`: the test script (`scripts/test.sh`) provides all of them. Without them the
//! test is skipped locally and fails in CI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::{Client, ClientBuilder, Locator};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
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

/// tauri-driver, stopped with SIGTERM (it only stops WebKitWebDriver on SIGTERM/SIGINT).
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

async fn wait_for_text(c: &Client, css: &str, want: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if let Ok(t) = el.text().await {
                if t.contains(want) {
                    return t;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css} never showed {want:?}; last text: {last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_one_draft_in_the_real_window() {
    if let Err(why) = prerequisites() {
        assert!(std::env::var_os("CI").is_none(), "the e2e test cannot run in CI: {why}");
        eprintln!("skipping the e2e test: {why} (run scripts/test.sh)");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("tempdir");
    let sim_port = free_port();
    let port = free_port();
    let native = free_port();
    let driver = Driver(
        Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("SO_OUTBOX_DATA_DIR", data.path())
            .env("SO_OUTBOX_DEMO_HTTP_PORT", sim_port.to_string())
            .env("BROWSER", root.join("tests/e2e/browser.py"))
            .env("BROWSER_LOG", data.path().join("browser.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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

    let result = drive(&c, sim_port, &root).await;
    let _ = c.close().await;
    drop(driver);
    if let Err(e) = result {
        let log = std::fs::read_to_string(data.path().join("browser.log")).unwrap_or_default();
        panic!("{e}\nbrowser log: {log}");
    }
}

async fn drive(c: &Client, sim_port: u16, root: &std::path::Path) -> Result<(), String> {
    let e = |what: &str| {
        let w = what.to_owned();
        move |err: fantoccini::error::CmdError| format!("{w}: {err}")
    };
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#choose-demo"))
        .await
        .map_err(e("first-run screen"))?
        .click()
        .await
        .map_err(e("choose demo"))?;
    c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("#demo-banner")).await.map_err(e("demo banner"))?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#sign-in"))
        .await
        .map_err(e("sign-in screen"))?
        .click()
        .await
        .map_err(e("sign in"))?;
    c.wait().at_most(Duration::from_secs(60)).for_element(Locator::Css(".draft-row")).await.map_err(e("outbox after sign-in"))?;
    let rows = c.find_all(Locator::Css(".draft-row")).await.map_err(e("rows"))?;
    if rows.len() != 25 {
        return Err(format!("expected 25 drafts, saw {}", rows.len()));
    }
    rows[0].click().await.map_err(e("select first draft"))?;
    let to = c.find(Locator::Css("#detail-to")).await.map_err(e("detail"))?.text().await.map_err(e("to"))?;
    let subject = c.find(Locator::Css("#detail-subject")).await.map_err(e("detail"))?.text().await.map_err(e("subject"))?;
    c.find(Locator::Css("#approve")).await.map_err(e("approve button"))?.click().await.map_err(e("approve"))?;
    let status = wait_for_text(c, "#draft-status", "archived as document", Duration::from_secs(60)).await;

    // Ask the servers, not the app.
    let records: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{sim_port}/__sim/records"))
        .await
        .map_err(|x| x.to_string())?
        .json()
        .await
        .map_err(|x| x.to_string())?;
    let mailbox = records["mailbox"].as_array().cloned().unwrap_or_default();
    let documents = records["documents"].as_array().cloned().unwrap_or_default();
    if mailbox.len() != 1 || documents.len() != 1 {
        return Err(format!("expected 1 message and 1 document, found {} and {}", mailbox.len(), documents.len()));
    }
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default()).unwrap_or_default();
    let received = b64(&mailbox[0]["data"]);
    let archived = b64(&documents[0]["content_base64"]);
    if received.is_empty() || received != archived {
        return Err("the archived document does not hold the received bytes".into());
    }
    let parsed = mail_parser::MessageParser::default().parse(received.as_slice()).ok_or("unparsable message")?;
    let from = parsed.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    let rcpt = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    if from != "anna.berger@roboplanet.example" || !to.contains(&rcpt) || rcpt.is_empty() || parsed.subject() != Some(subject.as_str()) {
        return Err(format!("wrong message: from {from}, to {rcpt} (UI {to}), subject {:?} (UI {subject})", parsed.subject()));
    }
    if mailbox[0]["rcpt_to"] != serde_json::json!([rcpt]) {
        return Err(format!("envelope recipients {}", mailbox[0]["rcpt_to"]));
    }
    let doc_id = documents[0]["id"].as_i64().unwrap_or_default();
    if !status.contains(&format!("document {doc_id}")) {
        return Err(format!("UI says {status:?}, the simulator has document {doc_id}"));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let png = c.screenshot().await.map_err(e("screenshot"))?;
    let dir = root.join("docs/screenshots");
    std::fs::create_dir_all(&dir).map_err(|x| x.to_string())?;
    std::fs::write(dir.join("outbox-after-send.png"), png).map_err(|x| x.to_string())?;
    Ok(())
}
