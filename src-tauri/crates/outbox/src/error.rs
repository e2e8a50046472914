//! The outbox's one error type.

use crate::State;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the outbox database failed: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("draft {0} does not exist")]
    NotFound(i64),
    #[error("cannot {action} a message that is {from}")]
    InvalidTransition { from: State, action: &'static str },
    #[error("this draft cannot be sent yet: {0}")]
    NotSendable(String),
    #[error("the message could not be built: {0}")]
    Mime(String),
    #[error("the approved message no longer matches what was approved; it was not sent")]
    ApprovalMismatch,
    #[error("could not copy to the clipboard: {0}")]
    Clipboard(String),
    #[error("messages handed off to your mail program are approved one at a time")]
    BulkHandoff,
    #[error("this outbox belongs to {owner}; it is not opened, sent or archived for anyone else")]
    OtherOwner { owner: String },
    #[error(transparent)]
    SuperOffice(#[from] superoffice::Error),
    #[error(transparent)]
    Keychain(#[from] keychain::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A stable code for the UI.
    pub fn code(&self) -> codes::ErrorCode {
        match self {
            Error::Store(_) => codes::ErrorCode::OutboxStoreFailed,
            Error::NotFound(_) => codes::ErrorCode::DraftNotFound,
            Error::InvalidTransition { .. } => codes::ErrorCode::InvalidTransition,
            Error::NotSendable(_) => codes::ErrorCode::DraftNotSendable,
            Error::Mime(_) => codes::ErrorCode::MessageInvalid,
            Error::ApprovalMismatch => codes::ErrorCode::ApprovalMismatch,
            Error::OtherOwner { .. } => codes::ErrorCode::OutboxOfAnotherOwner,
            Error::BulkHandoff => codes::ErrorCode::BulkHandoff,
            Error::Clipboard(_) => codes::ErrorCode::ClipboardUnavailable,
            Error::SuperOffice(e) => e.code(),
            Error::Keychain(e) => e.code(),
        }
    }

    /// Worth retrying later without asking the rep.
    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::SuperOffice(e) => e.retry_after(),
            _ => None,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            Error::SuperOffice(e) => e.is_transient(),
            Error::Store(rusqlite::Error::SqliteFailure(f, _)) => {
                matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            }
            _ => false,
        }
    }
}
