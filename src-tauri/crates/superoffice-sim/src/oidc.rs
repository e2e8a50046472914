//! The simulated SuperOffice identity provider (`https://{env}.superoffice.com/login`).
//!
//! Authorization-code flow with PKCE for native apps: the authorize endpoint shows a consent
//! page, a granted consent redirects to the app's loopback URI with a single-use code, the token
//! endpoint checks client, redirect URI and the PKCE verifier (S256 or, as SuperOffice does
//! when the method is omitted, plain), and id_tokens are RS256-signed with a key generated at
//! start and published in the JWKS.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::Digest;

use crate::lock;

/// Claim prefix of SuperOffice's own claims.
pub const CLAIM_NS: &str = "http://schemes.superoffice.net/identity/";
/// Authorization codes expire after 10 minutes (documented).
const CODE_TTL: Duration = Duration::from_secs(600);
/// Access-token lifetime reported in `expires_in`.
pub const ACCESS_TTL_SECS: u64 = 3600;

/// An authorization request waiting for the user's consent.
#[derive(Clone)]
pub struct PendingAuthorization {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: String,
}

struct IssuedCode {
    request: PendingAuthorization,
    associate_id: i64,
    issued: Instant,
}

/// An access token's holder.
#[derive(Clone)]
pub struct Session {
    pub associate_id: i64,
    pub expires: Instant,
}

pub struct Provider {
    key: EncodingKey,
    kid: String,
    jwk: Value,
    pending: Mutex<HashMap<String, PendingAuthorization>>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    refresh_tokens: Mutex<HashMap<String, i64>>,
    access_tokens: Mutex<HashMap<String, Session>>,
}

#[derive(Debug)]
pub struct TokenError {
    pub error: &'static str,
    pub description: String,
}

fn token_error(error: &'static str, description: impl Into<String>) -> TokenError {
    TokenError { error, description: description.into() }
}

pub fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

