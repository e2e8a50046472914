//! Part of `tests/e2e.rs`: when sending goes wrong. The needs-decision resolution after a
//! crash mid-send, a dropped reply and a refused recipient, and the desktop notification a
//! final failure raises while the window is not focused.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, begin, data_dir, free_port, App, Start, WAIT};
use crate::{b64, parse, wait_mail};

#[tokio::test(flavor = "multi_thread")]
async fn needs_decision_after_a_crash_mid_send() {
    let Some(_one) = begin("needs_decision_after_a_crash_mid_send").await else { return };
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
    let Some(_one) = begin("a_dropped_reply_asks_the_rep_and_a_refused_recipient_is_not_sent").await else { return };
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
    let Some(_one) = begin("failure_raises_an_os_notification_when_the_window_is_not_focused").await else { return };
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
