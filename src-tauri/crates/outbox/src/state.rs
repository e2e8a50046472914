//! The life of a message, as pure functions: which state follows which event.
//!
//! ```text
//! pending --reject--> rejected          pending --snooze--> snoozed --wake--> pending
//! pending --approve--> approved --undo (hold window)--> pending
//! pending --approve--> approved --claim--> sending --accepted--> sent --archived--> archived --task done--> done
//!                                            |  \--not accepted (4xx, transport before DATA)--> failed (retryable) --retry--> approved
//!                                            |  \--refused (5xx)--> failed (final)
//!                                            |  \--throttled (429: not taken, wait as asked)--> approved
//!                                            \--lost after DATA began--> needs_decision --"it was sent"--> sent
//!                                                                                        \--found in Sent (mailbox)--> sent
//!                                                                                        \--"send again"--> approved
//! ```
//! A message is never moved from `sending` back to `approved` without a reason that proves
//! the server did not take it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for the rep's review.
    Pending,
    /// The rep approved it; the Message-ID and the exact bytes are fixed.
    Approved,
    /// An SMTP attempt is (or was, before a crash) under way.
    Sending,
    /// The relay accepted it (250 after the final dot).
    Sent,
    /// The exact sent bytes are a SuperOffice document.
    Archived,
    /// Archived and the follow-up task completed.
    Done,
    /// Not sent; see the reason and whether it may be retried.
    Failed,
    /// The outcome is unknown (the connection was lost after DATA began): the rep decides.
    NeedsDecision,
    /// The rep decided not to send it (with a reason).
    Rejected,
    /// Put aside until a given time, then back to review.
    Snoozed,
}

/// What happens to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Approve,
    Claim,
    Accepted,
    NotAccepted,
    Refused,
    Lost,
    Archived,
    TaskCompleted,
    RepConfirmsSent,
    RepSendsAgain,
    Retry,
    Reject,
    Snooze,
    Wake,
    Undo,
    /// The message went to the rep's own mail program: only the rep knows when it is sent.
    HandedOff,
    /// The mail provider asked us to wait (429 / a usage limit): it did not take the message,
    /// which waits its turn again without counting as a failed attempt.
    Throttled,
    /// The rep's mailbox shows the message as sent (its Sent copy was found after the answer
    /// to the send was lost).
    FoundSent,
}

impl Event {
    pub fn verb(self) -> &'static str {
        match self {
            Event::Approve => "approve",
            Event::Claim => "send",
            Event::Accepted | Event::NotAccepted | Event::Refused | Event::Lost => "record the send result of",
            Event::Archived => "archive",
            Event::TaskCompleted => "complete the task of",
            Event::RepConfirmsSent => "confirm as sent",
            Event::RepSendsAgain => "send again",
            Event::Retry => "retry",
            Event::Reject => "reject",
            Event::Snooze => "snooze",
            Event::Wake => "wake",
            Event::Undo => "undo the approval of",
            Event::HandedOff => "hand off",
            Event::Throttled => "postpone",
            Event::FoundSent => "confirm as sent from the mailbox",
        }
    }
}

/// The state after `event`, or `None` when the event is not allowed in `from`.
pub fn next(from: State, event: Event) -> Option<State> {
    use Event as E;
    use State as S;
    Some(match (from, event) {
        (S::Pending, E::Approve) => S::Approved,
        (S::Approved, E::Claim) => S::Sending,
        (S::Sending, E::Accepted) => S::Sent,
        (S::Sending, E::NotAccepted) | (S::Sending, E::Refused) => S::Failed,
        (S::Sending, E::Lost) | (S::Sending, E::HandedOff) => S::NeedsDecision,
        (S::Sending, E::Throttled) => S::Approved,
        (S::NeedsDecision, E::FoundSent) => S::Sent,
        (S::Failed, E::Retry) => S::Approved,
        (S::NeedsDecision, E::RepConfirmsSent) => S::Sent,
        (S::NeedsDecision, E::RepSendsAgain) => S::Approved,
        (S::Sent, E::Archived) => S::Archived,
        (S::Archived, E::TaskCompleted) => S::Done,
        (S::Pending, E::Reject) => S::Rejected,
        (S::Pending, E::Snooze) => S::Snoozed,
        (S::Snoozed, E::Wake) => S::Pending,
        // Only before the attempt is claimed: once `sending`, nothing can call it back.
        (S::Approved, E::Undo) => S::Pending,
        _ => return None,
    })
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            State::Pending => "pending",
            State::Approved => "approved",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Archived => "archived",
            State::Done => "done",
            State::Failed => "failed",
            State::NeedsDecision => "needs decision",
            State::Rejected => "rejected",
            State::Snoozed => "snoozed",
        };
        f.write_str(s)
    }
}

