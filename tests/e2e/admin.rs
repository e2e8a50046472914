//! Part of `tests/e2e.rs`: the admin's and the other channels' flows. Diagnostics run and
//! export, the archive template chosen in settings, settings save (the relay password in the
//! Secret Service only), the handoff to the clipboard, and an earlier version's outbox adopted.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, begin, data_dir, free_port, App, Start, WAIT};

#[tokio::test(flavor = "multi_thread")]
async fn diagnostics_run_and_export() {
    let Some(_one) = begin("diagnostics_run_and_export").await else { return };
    // What the CLI says about the demo tenant (its own simulator, same profile).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_so-outbox"))
        .args(["diagnose", "--demo", "--json"])
        .env("SO_OUTBOX_DATA_DIR", data_dir("diagnose_cli"))
        .output()
        .expect("so-outbox diagnose");
    let cli: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("diagnose --json: {e}: {}", String::from_utf8_lossy(&out.stderr)));

    let app = App::fresh("diagnostics", Start::demo(1)).await;
    app.sign_in_demo().await;
    app.click("#tab-diagnostics").await;
    app.click("#run-diagnostics").await;
    app.wait_text("#diagnostics .diag-top", "Run all checks", Duration::from_secs(60)).await;
    app.wait("#check-matrix").await;
    // The UI shows the same statuses as the CLI, check by check, in both columns.
    let ui = app
        .js("return [...document.querySelectorAll('#check-matrix tbody tr')].map(tr => [tr.dataset.check, [...tr.querySelectorAll('td.col-status')].map(td => { const s = td.querySelector('.status'); return s ? [...s.classList].find(c => ['pass','warn','fail','unknown'].includes(c)) || 'none' : 'none'; })])")
        .await;
    let ui: Vec<(String, Vec<String>)> = serde_json::from_value(ui).unwrap();
    let status_of = |col: &Value, id: &str| -> String {
        col.as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == id))
            .map(|c| c["status"].as_str().unwrap_or("").to_owned())
            .unwrap_or_else(|| "none".into())
    };
    assert!(!ui.is_empty());
    for (id, cells) in &ui {
        let want = vec![status_of(&cli["system_user"], id), status_of(&cli["rep"], id)];
        assert_eq!(cells, &want, "check {id}: UI {cells:?}, CLI {want:?}");
    }
    let mut cli_ids: Vec<String> = ["rep", "system_user"]
        .iter()
        .flat_map(|col| cli[col].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    cli_ids.sort();
    cli_ids.dedup();
    let mut ui_ids: Vec<String> = ui.iter().map(|(id, _)| id.clone()).collect();
    ui_ids.sort();
    assert_eq!(ui_ids, cli_ids, "the UI lists every check the CLI ran");
    let channel = app.text("#recommended-channel").await;
    assert!(channel.contains("SMTP"), "{channel}");
    // Export: the saved JSON report says the same.
    app.click("#save-json").await;
    let saved = app.wait_text("#saved-path", ".json", WAIT).await;
    let path = saved.split_whitespace().last().unwrap_or_default().to_owned();
    let report: Value = serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))).unwrap();
    for (id, cells) in &ui {
        assert_eq!(cells, &vec![status_of(&report["system_user"], id), status_of(&report["rep"], id)], "exported {id}");
    }
    assert_eq!(report["recommendation"]["channel"], cli["recommendation"]["channel"]);
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_archive_template_chosen_in_settings_is_the_documents_template() {
    let Some(_one) = begin("the_archive_template_chosen_in_settings_is_the_documents_template").await else { return };
    let app = App::fresh("template", Start::demo(0)).await;
    app.sign_in_demo().await;
    app.click("#tab-settings").await;
    // The tenant's outgoing email templates, read from SuperOffice; incoming ones are not offered.
    app.wait_text("#set-template", "Email - sales outreach", WAIT).await;
    let options = app.text("#set-template").await;
    assert!(options.contains("Automatic: Email - outgoing"), "{options}");
    assert!(!options.contains("Email - incoming") && !options.contains("Letter"), "{options}");
    app.js("document.getElementById('set-template').scrollIntoView({block: 'center'})").await;
    app.find("#set-template").await.select_by_label("Email - sales outreach (#4)").await.unwrap();
    app.click("#settings-save").await;
    app.wait("#settings-saved").await;
    let config: Value = serde_json::from_slice(&std::fs::read(app.data.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["email_template_id"], 4);
    app.click("#test-template").await;
    app.wait_text("#result-template", "Passed", WAIT).await;
    app.click("#tab-outbox").await;
    app.select_row(0).await;
    app.click("#approve").await;
    app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;
    let documents = app.records().await["documents"].as_array().cloned().unwrap_or_default();
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0]["template_id"], 4, "the document has the template chosen a moment ago");
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_save_puts_the_relay_password_in_the_keychain_only() {
    let Some(_one) = begin("settings_save_puts_the_relay_password_in_the_keychain_only").await else { return };
    let stamp = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let secret = format!("client-secret-canary-{stamp}");
    let first_password = format!("relay-canary-one-{stamp}");
    let password = format!("relay-canary-two-{stamp}");
    let token = format!("xoauth2-token-canary-{stamp}");
    let refresh = format!("xoauth2-refresh-canary-{stamp}");
    let closed = free_port(); // nothing listens there: the checks fail fast instead of timing out
    let app = App::fresh("settings", Start::default()).await;
    // First run with a real tenant (its sign-in is not exercised: there is no SuperOffice here).
    app.click("#setup-open").await;
    app.find("#setup-environment").await.select_by_value("custom").await.unwrap();
    app.click("#setup-save").await; // empty: every field says what is missing
    app.wait("#setup-invalid").await;
    app.wait("#setup-contextId-error").await;
    app.type_into("#setup-customUrl", &format!("https://127.0.0.1:{closed}")).await;
    app.type_into("#setup-contextId", "Cust99999").await;
    app.type_into("#setup-clientId", "e2e-client-id").await;
    app.type_into("#setup-clientSecret", &secret).await;
    app.type_into("#setup-taskType", "7").await;
    app.type_into("#setup-smtpHost", "127.0.0.1").await;
    app.type_into("#setup-smtpPort", &closed.to_string()).await;
    app.type_into("#setup-smtpUser", "anna@example.com").await;
    app.type_into("#setup-smtpPassword", &first_password).await;
    app.click("#setup-save").await;
    app.wait("#sign-in").await;
    assert!(app.text(".signin-steps").await.contains("Cust99999"));

    // Settings: the stored password is said to be there, never shown.
    app.click("#tab-settings").await;
    app.wait_text("#relay-password-state", "stored in your keychain", WAIT).await;
    let value = app.find("#relay-password").await.prop("value").await.unwrap().unwrap_or_default();
    assert!(value.is_empty(), "the password field starts empty");
    app.type_into("#relay-password", &password).await;
    app.click("#relay-password-save").await;
    app.wait_text("#relay-password-state", "Stored in your keychain", WAIT).await;
    app.type_into("#set-holdSecs", "75").await;
    app.click("#settings-save").await;
    app.wait_text("#set-holdSecs-hint", "0 to 60", WAIT).await; // refused before it reaches the core
    app.type_into("#set-holdSecs", "20").await;
    app.type_into("#set-dailyCap", "120").await;
    app.click("#channel-smtp").await;
    app.click("#settings-save").await;
    app.wait("#settings-saved").await;
    // The keychain section's Test runs the keychain check.
    app.click("#test-secrets").await;
    app.wait_text("#result-secrets", "Passed", WAIT).await;
    // XOAUTH2: the way of signing in is saved first, then its token goes to its own entry.
    app.find("#set-relayAuth").await.select_by_value("xoauth2").await.unwrap();
    app.wait_text("#relay-password-state", "Save the settings first", WAIT).await;
    app.click("#settings-save").await;
    app.wait_text("#relay-password-state", "No access token stored", WAIT).await;
    app.type_into("#relay-password", &token).await;
    app.click("#relay-password-save").await;
    app.wait_text("#relay-password-state", "Stored in your keychain", WAIT).await;
    // Renewal at the mail provider: its token endpoint and client, then the refresh token.
    app.type_into("#set-oauthUrl", "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token").await;
    app.type_into("#set-oauthClient", "e2e-mail-client").await;
    app.wait_text("#relay-password-state", "Save the settings first", WAIT).await;
    app.click("#settings-save").await;
    app.wait_text("#relay-password-state", "No refresh token stored", WAIT).await;
    app.type_into("#relay-password", &refresh).await;
    app.click("#relay-password-save").await;
    app.wait_text("#relay-password-state", "Stored in your keychain", WAIT).await;

    let config: Value = serde_json::from_slice(&std::fs::read(app.data.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["hold_secs"], 20);
    assert_eq!(config["limits"]["daily_cap"], 120);
    assert_eq!(config["channel"], "smtp");
    assert_eq!(config["superoffice"]["context_id"], "Cust99999");
    assert_eq!(config["superoffice"]["smtp"]["auth"], "xoauth2");
    assert_eq!(config["superoffice"]["smtp"]["oauth"]["client_id"], "e2e-mail-client");

    // The Secret Service holds the new password and the client secret ...
    let keychain = keychain::Keychain::open(so_outbox::KEYCHAIN_SERVICE).expect("the test's keychain");
    use keychain::SecretStore as _;
    let relay_key = format!("smtp-password:anna@example.com@127.0.0.1:{closed}");
    let client_key = "superoffice-client-secret:127.0.0.1:Cust99999:e2e-client-id";
    let stored = keychain.get(&relay_key).unwrap().expect("a relay password in the keychain");
    assert_eq!(stored.expose(), password, "the new password replaced the first one");
    let token_key = format!("smtp-xoauth2-token:anna@example.com@127.0.0.1:{closed}");
    assert_eq!(keychain.get(&token_key).unwrap().expect("an access token in the keychain").expose(), token);
    let refresh_key = format!("smtp-xoauth2-refresh:anna@example.com@127.0.0.1:{closed}");
    assert_eq!(keychain.get(&refresh_key).unwrap().expect("a refresh token in the keychain").expose(), refresh);
    assert_eq!(keychain.get(client_key).unwrap().expect("a client secret").expose(), secret);
    // ... and no file under the data directory holds any of the three.
    let mut files = 0;
    let mut stack = vec![app.data.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                files += 1;
                for canary in [&secret, &first_password, &password, &token, &refresh] {
                    assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()), "{} holds a secret", p.display());
                }
            }
        }
    }
    assert!(files >= 2, "config.json and the outbox were searched ({files} files)");
    eprintln!("[e2e] settings: secrets in the keychain, 0 hits in {files} files under the data dir");
    for key in [relay_key.as_str(), client_key, token_key.as_str(), refresh_key.as_str()] {
        keychain.delete(key).ok();
    }
    app.done().await;
    app.close().await;
}

