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
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // integration tests may panic on failure

#[path = "e2e/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use base64::Engine as _;
use harness::{can_run, data_dir, free_port, serial, App, Start, WAIT};
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

#[tokio::test(flavor = "multi_thread")]
async fn first_run_with_the_demo_tenant() {
    if !can_run("first_run_with_the_demo_tenant") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("first_run", Start::default()).await;
    // The first-run screen offers both ways in.
    app.wait("#choose-demo").await;
    app.click("#setup-open").await;
    app.wait("#setup-form").await;
    app.click("#choose-demo").await;
    app.wait("#demo-banner").await;
    let steps = app.text(".signin-steps").await;
    assert!(steps.contains("Demo26720"), "the sign-in steps name the tenant: {steps}");
    app.click("#sign-in").await;
    app.wait_for(".draft-row", Duration::from_secs(60)).await;
    // 25 drafts, all to review; two of them cannot be sent (no email address) and say so.
    app.wait_count("to_review", 25, WAIT).await;
    assert_eq!(app.count("all").await, 25);
    assert_eq!(app.count("sent").await, 0);
    let rep = app.text("#rep-name").await;
    assert!(rep.contains("Anna Berger"), "signed in as the demo rep: {rep}");
    let channel = app.text("#channel-now").await;
    assert!(channel.contains("SMTP"), "the demo sends by SMTP: {channel}");
    app.type_into("#search", "zz-matches-nothing").await; // the server search runs
    app.wait("#list-empty").await;
    // Case and accents do not matter, and umlauts may be typed the German way.
    let only_baeckerei = "const r = [...document.querySelectorAll('.draft-row')]; return r.length > 0 && r.every(x => x.textContent.includes('Bäckerei Schmidt'));";
    for typed in ["baeckerei", "BACKEREI schmidt & sohne"] {
        app.type_into("#search", typed).await;
        let deadline = Instant::now() + WAIT;
        while app.js(only_baeckerei).await != Value::Bool(true) {
            assert!(Instant::now() < deadline, "searching {typed:?} did not narrow the list to Bäckerei Schmidt & Söhne");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    app.type_into("#search", "").await;
    app.wait_text("#list-total", "25 ·", WAIT).await;
    // The list is virtualized: look at the top, then at the bottom.
    let badges =
        "return [...document.querySelectorAll('.draft-row')].filter(r => r.textContent.includes('Needs recipient')).map(r => r.dataset.id)";
    let mut needs: Vec<Value> = app.js(badges).await.as_array().cloned().unwrap_or_default();
    app.js(
        "const s = document.querySelector('#draft-list'); s.scrollTop = s.scrollHeight; s.dispatchEvent(new Event('scroll')); return 1;",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    needs.extend(app.js(badges).await.as_array().cloned().unwrap_or_default());
    needs.sort_by_key(|v| v.as_str().unwrap_or_default().to_owned());
    needs.dedup();
    assert_eq!(needs.len(), 2, "the two drafts without an email address are marked: {needs:?}");
    // Keyboard: arrows and j/k move the selection and keep it on screen (rows are virtualized).
    app.js("const s = document.querySelector('#draft-list'); s.scrollTop = 0; s.dispatchEvent(new Event('scroll')); return 1;").await;
    app.select_row(0).await;
    app.keys("\u{E015}").await; // ArrowDown
    app.wait(".draft-row.selected[data-index=\"1\"]").await;
    app.keys("jjjjjjjjjjjjjjjjjjj").await;
    app.wait(".draft-row.selected[data-index=\"20\"]").await;
    let visible = app
        .js("const r = document.querySelector('.draft-row.selected').getBoundingClientRect(); const l = document.querySelector('#draft-list').getBoundingClientRect(); return r.top >= l.top - 1 && r.bottom <= l.bottom + 1")
        .await;
    assert_eq!(visible, true, "the selected row is scrolled into view");
    app.keys("k").await;
    app.wait(".draft-row.selected[data-index=\"19\"]").await;
    let rendered = app.js("return document.querySelectorAll('.row-line').length").await;
    assert!(rendered.as_u64().unwrap_or(99) < 25, "only the visible rows are rendered ({rendered} of 25)");
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_one_draft() {
    if !can_run("approve_one_draft") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("approve", Start::demo(1)).await;
    app.sign_in_demo().await;
    app.select_row(0).await;
    let to = app.text("#detail-to").await;
    let subject = app.text("#detail-subject").await;
    app.click("#approve").await;
    let status = app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;

    // Ask the servers, not the app.
    let records = app.records().await;
    let mailbox = records["mailbox"].as_array().cloned().unwrap_or_default();
    let documents = records["documents"].as_array().cloned().unwrap_or_default();
    assert_eq!((mailbox.len(), documents.len()), (1, 1), "exactly one message and one document");
    let received = b64(&mailbox[0]["data"]);
    let archived = b64(&documents[0]["content_base64"]);
    assert!(!received.is_empty() && received == archived, "the archived document holds the received bytes");
    let parsed = parse(&received);
    let from = parsed.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    let rcpt = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    assert_eq!(from, "anna.berger@roboplanet.example");
    assert!(!rcpt.is_empty() && to.contains(&rcpt), "To {rcpt} (UI {to})");
    assert_eq!(parsed.subject(), Some(subject.as_str()));
    assert_eq!(mailbox[0]["rcpt_to"], serde_json::json!([rcpt]), "envelope recipients");
    assert_eq!(documents[0]["template_id"], 3, "no template chosen: the tenant's first outgoing email template");
    let doc_id = documents[0]["id"].as_i64().unwrap_or_default();
    assert!(status.contains(&format!("document {doc_id}")), "UI says {status:?}, the simulator has document {doc_id}");

    // The Sent view: the history row with its channel, the server's reply and the document.
    app.view("sent").await;
    assert_eq!(app.count("sent").await, 1);
    app.select_row(0).await;
    let reply = app.text("#smtp-reply").await;
    assert!(reply.starts_with("250"), "the relay's reply is shown: {reply}");
    let message_id = app.text("#message-id").await;
    assert!(parsed.message_id().is_some_and(|m| message_id.contains(m)), "Message-ID {message_id}");
    app.click("#open-document").await;
    app.wait_text("#delivery", "Opened in your browser", WAIT).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = String::new();
    while Instant::now() < deadline && !log.contains(&format!("document_id={doc_id}")) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        log = std::fs::read_to_string(app.data.join("browser.log")).unwrap_or_default();
    }
    assert!(log.contains(&format!("document_id={doc_id}")), "the browser was asked to open the document: {log}");
    app.shot("outbox-after-send").await; // written only when screenshots are asked for
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn undo_an_approval() {
    if !can_run("undo_an_approval") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("undo", Start::demo(5)).await;
    app.sign_in_demo().await;
    // By keyboard: j selects the next draft, a approves it; the toast offers Undo.
    app.select_row(0).await;
    app.keys("j").await;
    app.wait(".draft-row.selected[data-index=\"1\"]").await;
    let subject = app.text("#detail-subject").await;
    app.keys("a").await;
    let toast = app.wait_text("#undo-toast", "sends in", WAIT).await;
    assert!(toast.contains(&subject), "the toast names the draft: {toast}");
    app.click("#toast-undo").await;
    app.wait_text("#draft-status", "To review", WAIT).await;
    // And with the detail's own Undo button.
    app.click("#approve").await;
    app.wait_text("#draft-status", "Approved", WAIT).await;
    app.click("#undo").await;
    app.wait_text("#draft-status", "To review", WAIT).await;
    app.wait_count("to_review", 25, WAIT).await;
    // Past the hold window nothing went out.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(app.mailbox().await.len(), 0, "an undone approval sends nothing");
    let undos = app
        .js("return [...document.querySelectorAll('#timeline li strong')].filter(s => s.textContent === 'approval undone').length")
        .await;
    assert_eq!(undos, 2, "both undos are on the history");
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn edit_then_approve() {
    if !can_run("edit_then_approve") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("edit", Start::demo(1)).await;
    app.sign_in_demo().await;
    app.select_row(2).await;
    app.keys("e").await;
    app.wait("#edit-form").await;
    // Validation: a bad address blocks saving.
    app.type_into("#edit-to", "not an address").await;
    app.wait("#edit-to-error").await;
    assert!(app.find("#edit-save").await.attr("disabled").await.unwrap().is_some(), "save is blocked");
    app.type_into("#edit-to", "jonas.weber@mueller.example").await;
    app.type_into("#edit-subject", "Edited subject 4711").await;
    let body = app.find("#edit-body").await;
    body.send_keys("\u{E007}P.S. Added by the rep in the e2e test.").await.unwrap();
    app.click("#edit-save").await;
    app.wait_text("#detail-subject", "Edited subject 4711", WAIT).await;
    app.wait_text("#detail-body", "P.S. Added by the rep", WAIT).await;
    // The versions: the AI draft and the edit, with the diff.
    let versions = app.text("#versions").await;
    assert!(versions.contains("AI draft") && versions.contains("Edit"), "{versions}");
    let diff = app.text("#versions .diff").await;
    assert!(diff.contains("+ P.S. Added by the rep") && diff.contains("Edited subject 4711"), "the diff shows the edit: {diff}");
    app.click("#approve").await;
    app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;
    let mail = wait_mail(&app, 1, WAIT).await;
    let bytes = b64(&mail[0]["data"]);
    let m = parse(&bytes);
    assert_eq!(m.subject(), Some("Edited subject 4711"));
    assert_eq!(m.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("jonas.weber@mueller.example"));
    assert!(m.body_text(0).unwrap_or_default().contains("P.S. Added by the rep in the e2e test."), "the sent bytes carry the edit");
    let docs = app.records().await["documents"].as_array().cloned().unwrap_or_default();
    assert_eq!(docs.len(), 1);
    assert_eq!(b64(&docs[0]["content_base64"]), bytes, "the archive holds the edited bytes");
    let versions = app.text("#versions").await;
    assert!(versions.contains("Approved text (sent)"), "{versions}");
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reject_a_draft() {
    if !can_run("reject_a_draft") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("reject", Start::demo(1)).await;
    app.sign_in_demo().await;
    app.select_row(3).await;
    let subject = app.text("#detail-subject").await;
    app.keys("r").await;
    app.wait("#reject-reason").await;
    app.type_into("#reject-reason", "The customer already replied").await;
    app.click("#reject-confirm").await;
    app.wait_text("#draft-status", "Rejected", WAIT).await;
    app.wait_text("#draft-reason", "The customer already replied", WAIT).await;
    app.wait_count("rejected", 1, WAIT).await;
    app.wait_count("to_review", 24, WAIT).await;
    app.view("rejected").await;
    app.select_row(0).await;
    assert_eq!(app.text("#detail-subject").await, subject);
    let records = app.records().await;
    assert_eq!(records["mailbox"].as_array().map(Vec::len), Some(0), "nothing sent");
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn snooze_a_draft() {
    if !can_run("snooze_a_draft") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("snooze", Start::demo(1)).await;
    app.sign_in_demo().await;
    app.select_row(4).await;
    app.click("#snooze").await;
    app.wait("#snooze-panel").await;
    app.click("#snooze-tomorrow").await;
    app.wait_text("#draft-status", "Snoozed", WAIT).await;
    app.wait_count("snoozed", 1, WAIT).await;
    app.wait_count("to_review", 24, WAIT).await;
    let status = app.text("#draft-status").await;
    assert!(status.contains("back on"), "says when it comes back: {status}");
    app.done().await;
    app.close().await;
}

/// Shift-click: a click with the Shift key held (dispatched; WebDriver's key chords do not
/// reach a checkbox click in WebKitGTK reliably).
async fn shift_click(app: &App, css: &str) {
    app.js(&format!("document.querySelector('{css}').dispatchEvent(new MouseEvent('click', {{ bubbles: true, cancelable: true, shiftKey: true }})); return 1;")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_approve_with_progress() {
    if !can_run("bulk_approve_with_progress") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("bulk", Start::demo(4)).await;
    app.sign_in_demo().await;
    // Select all in this view: every draft that can be approved (23 of 25).
    app.click("#select-all").await;
    app.wait_text("#selected-count", "23 selected", WAIT).await;
    app.click("#clear-selection").await;

    // A first batch of 3, cancelled within the hold window.
    let boxes = "input.pick[type=checkbox]";
    app.wait(boxes).await;
    app.js(&format!("document.querySelectorAll('{boxes}')[0].click(); return 1;")).await;
    app.js(&format!("document.querySelectorAll('{boxes}')[2].setAttribute('data-e2e', 'end'); return 1;")).await;
    shift_click(&app, "input.pick[data-e2e=end]").await;
    app.wait_text("#selected-count", "3 selected", WAIT).await;
    app.click("#approve-selected").await;
    app.wait("#cancel-rest").await;
    app.click("#cancel-rest").await;
    app.wait_text("#batch-text", "3 taken back", WAIT).await;
    app.click("#batch-close").await;
    app.wait_count("to_review", 25, WAIT).await;

    // A batch of 6 that goes out: the bar counts it out.
    app.js(&format!("document.querySelectorAll('{boxes}')[0].click(); return 1;")).await;
    app.js(&format!("document.querySelectorAll('{boxes}')[5].setAttribute('data-e2e', 'end6'); return 1;")).await;
    shift_click(&app, "input.pick[data-e2e=end6]").await;
    app.wait_text("#selected-count", "6 selected", WAIT).await;
    app.click("#approve-selected").await;
    app.wait_text("#batch-text", "0/6 sent", WAIT).await;
    app.wait_text("#batch-text", "6/6 sent", Duration::from_secs(60)).await;
    let progress = app.find("#batch progress").await;
    assert_eq!(progress.attr("value").await.unwrap().as_deref(), Some("6"));
    wait_mail(&app, 6, WAIT).await;
    app.wait_count("sent", 6, Duration::from_secs(60)).await;
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn needs_decision_after_a_crash_mid_send() {
    if !can_run("needs_decision_after_a_crash_mid_send") {
        return;
    }
    let _one = serial().await;
    let name = "needs_decision";
    let data = data_dir(name);
    let crash = Start::demo(0).env("SO_OUTBOX_CRASH_AT", "after_data_started");

    // 1. The app dies the moment the message body has started to go out.
    let app = App::start(name, &data, free_port(), crash.clone()).await;
    app.sign_in_demo().await;
    app.select_row(0).await;
    let first = app.text("#detail-subject").await;
    app.click("#approve").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let started = app.started;
    drop(app);

    // 2. Restarted (still crashing at that point): the send is "needs decision", explained.
    let app = App::start(name, &data, free_port(), Start { config: None, ..crash }).await;
    app.sign_in_demo().await;
    app.wait_count("needs_decision", 1, WAIT).await;
    app.view("needs_decision").await;
    app.select_row(0).await;
    assert_eq!(app.text("#detail-subject").await, first);
    let why = app.text("#decision").await;
    assert!(why.contains("may have been delivered, or not"), "explained in plain words: {why}");
    // "It was sent": archived, not sent again.
    app.click("#it-was-sent").await;
    app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;
    let records = app.records().await;
    assert_eq!(records["mailbox"].as_array().map(Vec::len), Some(0), "confirming sends nothing");
    assert_eq!(records["documents"].as_array().map(Vec::len), Some(1), "and archives it once");
    // A second one crashes the same way.
    app.view("to_review").await;
    app.select_row(0).await;
    let second = app.text("#detail-subject").await;
    app.click("#approve").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    drop(app);

    // 3. Restarted normally: "Send again" sends the same message once more, and it is archived.
    let mut app = App::start(name, &data, free_port(), Start::default()).await;
    app.started = started;
    app.sign_in_demo().await;
    app.wait_count("needs_decision", 1, WAIT).await;
    app.view("needs_decision").await;
    app.select_row(0).await;
    assert_eq!(app.text("#detail-subject").await, second);
    let message_id = app.text("#message-id").await;
    app.click("#send-again").await;
    app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;
    let mail = wait_mail(&app, 1, WAIT).await;
    let bytes = b64(&mail[0]["data"]);
    let m = parse(&bytes);
    assert!(m.message_id().is_some_and(|id| message_id.contains(id)), "the same Message-ID {message_id}");
    assert_eq!(m.subject(), Some(second.as_str()));
    app.wait_count("needs_decision", 0, WAIT).await;
    app.done().await;
    app.close().await;
}

/// The relay takes a message but the connection drops before its reply: the running app asks
/// the rep (and sends nothing again by itself); a recipient the relay refuses is "not sent",
/// with the relay's words.
#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_reply_asks_the_rep_and_a_refused_recipient_is_not_sent() {
    if !can_run("a_dropped_reply_asks_the_rep_and_a_refused_recipient_is_not_sent") {
        return;
    }
    let _one = serial().await;
    let app = App::fresh("relay_faults", Start::demo(0)).await;
    app.sign_in_demo().await;

    // 1. The message reaches the relay, its reply does not.
    app.sim_control(reqwest::Method::POST, "/__sim/relay-faults", Some(serde_json::json!("DropAfterData"))).await;
    app.select_row(0).await;
    let first = app.text("#detail-subject").await;
    app.click("#approve").await;
    let why = app.wait_text("#decision", "may have been delivered, or not", Duration::from_secs(60)).await;
    assert!(app.text("#decision").await.contains("lost"), "the connection loss is named: {why}");
    app.wait_count("needs_decision", 1, WAIT).await;
    tokio::time::sleep(Duration::from_secs(3)).await; // several scheduler ticks: no second attempt
    let mail = app.mailbox().await;
    assert_eq!(mail.len(), 1, "the relay holds the message once, and it was not sent again");
    assert_eq!(parse(&b64(&mail[0]["data"])).subject(), Some(first.as_str()));
    app.click("#it-was-sent").await;
    app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;
    assert_eq!(app.records().await["documents"].as_array().map(Vec::len), Some(1));

    // 2. The relay refuses the next recipient: nothing goes out, the relay's words are shown.
    let refusal = "550 5.1.1 No such user here";
    app.sim_control(reqwest::Method::POST, "/__sim/relay-faults", Some(serde_json::json!({ "RejectRcpt": refusal }))).await;
    app.view("to_review").await;
    app.select_row(0).await;
    app.click("#approve").await;
    let reason = app.wait_text("#draft-reason", "5.1.1 No such user here", Duration::from_secs(60)).await;
    assert!(reason.contains("550") && reason.contains("RCPT"), "the relay's words and the step: {reason}");
    app.wait_count("failed", 1, WAIT).await;
    assert_eq!(app.mailbox().await.len(), 1, "the refused message did not reach the mailbox");
    app.done().await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn diagnostics_run_and_export() {
    if !can_run("diagnostics_run_and_export") {
        return;
    }
    let _one = serial().await;
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
    if !can_run("the_archive_template_chosen_in_settings_is_the_documents_template") {
        return;
    }
    let _one = serial().await;
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
    if !can_run("settings_save_puts_the_relay_password_in_the_keychain_only") {
        return;
    }
    let _one = serial().await;
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
    if !can_run("copy_for_handoff_puts_the_draft_on_the_clipboard") {
        return;
    }
    let _one = serial().await;
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
    if !can_run("an_earlier_versions_outbox_is_adopted_and_another_reps_rows_are_held") {
        return;
    }
    let _one = serial().await;
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

/// `document.hasFocus()` in the window (WebKitGTK answers from the GTK window's `is-active`,
/// the same state `is_focused()` reads in the core), waited for until it is `want`.
async fn wait_window_focus(app: &App, want: bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = app.js("return document.hasFocus()").await;
        if now == want {
            return;
        }
        if Instant::now() > deadline {
            app.fail(format!("the window never became {} (X focus: {})", if want { "focused" } else { "unfocused" }, harness::x_focus()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A send that fails for good raises one desktop notification (D-Bus `Notify`, received by
/// `tests/e2e/notifyd.py`) while the window is not focused, and none while it is. Under Xvfb
/// without a window manager the X server starts with the focus on PointerRoot and the pointer
/// in the middle of the screen, over the app's window: GTK then counts the window as focused,
/// so the test sets the X focus itself (xdotool).
#[tokio::test(flavor = "multi_thread")]
async fn failure_raises_an_os_notification_when_the_window_is_not_focused() {
    if !can_run("failure_raises_an_os_notification_when_the_window_is_not_focused") {
        return;
    }
    let _one = serial().await;
    let name = "notify_failure";
    let data = data_dir(name);
    let notifyd = harness::Notifyd::start(&data.join("notifications.jsonl"));
    // The tenant grants the email agent (profile `full`), and the admin chose it.
    let start = Start { config: Some(serde_json::json!({ "tenant": "demo", "hold_secs": 1, "channel": "email_agent" })), env: Vec::new() };
    let app = App::start(name, &data, free_port(), start).await;
    let el = app.wait("#choose-demo, #sign-in").await;
    if el.attr("id").await.ok().flatten().as_deref() == Some("choose-demo") {
        el.click().await.ok();
    }
    app.wait("#demo-banner").await;
    app.sim_control(reqwest::Method::PUT, "/__sim/profile/full", None).await;
    app.click("#sign-in").await;
    app.wait_for(".draft-row", Duration::from_secs(60)).await;
    app.wait_text("#channel-now", "SuperOffice email agent", WAIT).await;
    // SuperOffice refuses every send from now on: a final failure, not one to retry.
    let refusal = "Recipient address rejected by the e2e test";
    let fault = serde_json::json!({
        "path_contains": "/Agents/EMail/Send",
        "method": "POST",
        "kind": { "Status": { "status": 400, "error_type": "SoException", "message": refusal } },
    });
    app.sim_control(reqwest::Method::POST, "/__sim/faults", Some(fault)).await;
    let window = harness::x_app_window(&data);
    let _restore = harness::XFocusRestore::new();

    // 1. The window has the focus: the failure shows in the list, and no notification goes out.
    harness::x_set_focus(&window);
    wait_window_focus(&app, true).await;
    app.select_row(0).await;
    let first = app.text("#detail-subject").await;
    app.click("#approve").await;
    app.wait_text("#draft-status", "Not sent", Duration::from_secs(20)).await;
    app.wait_text("#draft-reason", refusal, WAIT).await;
    tokio::time::sleep(Duration::from_secs(3)).await; // a few ticks of the scheduler
    wait_window_focus(&app, true).await;
    assert_eq!(notifyd.received(), Vec::<Value>::new(), "no notification while the window is focused");
    app.wait_count("failed", 1, WAIT).await;

    // 2. The focus goes elsewhere (no window has it), then the next draft fails: one notification.
    app.view("to_review").await;
    app.select_row(0).await;
    let second = app.text("#detail-subject").await;
    assert_ne!(first, second);
    harness::x_focus_nothing();
    wait_window_focus(&app, false).await;
    app.click("#approve").await;
    wait_window_focus(&app, false).await; // WebDriver's click does not focus the window
    app.wait_text("#draft-status", "Not sent", Duration::from_secs(20)).await;
    app.wait_text("#draft-reason", refusal, WAIT).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while notifyd.received().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // and no second one for the same failure
    let got = notifyd.received();
    assert_eq!(got.len(), 1, "exactly one notification: {got:?}");
    assert_eq!(got[0]["summary"], "SuperOffice Outbox");
    let body = got[0]["body"].as_str().unwrap_or_default();
    assert!(
        body.contains(&second) && body.contains("could not be sent") && body.contains(refusal),
        "the notification names the message and the reason: {body:?}"
    );
    wait_window_focus(&app, false).await;
    app.wait_count("failed", 2, WAIT).await;

    // 3. The rep reads German: so does the next notification (the server's words stay as sent).
    app.find("#language").await.select_by_value("de").await.unwrap();
    app.view("to_review").await;
    app.select_row(0).await;
    let third = app.text("#detail-subject").await;
    wait_window_focus(&app, false).await;
    app.click("#approve").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while notifyd.received().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = notifyd.received();
    assert_eq!(got.len(), 2, "one more notification: {got:?}");
    let body = got[1]["body"].as_str().unwrap_or_default();
    assert!(
        body.contains(&third) && body.contains("konnte nicht gesendet werden") && body.contains(refusal),
        "the notification speaks the UI's language: {body:?}"
    );
    app.wait_count("failed", 3, WAIT).await;
    app.find("#language").await.select_by_value("en").await.unwrap();
    // Nothing was sent on any channel.
    let records = app.records().await;
    assert_eq!(records["agent_emails"].as_array().map(Vec::len), Some(0), "SuperOffice sent nothing");
    assert_eq!(records["mailbox"].as_array().map(Vec::len), Some(0), "nothing went by SMTP");
    app.done().await;
    app.close().await;
}
