//! The email-agent and handoff channels against the simulator, and the channel policy fed by
//! what the tenant really allows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::sync::Arc;

use outbox::channel::{choose, AgentAccess, Capabilities};
use outbox::{Channel, ChannelSetting, Delivery, Rep, State, Store};
use superoffice::AppointmentFilter;

async fn rig(profile: &str) -> (superoffice_sim::SimHandle, Arc<Store>, superoffice::Client, tempfile::TempDir) {
    let sim = common::simulator().await;
    sim.set_profile(profile).unwrap();
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).unwrap());
    outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.unwrap();
    (sim, store, client, dir)
}

/// The pipeline for the signed-in demo rep, taking `choice`.
async fn delivery(store: &Arc<Store>, client: superoffice::Client, choice: outbox::ChannelChoice) -> Delivery {
    let me = client.current_principal().await.unwrap();
    Delivery::new(
        store.clone(),
        client,
        common::unreachable_relay(),
        Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address },
    )
    .with_channel(choice)
}

async fn agent_access(client: &superoffice::Client) -> AgentAccess {
    match client.email_current_account().await {
        Ok(Some(a)) => AgentAccess::Granted { account: Some(a.email_address) },
        Ok(None) => AgentAccess::Granted { account: None },
        Err(e) => AgentAccess::NotGranted(e.status().unwrap_or(0)),
    }
}

#[tokio::test]
async fn the_email_agent_sends_when_granted_and_the_mail_is_archived_once() {
    let (sim, store, client, _dir) = rig("full").await;
    let caps = Capabilities { email_agent: agent_access(&client).await, smtp_configured: true, mailbox: None };
    let choice = choose(ChannelSetting::Auto, &caps);
    assert_eq!(choice.channel, Channel::EmailAgent, "{}", choice.reason());
    let d = delivery(&store, client, choice).await;
    let draft = store.list().unwrap().into_iter().find(|r| r.problem.is_none()).unwrap();
    d.approve(draft.id).unwrap();
    assert_eq!(d.deliver(draft.id).await.unwrap(), State::Done);
    let row = store.get(draft.id).unwrap();
    assert_eq!(row.channel, Some(Channel::EmailAgent));
    let tenant = sim.tenant();
    assert_eq!(tenant.agent_emails.len(), 1, "one email through SuperOffice's agent");
    assert_eq!(tenant.documents.len(), 1, "archived once");
    assert_eq!(Some(&tenant.documents[0].external_ref), row.message_id.as_ref());
    let received = sim.mailbox().messages();
    assert_eq!(received.len(), 1, "the mail server received one message");
    assert_eq!(received[0].id, tenant.agent_emails[0].mailbox_id, "the one SuperOffice's agent built, nothing of the app's own");
}

#[tokio::test]
async fn the_seed_tenant_falls_back_to_smtp_and_without_a_relay_to_handoff() {
    let (sim, store, client, _dir) = rig("seed-feb-2026").await;
    let access = agent_access(&client).await;
    assert_eq!(access, AgentAccess::NotGranted(401), "the Email agent is not granted to the app");
    assert_eq!(
        choose(ChannelSetting::Auto, &Capabilities { email_agent: access.clone(), smtp_configured: true, mailbox: None }).channel,
        Channel::Smtp
    );
    let choice = choose(ChannelSetting::Auto, &Capabilities { email_agent: access, smtp_configured: false, mailbox: None });
    assert_eq!(choice.channel, Channel::Handoff, "{}", choice.reason());
    let why = outbox::channel::ChannelWhy::HandoffFallback { agent: outbox::channel::AgentWhy::NotGranted { status: 401 } };
    assert_eq!(choice.why, why);

    let d = delivery(&store, client, choice.clone()).await;
    let draft = store.list().unwrap().into_iter().find(|r| r.problem.is_none()).unwrap();
    d.approve(draft.id).unwrap();
    let row = store.get(draft.id).unwrap();
    assert_eq!(
        (row.channel, row.channel_reason.as_deref(), row.channel_why.as_ref()),
        (Some(Channel::Handoff), Some(choice.reason().as_str()), Some(&why)),
        "the message records its channel and why, in words and as data"
    );
    assert_eq!(d.deliver(draft.id).await.unwrap(), State::NeedsDecision, "handed off: the rep sends it and confirms");
    let task =
        |sim: &superoffice_sim::SimHandle| sim.tenant().appointments.into_iter().find(|a| a.id.to_string() == draft.source_ref).unwrap();
    assert_eq!(task(&sim).completed, "NotStarted", "the task stays open until the rep confirms");
    store.confirm_sent(draft.id, "Anna").unwrap();
    assert_eq!(d.finish(draft.id).await.unwrap(), State::Done);
    assert_eq!(task(&sim).completed, "Completed");
    assert_eq!(sim.tenant().documents.len(), 1, "the confirmed handoff is archived once");
    assert!(sim.mailbox().messages().is_empty() && sim.tenant().agent_emails.is_empty(), "the app itself sent nothing");
}