/// "Copy for your mail program" puts `To:`, `Subject:` and the body on the X clipboard, where
/// another program reads it. WebKitGTK lets a page write the clipboard only from a user gesture
/// (from a script, `navigator.clipboard.writeText` is refused with NotAllowedError and
/// `execCommand('copy')` answers false); WebDriver's click is one.
#[tokio::test(flavor = "multi_thread")]
async fn copy_for_handoff_puts_the_draft_on_the_clipboard() {
    let Some(_one) = begin("copy_for_handoff_puts_the_draft_on_the_clipboard").await else { return };
    let app = App::fresh("copy_handoff", Start::demo(1)).await;
    app.sign_in_demo().await;
    let id = app.select_row(0).await;
    // The draft as the app holds it (the demo's own outbox), checked against what the detail shows.
    let store = outbox::Store::open(&app.data.join("demo/outbox.sqlite")).expect("the demo's outbox");
    let row = store.get(id).expect("the selected draft");
    let email = row.recipient_email.clone().expect("the first draft has a recipient address");
    let subject = row.subject.clone().expect("the first draft has a subject");
    assert!(row.body.trim().lines().count() > 1, "a real body: {:?}", row.body);
    let to = app.text("#detail-to").await;
    assert!(to.contains(&email), "the detail shows the draft's recipient: {to}");
    assert_eq!(app.text("#detail-subject").await, subject);
    let want = format!("To: {email}\nSubject: {subject}\n\n{}", row.body);

    // Another X client owns the clipboard first, so only the app's copy can change it.
    let before = format!("on the clipboard before the copy ({})", std::process::id());
    harness::x_clipboard_set(&before);
    app.click("#copy-handoff").await;
    app.wait_text("#copy-handoff", "Copied", WAIT).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut clip = harness::x_clipboard();
    while clip.as_deref() == Some(before.as_str()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        clip = harness::x_clipboard();
    }
    assert_eq!(clip.as_deref(), Some(want.as_str()), "the X clipboard holds the handoff text");

    // Copying is not sending: past the hold window the draft is still to review, untouched.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = store.get(id).expect("the draft");
    assert_eq!(after.state, outbox::State::Pending, "still to review");
    assert_eq!((after.attempts, after.message_id.as_deref(), after.channel), (0, None, None), "never approved or tried");
    assert_eq!(app.text("#draft-status").await, "To review");
    app.wait_count("to_review", 25, WAIT).await;
    let records = app.records().await;
    assert_eq!(records["mailbox"].as_array().map(Vec::len), Some(0), "nothing reached the relay");
    assert_eq!(records["documents"].as_array().map(Vec::len), Some(0), "nothing was archived");
    app.done().await;
    app.close().await;
}

