//! End to end, in the real app window (WebKitGTK under Xvfb) through WebDriver, one test per
//! flow of the rep's and the admin's UI: first run with the demo tenant, approve, undo, edit
//! then approve, reject, snooze, bulk approve with progress and "cancel the rest", the
//! needs-decision resolution after a crash mid-send, diagnostics run and export, settings save
//! (a real tenant configured from the first-run form; the relay password lands in the Secret
//! Service and in no file). After each flow the servers themselves are asked what happened
//! (`/__sim/records`: the demo relay's received mail, SuperOffice's documents), not the app.
//!
//! The harness (`tests/e2e/harness.rs`) starts the app once per test; see there for what the
//! tests need and how to take screenshots. `tests/e2e/run.sh` runs them on a private display.
//!
//! The flows are in `tests/e2e/`: the rep's review (`review.rs`), when sending goes wrong
//! (`recovery.rs`), and the admin's and the other channels' flows (`admin.rs`); the helpers
//! they share are here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // integration tests may panic on failure

#[path = "e2e/admin.rs"]
mod admin;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/mailbox.rs"]
mod mailbox;
#[path = "e2e/recovery.rs"]
mod recovery;
#[path = "e2e/review.rs"]
mod review;

use std::time::{Duration, Instant};

use base64::Engine as _;
use harness::App;
use serde_json::Value;

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default()).unwrap_or_default()
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(bytes).expect("a parsable message")
}

/// Waits until the relay holds `n` messages (and returns them).
async fn wait_mail(app: &App, n: usize, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let m = app.mailbox().await;
        if m.len() >= n || Instant::now() > deadline {
            if m.len() != n {
                app.fail(format!("expected {n} messages at the relay, found {}", m.len()));
            }
            return m;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
