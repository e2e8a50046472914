//! The client's one error type, with predicates for retry decisions.

use codes::ErrorCode;

/// Everything that can go wrong talking to SuperOffice. Texts never contain a token, a code,
/// a verifier or a URL with credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status (and maybe SuperOffice's error body).
    #[error("SuperOffice answered {status}{}: {message}", error_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Api { status: u16, error_type: Option<String>, message: String, retry_after: Option<u64> },
    /// No answer: connection refused or reset, DNS, TLS.
    #[error("could not reach SuperOffice: {0}")]
    Transport(String),
    #[error("SuperOffice did not answer in time")]
    Timeout,
    /// An answer we could not understand.
    #[error("unexpected answer from SuperOffice: {0}")]
    Decode(String),
    /// The sign-in did not produce a trustworthy session.
    #[error("sign-in failed: {message}")]
    SignIn { code: ErrorCode, message: String },
    /// The rep declined, or the browser never came back.
    #[error("sign-in was cancelled: {0}")]
    SignInCancelled(String),
    /// A URL outside the resolved tenant was about to receive a token.
    #[error("refusing to send credentials to an unexpected host: {0}")]
    UntrustedHost(String),
    #[error("not signed in")]
    NotSignedIn,
    #[error(transparent)]
    Keychain(#[from] keychain::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn sign_in(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::SignIn { code, message: message.into() }
    }

    /// Worth retrying later: 5xx, 429, 421 (re-resolve), timeouts and transport faults.
    /// How long the server asked us to wait (`Retry-After`, seconds), if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api { retry_after: Some(s), .. } => Some(std::time::Duration::from_secs(*s)),
            _ => None,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status >= 500 || *status == 429 || *status == 421 || *status == 408,
            Error::Transport(_) | Error::Timeout => true,
            _ => false,
        }
    }

    /// The rep's mail server refused the message the email agent handed it: a server error
    /// whose `ErrorType` is MailKit's `SmtpCommandException` (an SMTP error reply, such as
    /// `5.5.2 Line too long`). Nothing was sent. Decided by the error type, never its words.
    pub fn mail_server_refused(&self) -> bool {
        matches!(self, Error::Api { status, error_type: Some(t), .. } if *status >= 500 && t == "SmtpCommandException")
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The rep has to sign in (again).
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, Error::NotSignedIn) || self.status() == Some(401)
    }

    /// A stable code for the UI.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Api { status: 401, .. } => ErrorCode::SuperofficeUnauthorized,
            Error::Api { status: 403, .. } => ErrorCode::SuperofficeForbidden,
            Error::Api { status: 404, .. } => ErrorCode::SuperofficeNotFound,
            Error::Api { status: 421, .. } => ErrorCode::SuperofficeMisdirected,
            Error::Api { status: 429, .. } => ErrorCode::SuperofficeThrottled,
            Error::Api { status, .. } if *status >= 500 => ErrorCode::SuperofficeServerError,
            Error::Api { .. } => ErrorCode::SuperofficeRejected,
            Error::Transport(_) => ErrorCode::SuperofficeUnreachable,
            Error::Timeout => ErrorCode::SuperofficeTimeout,
            Error::Decode(_) => ErrorCode::SuperofficeBadResponse,
            Error::SignIn { code, .. } => *code,
            Error::SignInCancelled(_) => ErrorCode::SignInCancelled,
            Error::UntrustedHost(_) => ErrorCode::UntrustedHost,
            Error::NotSignedIn => ErrorCode::NotSignedIn,
            Error::Keychain(e) => e.code(),
        }
    }

    /// A failed token request, read as every token request is ([`crate::oauth::Failure`]):
    /// a refusal is a sign-in error with its code, 5xx and 429 are a (transient) server
    /// answer, no answer is a transport error.
    pub(crate) fn from_token(e: crate::oauth::TokenError) -> Self {
        use crate::oauth::{Failure, TokenError};
        let code = match e.failure() {
            Failure::SignInAgain => ErrorCode::TokenInvalidGrant,
            Failure::Configuration => ErrorCode::TokenInvalidClient,
            Failure::Transient | Failure::Rejected => ErrorCode::TokenRejected,
        };
        match e {
            TokenError::NotAllowed { host } => Error::UntrustedHost(host),
            TokenError::Unreachable { timeout: true, .. } => Error::Timeout,
            TokenError::Unreachable { detail, .. } => Error::Transport(detail),
            TokenError::BadAnswer(why) => Error::Decode(format!("token response: {why}")),
            TokenError::Refused { status, retry_after, .. } if e.is_transient() => {
                Error::Api { status, error_type: None, message: e.to_string(), retry_after }
            }
            TokenError::Refused { .. } => Error::sign_in(code, e.to_string()),
        }
    }

    /// From a reqwest failure, without its URL (which could carry a code).
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Error::Timeout
        } else if e.is_decode() {
            Error::Decode(e.without_url().to_string())
        } else {
            Error::Transport(e.without_url().to_string())
        }
    }
}

/// Turns an error response into [`Error::Api`], reading SuperOffice's error body and
/// `Retry-After` (seconds) when present.
pub(crate) async fn api_error(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = resp.text().await.unwrap_or_default();
    error_from_answer(status, retry_after.as_deref(), &text)
}

/// [`api_error`] without the transport: status, the `Retry-After` value and the body text.
pub fn error_from_answer(status: u16, retry_after: Option<&str>, text: &str) -> Error {
    let retry_after = retry_after.and_then(|v| v.trim().parse().ok());
    let body: Option<crate::models::ErrorBody> = serde_json::from_str(text).ok();
    let message = body
        .as_ref()
        .and_then(|b| b.error_message.clone())
        .unwrap_or_else(|| text.chars().filter(|c| !c.is_control()).take(200).collect::<String>())
        .trim()
        .to_owned();
    Error::Api { status, error_type: body.and_then(|b| b.error_type), message, retry_after }
}
