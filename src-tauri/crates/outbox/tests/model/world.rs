//! Part of `tests/model.rs`: the system under test and its world. The real `Store` on a real
//! SQLite file, reopened on every restart, and the real `Delivery` on it, given the fake relay
//! and archive (`fakes.rs`); each transition is applied to them and what they answer is held to
//! the model.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use outbox::mime;
use outbox::state::{next, Event};
use outbox::{now_ms, Delivery, DraftRow, Edit, Rep, State, Store};
use tokio::sync::Notify;

use crate::fakes::{FakeArchive, FakeRelay};
use crate::reference::Model;
use crate::transitions::{ArchiveOutcome, SendOutcome, Transition, EDIT_BODIES};
use crate::{build_mime, client, draft, far_future_ms, ok, refused, FROM_ADDRESS, FROM_NAME, REP};

pub(crate) struct World {
    dir: tempfile::TempDir,
    store: Option<Arc<Store>>,
    /// Stores of "crashed" processes: never closed cleanly (no destructor ran), kept until the
    /// case ends.
    pub(crate) zombies: Vec<Arc<Store>>,
    /// Row index → draft id.
    pub(crate) ids: Vec<i64>,
    /// The model before the transition being applied.
    pub(crate) before: Model,
    pub(crate) relay: Arc<FakeRelay>,
    pub(crate) archive: Arc<FakeArchive>,
    /// Signalled by a fake where the process dies.
    crashed: Arc<Notify>,
    /// Runs the pipeline's futures, one step at a time.
    rt: tokio::runtime::Runtime,
    /// The bytes built and handed to `approve`, per Message-ID.
    pub(crate) approved_bytes: BTreeMap<String, Vec<u8>>,
    drafts_created: usize,
}

