//! Part of `tests/e2e.rs`: the rep's own mailbox. In the real window, the rep connects the
//! demo's Microsoft 365 mailbox from Settings (the provider's sign-in in the system browser),
//! the channel becomes the mailbox, and an approved draft goes out through it: it is in the
//! mailbox's Sent Items (the demo mailbox view lists what the simulated mailbox sent) and
//! archived in SuperOffice, and nothing went through the demo's SMTP relay.

use std::time::Duration;

use crate::harness::{begin, App, Start, WAIT};

#[tokio::test(flavor = "multi_thread")]
async fn the_rep_connects_the_demo_mailbox_and_an_approved_draft_goes_out_through_it() {
    let Some(_one) = begin("the_rep_connects_the_demo_mailbox").await else { return };
    let app = App::fresh("mailbox", Start::demo(1)).await;
    app.sign_in_demo().await;
    app.click("#tab-settings").await;
    app.wait("#mailbox-connect-microsoft").await;
    app.shot("settings-mailbox").await;
    app.click("#mailbox-connect-microsoft").await;
    let connected = app.wait_text("#mailbox-connected", "anna.berger@roboplanet.example", Duration::from_secs(30)).await;
    assert!(connected.contains("Microsoft 365"), "{connected}");
    let channel = app.wait_text("#channel-current", "Your mailbox", WAIT).await;
    assert!(channel.contains("Microsoft 365"), "the channel says why: {channel}");
    app.shot("settings-mailbox-connected").await;

    app.click("#tab-outbox").await;
    app.select_row(0).await;
    let subject = app.text("#detail-subject").await;
    app.click("#approve").await;
    app.wait_text("#draft-status", "archived as document", Duration::from_secs(60)).await;
    let records = app.records().await;
    let documents = records["documents"].as_array().cloned().unwrap_or_default();
    assert_eq!(documents.len(), 1, "archived once");
    assert!(app.mailbox().await.is_empty(), "nothing went through the demo's SMTP relay");
    // The demo mailbox view lists what the simulated Microsoft 365 mailbox sent.
    app.click("#tab-mailbox").await;
    app.wait_text("#mailbox tbody", &subject, WAIT).await;
    let rows = app.js("return document.querySelectorAll('#mailbox tbody tr').length").await;
    assert_eq!(rows.as_u64(), Some(1), "one message, in the mailbox's Sent Items");
    app.shot("demo-mailbox-sent-from-m365").await;
    app.done().await;
    app.close().await;
}
