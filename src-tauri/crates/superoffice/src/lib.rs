//! SuperOffice CRM Online, as the app needs it: the rep's own sign-in and a typed REST client.
//!
//! Why it exists: the seed's system user cannot act as a rep ("system users cannot impersonate
//! other users"), so every call here runs in the signed-in rep's own context. Sign-in is the
//! OAuth 2.0 / OIDC native-app flow (RFC 8252): the system browser, PKCE S256, `state` and
//! `nonce`, and a one-shot loopback listener on 127.0.0.1. id_tokens are validated before any
//! claim is used, the access token lives only in memory, and the refresh token only in the OS
//! keychain. Tokens are only ever sent to the API host that the tenant state API resolved.
//!
//! It does not know about drafts, mail or the outbox; those live in the `outbox` crate. Its
//! browser sign-in parts (`loopback`, `pkce`, `oauth`) also serve the rep's mailbox sign-in
//! (the `mailbox` crate), so there is one copy of them.

pub mod archive;
mod endpoints;
mod environment;
mod error;
mod id_token;
pub mod loopback;
pub mod models;
pub mod oauth;
pub mod pkce;
mod rest;
mod session;
pub mod signin;
pub mod system_user;

pub use archive::{archive_ref, AppointmentFilter, AppointmentRow, PAGE_SIZE};
pub use endpoints::tenant_state;
pub use environment::{transport_ok, transport_ok_str, Environment};
pub use error::{Error, Result};
pub use id_token::Claims;
/// HTTP methods for [`Client::probe`].
pub use reqwest::Method;
pub use rest::Client;
pub use session::{refresh_token_key, refresh_token_key_before_environments, Session, SessionInfo};
pub use signin::{PendingSignIn, SignInRequest};
pub use system_user::{SystemSession, SystemUserConfig};

/// Namespace of SuperOffice's own claims.
pub const CLAIM_NS: &str = "http://schemes.superoffice.net/identity/";

/// The pure parsers behind the network code, for the fuzz targets (`fuzz/` and
/// `crates/fuzz-targets`, whose corpus replay runs in `cargo test`). Not an API.
#[doc(hidden)]
pub mod fuzz {
    pub use crate::error::error_from_answer as api_error;
    pub use crate::id_token::{claims_from, signing_kid};
    pub use crate::loopback::{parse_redirect, Redirect};

    /// Decodes one page of the appointment listing as `Client::open_tasks` does: the rows and
    /// the `odata.nextLink`; any row that cannot be decoded fails the page.
    pub fn appointment_page(bytes: &[u8]) -> crate::Result<(Vec<crate::archive::AppointmentRow>, Option<String>)> {
        let page = crate::archive::page(bytes, "Appointment")?;
        let rows = page
            .rows
            .iter()
            .map(|r| crate::archive::AppointmentRow::from_row(r).map_err(crate::Error::Decode))
            .collect::<crate::Result<Vec<_>>>()?;
        Ok((rows, page.next_link))
    }
}
