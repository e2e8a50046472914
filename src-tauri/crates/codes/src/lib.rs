//! The error codes of every crate, as one closed enum: the contract between the core and the UI
//! (which words each code in the rep's language, complete by type in `ui/src/messages/`) and
//! the stable identifiers in logs and tests. A crate's error says *what* went wrong in its own
//! enum; `code()` maps it here. Nothing reads the English of an error to decide anything.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($variant:ident => $code:literal,)*) => {
        /// What went wrong, for the UI and for machines.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as written on the wire and in logs, e.g. `draft_not_found`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

codes! {
    OutboxStoreFailed => "outbox_store_failed",
    DraftNotFound => "draft_not_found",
    InvalidTransition => "invalid_transition",
    DraftNotSendable => "draft_not_sendable",
    MessageInvalid => "message_invalid",
    ApprovalMismatch => "approval_mismatch",
    OutboxOfAnotherOwner => "outbox_of_another_owner",
    BulkHandoff => "bulk_handoff",
    ClipboardUnavailable => "clipboard_unavailable",
    SuperofficeUnauthorized => "superoffice_unauthorized",
    SuperofficeForbidden => "superoffice_forbidden",
    SuperofficeNotFound => "superoffice_not_found",
    SuperofficeMisdirected => "superoffice_misdirected",
    SuperofficeThrottled => "superoffice_throttled",
    SuperofficeServerError => "superoffice_server_error",
    SuperofficeRejected => "superoffice_rejected",
    SuperofficeUnreachable => "superoffice_unreachable",
    SuperofficeTimeout => "superoffice_timeout",
    SuperofficeBadResponse => "superoffice_bad_response",
    SignInCancelled => "sign_in_cancelled",
    UntrustedHost => "untrusted_host",
    NotSignedIn => "not_signed_in",
    AuthorizeRefused => "authorize_refused",
    RegistrationRefused => "registration_refused",
    BadEnvironment => "bad_environment",
    LoopbackUnavailable => "loopback_unavailable",
    WrongTenant => "wrong_tenant",
    TokenInvalidGrant => "token_invalid_grant",
    TokenInvalidClient => "token_invalid_client",
    TokenRejected => "token_rejected",
    IdTokenMissing => "id_token_missing",
    IdTokenMalformed => "id_token_malformed",
    IdTokenNoKid => "id_token_no_kid",
    IdTokenUnknownKey => "id_token_unknown_key",
    IdTokenBadAlg => "id_token_bad_alg",
    IdTokenBadSignature => "id_token_bad_signature",
    IdTokenExpired => "id_token_expired",
    IdTokenNotYetValid => "id_token_not_yet_valid",
    IdTokenIatFuture => "id_token_iat_future",
    IdTokenWrongIssuer => "id_token_wrong_issuer",
    IdTokenWrongAudience => "id_token_wrong_audience",
    IdTokenWrongNonce => "id_token_wrong_nonce",
    IdTokenMissingClaim => "id_token_missing_claim",
    IdTokenSubjectChanged => "id_token_subject_changed",
    IdTokenInvalid => "id_token_invalid",
    JwksUnavailable => "jwks_unavailable",
    JwksInvalid => "jwks_invalid",
    SystemUserRejected => "system_user_rejected",
    SystemUserNoTicket => "system_user_no_ticket",
    SystemUserWrongAudience => "system_user_wrong_audience",
    SystemUserKeyInvalid => "system_user_key_invalid",
    SystemUserClock => "system_user_clock",
    KeychainUnavailable => "keychain_unavailable",
    KeychainFailed => "keychain_failed",
    ConfigInvalid => "config_invalid",
    ConfigUnreadable => "config_unreadable",
    ConfigFailed => "config_failed",
    DataDirUnusable => "data_dir_unusable",
    NoTenant => "no_tenant",
    NoDiagnostics => "no_diagnostics",
    CheckNotRunnable => "check_not_runnable",
    DemoFailed => "demo_failed",
    SettingsInvalid => "settings_invalid",
    SaveFailed => "save_failed",
    OpenFailed => "open_failed",
    BrowserUnavailable => "browser_unavailable",
    NotArchived => "not_archived",
    AlreadyRunning => "already_running",
    RepWithoutEmail => "rep_without_email",
    MailboxNotConnected => "mailbox_not_connected",
    MailboxConsentRefused => "mailbox_consent_refused",
    MailboxScopeMissing => "mailbox_scope_missing",
    MailboxNoAddress => "mailbox_no_address",
    MailboxSignInAgain => "mailbox_sign_in_again",
    MailboxForbidden => "mailbox_forbidden",
    MailboxNotFound => "mailbox_not_found",
    MailboxThrottled => "mailbox_throttled",
    MailboxUnavailable => "mailbox_unavailable",
    MailboxRejected => "mailbox_rejected",
    MailboxBadAnswer => "mailbox_bad_answer",
    MailboxNotConfigured => "mailbox_not_configured",
    MailboxAddressMismatch => "mailbox_address_mismatch",
    Internal => "internal",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Lets a test compare a code with its wire name: `assert_eq!(e.code(), "draft_not_found")`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn the_wire_name_is_the_serde_name_and_each_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{}\"", c.as_str()));
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c}");
        }
    }
}
