//! SuperOffice faults during intake, archiving and task completion, through the simulator and
//! the real pipeline (SMTP to the simulator's relay): 5xx, 429 with `Retry-After`, resets, a
//! lost answer after the server acted, and 421 (tenant moved). What must hold in every case:
//! the mail is sent once (never again because SuperOffice failed), one archive document per
//! Message-ID, and the work completes once SuperOffice answers again (P5, P6).
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use outbox::{Delivery, Rep, State, Store};
use superoffice::AppointmentFilter;
use superoffice_sim::{Fault, FaultKind, SimHandle};

const FILTER: AppointmentFilter = AppointmentFilter { associate_id: 18, task_type_id: 7 };

struct Rig {
    sim: SimHandle,
    store: Arc<Store>,
    delivery: Delivery,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let sim = common::simulator().await;
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).unwrap());
    outbox::intake_tasks(&client, &store, &FILTER).await.unwrap();
    let smtp = common::sim_relay(&sim);
    let me = client.current_principal().await.unwrap();
    let delivery =
        Delivery::new(store.clone(), client, smtp, Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address });
    Rig { sim, store, delivery, _dir: dir }
}

fn fault(path: &str, method: Option<&str>, kind: FaultKind, times: u32) -> Fault {
    Fault { path_contains: path.into(), method: method.map(str::to_owned), kind, times: Some(times) }
}

fn status(code: u16) -> FaultKind {
    FaultKind::Status { status: code, error_type: "SoServerException".into(), message: format!("injected {code}") }
}

impl Rig {
    /// Approves the first sendable draft and delivers it (send, archive, complete).
    async fn send_one(&self) -> i64 {
        let id = self.store.list().unwrap().into_iter().find(|r| r.problem.is_none() && r.state == State::Pending).unwrap().id;
        self.delivery.approve(id).unwrap();
        let _ = self.delivery.deliver(id).await;
        id
    }

    /// Mail for this draft at the relay, documents for it in SuperOffice, and whether its task
    /// is completed.
    fn effects(&self, id: i64) -> (usize, usize, bool) {
        let row = self.store.get(id).unwrap();
        let mid = row.message_id.clone().unwrap();
        let mails = self.sim.mailbox().messages().iter().filter(|m| String::from_utf8_lossy(&m.data).contains(mid.as_str())).count();
        let tenant = self.sim.tenant();
        let docs = tenant.documents.iter().filter(|d| d.external_ref == mid).count();
        let task: i64 = row.source_ref.parse().unwrap();
        let completed = tenant.appointments.iter().any(|a| a.id == task && a.completed == "Completed");
        (mails, docs, completed)
    }

    /// What the scheduler does once the pause after a failure is over.
    async fn later(&self, id: i64) -> State {
        self.delivery.finish(id).await.unwrap_or_else(|e| panic!("archiving after the fault: {e}"))
    }
}

#[tokio::test]
async fn archive_and_task_faults_are_retried_without_a_second_mail_or_document() {
    let r = rig().await;
    // Short faults are ridden out inside one attempt (backoff 0.5 s, 1 s, 2 s).
    let cases: Vec<(&str, Fault)> = vec![
        ("POST Document 503 ×2", fault("/Document", Some("POST"), status(503), 2)),
        ("GET Document/default reset ×1", fault("/Document/default", None, FaultKind::Reset, 1)),
        ("PUT content 502 ×1", fault("/Content", Some("PUT"), status(502), 1)),
        ("PUT content reset ×1", fault("/Content", Some("PUT"), FaultKind::Reset, 1)),
        ("POST Document answer lost ×1", fault("/Document", Some("POST"), FaultKind::LoseAnswer, 1)),
        (
            "PATCH Appointment 429 Retry-After 1 ×1",
            fault("/Appointment/", Some("PATCH"), FaultKind::TooManyRequests { retry_after_secs: 1 }, 1),
        ),
        ("PATCH Appointment answer lost ×1", fault("/Appointment/", Some("PATCH"), FaultKind::LoseAnswer, 1)),
        ("tenant moved (421) at POST Document", fault("/Document", Some("POST"), FaultKind::MisdirectOnce, 1)),
    ];
    for (name, f) in cases {
        r.sim.clear_faults();
        r.sim.inject(f);
        let t = Instant::now();
        let id = r.send_one().await;
        assert!(r.sim.active_faults().is_empty(), "{name}: the fault really happened");
        let state = r.store.get(id).unwrap().state;
        assert_eq!(state, State::Done, "{name}: {:?}", r.store.get(id).unwrap().reason);
        assert_eq!(r.effects(id), (1, 1, true), "{name}: one mail, one document, task completed");
        let doc =
            r.sim.tenant().documents.into_iter().find(|d| Some(d.external_ref.clone()) == r.store.get(id).unwrap().message_id).unwrap();
        let mail =
            r.sim.mailbox().messages().into_iter().find(|m| Some(m.id.clone()).is_some() && doc.content.as_deref() == Some(&m.data[..]));
        assert!(mail.is_some(), "{name}: the document holds the exact received bytes");
        if name.contains("Retry-After") {
            assert!(t.elapsed() >= Duration::from_secs(1), "{name}: Retry-After was honoured ({:?})", t.elapsed());
        }
    }
}

