//! Property-based state-machine test of the durable outbox (reliability-security.md §6.1/§6.2).
//!
//! The system under test is the real [`outbox::Store`] on a real SQLite file in a temp dir,
//! reopened on every restart, driven through the same calls the delivery pipeline makes
//! (`Delivery::deliver` and `Delivery::finish_once`), against in-memory fakes of the SMTP relay
//! and of the SuperOffice archive that record every accepted message and every created document
//! per Message-ID. The reference model applies [`outbox::state::next`] to each row and keeps its
//! own account of the world (approvals, the rep's resend decisions, what the archive holds).
//!
//! After every step it checks I1–I5 and that the store agrees with the model; at the end of each
//! case it heals and drains (restart, recover, retry what is due, deliver and archive with a
//! healthy network until no work is left) and checks I1, I2, I3 and I5 again. Failing sequences
//! shrink to a minimal list of transitions and are kept in `proptest-regressions/model.txt`.
//!
//! `MODEL_CASES=10000 cargo test -p outbox --test model` runs more cases (default 96).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use outbox::mime::{self, Outgoing};
use outbox::state::{next, Event};
use outbox::{now_ms, DraftRow, Edit, Error, NewDraft, State, Store};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, FileFailurePersistence};
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

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

// ---------------------------------------------------------------------------------------------
// Transitions
// ---------------------------------------------------------------------------------------------

/// How one SMTP attempt ends (what `smtp::submit` reports, or where the process dies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SendOutcome {
    /// 250 after the final dot.
    Accepted,
    /// 4xx or a network error before DATA: not taken, retried automatically.
    PreDataFail4xx,
    /// 5xx: refused for good.
    Refused5xx,
    /// The relay took the whole message, then the reply to the final dot was lost.
    AmbiguousAfterDot,
    /// The connection broke while the body was being sent; the relay discarded it.
    LostMidBody,
    /// The process died right after `claim` committed.
    CrashAfterClaim,
    /// The process died right after `data_started` committed (nothing reached the relay).
    CrashAfterDataStarted,
    /// The relay accepted the message, and the process died before `sent` was written.
    CrashAfterAccepted,
}

/// How one archive attempt (`Delivery::finish_once`) ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArchiveOutcome {
    /// Every SuperOffice call succeeds.
    Ok,
    /// The first SuperOffice write of this attempt fails (create, content upload, or task
    /// completion); nothing is created. The error is noted on the row.
    Fail,
    /// `POST Document` creates the document, but the answer never reaches the store (timeout).
    /// Behaves like `Ok` when no document has to be created.
    CreatedButAnswerLost,
    /// The process dies right after `document_created`. Like `Ok` when nothing is created.
    CrashAfterDocumentCreated,
    /// The process dies right after `archived`, before the task is completed. Like `Ok` for a
    /// row that is already archived.
    CrashAfterArchived,
}

#[derive(Clone, Debug)]
enum Transition {
    NewDraft,
    Approve(usize),
    Undo(usize),
    Reject(usize),
    Snooze(usize, i64),
    /// `wake_due(now)`.
    Wake(i64),
    /// An edit of a pending draft, with one of a few sendable texts.
    Edit(usize, usize),
    Attempt(usize, SendOutcome),
    /// `retry_due(far future)`: every automatic retry that is scheduled at all.
    RetryDue,
    Archive(usize, ArchiveOutcome),
    RepConfirmsSent(usize),
    RepSendsAgain(usize),
    RepTryAgain(usize),
    /// Drop the store, reopen it, `recover_interrupted()`.
    Restart,
}

impl Transition {
    fn row(&self) -> Option<usize> {
        use Transition as T;
        match *self {
            T::Approve(r)
            | T::Undo(r)
            | T::Reject(r)
            | T::Snooze(r, _)
            | T::Edit(r, _)
            | T::Attempt(r, _)
            | T::Archive(r, _)
            | T::RepConfirmsSent(r)
            | T::RepSendsAgain(r)
            | T::RepTryAgain(r) => Some(r),
            T::NewDraft | T::Wake(_) | T::RetryDue | T::Restart => None,
        }
    }
}

const EDIT_BODIES: &[&str] = &[
    "Guten Tag Frau Carter,\n\nanbei das überarbeitete Angebot.\n\nViele Grüße\nAnna Berger",
    "Hello,\r\n.\r\nA line with only a dot, and CRLF line ends.\r\n",
    "Kurz: passt Dienstag 10 Uhr?",
];

