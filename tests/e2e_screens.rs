//! A tour of every screen for `docs/screenshots/` (opt-in: `SO_OUTBOX_SCREENSHOTS=1`; skipped
//! otherwise), the only source of those images besides `outbox-after-send.png` (written, when asked, by the
//! approve flow in `tests/e2e.rs`). It waits on elements only, never on words, so it runs in any
//! language and theme; the dark and German sets keep to the main screens:
//!
//! ```sh
//! SO_OUTBOX_SCREENSHOTS=1 tests/e2e/run.sh cargo test --test e2e_screens -- --nocapture
//! SO_OUTBOX_SCREENSHOTS=1 SO_OUTBOX_SCREENSHOT_SUFFIX=-dark GTK_THEME=Adwaita:dark tests/e2e/run.sh cargo test --test e2e_screens
//! SO_OUTBOX_SCREENSHOTS=1 SO_OUTBOX_SCREENSHOT_SUFFIX=-de E2E_LANG=de tests/e2e/run.sh cargo test --test e2e_screens
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // integration tests may panic on failure

#[path = "e2e/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{can_run, data_dir, free_port, import_file, serial, App, Start};
use serde_json::json;

const NEWSLETTER: &str = r#"<div style="font-family: sans-serif">
<h2>RoboPlanet Service Update</h2>
<p>Hello Ms Hansen,</p>
<p>here is the <b>maintenance plan</b> for your two cleaning robots, as promised:</p>
<ul><li>Quarterly inspection, 2 hours on site</li><li>Firmware updates remotely, at night</li><li>Spare brushes included</li></ul>
<p><img src="https://cdn.roboplanet.example/plan.png" alt="Maintenance plan"></p>
<p>Details: <a href="https://roboplanet.example/service">roboplanet.example/service</a> · <a href="javascript:alert(1)">one-click order</a></p>
<script>document.title = 'tracked'</script>
<p>Kind regards<br>Anna Berger</p></div>"#;

