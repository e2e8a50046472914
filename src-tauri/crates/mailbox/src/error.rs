//! What can go wrong with the rep's mailbox, in one enum: its code for the UI (`codes`), and
//! whether trying again later can help (`is_transient`, `retry_after`), decided from the
//! provider's status and error codes, never from its English.

use std::time::Duration;

use codes::ErrorCode;
use superoffice::oauth::{Failure, TokenError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No mailbox is connected, or its refresh token is gone from the keychain.
    #[error("no mailbox is connected: {0}")]
    NotConnected(String),
    /// The rep closed the browser, said no, or did not come back in time.
    #[error("the mailbox sign-in was cancelled: {0}")]
    Cancelled(String),
    /// The provider refused the sign-in (consent, policy, registration), or the sign-in gave
    /// less than sending needs (a scope not granted, no mailbox address).
    #[error("{detail}")]
    SignIn { code: ErrorCode, detail: String },
    /// The token endpoint refused or could not be asked.
    #[error("{0}")]
    Token(#[from] TokenError),
    /// The mail API answered with an error status. `provider_code` is its own code
    /// (Graph's `error.code`, Gmail's `errors[0].reason`).
    #[error("the mail API refused (HTTP {status}, {provider_code}): {message}")]
    Api { status: u16, provider_code: String, message: String, retry_after: Option<Duration> },
    /// No answer: connection refused or reset, DNS, TLS, timeout. `connect`: the connection
    /// was never made (or no access token could be had), so the request certainly did not leave.
    #[error("the mail API did not answer: {detail}")]
    Unreachable { detail: String, timeout: bool, connect: bool },
    /// A success status whose body is not what the documentation describes.
    #[error("the mail API's answer is not what it documents: {0}")]
    BadAnswer(String),
    /// The keychain could not be read or written.
    #[error("the keychain: {0}")]
    Keychain(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotConnected(_) => ErrorCode::MailboxNotConnected,
            Error::Cancelled(_) => ErrorCode::SignInCancelled,
            Error::SignIn { code, .. } => *code,
            Error::Token(e) => match e.failure() {
                Failure::SignInAgain => ErrorCode::MailboxSignInAgain,
                Failure::Configuration => ErrorCode::TokenInvalidClient,
                Failure::Transient => ErrorCode::MailboxUnavailable,
                Failure::Rejected => ErrorCode::TokenRejected,
            },
            Error::Api { status: 401, .. } => ErrorCode::MailboxSignInAgain,
            Error::Api { status: 403, .. } if self.is_throttled() => ErrorCode::MailboxThrottled,
            Error::Api { status: 403, .. } => ErrorCode::MailboxForbidden,
            Error::Api { status: 404, .. } => ErrorCode::MailboxNotFound,
            Error::Api { status: 429, .. } => ErrorCode::MailboxThrottled,
            Error::Api { status, .. } if *status >= 500 => ErrorCode::MailboxUnavailable,
            Error::Api { .. } => ErrorCode::MailboxRejected,
            Error::Unreachable { .. } => ErrorCode::MailboxUnavailable,
            Error::BadAnswer(_) => ErrorCode::MailboxBadAnswer,
            Error::Keychain(_) => ErrorCode::KeychainUnavailable,
        }
    }

    /// The provider said "too many": Graph's 429, Gmail's 429 or its 403 with a usage-limit
    /// reason ([G6] `rateLimitExceeded`, `userRateLimitExceeded`; not `dailyLimitExceeded`,
    /// the project's own cap, which waiting a minute does not lift either but a day does).
    pub fn is_throttled(&self) -> bool {
        match self {
            Error::Api { status: 429, .. } => true,
            Error::Api { status: 403, provider_code, .. } => {
                matches!(provider_code.as_str(), "rateLimitExceeded" | "userRateLimitExceeded" | "dailyLimitExceeded")
            }
            _ => false,
        }
    }

    /// Worth trying again later, nothing having been done: throttling, 5xx, no answer, a token
    /// endpoint that is down. Whether a send whose answer was lost may be repeated is not this
    /// question: the caller knows whether the request left.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Token(e) => e.is_transient(),
            Error::Api { status, .. } => *status >= 500 || self.is_throttled(),
            Error::Unreachable { .. } => true,
            _ => false,
        }
    }

    /// The request certainly was not carried out: it never left (no connection, no token), or
    /// the provider refused it with a 4xx (Graph and Gmail check a request before they act on
    /// it: [TK] step 1, [G6]). A 5xx, a lost answer or an unreadable success may have sent.
    pub fn certainly_not_done(&self) -> bool {
        match self {
            Error::Unreachable { connect, .. } => *connect,
            Error::Api { status, .. } => (400..500).contains(status),
            Error::BadAnswer(_) => false,
            Error::NotConnected(_) | Error::Cancelled(_) | Error::SignIn { .. } | Error::Token(_) | Error::Keychain(_) => true,
        }
    }

    /// How long the provider asked us to wait (`Retry-After`, or Gmail's "Retry after <time>").
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            Error::Token(TokenError::Refused { retry_after, .. }) => retry_after.map(Duration::from_secs),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        Error::Api { status, provider_code: code.into(), message: String::new(), retry_after: None }
    }

    #[test]
    fn retries_are_decided_by_status_and_code() {
        assert!(api(429, "TooManyRequests").is_transient());
        assert!(api(403, "userRateLimitExceeded").is_transient());
        assert_eq!(api(403, "userRateLimitExceeded").code(), ErrorCode::MailboxThrottled);
        assert!(!api(403, "insufficientPermissions").is_transient());
        assert_eq!(api(403, "insufficientPermissions").code(), ErrorCode::MailboxForbidden);
        assert!(api(503, "serviceNotAvailable").is_transient());
        assert!(!api(400, "ErrorMimeContentInvalidBase64String").is_transient());
        assert_eq!(api(401, "InvalidAuthenticationToken").code(), ErrorCode::MailboxSignInAgain);
        assert!(Error::Unreachable { detail: "reset".into(), timeout: false, connect: false }.is_transient());
        assert!(!Error::Unreachable { detail: "reset".into(), timeout: false, connect: false }.certainly_not_done());
        assert!(Error::Unreachable { detail: "refused".into(), timeout: false, connect: true }.certainly_not_done());
        assert!(api(429, "TooManyRequests").certainly_not_done() && api(400, "x").certainly_not_done());
        assert!(!api(503, "x").certainly_not_done() && !Error::BadAnswer("202?".into()).certainly_not_done());
        assert!(!Error::BadAnswer("no id".into()).is_transient());
    }
}