/// The shared outbox of an earlier version, in the real window: its pending draft and the
/// demo rep's own approval move into the demo rep's outbox at sign-in; another rep's approval
/// stays held, never shown, sent or archived, and a notice above the outbox counts it.
#[tokio::test(flavor = "multi_thread")]
async fn an_earlier_versions_outbox_is_adopted_and_another_reps_rows_are_held() {
    let Some(_one) = begin("an_earlier_versions_outbox_is_adopted_and_another_reps_rows_are_held").await else { return };
    let name = "held_rows";
    let data = data_dir(name);
    {
        let old = outbox::Store::open(&data.join("outbox.sqlite")).expect("the earlier version's outbox");
        for (r, subject) in [("9001", "An earlier draft, never approved"), ("9002", "Approved by another rep")] {
            let d = outbox::NewDraft {
                contact_id: 2,
                person_id: 2,
                company: "Earlier GmbH".into(),
                recipient_name: "Kim Earlier".into(),
                ..outbox::NewDraft::task(r, "kim@earlier.example", subject, "Hello from an earlier version")
            };
            old.insert_draft(&d).expect("insert");
        }
        let ben = old.list().expect("list").into_iter().find(|d| d.source_ref == "9002").expect("9002").id;
        old.approve(ben, "Ben", "<ben-1@roboplanet.example>", "Ben Other", "ben.other@roboplanet.example", b"Subject: x\r\n\r\nx\r\n", 0)
            .expect("approve");
    }
    let app = App::start(name, &data, free_port(), Start::demo(0)).await;
    app.sign_in_demo().await;
    app.wait_text("#held", "1 message from an earlier version", WAIT).await;
    app.wait_count("to_review", 26, WAIT).await; // the demo's 25 and the adopted draft
    app.shot("held-rows").await;
    tokio::time::sleep(Duration::from_secs(3)).await; // scheduler ticks: nothing of Ben's goes out
    let records = app.records().await;
    assert_eq!(records["mailbox"].as_array().map(Vec::len), Some(0), "the held approval was not sent");
    let held = outbox::Store::open(&data.join("outbox.sqlite")).expect("old").list().expect("list");
    assert_eq!(held.iter().map(|d| d.source_ref.as_str()).collect::<Vec<_>>(), ["9002"], "only Ben's row stays behind");
    assert_eq!(held[0].state, outbox::State::Approved);
    app.done().await;
    app.close().await;
}
