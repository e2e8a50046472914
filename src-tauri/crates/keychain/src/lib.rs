//! Secrets live only in the OS keychain.
//!
//! Why this crate exists: refresh tokens, client secrets and SMTP passwords must never reach a
//! file, SQLite, a log line, an IPC payload or an error text. Two pieces enforce that:
//! - [`Secret`] is a string wrapper whose `Debug` is redacted and which has no `Display` and no
//!   `Serialize`, so formatting or serializing a secret by accident does not compile (or prints
//!   `[redacted]`).
//! - [`Keychain`] opens the platform's native store (Secret Service on Linux, Credential
//!   Manager on Windows, the Keychain on macOS) and proves it works with a write/read/delete
//!   canary before the app uses it. If that fails the app stops with [`Error::Unavailable`];
//!   there is no fallback to a file or to an in-memory store.
//!
//! What it deliberately does not do: cache secrets. Callers keep what they need in memory.

mod secret;
mod store;

pub use secret::Secret;
pub use store::{Keychain, SecretStore};

#[cfg(any(test, feature = "test-store"))]
pub use store::MemoryStore;

/// What can go wrong with the keychain. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No usable keychain: no Secret Service on the session bus, a locked collection, or a
    /// store that does not keep what was written. The app must stop, not fall back.
    #[error("the OS keychain is not available: {0}")]
    Unavailable(String),
    /// The keychain answered but refused or failed this one operation.
    #[error("the OS keychain failed: {0}")]
    Failed(String),
}

impl Error {
    /// A stable code for the UI.
    pub fn code(&self) -> codes::ErrorCode {
        match self {
            Error::Unavailable(_) => codes::ErrorCode::KeychainUnavailable,
            Error::Failed(_) => codes::ErrorCode::KeychainFailed,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