#[tokio::test]
async fn a_long_outage_leaves_the_mail_sent_and_archives_it_once_later() {
    let r = rig().await;
    // SuperOffice refuses longer than one attempt's retries: the mail is sent, archiving waits.
    r.sim.inject(fault("/Document", Some("POST"), status(503), 20));
    let id = r.send_one().await;
    let row = r.store.get(id).unwrap();
    assert_eq!(row.state, State::Sent, "{:?}", row.reason);
    assert!(row.reason.as_deref().unwrap_or("").contains("not yet archived"), "{:?}", row.reason);
    assert_eq!(r.effects(id), (1, 0, false));
    // A 429 whose Retry-After is long is not hammered: one request, then the scheduler.
    r.sim.clear_faults();
    r.sim.inject(fault("/Document", Some("POST"), FaultKind::TooManyRequests { retry_after_secs: 120 }, 5));
    let before = r.sim.counters().requests("/Document");
    let _ = r.delivery.finish(id).await;
    assert!(r.sim.counters().requests("/Document") - before <= 3, "Retry-After 120 s: no rapid retries");
    r.sim.clear_faults();
    assert_eq!(r.later(id).await, State::Done);
    assert_eq!(r.effects(id), (1, 1, true), "archived once, never sent again");
    // Running the scheduler's work again changes nothing.
    assert_eq!(r.later(id).await, State::Done);
    assert_eq!(r.effects(id), (1, 1, true));
}

#[tokio::test]
async fn intake_faults_lose_nothing_and_add_nothing_twice() {
    let sim = common::simulator().await;
    sim.seed_tasks(400); // three pages
    let client = common::sign_in(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("outbox.sqlite")).unwrap();
    // The second page fails: the intake reports a transient error and stores nothing partial.
    sim.inject(fault("skip=200", None, status(503), 1));
    let err = outbox::intake_tasks(&client, &store, &FILTER).await.unwrap_err();
    assert!(sim.active_faults().is_empty());
    assert!(err.is_transient(), "{err}");
    assert_eq!(store.list().unwrap().len(), 0, "nothing half taken in");
    // The tenant moves while paging: followed, complete.
    sim.inject(fault("skip=200", None, FaultKind::MisdirectOnce, 1));
    let report = outbox::intake_tasks(&client, &store, &FILTER).await.unwrap();
    assert_eq!(report.added as usize, 425);
    // A page SuperOffice refuses fails the whole intake (visibly, for the banner) and adds
    // nothing; the next intake takes the new tasks in, each once. No person is read per task.
    sim.seed_tasks(10);
    sim.inject(fault("skip=400", None, FaultKind::Reset, 1));
    assert!(outbox::intake_tasks(&client, &store, &FILTER).await.is_err());
    assert_eq!(store.list().unwrap().len(), 425, "nothing half taken in");
    let again = outbox::intake_tasks(&client, &store, &FILTER).await.unwrap();
    assert_eq!(again.added, 10, "{again:?}");
    assert_eq!(store.list().unwrap().len(), 435, "every task exactly once");
    assert_eq!(sim.counters().requests("/Person/"), 0, "the recipients come with the tasks");
}

#[tokio::test]
async fn a_timeout_after_superoffice_acted_creates_no_second_document() {
    let r = rig().await;
    // The document is created, but its answer comes after the client's 30 s timeout.
    r.sim.inject(fault("/Document", Some("POST"), FaultKind::SlowBody { delay_ms: 35_000 }, 1));
    let t = Instant::now();
    let id = r.send_one().await;
    assert!(r.sim.active_faults().is_empty(), "the fault really happened");
    assert!(t.elapsed() >= Duration::from_secs(30), "the client waited for its timeout: {:?}", t.elapsed());
    assert_eq!(r.store.get(id).unwrap().state, State::Done, "{:?}", r.store.get(id).unwrap().reason);
    assert_eq!(r.effects(id), (1, 1, true), "the created document was found by Message-ID, not made again");
}