async fn pause(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tour_of_every_screen() {
    if std::env::var_os("SO_OUTBOX_SCREENSHOTS").is_none() || !can_run("tour_of_every_screen") {
        eprintln!("the screenshot tour runs with SO_OUTBOX_SCREENSHOTS=1");
        return;
    }
    let _one = serial().await;
    let name = "tour";
    let data = data_dir(name);
    let sim = free_port();

    // First run, sign-in, outbox.
    let app = App::start(name, &data, sim, Start::default()).await;
    app.click("#setup-open").await;
    app.wait("#setup-form").await;
    app.shot("first-run").await;
    app.js("document.getElementById('setup-smtpAuth').scrollIntoView({block: 'center'}); return 1;").await;
    pause(300).await;
    light_only(&app, "first-run-relay").await;
    app.click("#choose-demo").await;
    app.wait("#sign-in").await;
    light_only(&app, "sign-in").await;
    app.click("#sign-in").await;
    app.wait_for(".draft-row", Duration::from_secs(60)).await;
    pause(800).await;
    app.shot("outbox").await;
    app.keys("?").await;
    app.wait("#shortcut-help[open]").await;
    light_only(&app, "shortcuts").await;
    app.click("#help-close").await;

    // A draft without an address.
    app.js(
        "const s = document.querySelector('#draft-list'); s.scrollTop = s.scrollHeight; s.dispatchEvent(new Event('scroll')); return 1;",
    )
    .await;
    pause(500).await;
    app.js("const r = [...document.querySelectorAll('.draft-row')].find(r => r.querySelector('.badge.warn')); if (r) r.click(); return 1;")
        .await;
    pause(600).await;
    light_only(&app, "needs-recipient").await;

    // An HTML draft in the preview.
    let file = data.join("newsletter.json");
    let draft = json!({ "to": "k.hansen@hansen-maschinenbau.example", "to_name": "Katrin Hansen", "company": "Hansen Maschinenbau AG", "subject": "Your maintenance plan", "body": NEWSLETTER, "ref": "tour-html" });
    std::fs::write(&file, serde_json::to_vec(&draft).unwrap()).unwrap();
    import_file(&app, &file).await;
    app.type_into("#search", "maintenance plan").await;
    pause(600).await;
    app.select_row(0).await;
    app.click("#tab-preview").await;
    app.wait("iframe#preview-frame").await;
    pause(500).await;
    app.shot("detail-preview").await;
    app.type_into("#search", "").await;
    pause(600).await;

    // An edit, and its diff.
    app.select_row(1).await;
    app.keys("e").await;
    app.wait("#edit-form").await;
    app.find("#edit-body").await.send_keys("\u{E007}P.S. I attach the floor plan we discussed.").await.unwrap();
    app.click("#edit-save").await;
    app.wait("#versions .diff").await;
    app.js("document.querySelector('#versions').scrollIntoView(); return 1;").await;
    light_only(&app, "edit-diff").await;

    // Snooze and the undo toast.
    app.select_row(2).await;
    app.click("#snooze").await;
    app.wait("#snooze-panel").await;
    light_only(&app, "snooze").await;
    app.keys("\u{E00C}").await; // Esc
    app.click("#approve").await;
    app.wait("#undo-toast").await;
    light_only(&app, "undo-toast").await;

    // Bulk: six drafts, the bar during the hold window.
    app.js("const b = document.querySelectorAll('input.pick[type=checkbox]'); for (const i of [0, 1, 3, 4, 5, 6]) b[i] && b[i].click(); return 1;").await;
    app.wait("#approve-selected").await;
    light_only(&app, "bulk-selected").await;
    app.click("#approve-selected").await;
    app.wait("#batch").await;
    pause(1500).await;
    app.shot("bulk").await;
    std::fs::copy(
        harness::root().join(format!("docs/screenshots/bulk{}.png", suffix())),
        harness::root().join(format!("docs/screenshots/bulk-approve{}.png", suffix())),
    )
    .ok();
    app.wait_for("#batch-close", Duration::from_secs(60)).await;
    pause(500).await;

    // Sent: the history with its delivery details.
    app.view("sent").await;
    app.select_row(0).await;
    app.wait("#delivery").await;
    pause(400).await;
    app.shot("sent").await;
    app.click("#tab-mailbox").await;
    app.wait("#mailbox").await;
    light_only(&app, "demo-mailbox").await;

    // Diagnostics and settings.
    app.click("#tab-diagnostics").await;
    app.wait_for("#check-matrix", Duration::from_secs(60)).await;
    app.js("const b = document.querySelector('[data-check=\"email_agent\"] .check-name'); if (b) b.click(); return 1;").await;
    pause(500).await;
    app.shot("diagnostics").await;
    app.click("#tab-settings").await;
    app.wait("#settings-form").await;
    app.click("#test-relay").await;
    app.wait_for("#result-relay .test-line", Duration::from_secs(60)).await;
    pause(300).await;
    app.shot("settings").await;
    app.wait_text("#set-template", "Email - sales outreach", Duration::from_secs(10)).await;
    app.js("document.getElementById('sec-template').scrollIntoView({block: 'start'}); return 1;").await;
    pause(300).await;
    light_only(&app, "settings-template").await;
    app.close().await;

    // Needs decision: a crash right after the message body started to go out, then a restart.
    std::fs::write(data.join("config.json"), serde_json::to_vec(&json!({ "tenant": "demo", "hold_secs": 0 })).unwrap()).unwrap();
    let app = App::start(name, &data, free_port(), Start::default().env("SO_OUTBOX_CRASH_AT", "after_data_started")).await;
    app.sign_in_demo().await;
    app.select_row(0).await;
    app.click("#approve").await;
    pause(4000).await;
    drop(app);
    let app = App::start(name, &data, free_port(), Start::default()).await;
    app.sign_in_demo().await;
    app.view("needs_decision").await;
    app.select_row(0).await;
    app.wait("#decision").await;
    pause(400).await;
    app.shot("needs-decision").await;
    app.close().await;

    // A configured tenant's settings (relay, password state), signed out.
    let app = App::fresh("tour_tenant", Start::default()).await;
    app.click("#setup-open").await;
    app.find("#setup-environment").await.select_by_value("online").await.unwrap();
    for (id, v) in [
        ("#setup-contextId", "Cust12345"),
        ("#setup-clientId", "0fd8c7e2"),
        ("#setup-clientSecret", "tour-secret"),
        ("#setup-taskType", "7"),
        ("#setup-smtpHost", "127.0.0.1"),
        ("#setup-smtpPort", "1"),
        ("#setup-smtpUser", "anna@roboplanet.example"),
    ] {
        app.type_into(id, v).await;
    }
    app.click("#setup-save").await;
    app.wait("#sign-in").await;
    app.click("#tab-settings").await;
    app.wait("#relay-password").await;
    app.find("#set-relayAuth").await.select_by_value("xoauth2").await.unwrap();
    app.click("#settings-save").await;
    app.wait("#settings-saved").await;
    app.js("document.getElementById('set-relayAuth').scrollIntoView({block: 'start'}); return 1;").await;
    pause(400).await;
    light_only(&app, "settings-tenant").await;
    app.close().await;
    let keychain = keychain::Keychain::open(so_outbox::KEYCHAIN_SERVICE).expect("keychain");
    use keychain::SecretStore as _;
    keychain.delete("superoffice-client-secret:online.superoffice.com:Cust12345:0fd8c7e2").ok();
}

/// Screens shown in the light English set only (the dark and German sets keep to the main ones).
async fn light_only(app: &App, name: &str) {
    if suffix().is_empty() {
        app.shot(name).await;
    }
}

fn suffix() -> String {
    std::env::var("SO_OUTBOX_SCREENSHOT_SUFFIX").unwrap_or_default()
}