/// The rep's desktop in a test: what was copied and composed; the clipboard can refuse.
#[derive(Default)]
struct FakeDesk {
    copied: std::sync::Mutex<Vec<String>>,
    composed: std::sync::Mutex<Vec<String>>,
    clipboard_broken: bool,
}

impl outbox::handoff::Desk for FakeDesk {
    fn copy(&self, text: &str) -> Result<(), String> {
        if self.clipboard_broken {
            return Err("no clipboard owner (test)".into());
        }
        self.copied.lock().unwrap().push(text.to_owned());
        Ok(())
    }
    fn compose(&self, mailto: &str) -> Result<(), String> {
        self.composed.lock().unwrap().push(mailto.to_owned());
        Ok(())
    }
}

/// The handoff, whole, in the core: approving on the handoff channel copies the exact text,
/// opens a new message for the recipient and leaves the row to the rep ("needs decision"); with
/// no clipboard nothing is handed off and the row stays approved, with the clipboard named.
#[tokio::test]
async fn a_handoff_copies_the_text_opens_the_mail_program_and_waits_for_the_rep() {
    let (sim, store, client, _dir) = rig("seed-feb-2026").await;
    let d = delivery(&store, client, outbox::ChannelChoice::new(Channel::Handoff, outbox::channel::ChannelWhy::AdminHandoff)).await;
    let drafts: Vec<_> = store.list().unwrap().into_iter().filter(|r| r.problem.is_none()).take(2).collect();
    let desk = FakeDesk::default();
    d.approve_at(drafts[0].id, &desk).await.unwrap();
    let row = store.get(drafts[0].id).unwrap();
    assert_eq!(row.state, State::NeedsDecision, "waits for the rep's \"it was sent\"");
    let to = row.recipient_email.clone().unwrap();
    assert_eq!(*desk.copied.lock().unwrap(), [outbox::channel::handoff_text(&to, row.subject.as_deref().unwrap(), &row.body)]);
    assert!(desk.composed.lock().unwrap()[0].starts_with(&format!("mailto:{to}?")), "{:?}", desk.composed.lock().unwrap());

    let broken = FakeDesk { clipboard_broken: true, ..FakeDesk::default() };
    assert_eq!(d.approve_at(drafts[1].id, &broken).await.err().map(|e| e.code().as_str()), Some("clipboard_unavailable"));
    assert_eq!(store.get(drafts[1].id).unwrap().state, State::Approved, "not handed off without the text on the clipboard");
    assert!(broken.composed.lock().unwrap().is_empty());
    assert!(sim.mailbox().messages().is_empty(), "the app itself sent nothing");
}