impl State {
    pub fn as_db(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Approved => "approved",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Archived => "archived",
            State::Done => "done",
            State::Failed => "failed",
            State::NeedsDecision => "needs_decision",
            State::Rejected => "rejected",
            State::Snoozed => "snoozed",
        }
    }
    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => State::Pending,
            "approved" => State::Approved,
            "sending" => State::Sending,
            "sent" => State::Sent,
            "archived" => State::Archived,
            "done" => State::Done,
            "failed" => State::Failed,
            "needs_decision" => State::NeedsDecision,
            "rejected" => State::Rejected,
            "snoozed" => State::Snoozed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_STATES: [State; 10] = [
        State::Pending,
        State::Approved,
        State::Sending,
        State::Sent,
        State::Archived,
        State::Done,
        State::Failed,
        State::NeedsDecision,
        State::Rejected,
        State::Snoozed,
    ];
    const ALL_EVENTS: [Event; 18] = [
        Event::Approve,
        Event::Claim,
        Event::Accepted,
        Event::NotAccepted,
        Event::Refused,
        Event::Lost,
        Event::Archived,
        Event::TaskCompleted,
        Event::RepConfirmsSent,
        Event::RepSendsAgain,
        Event::Retry,
        Event::Reject,
        Event::Snooze,
        Event::Wake,
        Event::Undo,
        Event::HandedOff,
        Event::Throttled,
        Event::FoundSent,
    ];

    #[test]
    fn the_happy_path() {
        let mut s = State::Pending;
        for e in [Event::Approve, Event::Claim, Event::Accepted, Event::Archived, Event::TaskCompleted] {
            s = next(s, e).unwrap_or_else(|| panic!("{e:?} refused in {s:?}"));
        }
        assert_eq!(s, State::Done);
    }

    #[test]
    fn only_a_proof_of_non_acceptance_or_the_rep_leads_back_to_sending() {
        // Every way back to Approved (and so to another SMTP attempt):
        for from in ALL_STATES {
            for e in ALL_EVENTS {
                if next(from, e) == Some(State::Approved) {
                    assert!(
                        matches!(
                            (from, e),
                            (State::Pending, Event::Approve)
                                | (State::Failed, Event::Retry)
                                | (State::NeedsDecision, Event::RepSendsAgain)
                                // The provider's 429 before it took anything proves non-acceptance.
                                | (State::Sending, Event::Throttled)
                        ),
                        "{from:?} --{e:?}--> Approved would allow an automatic resend"
                    );
                }
            }
        }
        // An ambiguous outcome is never turned into a failure or a retry.
        assert_eq!(next(State::Sending, Event::Lost), Some(State::NeedsDecision));
        assert_eq!(next(State::NeedsDecision, Event::Retry), None);
        assert_eq!(next(State::NeedsDecision, Event::Throttled), None);
        // Only a message already in question can be found sent; nothing skips the attempt.
        for from in ALL_STATES.into_iter().filter(|s| *s != State::NeedsDecision) {
            assert_eq!(next(from, Event::FoundSent), None, "{from:?}");
        }
    }

    #[test]
    fn an_approval_can_be_undone_only_before_the_attempt() {
        assert_eq!(next(State::Approved, Event::Undo), Some(State::Pending));
        for s in ALL_STATES.into_iter().filter(|s| *s != State::Approved) {
            assert_eq!(next(s, Event::Undo), None, "undo from {s:?}");
        }
        assert_eq!(next(State::Snoozed, Event::Approve), None, "a snoozed draft is woken before it can be approved");
        assert_eq!(next(State::Rejected, Event::Approve), None);
    }

    #[test]
    fn db_names_round_trip() {
        for s in ALL_STATES {
            assert_eq!(State::from_db(s.as_db()), Some(s));
        }
    }
}
