//! id_token validation (OIDC Core §3.1.3.7) and the SuperOffice claims the app uses.
//!
//! RS256 only, key chosen by `kid` from the issuer's JWKS (fetched again once when the `kid`
//! is unknown), `iss` equal to the pinned issuer, `aud` equal to our client id, `exp` with 60 s
//! of leeway, `iat` not in the future, and `nonce` equal to the one we sent.

use codes::ErrorCode;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::{Error, Result, CLAIM_NS};

const LEEWAY_SECS: u64 = 60;

/// The validated claims the app relies on.
#[derive(Clone, Debug)]
pub struct Claims {
    pub subject: String,
    pub associate_id: i64,
    pub context_id: String,
    pub webapi_url: String,
    pub email: Option<String>,
    pub company_name: Option<String>,
}

#[derive(Clone, Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Clone, Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Validates an id_token against the JWKS at `jwks_uri` and returns the claims the app uses.
pub async fn validate(
    http: &reqwest::Client,
    jwks_uri: &str,
    token: &str,
    issuer: &str,
    client_id: &str,
    nonce: Option<&str>,
) -> Result<Claims> {
    let c = verify_signed(http, jwks_uri, token, issuer, Some(client_id)).await?;
    // With several audiences, the authorized party must be us (OIDC Core §3.1.3.7 items 4-5).
    if c["aud"].is_array() && c["azp"].as_str() != Some(client_id) {
        return Err(Error::sign_in(ErrorCode::IdTokenWrongAudience, "the id_token was issued for several applications"));
    }
    if let Some(expected) = nonce {
        if c["nonce"].as_str() != Some(expected) {
            return Err(Error::sign_in(ErrorCode::IdTokenWrongNonce, "the id_token does not belong to this sign-in attempt"));
        }
    }
    claims_from(&c)
}

/// The checks every SuperOffice JWT gets: RS256 only, a `kid` found in the JWKS (fetched once
/// more when unknown), the signature, `iss`, `aud` (when given), `exp`/`nbf` with 60 s of
/// leeway, and an `iat` that is not in the future.
pub(crate) async fn verify_signed(
    http: &reqwest::Client,
    jwks_uri: &str,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> Result<serde_json::Value> {
    let kid = signing_kid(token)?;
    let key = match find_key(&jwks(http, jwks_uri, false).await?, &kid) {
        Some(k) => k,
        None => find_key(&jwks(http, jwks_uri, true).await?, &kid)
            .ok_or_else(|| Error::sign_in(ErrorCode::IdTokenUnknownKey, "the token was signed with an unknown key"))?,
    }?;
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_issuer(&[issuer]);
    match audience {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        let (code, what) = match e.kind() {
            K::InvalidSignature => (ErrorCode::IdTokenBadSignature, "the token signature is invalid"),
            K::ExpiredSignature => (ErrorCode::IdTokenExpired, "the token has expired (check the computer's clock)"),
            K::InvalidIssuer => (ErrorCode::IdTokenWrongIssuer, "the token comes from another issuer"),
            K::InvalidAudience => (ErrorCode::IdTokenWrongAudience, "the token was issued to another application"),
            K::ImmatureSignature => (ErrorCode::IdTokenNotYetValid, "the token is not valid yet (check the computer's clock)"),
            K::MissingRequiredClaim(_) => (ErrorCode::IdTokenMissingClaim, "the token lacks a required claim"),
            _ => (ErrorCode::IdTokenInvalid, "the token is invalid"),
        };
        Error::sign_in(code, what)
    })?;
    let c = data.claims;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if c["iat"].as_i64().is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
        return Err(Error::sign_in(ErrorCode::IdTokenIatFuture, "the token was issued in the future (check the computer's clock)"));
    }
    Ok(c)
}

/// The `kid` from a JWT's header; anything but RS256 is refused before a key is looked up.
pub fn signing_kid(token: &str) -> Result<String> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| Error::sign_in(ErrorCode::IdTokenMalformed, format!("the token is not a signed JWT: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(Error::sign_in(ErrorCode::IdTokenBadAlg, format!("token algorithm {:?} is not allowed (RS256 only)", header.alg)));
    }
    header.kid.ok_or_else(|| Error::sign_in(ErrorCode::IdTokenNoKid, "the token names no signing key"))
}

pub fn claims_from(c: &serde_json::Value) -> Result<Claims> {
    let ns = |k: &str| c[format!("{CLAIM_NS}{k}")].as_str().map(str::to_owned);
    let missing = |k: &str| Error::sign_in(ErrorCode::IdTokenMissingClaim, format!("the id_token lacks the claim {k}"));
    Ok(Claims {
        subject: c["sub"].as_str().ok_or_else(|| missing("sub"))?.to_owned(),
        associate_id: ns("associateid").and_then(|a| a.parse().ok()).ok_or_else(|| missing("associateid"))?,
        context_id: ns("ctx").ok_or_else(|| missing("ctx"))?,
        webapi_url: ns("webapi_url").ok_or_else(|| missing("webapi_url"))?,
        email: ns("email"),
        company_name: ns("company_name"),
    })
}

/// Signing keys are kept for a few minutes (every refresh validates an id_token); an unknown
/// `kid` fetches them again at once, so a key rotation is picked up on first sight.
const JWKS_TTL: std::time::Duration = std::time::Duration::from_secs(300);

static JWKS_CACHE: std::sync::Mutex<Vec<(String, std::time::Instant, Jwks)>> = std::sync::Mutex::new(Vec::new());

async fn jwks(http: &reqwest::Client, uri: &str, fresh: bool) -> Result<Jwks> {
    if !fresh {
        let cache = JWKS_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, k)) = cache.iter().find(|(u, at, _)| u == uri && at.elapsed() < JWKS_TTL) {
            return Ok(k.clone());
        }
    }
    let keys = fetch_jwks(http, uri).await?;
    let mut cache = JWKS_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(u, at, _)| u != uri && at.elapsed() < JWKS_TTL);
    cache.push((uri.to_owned(), std::time::Instant::now(), keys.clone()));
    Ok(keys)
}

async fn fetch_jwks(http: &reqwest::Client, uri: &str) -> Result<Jwks> {
    crate::environment::require_transport(uri)?;
    let resp = http.get(uri).send().await.map_err(Error::from_reqwest)?;
    if !resp.status().is_success() {
        return Err(Error::sign_in(
            ErrorCode::JwksUnavailable,
            format!("the signing keys could not be fetched (HTTP {})", resp.status().as_u16()),
        ));
    }
    resp.json::<Jwks>().await.map_err(|e| Error::Decode(format!("JWKS: {}", e.without_url())))
}

fn find_key(jwks: &Jwks, kid: &str) -> Option<Result<DecodingKey>> {
    let k = jwks.keys.iter().find(|k| {
        k.kid.as_deref() == Some(kid)
            && k.kty == "RSA"
            && k.alg.as_deref().is_none_or(|a| a == "RS256")
            && k.usage.as_deref().is_none_or(|u| u == "sig")
    })?;
    Some(match (&k.n, &k.e) {
        (Some(n), Some(e)) => DecodingKey::from_rsa_components(n, e)
            .map_err(|e| Error::sign_in(ErrorCode::JwksInvalid, format!("a signing key is malformed: {e}"))),
        _ => Err(Error::sign_in(ErrorCode::JwksInvalid, "a signing key is incomplete")),
    })
}