impl Provider {
    pub fn new() -> Result<Self, String> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())?;
        let key = EncodingKey::from_rsa_pem(key_pair.serialize_pem().as_bytes()).map_err(|e| e.to_string())?;
        let kid = format!("sim-{:08x}", rand::random::<u32>());
        let mut jwk = serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Ok(Provider {
            key,
            kid,
            jwk,
            pending: Mutex::default(),
            codes: Mutex::default(),
            refresh_tokens: Mutex::default(),
            access_tokens: Mutex::default(),
        })
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// Stores a request until consent; returns the id the consent form posts back.
    pub fn begin(&self, request: PendingAuthorization) -> String {
        let id = random_token(16);
        lock(&self.pending).insert(id.clone(), request);
        id
    }

    /// Consent given: a single-use code for the pending request.
    pub fn grant(&self, request_id: &str, associate_id: i64) -> Option<(PendingAuthorization, String)> {
        let request = lock(&self.pending).remove(request_id)?;
        let code = random_token(24);
        lock(&self.codes).insert(code.clone(), IssuedCode { request: request.clone(), associate_id, issued: Instant::now() });
        Some((request, code))
    }

    pub fn deny(&self, request_id: &str) -> Option<PendingAuthorization> {
        lock(&self.pending).remove(request_id)
    }

    /// Redeems a code: checks client, redirect URI and PKCE. Codes are single-use even when
    /// the redemption fails.
    pub fn redeem(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<(PendingAuthorization, i64), TokenError> {
        let issued = lock(&self.codes).remove(code).ok_or_else(|| token_error("invalid_grant", "unknown or used code"))?;
        if issued.issued.elapsed() > CODE_TTL {
            return Err(token_error("invalid_grant", "code expired"));
        }
        if issued.request.client_id != client_id {
            return Err(token_error("invalid_grant", "code was issued to another client"));
        }
        if issued.request.redirect_uri != redirect_uri {
            return Err(token_error("invalid_grant", "redirect_uri does not match"));
        }
        if let Some(challenge) = &issued.request.code_challenge {
            let verifier = verifier.ok_or_else(|| token_error("invalid_grant", "code_verifier missing"))?;
            let computed = match issued.request.code_challenge_method.as_str() {
                "S256" => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())),
                _ => verifier.to_owned(),
            };
            if &computed != challenge {
                return Err(token_error("invalid_grant", "code_verifier does not match"));
            }
        }
        Ok((issued.request, issued.associate_id))
    }

    pub fn issue_refresh_token(&self, associate_id: i64) -> String {
        let token = random_token(32);
        lock(&self.refresh_tokens).insert(token.clone(), associate_id);
        token
    }

    pub fn refresh_holder(&self, token: &str) -> Option<i64> {
        lock(&self.refresh_tokens).get(token).copied()
    }

    /// Rotation: the old refresh token stops working and a new one is issued.
    pub fn rotate_refresh_token(&self, old: &str) -> Option<(i64, String)> {
        let associate_id = lock(&self.refresh_tokens).remove(old)?;
        Some((associate_id, self.issue_refresh_token(associate_id)))
    }

    /// Revocation (RFC 7009): forgets a refresh or access token. Unknown tokens are ignored.
    pub fn revoke(&self, token: &str, hint: Option<&str>) -> bool {
        let refresh = || lock(&self.refresh_tokens).remove(token).is_some();
        let access = || lock(&self.access_tokens).remove(token).is_some();
        match hint {
            Some("access_token") => access() || refresh(),
            _ => refresh() || access(),
        }
    }

    /// Every access token issued so far stops working.
    pub fn expire_access_tokens(&self) {
        lock(&self.access_tokens).clear();
    }

    pub fn issue_access_token(&self, context_id: &str, associate_id: i64) -> String {
        // SuperOffice access tokens are opaque, e.g. `8A:Cust12345.abc...`.
        let token = format!("8A:{context_id}.{}", random_token(30));
        lock(&self.access_tokens)
            .insert(token.clone(), Session { associate_id, expires: Instant::now() + Duration::from_secs(ACCESS_TTL_SECS) });
        token
    }

    pub fn session(&self, access_token: &str) -> Option<Session> {
        lock(&self.access_tokens).get(access_token).filter(|s| s.expires > Instant::now()).cloned()
    }

    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        self.sign_with_kid(claims, &self.kid)
    }

    /// RS256 with the provider's key, announcing `kid` (which may not be in the JWKS).
    pub fn sign_with_kid(&self, claims: &Value, kid: &str) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| e.to_string())
    }
}

/// The claims of an id_token for an associate, as SuperOffice issues them.
pub struct IdTokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub username: &'a str,
    pub email: &'a str,
    pub associate_id: i64,
    pub context_id: &'a str,
    pub webapi_url: &'a str,
    pub company_name: &'a str,
    pub serial: &'a str,
}

pub fn id_token_claims(f: &IdTokenFacts<'_>) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({
        "iss": f.issuer,
        "aud": f.client_id,
        "sub": f.username,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    });
    if let Some(n) = f.nonce {
        claims["nonce"] = json!(n);
    }
    let ns = |k: &str| format!("{CLAIM_NS}{k}");
    claims[ns("associateid")] = json!(f.associate_id.to_string());
    claims[ns("ctx")] = json!(f.context_id);
    claims[ns("webapi_url")] = json!(f.webapi_url);
    claims[ns("netserver_url")] = json!(format!("{}Remote/Services88/", f.webapi_url.trim_end_matches("api/")));
    claims[ns("email")] = json!(f.email);
    claims[ns("upn")] = json!(f.username);
    claims[ns("so_primary_email_address")] = json!(f.email);
    claims[ns("is_administrator")] = json!("False");
    claims[ns("company_name")] = json!(f.company_name);
    claims[ns("serial")] = json!(f.serial);
    claims[ns("identityprovider")] = json!("central-superid");
    claims
}