fn send_outcome() -> BoxedStrategy<SendOutcome> {
    use SendOutcome as O;
    prop_oneof![
        4 => Just(O::Accepted),
        2 => Just(O::PreDataFail4xx),
        1 => Just(O::Refused5xx),
        2 => Just(O::AmbiguousAfterDot),
        1 => Just(O::LostMidBody),
        1 => Just(O::CrashAfterClaim),
        1 => Just(O::CrashAfterDataStarted),
        1 => Just(O::CrashAfterAccepted),
    ]
    .boxed()
}

fn archive_outcome() -> BoxedStrategy<ArchiveOutcome> {
    use ArchiveOutcome as A;
    prop_oneof![
        3 => Just(A::Ok),
        2 => Just(A::Fail),
        2 => Just(A::CreatedButAnswerLost),
        1 => Just(A::CrashAfterDocumentCreated),
        1 => Just(A::CrashAfterArchived),
    ]
    .boxed()
}

fn snooze_until() -> BoxedStrategy<i64> {
    proptest::sample::select(vec![1_000i64, 2_000, 3_000]).boxed()
}

fn wake_at() -> BoxedStrategy<i64> {
    proptest::sample::select(vec![0i64, 1_500, 2_500, 10_000]).boxed()
}

// ---------------------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct MRow {
    state: State,
    /// The Message-ID fixed at the current approval (dropped by undo).
    message_id: Option<String>,
    /// SMTP attempts (claims) so far; decides whether a 4xx is retried automatically.
    attempts: i64,
    /// Failed and an automatic retry is scheduled.
    auto_retry: bool,
    snoozed_until: Option<i64>,
    ever_approved: bool,
    /// The relay's outcome is unknown to the store and the rep has not acted yet (I3).
    ambiguous: bool,
    /// An archive create was started (`archive_started` is in the timeline).
    archive_started: bool,
    /// The store knows the document id.
    doc_recorded: bool,
    /// The fake archive holds a document for this row's Message-ID.
    doc_in_archive: bool,
}

impl MRow {
    fn new() -> Self {
        MRow {
            state: State::Pending,
            message_id: None,
            attempts: 0,
            auto_retry: false,
            snoozed_until: None,
            ever_approved: false,
            ambiguous: false,
            archive_started: false,
            doc_recorded: false,
            doc_in_archive: false,
        }
    }
}

#[derive(Clone, Default)]
struct Model {
    rows: Vec<MRow>,
    /// Approvals so far: numbers the Message-IDs, which are unique within a case.
    approvals: u32,
    /// The rep's "send again" / "try again" decisions, per Message-ID (I2's allowance).
    rep_resends: BTreeMap<String, u32>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let states: Vec<String> = self.rows.iter().map(|r| r.state.as_db().to_owned()).collect();
        write!(f, "Model {{ drafts: {states:?} }}")
    }
}

fn message_id(n: u32) -> String {
    format!("<m{n}.model@roboplanet.example>")
}

/// Applies `event` if the state machine allows it; returns whether it did.
fn step(row: &mut MRow, event: Event) -> bool {
    match next(row.state, event) {
        Some(s) => {
            row.state = s;
            true
        }
        None => false,
    }
}

struct OutboxModel;

impl ReferenceStateMachine for OutboxModel {
    type State = Model;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<Model> {
        (1..=3usize).prop_map(|n| Model { rows: (0..n).map(|_| MRow::new()).collect(), ..Model::default() }).boxed()
    }

