//! The one error shape the UI receives: `{ code, message }`. The UI branches on `code`, never
//! on the English text. Messages come from the core crates, which keep secrets out of them.

use codes::ErrorCode;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CommandError { code, message: message.into() }
    }
}

impl From<outbox::Error> for CommandError {
    fn from(e: outbox::Error) -> Self {
        CommandError::new(e.code(), e.to_string())
    }
}

impl From<superoffice::Error> for CommandError {
    fn from(e: superoffice::Error) -> Self {
        CommandError::new(e.code(), e.to_string())
    }
}

impl From<keychain::Error> for CommandError {
    fn from(e: keychain::Error) -> Self {
        CommandError::new(e.code(), e.to_string())
    }
}

pub type CmdResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_code_and_message() {
        let e: CommandError = outbox::Error::NotFound(7).into();
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(v, serde_json::json!({"code": "draft_not_found", "message": "draft 7 does not exist"}));
    }
}
