//! The OIDC `id_token`s both identity services return: an RSA key made at start, RS256 JWTs
//! with the provider's claims, and the JWKS that publishes the key.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::scopes::GOOGLE_AUTH;
use crate::state::random_token;
use crate::{Provider, Sim};

pub struct Keys {
    key: EncodingKey,
    kid: String,
    jwk: Value,
}

impl Keys {
    pub fn generate() -> Result<Keys, String> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())?;
        let key = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).map_err(|e| e.to_string())?;
        let kid = random_token(12);
        let mut jwk = serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Ok(Keys { key, kid, jwk })
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    fn sign(&self, claims: &Value) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| e.to_string())
    }
}

/// A stable identifier for the simulated user, derived from its address.
fn stable_id(sim: &Sim, salt: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{salt}:{}", sim.config.user.address).as_bytes());
    h.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The user's object id (Graph `user.id`, token `oid`) as a GUID.
pub fn object_id(sim: &Sim) -> String {
    let h = stable_id(sim, "oid");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Google's `sub`: a long decimal number, "never changed" (google.md I1).
pub fn google_sub(sim: &Sim) -> String {
    let h = stable_id(sim, "sub");
    let n = u64::from_str_radix(&h[..15], 16).unwrap_or(1);
    format!("1{n:020}")
}

/// The issuer the provider writes into its tokens: the real one, so a client that checks `iss`
/// sees the value it would see in production.
pub fn issuer(sim: &Sim) -> String {
    match sim.config.provider {
        // [IDT]: `https://login.microsoftonline.com/{tid}/v2.0`.
        Provider::Microsoft => format!("https://login.microsoftonline.com/{}/v2.0", sim.config.user.tenant_id),
        // OIDC: `https://accounts.google.com`.
        Provider::Google => "https://accounts.google.com".to_owned(),
    }
}

/// Builds and signs the id_token for a grant with these scopes.
pub fn issue(sim: &Sim, scopes: &[String], nonce: Option<&str>, access_token: &str) -> Result<String, String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cfg = &sim.config;
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut c = json!({ "iss": issuer(sim), "aud": cfg.client_id, "iat": now, "exp": now + 3600 });
    match cfg.provider {
        Provider::Microsoft => {
            // [IDT]: `tid`, `sub` (pairwise per app), `ver`; `oid`, `name`, `preferred_username`
            // need `profile`; `email` needs the `email` scope ([SC]).
            c["nbf"] = json!(now);
            c["ver"] = json!("2.0");
            c["tid"] = json!(cfg.user.tenant_id);
            c["sub"] = json!(random_sub(sim));
            if has("profile") {
                c["oid"] = json!(object_id(sim));
                c["name"] = json!(cfg.user.display_name);
                c["preferred_username"] = json!(cfg.user.address);
            }
            if has("email") {
                c["email"] = json!(cfg.user.address);
            }
        }
        Provider::Google => {
            // OIDC (google.md I1): `sub`, `azp`, `at_hash`; `email`/`email_verified` only with
            // the `email` scope; `hd` only for Workspace users.
            c["azp"] = json!(cfg.client_id);
            c["sub"] = json!(google_sub(sim));
            c["at_hash"] = json!(at_hash(access_token));
            if has(&format!("{GOOGLE_AUTH}userinfo.email")) {
                c["email"] = json!(cfg.user.address);
                c["email_verified"] = json!(true);
            }
            if !sim.domain().eq_ignore_ascii_case("gmail.com") {
                c["hd"] = json!(sim.domain());
            }
            if has(&format!("{GOOGLE_AUTH}userinfo.profile")) {
                c["name"] = json!(cfg.user.display_name);
            }
        }
    }
    if let Some(n) = nonce {
        c["nonce"] = json!(n);
    }
    sim.keys.sign(&c)
}

/// [IDT] "`sub` is pairwise per app": stable for this user and client.
fn random_sub(sim: &Sim) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{}:{}", sim.config.client_id, sim.config.user.address).as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&h[..32])
}

/// OIDC Core §3.1.3.6: the left half of SHA-256 of the access token, base64url.
fn at_hash(access_token: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    let h = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&h[..16])
}
