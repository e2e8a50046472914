//! Part of `tests/e2e.rs`: the rep's review flows. First run with the demo tenant, approve,
//! undo, edit then approve, reject, snooze, and bulk approve with progress and "cancel the rest".

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{begin, App, Start, WAIT};
use crate::{b64, parse, wait_mail};

#[tokio::test(flavor = "multi_thread")]
async fn first_run_with_the_demo_tenant() {
    let Some(_one) = begin("first_run_with_the_demo_tenant").await else { return };
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
    let Some(_one) = begin("approve_one_draft").await else { return };
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
    let Some(_one) = begin("undo_an_approval").await else { return };
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
    let Some(_one) = begin("edit_then_approve").await else { return };
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
    let Some(_one) = begin("reject_a_draft").await else { return };
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
    let Some(_one) = begin("snooze_a_draft").await else { return };
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
    let Some(_one) = begin("bulk_approve_with_progress").await else { return };
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