    fn transitions(m: &Model) -> BoxedStrategy<Transition> {
        use Transition as T;
        let rows_in = |pred: fn(&MRow) -> bool| -> Vec<usize> { (0..m.rows.len()).filter(|&i| pred(&m.rows[i])).collect() };
        let mut arms: Vec<(u32, BoxedStrategy<Transition>)> =
            vec![(1, Just(T::Restart).boxed()), (1, Just(T::RetryDue).boxed()), (1, wake_at().prop_map(T::Wake).boxed())];
        if m.rows.len() < MAX_ROWS {
            arms.push((2, Just(T::NewDraft).boxed()));
        }
        let mut add = |weight: u32, rows: Vec<usize>, make: fn(usize) -> BoxedStrategy<Transition>| {
            if !rows.is_empty() {
                arms.push((weight, proptest::sample::select(rows).prop_flat_map(make).boxed()));
            }
        };
        let pending = rows_in(|r| r.state == State::Pending);
        add(5, pending.clone(), |r| Just(T::Approve(r)).boxed());
        add(1, pending.clone(), |r| Just(T::Reject(r)).boxed());
        add(1, pending.clone(), |r| snooze_until().prop_map(move |t| T::Snooze(r, t)).boxed());
        add(1, pending, |r| (0..EDIT_BODIES.len()).prop_map(move |b| T::Edit(r, b)).boxed());
        let approved = rows_in(|r| r.state == State::Approved);
        add(7, approved.clone(), |r| send_outcome().prop_map(move |o| T::Attempt(r, o)).boxed());
        add(1, approved, |r| Just(T::Undo(r)).boxed());
        add(5, rows_in(|r| matches!(r.state, State::Sent | State::Archived)), |r| {
            archive_outcome().prop_map(move |o| T::Archive(r, o)).boxed()
        });
        let undecided = rows_in(|r| r.state == State::NeedsDecision);
        add(2, undecided.clone(), |r| Just(T::RepConfirmsSent(r)).boxed());
        add(2, undecided, |r| Just(T::RepSendsAgain(r)).boxed());
        add(2, rows_in(|r| r.state == State::Failed), |r| Just(T::RepTryAgain(r)).boxed());
        // Any row-transition on any row: mostly ones the store must refuse.
        if !m.rows.is_empty() {
            let any = (0..m.rows.len(), 0..10u8, send_outcome(), archive_outcome(), snooze_until()).prop_map(|(r, k, so, ao, t)| match k {
                0 => T::Approve(r),
                1 => T::Undo(r),
                2 => T::Reject(r),
                3 => T::Snooze(r, t),
                4 => T::Edit(r, 0),
                5 => T::Attempt(r, so),
                6 => T::Archive(r, ao),
                7 => T::RepConfirmsSent(r),
                8 => T::RepSendsAgain(r),
                _ => T::RepTryAgain(r),
            });
            arms.push((2, any.boxed()));
        }
        Union::new_weighted(arms).boxed()
    }

    fn preconditions(m: &Model, t: &Transition) -> bool {
        match t {
            Transition::NewDraft => m.rows.len() < MAX_ROWS,
            t => t.row().is_none_or(|r| r < m.rows.len()),
        }
    }

    fn apply(mut m: Model, t: &Transition) -> Model {
        use Transition as T;
        match *t {
            T::NewDraft => m.rows.push(MRow::new()),
            T::Approve(r) => {
                if next(m.rows[r].state, Event::Approve).is_some() {
                    m.approvals += 1;
                    let row = &mut m.rows[r];
                    step(row, Event::Approve);
                    row.message_id = Some(message_id(m.approvals));
                    row.ever_approved = true;
                }
            }
            T::Undo(r) => {
                let row = &mut m.rows[r];
                // An approval that was already attempted keeps its Message-ID: no undo.
                if row.attempts == 0 && step(row, Event::Undo) {
                    row.message_id = None;
                }
            }
            T::Reject(r) => {
                step(&mut m.rows[r], Event::Reject);
            }
            T::Snooze(r, until) => {
                let row = &mut m.rows[r];
                if step(row, Event::Snooze) {
                    row.snoozed_until = Some(until);
                }
            }
            T::Wake(now) => {
                for row in m.rows.iter_mut().filter(|r| r.state == State::Snoozed && r.snoozed_until.is_some_and(|u| u <= now)) {
                    step(row, Event::Wake);
                    row.snoozed_until = None;
                }
            }
            T::Edit(..) => {}
            T::Attempt(r, o) => {
                let row = &mut m.rows[r];
                if step(row, Event::Claim) {
                    row.attempts += 1;
                    use SendOutcome as O;
                    let event = match o {
                        O::Accepted => Event::Accepted,
                        O::PreDataFail4xx => Event::NotAccepted,
                        O::Refused5xx => Event::Refused,
                        // Lost, or recovered after the crash by `recover_interrupted`.
                        O::AmbiguousAfterDot | O::LostMidBody | O::CrashAfterClaim | O::CrashAfterDataStarted | O::CrashAfterAccepted => {
                            row.ambiguous = true;
                            Event::Lost
                        }
                    };
                    step(row, event);
                    row.auto_retry = o == O::PreDataFail4xx && outbox::schedule::retry_delay_ms(row.attempts).is_some();
                }
            }
            T::RetryDue => {
                for row in m.rows.iter_mut().filter(|r| r.state == State::Failed && r.auto_retry) {
                    step(row, Event::Retry);
                    row.auto_retry = false;
                }
            }
            T::Archive(r, o) => archive_model(&mut m.rows[r], o),
            T::RepConfirmsSent(r) => {
                let row = &mut m.rows[r];
                if step(row, Event::RepConfirmsSent) {
                    row.ambiguous = false;
                }
            }
            T::RepSendsAgain(r) | T::RepTryAgain(r) => {
                let event = if matches!(t, T::RepSendsAgain(_)) { Event::RepSendsAgain } else { Event::Retry };
                let row = &mut m.rows[r];
                if step(row, event) {
                    row.ambiguous = false;
                    row.auto_retry = false;
                    *m.rep_resends.entry(row.message_id.clone().unwrap_or_default()).or_default() += 1;
                }
            }
            T::Restart => {
                for row in m.rows.iter_mut().filter(|r| r.state == State::Sending) {
                    step(row, Event::Lost);
                    row.ambiguous = true;
                }
            }
        }
        m
    }
}

