//! The email-agent and handoff channels against the simulator, and the channel policy fed by
//! what the tenant really allows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::sync::Arc;
use std::time::Duration;

use keychain::Secret;
use outbox::channel::{choose, AgentAccess, Capabilities};
use outbox::{Channel, ChannelSetting, Delivery, Rep, SmtpSecurity, SmtpSettings, State, Store};
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

fn unused_relay() -> SmtpSettings {
    // No relay is reachable here: a message that tried SMTP would fail, which the tests would see.
    SmtpSettings {
        host: "localhost".into(),
        port: 9,
        security: SmtpSecurity::ImplicitTls,
        username: "nobody@roboplanet.example".into(),
        password: Secret::new(""),
        auth: Default::default(),
        renewer: None,
        extra_ca_pem: None,
        data_timeout: Duration::from_secs(5),
    }
}

/// The pipeline for the signed-in demo rep, taking `choice`.
async fn delivery(store: &Arc<Store>, client: superoffice::Client, choice: outbox::ChannelChoice) -> Delivery {
    let me = client.current_principal().await.unwrap();
    Delivery::new(store.clone(), client, unused_relay(), Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address })
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
    let caps = Capabilities { email_agent: agent_access(&client).await, smtp_configured: true };
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
    assert!(sim.mailbox().messages().is_empty(), "nothing went through the relay");
}

#[tokio::test]
async fn the_seed_tenant_falls_back_to_smtp_and_without_a_relay_to_handoff() {
    let (sim, store, client, _dir) = rig("seed-feb-2026").await;
    let access = agent_access(&client).await;
    assert_eq!(access, AgentAccess::NotGranted(401), "the Email agent is not granted to the app");
    assert_eq!(choose(ChannelSetting::Auto, &Capabilities { email_agent: access.clone(), smtp_configured: true }).channel, Channel::Smtp);
    let choice = choose(ChannelSetting::Auto, &Capabilities { email_agent: access, smtp_configured: false });
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

/// An archive attempt interrupted after `POST Document` on a tenant where `ExternalRef` cannot
/// be searched: the document is found by contact and header, not created twice.
#[tokio::test]
async fn an_unsearchable_external_ref_falls_back_to_contact_and_header() {
    let (sim, store, client, _dir) = rig("seed-feb-2026").await;
    let d = delivery(&store, client.clone(), outbox::ChannelChoice::new(Channel::Handoff, outbox::channel::ChannelWhy::AdminHandoff)).await;
    let draft = store.list().unwrap().into_iter().find(|r| r.problem.is_none()).unwrap();
    d.approve(draft.id).unwrap();
    d.deliver(draft.id).await.unwrap();
    store.confirm_sent(draft.id, "Anna").unwrap();
    // The create reached SuperOffice but its answer was lost: the store only knows it started.
    store.archive_started(draft.id).unwrap();
    let row = store.get(draft.id).unwrap();
    let mut entity = client.document_default().await.unwrap();
    entity["Header"] = serde_json::json!(row.subject.clone().unwrap());
    entity["ExternalRef"] = serde_json::json!(row.message_id.clone().unwrap());
    entity["Contact"] = serde_json::json!({ "ContactId": 2 });
    let created = client.create_document(&entity).await.unwrap().document_id;
    sim.inject(superoffice_sim::Fault {
        path_contains: "filter=externalRef".into(),
        method: Some("GET".into()),
        kind: superoffice_sim::FaultKind::Status {
            status: 400,
            error_type: "SoODataException".into(),
            message: "externalRef cannot be filtered".into(),
        },
        times: Some(2),
    });
    assert_eq!(d.finish(draft.id).await.unwrap(), State::Done);
    let mid = row.message_id.clone().unwrap();
    // The fault really hits the ExternalRef search: finish() used one, this call the other.
    assert_eq!(client.find_document_by_external_ref(&mid).await.err().and_then(|e| e.status()), Some(400));
    assert_eq!(client.find_document_by_external_ref(&mid).await.unwrap(), Some(created));
    assert_eq!(store.get(draft.id).unwrap().document_id, Some(created), "the existing document was found");
    assert_eq!(sim.tenant().documents.len(), 1, "not archived twice");
}
