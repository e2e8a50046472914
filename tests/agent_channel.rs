//! The email-agent channel (issue 17) against the strict simulator with the agent granted: the
//! draft rules hold before every channel, long lines reach the mail server, what the agent's
//! errors mean (refused: not sent; lost or unclear: the rep decides), and the archived document
//! says honestly that it is the approved text.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::sync::Arc;
use std::time::Duration;

use outbox::channel::ChannelWhy;
use outbox::draft::Problem;
use outbox::{Channel, ChannelChoice, Delivery, Rep, State, Store};
use superoffice::AppointmentFilter;
use superoffice_sim::{Fault, FaultKind};

const INJECTED: &str = "Quick question about your dock schedule\r\nBcc: harvest@attacker.example";

struct Rig {
    sim: superoffice_sim::SimHandle,
    store: Arc<Store>,
    client: superoffice::Client,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let sim = common::simulator().await;
    sim.set_profile("full").unwrap();
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).unwrap());
    outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.unwrap();
    Rig { sim, store, client, _dir: dir }
}

impl Rig {
    async fn delivery(&self, channel: Channel) -> Delivery {
        let me = self.client.current_principal().await.unwrap();
        Delivery::new(
            self.store.clone(),
            self.client.clone(),
            common::unreachable_relay(),
            Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address },
        )
        .with_channel(ChannelChoice::new(channel, ChannelWhy::Initial))
    }

    /// A sendable draft from intake, with its body replaced (an edit by the rep).
    fn draft_with_body(&self, body: &str) -> i64 {
        let row = self.store.list().unwrap().into_iter().find(|r| r.problem.is_none() && r.state == State::Pending).unwrap();
        let edit = outbox::Edit { recipient_email: row.recipient_email.clone(), subject: row.subject.clone(), body: body.into() };
        assert_eq!(self.store.edit(row.id, &edit, "Anna").unwrap(), None);
        row.id
    }

    fn import(&self, subject: &str) -> i64 {
        let json = serde_json::json!({"drafts": [{"to": "ines.kraft@kraftlogistik.example", "to_name": "Ines Kraft", "subject": subject, "body": "Hallo Frau Kraft,\n\nkurze Frage.", "ref": format!("ref-{}", subject.len())}]});
        outbox::import_file(&self.store, "drafts.json", json.to_string().as_bytes()).unwrap();
        self.store.list().unwrap().into_iter().find(|r| r.subject.as_deref() == Some(subject)).unwrap().id
    }

    fn fault(&self, kind: FaultKind) {
        self.sim.inject(Fault { path_contains: "/Agents/EMail/Send".into(), method: Some("POST".into()), kind, times: Some(1) });
    }
}

#[tokio::test]
async fn an_injected_subject_is_stopped_before_every_channel_and_shown_as_needing_a_fix() {
    let r = rig().await;
    let id = r.import(INJECTED);
    assert_eq!(r.store.get(id).unwrap().problem, Some(Problem::UnsafeSubject), "shown as needing a fix at import");
    for channel in [Channel::EmailAgent, Channel::Smtp, Channel::Handoff] {
        let d = r.delivery(channel).await;
        let e = d.approve(id).expect_err("an unsafe subject is never approved");
        assert!(e.to_string().contains("line break"), "{channel:?}: {e}");
    }
    // A row approved before this rule existed (written straight into the database) is stopped
    // at sending time, on the agent channel too.
    let clean = r.draft_with_body("Guten Tag,\n\nein kurzer Text.");
    let d = r.delivery(Channel::EmailAgent).await;
    d.approve(clean).unwrap();
    let conn = rusqlite::Connection::open(r._dir.path().join("outbox.sqlite")).unwrap();
    conn.execute("UPDATE drafts SET subject = ?2 WHERE id = ?1", rusqlite::params![clean, INJECTED]).unwrap();
    let state = d.deliver(clean).await.unwrap();
    let row = r.store.get(clean).unwrap();
    assert_eq!((state, row.subject.as_deref()), (State::Failed, Some(INJECTED)), "refused before sending");
    assert!(row.reason.unwrap_or_default().contains("line break"));
    assert!(r.sim.tenant().agent_emails.is_empty(), "nothing reached SuperOffice's agent");
    assert!(r.sim.mailbox().messages().is_empty(), "nothing reached a mail server");
}