/// What one `finish_once` does to a row, mirroring `Delivery::finish_once`.
fn archive_model(row: &mut MRow, o: ArchiveOutcome) {
    use ArchiveOutcome as A;
    match row.state {
        State::Sent => {
            let found = !row.doc_recorded && row.archive_started && row.doc_in_archive;
            let creates = !row.doc_recorded && !found;
            if creates {
                row.archive_started = true;
                match o {
                    A::Fail => return,
                    A::CreatedButAnswerLost => {
                        row.doc_in_archive = true;
                        return;
                    }
                    _ => row.doc_in_archive = true,
                }
            }
            row.doc_recorded = true;
            if creates && o == A::CrashAfterDocumentCreated {
                return;
            }
            if o == A::Fail {
                // The content upload failed.
                return;
            }
            step(row, Event::Archived);
            if o == A::CrashAfterArchived {
                return;
            }
            step(row, Event::TaskCompleted);
        }
        // Completing the task; a failure leaves it archived.
        State::Archived if o != A::Fail => {
            step(row, Event::TaskCompleted);
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The system under test and its world
// ---------------------------------------------------------------------------------------------

struct Doc {
    id: i64,
    message_id: String,
    content: Option<Vec<u8>>,
}

/// The fake SuperOffice archive: documents, found by `ExternalRef` (the Message-ID).
#[derive(Default)]
struct FakeArchive {
    docs: Vec<Doc>,
}

impl FakeArchive {
    fn create(&mut self, message_id: &str) -> i64 {
        let id = 9_000 + self.docs.len() as i64 + 1;
        self.docs.push(Doc { id, message_id: message_id.to_owned(), content: None });
        id
    }
    fn find(&self, message_id: &str) -> Option<i64> {
        self.docs.iter().find(|d| d.message_id == message_id).map(|d| d.id)
    }
    fn put_content(&mut self, id: i64, bytes: Vec<u8>) {
        let doc = self.docs.iter_mut().find(|d| d.id == id).unwrap_or_else(|| panic!("the archive has no document {id}"));
        doc.content = Some(bytes);
    }
}

struct World {
    dir: tempfile::TempDir,
    store: Option<Store>,
    /// Stores of "crashed" processes: never closed cleanly (no destructor ran), kept until the
    /// case ends.
    zombies: Vec<Store>,
    /// Row index → draft id.
    ids: Vec<i64>,
    /// The model before the transition being applied.
    before: Model,
    /// The fake relay: Message-ID → every copy it accepted.
    server: BTreeMap<String, Vec<Vec<u8>>>,
    archive: FakeArchive,
    /// The bytes built and handed to `approve`, per Message-ID.
    approved_bytes: BTreeMap<String, Vec<u8>>,
    drafts_created: usize,
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

impl World {
    fn path(&self) -> PathBuf {
        self.dir.path().join("outbox.sqlite")
    }

    fn store(&self) -> &Store {
        self.store.as_ref().expect("the store is open")
    }

    fn open(&mut self) {
        self.store = Some(ok("reopening the store", Store::open(&self.path())));
    }

    /// A clean restart: close the store, reopen it, recover interrupted sends.
    fn restart(&mut self, expect_recovered: usize) {
        drop(self.store.take());
        self.open();
        let n = ok("recover_interrupted", self.store().recover_interrupted());
        assert_eq!(n, expect_recovered, "recover_interrupted after a restart resolved {n} rows; {expect_recovered} were left in sending");
    }

    /// The process dies (no destructor runs), the app starts again and recovers.
    fn crash(&mut self) {
        let old = self.store.take().expect("the store is open");
        self.zombies.push(old);
        self.open();
        let n = ok("recover_interrupted", self.store().recover_interrupted());
        assert_eq!(n, 1, "after a crash mid-send exactly one row was in sending; recover_interrupted resolved {n}");
    }

    /// Everything observable about a row, to prove a refused move changed nothing.
    fn snapshot(&self, id: i64) -> String {
        let s = self.store();
        let row = s.get(id).map(|r| format!("{r:?}"));
        let approved = s.approved(id).ok().map(|a| (a.message_id, a.mime_sha256, a.mime, a.document_id, a.state));
        let timeline = s.timeline(id).map(|t| t.len());
        let versions = s.versions(id).map(|v| v.len());
        format!("{row:?} {approved:?} timeline={timeline:?} versions={versions:?}")
    }

    fn unchanged(&self, what: &str, id: i64, snap: &str) {
        let now = self.snapshot(id);
        assert_eq!(snap, now, "{what} was refused but changed draft {id}");
    }

    /// A move on one row: `Some(expected)` must succeed with that state; `None` must be refused
    /// and leave the row as it was.
    fn simple(&mut self, what: &str, r: usize, event: Event, call: impl FnOnce(&Store, i64) -> outbox::Result<State>) {
        let id = self.ids[r];
        let from = self.before.rows[r].state;
        match next(from, event) {
            Some(to) => {
                let got = ok(what, call(self.store(), id));
                assert_eq!(got, to, "{what} of a {from} row: the store says {got}, the state machine {to}");
            }
            None => {
                let snap = self.snapshot(id);
                refused(what, call(self.store(), id), from);
                self.unchanged(what, id, &snap);
            }
        }
    }

    /// Mirrors `Delivery::deliver` (SMTP channel) through the SMTP outcome; a crash outcome restarts.
    fn deliver(&mut self, id: i64, o: SendOutcome) {
        let a = ok("approved", self.store().approved(id));
        assert_eq!(mime::sha256_hex(&a.mime), a.mime_sha256, "I4: draft {id}'s stored bytes no longer match the approved hash");
        let s = ok("claim", self.store().claim(id));
        assert_eq!(s, State::Sending, "claim");
        use SendOutcome as O;
        let relay_takes_it = matches!(o, O::Accepted | O::AmbiguousAfterDot | O::CrashAfterAccepted);
        if !matches!(o, O::PreDataFail4xx | O::Refused5xx | O::CrashAfterClaim) {
            ok("data_started", self.store().data_started(id));
        }
        if relay_takes_it {
            self.server.entry(a.message_id.clone()).or_default().push(a.mime.clone());
        }
        let st = self.store();
        let got = match o {
            O::Accepted => st.sent(id, "250 2.0.0 Ok: queued as 4F2A"),
            O::PreDataFail4xx => st.failed(id, true, &outbox::Reason::NotSent { detail: "421 4.7.0 try again later".into() }),
            O::Refused5xx => st.failed(id, false, &outbox::Reason::Refused { detail: "550 5.1.1 mailbox unavailable".into() }),
            O::AmbiguousAfterDot | O::LostMidBody => {
                st.needs_decision(id, &outbox::Reason::ConnectionLost { detail: "no reply after the final dot".into() })
            }
            O::CrashAfterClaim | O::CrashAfterDataStarted | O::CrashAfterAccepted => {
                self.crash();
                return;
            }
        };
        ok("recording the SMTP outcome", got);
    }

    /// Mirrors `Delivery::finish_once` (and the note `finish_with_retries` leaves on an error).
    fn finish_once(&mut self, id: i64, o: ArchiveOutcome) {
        use ArchiveOutcome as A;
        let a = ok("approved", self.store().approved(id));
        if a.state == State::Sent {
            let doc = match a.document_id {
                Some(d) => d,
                None => {
                    let existing =
                        if ok("archive_attempted", self.store().archive_attempted(id)) { self.archive.find(&a.message_id) } else { None };
                    let (d, created) = match existing {
                        Some(d) => (d, false),
                        None => {
                            ok("archive_started", self.store().archive_started(id));
                            match o {
                                A::Fail => return self.note_archive_error(id, "POST Document failed: 503"),
                                A::CreatedButAnswerLost => {
                                    self.archive.create(&a.message_id);
                                    return self.note_archive_error(id, "POST Document timed out");
                                }
                                _ => (self.archive.create(&a.message_id), true),
                            }
                        }
                    };
                    ok("document_created", self.store().document_created(id, d));
                    if created && o == A::CrashAfterDocumentCreated {
                        return self.crash_quietly();
                    }
                    d
                }
            };
            if o == A::Fail {
                return self.note_archive_error(id, "PUT Document content failed: 503");
            }
            self.archive.put_content(doc, mime::as_received(&a.mime));
            ok("archived", self.store().archived(id, doc));
            if o == A::CrashAfterArchived {
                return self.crash_quietly();
            }
        } else if a.state == State::Archived && o == A::Fail {
            return self.note_archive_error(id, "completing the task failed: 503");
        }
        let a = ok("approved", self.store().approved(id));
        if a.state == State::Archived {
            let done = ok("task_completed", self.store().task_completed(id, &a.source_ref));
            assert_eq!(done, State::Done, "task_completed");
        }
    }

    fn note_archive_error(&mut self, id: i64, e: &str) {
        ok("note", self.store().note(id, "archive_pending", &outbox::Reason::ArchivePending { detail: e.to_string() }));
    }

    /// A crash outside a send: nothing is left in `sending`.
    fn crash_quietly(&mut self) {
        let old = self.store.take().expect("the store is open");
        self.zombies.push(old);
        self.open();
        let n = ok("recover_interrupted", self.store().recover_interrupted());
        assert_eq!(n, 0, "a crash while archiving left {n} rows in sending");
    }

    fn apply(&mut self, after: &Model, t: Transition) {
        use Transition as T;
        match t {
            T::NewDraft => {
                self.drafts_created += 1;
                assert!(ok("insert_draft", self.store().insert_draft(&draft(self.drafts_created))), "a new task must become a new draft");
                let id = ok("list", self.store().list()).iter().map(|d| d.id).max().expect("a draft");
                self.ids.push(id);
            }
            T::Approve(r) => {
                let id = self.ids[r];
                let from = self.before.rows[r].state;
                if next(from, Event::Approve).is_some() {
                    let mid = after.rows[r].message_id.clone().expect("the model fixed a Message-ID");
                    let bytes = build_mime(&ok("get", self.store().get(id)), &mid);
                    self.approved_bytes.insert(mid.clone(), bytes.clone());
                    let s = ok("approve", self.store().approve(id, REP, &mid, FROM_NAME, FROM_ADDRESS, &bytes, now_ms() + 10_000));
                    assert_eq!(s, State::Approved, "approve");
                    // As `Delivery::approve`: the SMTP relay is the channel this test drives.
                    ok(
                        "set_channel",
                        self.store()
                            .set_channel(id, &outbox::ChannelChoice::new(outbox::Channel::Smtp, outbox::channel::ChannelWhy::AdminSmtp)),
                    );
                } else {
                    let snap = self.snapshot(id);
                    let got = self.store().approve(id, REP, "<refused@roboplanet.example>", FROM_NAME, FROM_ADDRESS, b"never sent", 0);
                    refused("approve", got, from);
                    self.unchanged("approve", id, &snap);
                }
            }
            T::Undo(r) if self.before.rows[r].state == State::Approved && self.before.rows[r].attempts > 0 => {
                let id = self.ids[r];
                let snap = self.snapshot(id);
                refused("undo_approval after an attempt", self.store().undo_approval(id, REP), State::Approved);
                self.unchanged("undo_approval", id, &snap);
            }
            T::Undo(r) => self.simple("undo_approval", r, Event::Undo, |s, id| s.undo_approval(id, REP)),
            T::Reject(r) => self.simple("reject", r, Event::Reject, |s, id| s.reject(id, "not relevant any more", REP)),
            T::Snooze(r, until) => self.simple("snooze", r, Event::Snooze, |s, id| s.snooze(id, until, REP)),
            T::Wake(now) => {
                let woke = ok("wake_due", self.store().wake_due(now));
                let expect: Vec<i64> = (0..self.ids.len())
                    .filter(|&r| self.before.rows[r].state == State::Snoozed && self.before.rows[r].snoozed_until.is_some_and(|u| u <= now))
                    .map(|r| self.ids[r])
                    .collect();
                assert_eq!(woke, expect, "wake_due({now}) woke the wrong drafts");
            }
            T::Edit(r, b) => {
                let id = self.ids[r];
                let from = self.before.rows[r].state;
                let e = Edit {
                    recipient_email: Some(format!("olivia{b}@brightwater.example")),
                    subject: Some(format!("Angebot, Fassung {b}")),
                    body: EDIT_BODIES[b].to_owned(),
                };
                if from == State::Pending {
                    let problem = ok("edit", self.store().edit(id, &e, REP));
                    assert_eq!(problem, None, "a sendable edit must leave the draft sendable");
                } else {
                    let snap = self.snapshot(id);
                    refused("edit", self.store().edit(id, &e, REP), from);
                    self.unchanged("edit", id, &snap);
                }
            }
            T::Attempt(r, o) => {
                let id = self.ids[r];
                let from = self.before.rows[r].state;
                if next(from, Event::Claim).is_some() {
                    self.deliver(id, o);
                } else {
                    let snap = self.snapshot(id);
                    refused("claim", self.store().claim(id), from);
                    self.unchanged("claim", id, &snap);
                }
            }
            T::RetryDue => {
                let retried = ok("retry_due", self.store().retry_due(far_future_ms()));
                let expect: Vec<i64> = (0..self.ids.len())
                    .filter(|&r| self.before.rows[r].state == State::Failed && self.before.rows[r].auto_retry)
                    .map(|r| self.ids[r])
                    .collect();
                assert_eq!(retried, expect, "retry_due retried the wrong drafts");
            }
            T::Archive(r, o) => {
                let id = self.ids[r];
                let from = self.before.rows[r].state;
                if matches!(from, State::Sent | State::Archived) {
                    self.finish_once(id, o);
                } else {
                    let snap = self.snapshot(id);
                    refused("archived", self.store().archived(id, 4242), from);
                    refused("task_completed", self.store().task_completed(id, "5000"), from);
                    self.unchanged("archiving", id, &snap);
                }
            }
            T::RepConfirmsSent(r) => self.simple("confirm_sent", r, Event::RepConfirmsSent, |s, id| s.confirm_sent(id, REP)),
            T::RepSendsAgain(r) => self.simple("send_again", r, Event::RepSendsAgain, |s, id| s.send_again(id, REP)),
            T::RepTryAgain(r) => self.simple("retry", r, Event::Retry, |s, id| s.retry(id, REP)),
            T::Restart => {
                let sending = self.before.rows.iter().filter(|r| r.state == State::Sending).count();
                self.restart(sending);
            }
        }
    }

    fn rows(&self) -> Vec<DraftRow> {
        ok("list", self.store().list())
    }

    /// I1–I5, checked on the store and the fakes. `m` is the model after the step (after a
    /// drain only its world facts, the approvals and the rep's decisions, still hold).
    fn check_world(&self, m: &Model, drained: bool) {
        let rows = self.rows();
        let by_id: BTreeMap<i64, &DraftRow> = rows.iter().map(|d| (d.id, d)).collect();
        // I1 nothing lost.
        assert_eq!(rows.len(), m.rows.len(), "I1: the outbox holds {} drafts; {} were created", rows.len(), m.rows.len());
        for (r, mr) in m.rows.iter().enumerate() {
            let id = self.ids[r];
            let d = by_id.get(&id).unwrap_or_else(|| panic!("I1: draft {id} (row {r}) is missing from the outbox"));
            if !mr.ever_approved {
                continue;
            }
            let allowed: &[State] = if drained {
                &[State::Done, State::Failed, State::NeedsDecision, State::Pending, State::Rejected, State::Snoozed]
            } else {
                &[
                    State::Approved,
                    State::Sent,
                    State::Archived,
                    State::Done,
                    State::Failed,
                    State::NeedsDecision,
                    State::Pending,
                    State::Rejected,
                    State::Snoozed,
                ]
            };
            assert!(
                allowed.contains(&d.state),
                "I1: approved draft {id} is {} {}; it must be one of {allowed:?}",
                d.state,
                if drained { "after heal and drain" } else { "between steps (never left in sending)" }
            );
        }
        // I2 no automatic duplicate.
        for (mid, copies) in &self.server {
            let allowed = 1 + m.rep_resends.get(mid).copied().unwrap_or(0);
            assert!(
                copies.len() as u32 <= allowed,
                "I2: the relay accepted {} copies of {mid}, but the rep asked for only {} resend(s)",
                copies.len(),
                allowed - 1
            );
        }
        // I3 ambiguity surfaced.
        for (r, mr) in m.rows.iter().enumerate() {
            let d = by_id[&self.ids[r]];
            if mr.ambiguous {
                assert_eq!(
                    d.state,
                    State::NeedsDecision,
                    "I3: draft {}'s SMTP outcome was unknown to the store; it must wait for the rep in needs_decision, but it is {}",
                    d.id,
                    d.state
                );
            }
        }
        // I4 approved bytes = sent bytes.
        for (mid, copies) in &self.server {
            let approved = self.approved_bytes.get(mid).unwrap_or_else(|| panic!("I4: the relay got {mid}, which was never approved"));
            for (i, c) in copies.iter().enumerate() {
                assert!(c == approved, "I4: copy {i} of {mid} that the relay received differs from the bytes approved");
            }
        }
        for d in &rows {
            let Ok(a) = self.store().approved(d.id) else { continue };
            assert_eq!(mime::sha256_hex(&a.mime), a.mime_sha256, "I4: draft {}'s stored bytes do not match mime_sha256", d.id);
            let approved = self
                .approved_bytes
                .get(&a.message_id)
                .unwrap_or_else(|| panic!("I4: draft {} has Message-ID {}, never approved", d.id, a.message_id));
            assert!(&a.mime == approved, "I4: draft {}'s stored bytes differ from the bytes approved for {}", d.id, a.message_id);
        }
        // I5 one archive document per Message-ID.
        let mut seen = BTreeMap::new();
        for doc in &self.archive.docs {
            if let Some(first) = seen.insert(doc.message_id.clone(), doc.id) {
                panic!("I5: the archive holds documents {first} and {} for the same Message-ID {}", doc.id, doc.message_id);
            }
        }
        for d in rows.iter().filter(|d| matches!(d.state, State::Archived | State::Done)) {
            let mid = d.message_id.as_deref().unwrap_or_else(|| panic!("I5: {} draft {} has no Message-ID", d.state, d.id));
            let doc = self.archive.docs.iter().find(|x| x.message_id == mid);
            let doc = doc.unwrap_or_else(|| panic!("I5: draft {} is {} but the archive has no document for {mid}", d.id, d.state));
            assert_eq!(
                d.document_id,
                Some(doc.id),
                "I5: draft {} records document {:?}; the archive holds {} for {mid}",
                d.id,
                d.document_id,
                doc.id
            );
            let approved = &self.approved_bytes[mid];
            assert!(
                doc.content.as_deref() == Some(&mime::as_received(approved)[..]),
                "I5: document {} does not hold the sent bytes of {mid}",
                doc.id
            );
        }
        if drained {
            for doc in &self.archive.docs {
                let owner = rows.iter().find(|d| d.message_id.as_deref() == Some(&doc.message_id));
                assert!(
                    owner.is_some_and(|d| d.state == State::Done),
                    "I5: after the drain, document {} for {} belongs to no done draft ({:?})",
                    doc.id,
                    doc.message_id,
                    owner.map(|d| d.state)
                );
            }
        }
    }

    /// The store agrees with the reference model, row by row.
    fn check_model(&self, m: &Model) {
        for (r, mr) in m.rows.iter().enumerate() {
            let id = self.ids[r];
            let d = ok("get", self.store().get(id));
            assert_eq!(d.state, mr.state, "draft {id} (row {r}) is {} in the store, {} in the model (state::next)", d.state, mr.state);
            assert_eq!(d.message_id, mr.message_id, "draft {id}: Message-ID");
            assert_eq!(d.document_id.is_some(), mr.doc_recorded, "draft {id}: whether a document id is recorded");
        }
    }

    /// Heal and drain: restart with a healthy network, retry what is due, send what is approved,
    /// archive what is sent, until nothing is left to do.
    fn heal_and_drain(&mut self) {
        self.restart(0);
        let far = far_future_ms();
        for _round in 0..20 {
            let mut work = !ok("retry_due", self.store().retry_due(far)).is_empty();
            for id in ok("due_for_sending", self.store().due_for_sending(far)) {
                self.deliver(id, SendOutcome::Accepted);
                work = true;
            }
            for id in ok("archive_due", self.store().archive_due(far)) {
                self.finish_once(id, ArchiveOutcome::Ok);
                work = true;
            }
            if !work {
                return;
            }
        }
        panic!("I1: the drain still finds work after 20 rounds");
    }
}

struct OutboxTest;

impl StateMachineTest for OutboxTest {
    type SystemUnderTest = World;
    type Reference = OutboxModel;

    fn init_test(m: &Model) -> World {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut w = World {
            dir,
            store: None,
            zombies: Vec::new(),
            ids: Vec::new(),
            before: m.clone(),
            server: BTreeMap::new(),
            archive: FakeArchive::default(),
            approved_bytes: BTreeMap::new(),
            drafts_created: 0,
        };
        w.open();
        for _ in &m.rows {
            w.drafts_created += 1;
            assert!(ok("insert_draft", w.store().insert_draft(&draft(w.drafts_created))));
        }
        w.ids = w.rows().iter().map(|d| d.id).collect();
        w
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
