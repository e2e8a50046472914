//! Part of `tests/model.rs`: the reference model. Each row follows [`outbox::state::next`];
//! the model keeps its own account of the world besides (approvals and their Message-IDs, the
//! rep's resend decisions, what the archive holds) and what one archive attempt must do.

use std::collections::BTreeMap;
use std::fmt;

use outbox::state::{next, Event};
use outbox::State;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest_state_machine::ReferenceStateMachine;

use crate::transitions::{archive_outcome, send_outcome, snooze_until, wake_at, ArchiveOutcome, SendOutcome, Transition, EDIT_BODIES};
use crate::MAX_ROWS;

#[derive(Clone, Debug)]
pub(crate) struct MRow {
    pub(crate) state: State,
    /// The Message-ID fixed at the current approval (dropped by undo).
    pub(crate) message_id: Option<String>,
    /// SMTP attempts (claims) so far; decides whether a 4xx is retried automatically.
    pub(crate) attempts: i64,
    /// Failed and an automatic retry is scheduled.
    pub(crate) auto_retry: bool,
    pub(crate) snoozed_until: Option<i64>,
    pub(crate) ever_approved: bool,
    /// The relay's outcome is unknown to the store and the rep has not acted yet (I3).
    pub(crate) ambiguous: bool,
    /// An archive create was started (`archive_started` is in the timeline).
    pub(crate) archive_started: bool,
    /// The store knows the document id.
    pub(crate) doc_recorded: bool,
    /// The fake archive holds a document for this row's Message-ID.
    pub(crate) doc_in_archive: bool,
}

impl MRow {
    pub(crate) fn new() -> Self {
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
pub(crate) struct Model {
    pub(crate) rows: Vec<MRow>,
    /// Approvals so far: numbers the Message-IDs, which are unique within a case.
    pub(crate) approvals: u32,
    /// The rep's "send again" / "try again" decisions, per Message-ID (I2's allowance).
    pub(crate) rep_resends: BTreeMap<String, u32>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let states: Vec<String> = self.rows.iter().map(|r| r.state.as_db().to_owned()).collect();
        write!(f, "Model {{ drafts: {states:?} }}")
    }
}

pub(crate) fn message_id(n: u32) -> String {
    format!("<m{n}.model@roboplanet.example>")
}

/// Applies `event` if the state machine allows it; returns whether it did.
pub(crate) fn step(row: &mut MRow, event: Event) -> bool {
    match next(row.state, event) {
        Some(s) => {
            row.state = s;
            true
        }
        None => false,
    }
}

pub(crate) struct OutboxModel;

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
        add(7, approved.clone(), |r| (send_outcome(), archive_outcome()).prop_map(move |(o, a)| T::Attempt(r, o, a)).boxed());
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
                5 => T::Attempt(r, so, ao),
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
            T::Attempt(r, o, then) => {
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
                    // The relay took it: the same call archives it.
                    if o == O::Accepted {
                        archive_model(row, then);
                    }
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

/// What one archive attempt does to a row (what `Delivery::finish` must do).
pub(crate) fn archive_model(row: &mut MRow, o: ArchiveOutcome) {
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