#[tokio::test]
async fn a_long_line_is_delivered_by_the_agent() {
    let r = rig().await;
    let long = "Wir liefern ".repeat(100); // 1,200 characters on one line
    let id = r.draft_with_body(&format!("Guten Tag,\n\n{long}\n\nViele Grüße"));
    let d = r.delivery(Channel::EmailAgent).await;
    d.approve(id).unwrap();
    assert_eq!(d.deliver(id).await.unwrap(), State::Done, "{:?}", r.store.get(id).unwrap().reason);
    let sent = &r.sim.tenant().agent_emails[0];
    assert!(sent.plain_body.lines().all(|l| l.len() <= 998), "every line within the mail server's limit");
    assert_eq!(
        sent.plain_body.split_whitespace().collect::<Vec<_>>().join(" "),
        format!("Guten Tag, {long} Viele Grüße").split_whitespace().collect::<Vec<_>>().join(" "),
        "the words are the approved words"
    );
    assert!(sent.html_body.is_empty(), "no empty HTML part is asked for");
    assert_eq!(r.sim.mailbox().messages().len(), 1, "the mail server received the agent's message");
}

#[tokio::test]
async fn an_agent_refusal_is_not_sent_with_superoffices_words() {
    let r = rig().await;
    let d = r.delivery(Channel::EmailAgent).await;
    let id = r.draft_with_body("Guten Tag,\n\nText.");
    d.approve(id).unwrap();
    // The rep's mail server answered the agent with an error code: nothing was sent.
    r.fault(FaultKind::Status { status: 500, error_type: "SmtpCommandException".into(), message: "5.7.1 Sender address rejected".into() });
    assert_eq!(d.deliver(id).await.unwrap(), State::Failed);
    let row = r.store.get(id).unwrap();
    assert!(row.reason.as_deref().unwrap_or_default().contains("5.7.1 Sender address rejected"), "{:?}", row.reason);
    assert!(!row.retryable, "refused: the rep fixes or retries");
    // SuperOffice refused the request itself.
    let id2 = r.draft_with_body("Guten Tag,\n\nnoch ein Text.");
    d.approve(id2).unwrap();
    r.fault(FaultKind::Status {
        status: 400,
        error_type: "SoArgumentException".into(),
        message: "Subject must not contain line breaks".into(),
    });
    assert_eq!(d.deliver(id2).await.unwrap(), State::Failed);
    assert!(r.store.get(id2).unwrap().reason.unwrap_or_default().contains("Subject must not contain line breaks"));
    assert!(r.sim.tenant().agent_emails.is_empty() && r.sim.mailbox().messages().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_unclear_agent_outcome_asks_the_rep() {
    let r = rig().await;
    let d = r.delivery(Channel::EmailAgent).await;
    let id = r.draft_with_body("Guten Tag,\n\nText.");
    d.approve(id).unwrap();
    r.fault(FaultKind::LoseAnswer);
    assert_eq!(d.deliver(id).await.unwrap(), State::NeedsDecision, "the send happened, its answer was lost");
    assert_eq!(r.sim.tenant().agent_emails.len(), 1);
    // A server error that is not the mail server's refusal leaves it open too.
    let id2 = r.draft_with_body("Guten Tag,\n\nnoch ein Text.");
    d.approve(id2).unwrap();
    r.fault(FaultKind::Status {
        status: 500,
        error_type: "SmtpProtocolException".into(),
        message: "The SMTP server has unexpectedly disconnected.".into(),
    });
    assert_eq!(d.deliver(id2).await.unwrap(), State::NeedsDecision);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(r.sim.tenant().agent_emails.len(), 1, "nothing is resent on its own");
}

#[tokio::test]
async fn the_agents_archive_is_labelled_as_the_approved_text() {
    let r = rig().await;
    let d = r.delivery(Channel::EmailAgent).await;
    let id = r.draft_with_body("Guten Tag,\n\nText.");
    d.approve(id).unwrap();
    assert_eq!(d.deliver(id).await.unwrap(), State::Done);
    let doc = &r.sim.tenant().documents[0];
    assert!(
        doc.description.contains("approved text") && doc.description.contains("not the bytes the mail server received"),
        "{}",
        doc.description
    );
    let timeline = r.store.timeline(id).unwrap();
    let archived = timeline.iter().find(|e| e.kind == "archived").unwrap();
    assert!(archived.detail.contains("approved text") && !archived.detail.contains(".eml"), "{}", archived.detail);
}
