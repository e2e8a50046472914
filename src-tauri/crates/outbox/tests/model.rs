//! Property-based state-machine test of the durable outbox (reliability-security.md §6.1/§6.2).
//!
//! The system under test is the real [`outbox::Store`] on a real SQLite file in a temp dir,
//! reopened on every restart, and the real [`outbox::Delivery`] on it: sends go through
//! `Delivery::deliver` and archiving through `Delivery::finish`, whose relay and archive are
//! in-memory fakes (`outbox::seams`) that answer as the model chose and record every accepted
//! message and every created document per Message-ID. A crash is a fake that never answers: the
//! step stops there and the store is reopened without being closed. The reference model
//! applies [`outbox::state::next`] to each row and keeps its own account of the world
//! (approvals, the rep's resend decisions, what the archive holds).
//!
//! After every step it checks I1–I5 and that the store agrees with the model; at the end of each
//! case it heals and drains (restart, recover, retry what is due, deliver and archive with a
//! healthy network until no work is left) and checks I1, I2, I3 and I5 again. Failing sequences
//! shrink to a minimal list of transitions and are kept in `proptest-regressions/model.txt`.
//!
//! The parts are in `tests/model/`: the transitions (`transitions.rs`), the reference model
//! (`reference.rs`), the fakes (`fakes.rs`), the world the steps run in (`world.rs`) and the
//! invariants (`checks.rs`).
//!
//! `MODEL_CASES=10000 cargo test -p outbox --test model` runs more cases (default 96).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "model/checks.rs"]
mod checks;
#[path = "model/fakes.rs"]
mod fakes;
#[path = "model/reference.rs"]
mod reference;
#[path = "model/transitions.rs"]
mod transitions;
#[path = "model/world.rs"]
mod world;

use std::fmt;
use std::sync::OnceLock;

use outbox::mime::{self, Outgoing};
use outbox::{now_ms, DraftRow, Error, NewDraft, State, Store};
use proptest::test_runner::{Config, FileFailurePersistence};
use proptest_state_machine::{prop_state_machine, StateMachineTest};
use reference::{message_id, Model, OutboxModel};
use transitions::Transition;
use world::World;

/// Most drafts a case creates.
const MAX_ROWS: usize = 6;
const REP: &str = "anna";
const FROM_NAME: &str = "Anna Berger";
const FROM_ADDRESS: &str = "anna.berger@roboplanet.example";
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Later than any retry delay or hold window the store schedules.
fn far_future_ms() -> i64 {
    now_ms() + 365 * DAY_MS
}

/// The rep's SuperOffice client, signed in once (on the demo simulator) for every case:
/// `Delivery` needs one. Every SuperOffice call it makes here goes to the fake archive, and the
/// outbox has no owner to check against the session, so the client itself is never called.
fn client() -> superoffice::Client {
    static CLIENT: OnceLock<superoffice::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(testkit::sign_in(testkit::shared_simulator()))
        })
        .clone()
}

fn draft(k: usize) -> NewDraft {
    NewDraft {
        source: "superoffice-task".into(),
        source_ref: (5_000 + k).to_string(),
        contact_id: 2,
        person_id: 3,
        sale_id: 0,
        company: "Brightwater Ltd".into(),
        recipient_name: "Olivia Carter".into(),
        recipient_email: Some(format!("kunde{k}@brightwater.example")),
        subject: Some(format!("Angebot {k}")),
        body: format!("Guten Tag,\n\nhier ist das Angebot Nr. {k}.\n\nViele Grüße"),
        problem: None,
    }
}

/// The approved bytes for a row, deterministic per (text, Message-ID).
fn build_mime(row: &DraftRow, message_id: &str) -> Vec<u8> {
    mime::build(&Outgoing {
        from_name: FROM_NAME,
        from_address: FROM_ADDRESS,
        to_name: &row.recipient_name,
        to_address: row.recipient_email.as_deref().expect("a sendable draft has a recipient"),
        subject: row.subject.as_deref().expect("a sendable draft has a subject"),
        body: &row.body,
        message_id,
        date: time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap(),
    })
    .unwrap_or_else(|e| panic!("building the message for draft {}: {e}", row.id))
    .formatted()
}

/// The store must refuse a move the state machine forbids, naming the state it was in.
fn refused<T: fmt::Debug>(what: &str, got: outbox::Result<T>, from: State) {
    match got {
        Err(Error::InvalidTransition { from: f, .. }) if f == from => {}
        other => panic!("{what} on a {from} row must be refused with InvalidTransition {{ from: {from:?} }}; the store returned {other:?}"),
    }
}

fn ok<T>(what: &str, got: outbox::Result<T>) -> T {
    got.unwrap_or_else(|e| panic!("{what} failed: {e} ({e:?})"))
}

struct OutboxTest;

impl StateMachineTest for OutboxTest {
    type SystemUnderTest = World;
    type Reference = OutboxModel;

    fn init_test(m: &Model) -> World {
        World::new(m)
    }

    fn apply(mut w: World, after: &Model, t: Transition) -> World {
        w.apply(after, t);
        w.before = after.clone();
        w
    }

    fn check_invariants(w: &World, m: &Model) {
        w.check_world(m, false);
        w.check_model(m);
    }

    fn teardown(mut w: World, m: Model) {
        w.heal_and_drain();
        w.check_world(&m, true);
        w.zombies.clear();
    }
}

fn config() -> Config {
    let cases = std::env::var("MODEL_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/model.txt"
        )))),
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    /// Random sequences of up to 30 transitions against the real store.
    #[test]
    fn outbox_matches_its_model(sequential 1..30 => OutboxTest);
}

/// A store defect this model found (fixed; kept as a deterministic check):
/// `undo_approval` accepted an `approved` row that had already been attempted, here a "send
/// again" after an unknown outcome. It then drops the Message-ID and the bytes of a message the
/// relay may already have accepted. A re-approval gets a new Message-ID, so a second copy cannot
/// be deduplicated, and a reject leaves a delivered message that is never archived. Its own
/// contract says "while nothing has been attempted".
#[test]

fn undo_after_an_attempt_keeps_the_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("outbox.sqlite")).unwrap();
    s.insert_draft(&draft(1)).unwrap();
    let id = s.list().unwrap()[0].id;
    let mid = message_id(1);
    s.approve(id, REP, &mid, FROM_NAME, FROM_ADDRESS, &build_mime(&s.get(id).unwrap(), &mid), 0).unwrap();
    s.claim(id).unwrap();
    s.data_started(id).unwrap();
    // The relay accepted the whole message; the reply to the final dot was lost.
    s.needs_decision(id, &outbox::Reason::ConnectionLost { detail: "no reply after the final dot".into() }).unwrap();
    s.send_again(id, REP).unwrap();
    let undo = s.undo_approval(id, REP);
    let row = s.get(id).unwrap();
    assert!(
        undo.is_err() || row.message_id.as_deref() == Some(mid.as_str()),
        "undo after an attempt returned {undo:?} and left the row {} with Message-ID {:?}; {mid} may already be delivered",
        row.state,
        row.message_id
    );
}
