//! The provider-neutral OAuth bookkeeping both identity services share: authorize requests
//! waiting for consent, single-use authorization codes, opaque access tokens with their scopes,
//! refresh tokens, and the PKCE check. What a provider answers about each outcome is decided in
//! `ms_token.rs` and `google_token.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::Digest;

use crate::state::{lock, random_token};
use crate::ConsentRefusal;

/// [AC] "Successful response": codes "typically expire after about 10 minutes"; Google's code
/// lifetime is UNCONFIRMED (google.md T2), the same 10 minutes is taken (SIM).
pub const CODE_TTL: Duration = Duration::from_secs(600);
/// `expires_in` of access tokens: [AC] sample 3599; Google "3599 typical" (google.md T3, 3P).
pub const ACCESS_TTL_SECS: u64 = 3599;

/// Where the authorization response goes in the redirect ([AC] `response_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
}

/// An authorize request waiting for the user on the consent page.
#[derive(Clone, Debug)]
pub struct Pending {
    pub client_id: String,
    /// The `redirect_uri` exactly as the request sent it (the code exchange must repeat it).
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub response_mode: ResponseMode,
    /// The refusal a test arranged for this request.
    pub refusal: Option<ConsentRefusal>,
}

struct Code {
    request: Pending,
    granted: Vec<String>,
    issued: Instant,
    ttl: Duration,
    used: bool,
}

/// What a redeemed code stood for.
pub struct Redeemed {
    pub request: Pending,
    pub granted: Vec<String>,
    pub grant: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodeError {
    Unknown,
    Used,
    Expired,
}

/// An access token's meaning.
#[derive(Clone, Debug)]
pub struct Access {
    pub grant: u64,
    pub scopes: Vec<String>,
    /// Microsoft: the resource the token is for (`https://graph.microsoft.com/`, …).
    pub resource: Option<&'static str>,
    expires: Instant,
}

/// A refresh token's meaning.
#[derive(Clone, Debug)]
pub struct Refresh {
    pub grant: u64,
    /// Everything consented to in the grant (all resources).
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    revoked: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshError {
    Unknown,
    Revoked,
}

#[derive(Default)]
pub struct Store {
    pending: Mutex<HashMap<String, Pending>>,
    codes: Mutex<HashMap<String, Code>>,
    access: Mutex<HashMap<String, Access>>,
    refresh: Mutex<HashMap<String, Refresh>>,
    next_grant: AtomicU64,
}

impl Store {
    /// Keeps a request until the consent page is answered; returns the id the form posts back.
    pub fn begin(&self, request: Pending) -> String {
        let id = random_token(18);
        lock(&self.pending).insert(id.clone(), request);
        id
    }

    /// The request behind a consent form (each form answers once).
    pub fn take_pending(&self, id: &str) -> Option<Pending> {
        lock(&self.pending).remove(id)
    }

    /// A code for a consented request.
    pub fn issue_code(&self, prefix: &str, request: Pending, granted: Vec<String>, ttl: Duration) -> String {
        let code = format!("{prefix}{}", random_token(48));
        lock(&self.codes).insert(code.clone(), Code { request, granted, issued: Instant::now(), ttl, used: false });
        code
    }

    /// Redeems a code: once only, the first attempt burns it whatever its outcome (RFC 6749
    /// §4.1.2 "The client MUST NOT use the authorization code more than once").
    pub fn redeem(&self, code: &str) -> Result<Redeemed, CodeError> {
        let mut codes = lock(&self.codes);
        let c = codes.get_mut(code).ok_or(CodeError::Unknown)?;
        if c.used {
            return Err(CodeError::Used);
        }
        c.used = true;
        if c.issued.elapsed() > c.ttl {
            return Err(CodeError::Expired);
        }
        let grant = self.next_grant.fetch_add(1, Ordering::SeqCst);
        Ok(Redeemed { request: c.request.clone(), granted: c.granted.clone(), grant })
    }

    pub fn issue_access(&self, prefix: &str, grant: u64, scopes: Vec<String>, resource: Option<&'static str>) -> String {
        let token = format!("{prefix}{}", random_token(96));
        let expires = Instant::now() + Duration::from_secs(ACCESS_TTL_SECS);
        lock(&self.access).insert(token.clone(), Access { grant, scopes, resource, expires });
        token
    }

    /// The live access token's meaning.
    pub fn access(&self, token: &str) -> Option<Access> {
        lock(&self.access).get(token).filter(|a| a.expires > Instant::now()).cloned()
    }

    pub fn issue_refresh(&self, prefix: &str, grant: u64, scopes: Vec<String>, nonce: Option<String>) -> String {
        let token = format!("{prefix}{}", random_token(96));
        lock(&self.refresh).insert(token.clone(), Refresh { grant, scopes, nonce, revoked: false });
        token
    }

    pub fn refresh(&self, token: &str) -> Result<Refresh, RefreshError> {
        match lock(&self.refresh).get(token) {
            None => Err(RefreshError::Unknown),
            Some(r) if r.revoked => Err(RefreshError::Revoked),
            Some(r) => Ok(r.clone()),
        }
    }

    pub fn revoke_all_refresh_tokens(&self) {
        lock(&self.refresh).values_mut().for_each(|r| r.revoked = true);
    }

    pub fn expire_access_tokens(&self) {
        lock(&self.access).clear();
    }

    /// Google `/revoke` (NA): revoking either token of a grant ends both. False for a token
    /// that is unknown or already dead.
    pub fn revoke_grant_of(&self, token: &str) -> bool {
        let grant = match (self.access(token), self.refresh(token)) {
            (Some(a), _) => a.grant,
            (None, Ok(r)) => r.grant,
            _ => return false,
        };
        lock(&self.access).retain(|_, a| a.grant != grant);
        lock(&self.refresh).values_mut().filter(|r| r.grant == grant).for_each(|r| r.revoked = true);
        true
    }
}

/// RFC 7636 §4.1 (microsoft.md §1.1 SIM, google.md NA Step 1): 43–128 characters of
/// `[A-Za-z0-9-._~]`.
pub fn verifier_well_formed(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// An S256 challenge is base64url(SHA-256) without padding: exactly 43 characters.
pub fn challenge_well_formed(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.6: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge`.
pub fn s256_matches(verifier: &str, challenge: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())) == challenge
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(verifier_well_formed(v));
        assert!(s256_matches(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(challenge_well_formed("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!verifier_well_formed("short"));
        assert!(!verifier_well_formed(&"a".repeat(129)));
        assert!(!verifier_well_formed(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn codes_are_single_use_even_after_a_failed_redemption() {
        let s = Store::default();
        let p = Pending {
            client_id: "c".into(),
            redirect_uri: "r".into(),
            scopes: vec![],
            state: None,
            nonce: None,
            code_challenge: String::new(),
            response_mode: ResponseMode::Query,
            refusal: None,
        };
        let code = s.issue_code("x", p.clone(), vec![], CODE_TTL);
        assert!(s.redeem(&code).is_ok());
        assert_eq!(s.redeem(&code).err(), Some(CodeError::Used));
        assert_eq!(s.redeem("nope").err(), Some(CodeError::Unknown));
        let quick = s.issue_code("x", p, vec![], Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(s.redeem(&quick).err(), Some(CodeError::Expired));
    }
}
