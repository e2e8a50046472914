//! The durable outbox: drafted emails in SQLite, their life as pure state transitions, and
//! their delivery (SMTP, the rep's own mailbox, SuperOffice's email agent or a handoff, then
//! archiving the exact sent bytes in SuperOffice, then completing the follow-up task).
//!
//! Why it exists: an approved email must never be lost and never be sent twice on our own.
//! Every state change is committed (WAL, `synchronous=FULL`) before the side effect that
//! follows it; once SMTP `DATA` has begun, an unknown outcome becomes "needs decision" for the
//! rep instead of a resend; the archive step is keyed by the Message-ID chosen at approval.
//!
//! It knows nothing of Tauri; the app adapts its events.

mod by_mailbox;
pub mod channel;
mod delivery;
pub mod draft;
mod error;
pub mod failpoint;
mod fold;
pub mod handoff;
pub mod import;
mod intake;
pub mod legacy;
mod mailbox_account;
/// The relay's XOAUTH2 access token, renewed as the mailbox's own tokens are (one renewer).
pub use mailbox::token as mail_oauth;
pub mod mime;
mod owner;
pub mod page;
pub mod preview;
mod reason;
mod relay;
pub mod review;
pub mod schedule;
mod schema;
pub mod seams;
pub mod smtp;
mod starttls;
pub mod state;
mod steps;
mod store;
mod tls;

pub use channel::{Channel, ChannelChoice, ChannelSetting};
pub use delivery::{Delivery, Rep};
pub use error::{Error, Result};
pub use import::{import_file, ImportReport};
pub use intake::{intake_tasks, IntakeFailure, IntakeProblem, IntakeReport};
/// A validated email address (lettre's parser: local part and IDNA domain).
pub use lettre::Address as EmailAddress;
pub use owner::Owner;
pub use reason::Reason;
pub use review::{Edit, Version};
pub use schedule::{Limits, Pace, TickReport};
pub use seams::{Archive, MailApi, Relay};
pub use smtp::{SmtpAuth, SmtpSecurity, SmtpSettings};
pub use state::State;
pub use store::{now_ms, DraftRow, NewDraft, Store, TimelineEvent};
