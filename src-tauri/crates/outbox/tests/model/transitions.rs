//! Part of `tests/model.rs`: the transitions a case is made of (the rep's moves, the relay's
//! and the archive's outcomes, crashes and restarts) and the strategies that draw them.

use proptest::prelude::*;

/// How one SMTP attempt ends (what the relay answers `Delivery::deliver`, or where the process
/// dies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendOutcome {
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

/// How one archive attempt ends (`Delivery::finish`, or the archiving right after a send). Its
/// failures are ones SuperOffice does not ask to retry, so an attempt is one pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArchiveOutcome {
    /// Every SuperOffice call succeeds.
    Ok,
    /// The first SuperOffice write of this attempt is refused (create, content upload, or task
    /// completion); nothing is created. The error is noted on the row.
    Fail,
    /// `POST Document` creates the document, but its answer cannot be read: the store never
    /// learns the id. Behaves like `Ok` when no document has to be created.
    CreatedButAnswerLost,
    /// The process dies right after `document_created`. Like `Ok` when nothing is created.
    CrashAfterDocumentCreated,
    /// The process dies right after `archived`, before the task is completed. Like `Ok` for a
    /// row that is already archived.
    CrashAfterArchived,
}

#[derive(Clone, Debug)]
pub(crate) enum Transition {
    NewDraft,
    Approve(usize),
    Undo(usize),
    Reject(usize),
    Snooze(usize, i64),
    /// `wake_due(now)`.
    Wake(i64),
    /// An edit of a pending draft, with one of a few sendable texts.
    Edit(usize, usize),
    /// A send (`Delivery::deliver`); once the relay took the message, the archiving that
    /// follows in the same call ends as the `ArchiveOutcome` says.
    Attempt(usize, SendOutcome, ArchiveOutcome),
    /// `retry_due(far future)`: every automatic retry that is scheduled at all.
    RetryDue,
    /// `Delivery::finish` of a sent or archived message.
    Archive(usize, ArchiveOutcome),
    RepConfirmsSent(usize),
    RepSendsAgain(usize),
    RepTryAgain(usize),
    /// Drop the store, reopen it, `recover_interrupted()`.
    Restart,
}

impl Transition {
    pub(crate) fn row(&self) -> Option<usize> {
        use Transition as T;
        match *self {
            T::Approve(r)
            | T::Undo(r)
            | T::Reject(r)
            | T::Snooze(r, _)
            | T::Edit(r, _)
            | T::Attempt(r, _, _)
            | T::Archive(r, _)
            | T::RepConfirmsSent(r)
            | T::RepSendsAgain(r)
            | T::RepTryAgain(r) => Some(r),
            T::NewDraft | T::Wake(_) | T::RetryDue | T::Restart => None,
        }
    }
}

pub(crate) const EDIT_BODIES: &[&str] = &[
    "Guten Tag Frau Carter,\n\nanbei das überarbeitete Angebot.\n\nViele Grüße\nAnna Berger",
    "Hello,\r\n.\r\nA line with only a dot, and CRLF line ends.\r\n",
    "Kurz: passt Dienstag 10 Uhr?",
];

pub(crate) fn send_outcome() -> BoxedStrategy<SendOutcome> {
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

pub(crate) fn archive_outcome() -> BoxedStrategy<ArchiveOutcome> {
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

pub(crate) fn snooze_until() -> BoxedStrategy<i64> {
    proptest::sample::select(vec![1_000i64, 2_000, 3_000]).boxed()
}

pub(crate) fn wake_at() -> BoxedStrategy<i64> {
    proptest::sample::select(vec![0i64, 1_500, 2_500, 10_000]).boxed()
}