impl World {
    /// An outbox holding one draft per row of `m`.
    pub(crate) fn new(m: &Model) -> World {
        let crashed = Arc::new(Notify::new());
        let mut w = World {
            dir: tempfile::tempdir().expect("a temp dir"),
            store: None,
            zombies: Vec::new(),
            ids: Vec::new(),
            before: m.clone(),
            relay: Arc::new(FakeRelay::new(crashed.clone())),
            archive: Arc::new(FakeArchive::new(crashed.clone())),
            crashed,
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
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

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("outbox.sqlite")
    }

    pub(crate) fn store(&self) -> &Store {
        self.store.as_deref().expect("the store is open")
    }

    pub(crate) fn open(&mut self) {
        self.store = Some(Arc::new(ok("reopening the store", Store::open(&self.path()))));
    }

    /// A clean restart: close the store, reopen it, recover interrupted sends.
    pub(crate) fn restart(&mut self, expect_recovered: usize) {
        drop(self.store.take());
        self.open();
        let n = ok("recover_interrupted", self.store().recover_interrupted());
        assert_eq!(n, expect_recovered, "recover_interrupted after a restart resolved {n} rows; {expect_recovered} were left in sending");
    }

    /// The process dies (no destructor runs), the app starts again and recovers.
    pub(crate) fn crash(&mut self) {
        let old = self.store.take().expect("the store is open");
        self.zombies.push(old);
        self.open();
        let n = ok("recover_interrupted", self.store().recover_interrupted());
        assert_eq!(n, 1, "after a crash mid-send exactly one row was in sending; recover_interrupted resolved {n}");
    }

    /// Everything observable about a row, to prove a refused move changed nothing.
    pub(crate) fn snapshot(&self, id: i64) -> String {
        let s = self.store();
        let row = s.get(id).map(|r| format!("{r:?}"));
        let approved = s.approved(id).ok().map(|a| (a.message_id, a.mime_sha256, a.mime, a.document_id, a.state));
        let timeline = s.timeline(id).map(|t| t.len());
        let versions = s.versions(id).map(|v| v.len());
        format!("{row:?} {approved:?} timeline={timeline:?} versions={versions:?}")
    }

    pub(crate) fn unchanged(&self, what: &str, id: i64, snap: &str) {
        let now = self.snapshot(id);
        assert_eq!(snap, now, "{what} was refused but changed draft {id}");
    }

    /// A move on one row: `Some(expected)` must succeed with that state; `None` must be refused
    /// and leave the row as it was.
    pub(crate) fn simple(&mut self, what: &str, r: usize, event: Event, call: impl FnOnce(&Store, i64) -> outbox::Result<State>) {
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

    /// The real pipeline on the open store, with the fakes as its relay and archive.
    fn delivery(&self) -> Delivery {
        let store = self.store.clone().expect("the store is open");
        let rep = Rep { associate_id: 18, name: FROM_NAME.into(), email: FROM_ADDRESS.into() };
        Delivery::new(store, client(), testkit::unreachable_relay(), rep).with_relay(self.relay.clone()).with_archive(self.archive.clone())
    }

    /// Runs a pipeline step to its end, or until a fake says the process died there (`None`):
    /// the step then stops at that point, as the process would.
    fn drive<T>(&self, step: impl Future<Output = T>) -> Option<T> {
        self.rt.block_on(async {
            tokio::select! {
                biased;
                done = step => Some(done),
                () = self.crashed.notified() => None,
            }
        })
    }

    /// A step that ran to its end: it ends in the model's state, or it stopped at the archive's
    /// error, which is noted on the row (then sent or archived, as the model has it).
    fn ended(&self, what: &str, id: i64, got: outbox::Result<State>, expect: State) {
        match got {
            Ok(s) => assert_eq!(s, expect, "{what} of draft {id} ended {s}; the model says {expect}"),
            Err(e) => {
                assert!(matches!(expect, State::Sent | State::Archived), "{what} of draft {id} failed ({e}); the model says {expect}");
                assert!(e.to_string().contains("the model's archive"), "{what} of draft {id} failed with {e}");
                let reason = ok("get", self.store().get(id)).reason.unwrap_or_default();
                assert!(reason.contains("the model's archive"), "{what}: the archive's error is not noted on draft {id}: {reason:?}");
            }
        }
    }

    /// `Delivery::deliver` on the SMTP channel: the relay answers `o`; once it took the message,
    /// the archiving in the same call ends as `then`. A crash outcome restarts.
    pub(crate) fn deliver(&mut self, id: i64, o: SendOutcome, then: ArchiveOutcome, expect: State) {
        let a = ok("approved", self.store().approved(id));
        assert_eq!(mime::sha256_hex(&a.mime), a.mime_sha256, "I4: draft {id}'s stored bytes no longer match the approved hash");
        self.relay.answer(o);
        self.archive.answer(then);
        let delivery = self.delivery();
        use SendOutcome as O;
        match self.drive(delivery.deliver(id)) {
            None if matches!(o, O::CrashAfterClaim | O::CrashAfterDataStarted | O::CrashAfterAccepted) => self.crash(),
            None => self.crash_quietly(),
            Some(got) => self.ended("deliver", id, got, expect),
        }
    }

    /// `Delivery::finish` (archive, then complete the task), the archive answering `o`.
    pub(crate) fn finish(&mut self, id: i64, o: ArchiveOutcome, expect: State) {
        self.archive.answer(o);
        let delivery = self.delivery();
        match self.drive(delivery.finish(id)) {
            None => self.crash_quietly(),
            Some(got) => self.ended("finish", id, got, expect),
        }
    }

    /// A crash outside a send: nothing is left in `sending`.
    pub(crate) fn crash_quietly(&mut self) {
        let old = self.store.take().expect("the store is open");
        self.zombies.push(old);
        self.open();
        let n = ok("recover_interrupted", self.store().recover_interrupted());
        assert_eq!(n, 0, "a crash while archiving left {n} rows in sending");
    }

    pub(crate) fn apply(&mut self, after: &Model, t: Transition) {
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
            T::Attempt(r, o, then) => {
                let id = self.ids[r];
                let from = self.before.rows[r].state;
                if next(from, Event::Claim).is_some() {
                    self.deliver(id, o, then, after.rows[r].state);
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
                    self.finish(id, o, after.rows[r].state);
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

    pub(crate) fn rows(&self) -> Vec<DraftRow> {
        ok("list", self.store().list())
    }
}