/// A bulk approval on the handoff channel is refused before anything is approved (a handoff
/// needs the rep at each message); on the SMTP channel the same selection is approved.
#[tokio::test]
async fn a_bulk_approval_on_the_handoff_channel_approves_nothing() {
    let (_sim, store, client, _dir) = rig("seed-feb-2026").await;
    let ids: Vec<i64> = store.list().unwrap().into_iter().filter(|r| r.problem.is_none()).take(3).map(|r| r.id).collect();
    let handoff = outbox::ChannelChoice::new(Channel::Handoff, outbox::channel::ChannelWhy::AdminHandoff);
    let d = delivery(&store, client.clone(), handoff).await;
    assert_eq!(d.approve_many(&ids).err().map(|e| e.code().as_str()), Some("bulk_handoff"));
    assert!(ids.iter().all(|id| store.get(*id).unwrap().state == State::Pending), "not even the first one was approved");
    d.set_channel(outbox::ChannelChoice::new(Channel::Smtp, outbox::channel::ChannelWhy::AdminSmtp));
    let approved = d.approve_many(&ids).unwrap();
    assert!(approved.iter().all(|(_, e)| e.is_none()));
    assert!(ids.iter().all(|id| store.get(*id).unwrap().state == State::Approved));
}

/// An archive attempt interrupted after `POST Document`: FindDocument cannot search
/// `ExternalRef`, so the document is found by the reference the app put in `OurRef`, and used
/// only after `GET Document/{id}` shows this message's id; no second document, content once.
#[tokio::test]
async fn an_interrupted_archive_is_found_by_our_reference_and_confirmed() {
    let (sim, store, client, _dir) = rig("seed-feb-2026").await;
    let d = delivery(&store, client.clone(), outbox::ChannelChoice::new(Channel::Handoff, outbox::channel::ChannelWhy::AdminHandoff)).await;
    let drafts: Vec<_> = store.list().unwrap().into_iter().filter(|r| r.problem.is_none()).take(2).collect();
    let (ours, other) = (&drafts[0], &drafts[1]);
    for draft in &drafts {
        d.approve(draft.id).unwrap();
        d.deliver(draft.id).await.unwrap();
        store.confirm_sent(draft.id, "Anna").unwrap();
    }
    // `ours`: the create reached SuperOffice but its answer was lost.
    store.archive_started(ours.id).unwrap();
    let mid = store.get(ours.id).unwrap().message_id.unwrap();
    let mut entity = client.document_default().await.unwrap();
    entity["Header"] = serde_json::json!("What the lost create wrote");
    entity["ExternalRef"] = serde_json::json!(mid);
    entity["OurRef"] = serde_json::json!(superoffice::archive_ref(&mid));
    entity["Contact"] = serde_json::json!({ "ContactId": 2 });
    let created = client.create_document(&entity).await.unwrap().document_id;
    // `other`: a document carries its reference, but another Message-ID (someone copied the
    // reference): it must not be written into.
    store.archive_started(other.id).unwrap();
    let other_mid = store.get(other.id).unwrap().message_id.unwrap();
    let mut foreign = client.document_default().await.unwrap();
    foreign["Header"] = serde_json::json!("Someone else's document");
    foreign["ExternalRef"] = serde_json::json!("<someone-else@x.example>");
    foreign["OurRef"] = serde_json::json!(superoffice::archive_ref(&other_mid));
    let foreign_id = client.create_document(&foreign).await.unwrap().document_id;

    assert_eq!(d.finish(ours.id).await.unwrap(), State::Done);
    assert_eq!(store.get(ours.id).unwrap().document_id, Some(created), "the existing document was found and confirmed");
    assert_eq!(d.finish(other.id).await.unwrap(), State::Done);
    let other_doc = store.get(other.id).unwrap().document_id.unwrap();
    assert_ne!(other_doc, foreign_id, "a document that does not carry this Message-ID is never used");
    let t = sim.tenant();
    assert_eq!(t.documents.len(), 3, "one per message, plus the untouched foreign one");
    assert!(t.documents.iter().find(|x| x.id == foreign_id).unwrap().content.is_none(), "nothing was written into the foreign document");
    assert!(t.documents.iter().find(|x| x.id == created).unwrap().content.is_some(), "the found document got its content");
    let ourref_searches = sim.requests().iter().filter(|r| r.path.ends_with("/Document") && r.method == "GET").count();
    assert_eq!(ourref_searches, 2, "one search per interrupted archive");
}
