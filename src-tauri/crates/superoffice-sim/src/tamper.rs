//! Deliberately broken id_tokens, so client tests can prove their id_token validation rejects
//! each kind of bad token (wrong audience or issuer, expired, wrong nonce, `alg: none`, an
//! unknown key id, a bad signature, or HMAC signed with a guessable key).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::oidc::Provider;

/// How the next id_tokens are broken (until set back to `None`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum IdTokenTamper {
    /// `aud` is another application.
    WrongAudience,
    /// `iss` is another host.
    WrongIssuer,
    /// `iat` an hour ago, `exp` half an hour ago.
    Expired,
    /// `nonce` is `not-the-nonce`.
    WrongNonce,
    /// Header `{"alg":"none"}` and an empty signature.
    AlgNone,
    /// Signed with the real key but naming a `kid` that is not in the JWKS.
    UnknownKid,
    /// A valid token with one signature byte flipped.
    BadSignature,
    /// HS256, with the client_id as the HMAC key.
    Hs256,
}

/// Signs `claims` as an id_token, broken as `tamper` says.
pub fn sign_id_token(provider: &Provider, mut claims: Value, tamper: Option<IdTokenTamper>, client_id: &str) -> Result<String, String> {
    let Some(tamper) = tamper else { return provider.sign(&claims) };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match tamper {
        IdTokenTamper::WrongAudience => claims["aud"] = json!("some-other-application"),
        IdTokenTamper::WrongIssuer => claims["iss"] = json!("https://evil.superoffice.example"),
        IdTokenTamper::Expired => {
            claims["iat"] = json!(now - 3600);
            claims["nbf"] = json!(now - 3600);
            claims["exp"] = json!(now - 1800);
        }
        IdTokenTamper::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        IdTokenTamper::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
            let body = URL_SAFE_NO_PAD.encode(claims.to_string());
            return Ok(format!("{header}.{body}."));
        }
        IdTokenTamper::UnknownKid => return provider.sign_with_kid(&claims, "unknown-kid-0000"),
        IdTokenTamper::BadSignature => {
            let token = provider.sign(&claims)?;
            let (signed, signature) = token.rsplit_once('.').ok_or("unsigned token")?;
            let mut raw = URL_SAFE_NO_PAD.decode(signature).map_err(|e| e.to_string())?;
            if let Some(b) = raw.get_mut(10) {
                *b ^= 0x01;
            }
            return Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(raw)));
        }
        IdTokenTamper::Hs256 => {
            let key = EncodingKey::from_secret(client_id.as_bytes());
            return jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|e| e.to_string());
        }
    }
    provider.sign(&claims)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn parts(token: &str) -> (Value, Value, String) {
        let mut it = token.split('.');
        let mut next = || it.next().unwrap_or_default().to_owned();
        let (h, c, s) = (next(), next(), next());
        let decode = |p: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(p).unwrap_or_default()).unwrap_or(Value::Null);
        (decode(&h), decode(&c), s)
    }

    #[test]
    fn each_tamper_breaks_the_token_as_described() {
        let p = Provider::new().expect("provider");
        let claims = json!({"iss": "http://127.0.0.1:1", "aud": "app", "sub": "anna", "nonce": "n-1", "iat": 0, "exp": 0});
        let sign = |t| sign_id_token(&p, claims.clone(), Some(t), "app").expect("sign");
        assert_eq!(parts(&sign(IdTokenTamper::WrongAudience)).1["aud"], "some-other-application");
        assert_ne!(parts(&sign(IdTokenTamper::WrongIssuer)).1["iss"], claims["iss"]);
        assert_eq!(parts(&sign(IdTokenTamper::WrongNonce)).1["nonce"], "not-the-nonce");
        let expired = parts(&sign(IdTokenTamper::Expired)).1;
        assert!(expired["exp"].as_i64() < Some(time::OffsetDateTime::now_utc().unix_timestamp()));
        let none = parts(&sign(IdTokenTamper::AlgNone));
        assert_eq!((none.0["alg"].as_str(), none.2.as_str()), (Some("none"), ""));
        let kid = parts(&sign(IdTokenTamper::UnknownKid)).0;
        let jwks_kid = p.jwks()["keys"][0]["kid"].clone();
        assert_ne!(kid["kid"], jwks_kid);
        let hs = sign(IdTokenTamper::Hs256);
        assert_eq!(parts(&hs).0["alg"], "HS256");
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&["app"]);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        assert!(jsonwebtoken::decode::<Value>(&hs, &DecodingKey::from_secret(b"app"), &v).is_ok());
        let good = p.sign(&claims).expect("sign");
        let bad = sign(IdTokenTamper::BadSignature);
        assert_eq!(good.rsplit_once('.').map(|x| x.0), bad.rsplit_once('.').map(|x| x.0), "same header and claims");
        assert_ne!(good, bad);
    }
}
