//! The tenant's system user, for diagnostics only: admins compare what it can do with what a
//! signed-in rep can do (the seed's failed attempts were made with it).
//!
//! Flow (superoffice-api.md §2): sign `"{system_token}.{yyyyMMddHHmm UTC}"` with RSA-SHA256
//! PKCS#1 v1.5 and the partner's private key, post it to
//! `{env}/Login/api/PartnerSystemUser/Authenticate` with the application token, validate the
//! returned JWT (issuer `SuperOffice AS`, audience `spn:{serial}`) and call the API with
//! `Authorization: SOTicket <ticket>` plus `SO-AppToken`. The private key and the application
//! token come from the keychain or a key file the admin names, never from the config file.
//!
//! A system user has no person and cannot impersonate anyone: it can never send as a rep.

use base64::Engine as _;
use codes::ErrorCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use keychain::Secret;
use serde::Deserialize;

use crate::environment::TenantLink;
use crate::environment::{resolve_tenant, Environment};
use crate::{Error, Result, CLAIM_NS};

/// What the admin provisions for the system user.
#[derive(Clone)]
pub struct SystemUserConfig {
    pub environment: Environment,
    pub context_id: String,
    /// The `system_token` claim the tenant admin's consent produced (`AppName-<random>`).
    pub system_token: String,
    /// The partner's RSA private key, PEM.
    pub private_key_pem: Secret,
    /// The application token (the app's client secret).
    pub app_token: Secret,
    /// The tenant's database serial, when known: the JWT's audience must be `spn:{serial}`.
    pub serial: Option<String>,
}

/// A system-user ticket for one tenant (valid 6 h, sliding).
pub struct SystemSession {
    pub(crate) link: TenantLink,
    pub(crate) ticket: Secret,
    pub(crate) app_token: Secret,
}

/// `{token}.{yyyyMMddHHmm}.{base64 signature}` (standard base64, as SuperOffice's samples).
pub fn sign_system_token(system_token: &str, private_key_pem: &Secret, now: time::OffsetDateTime) -> Result<Secret> {
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[year][month][day][hour][minute]"))
        .map_err(|e| Error::sign_in(ErrorCode::SystemUserClock, e.to_string()))?;
    let message = format!("{system_token}.{stamp}");
    let key = EncodingKey::from_rsa_pem(private_key_pem.expose().as_bytes())
        .map_err(|_| Error::sign_in(ErrorCode::SystemUserKeyInvalid, "the system user's private key is not a valid RSA PEM key"))?;
    let url_safe = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::RS256)
        .map_err(|e| Error::sign_in(ErrorCode::SystemUserKeyInvalid, format!("signing failed: {e}")))?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(url_safe)
        .map_err(|e| Error::sign_in(ErrorCode::SystemUserKeyInvalid, e.to_string()))?;
    Ok(Secret::new(format!("{message}.{}", base64::engine::general_purpose::STANDARD.encode(raw))))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuthenticateResponse {
    is_successful: bool,
    token: Option<String>,
    error_message: Option<String>,
}

impl SystemSession {
    /// Authenticates the system user and resolves the tenant.
    pub async fn authenticate(cfg: &SystemUserConfig) -> Result<Self> {
        let http = crate::environment::http_client()?;
        let signed = sign_system_token(&cfg.system_token, &cfg.private_key_pem, time::OffsetDateTime::now_utc())?;
        let body = serde_json::json!({
            "SignedSystemToken": signed.expose(),
            "ApplicationToken": cfg.app_token.expose(),
            "ContextIdentifier": cfg.context_id,
            "ReturnTokenType": "JWT",
        });
        // The tenant's address does not depend on the ticket: resolve both at once.
        let (ticket, api_base) = tokio::join!(Self::ticket(&http, cfg, body), resolve_tenant(&http, &cfg.environment, &cfg.context_id));
        let (ticket, api_base) = (ticket?, api_base?);
        Ok(SystemSession {
            link: TenantLink::new(http, cfg.environment.clone(), cfg.context_id.clone(), api_base),
            ticket,
            app_token: cfg.app_token.clone(),
        })
    }

    async fn ticket(http: &reqwest::Client, cfg: &SystemUserConfig, body: serde_json::Value) -> Result<Secret> {
        crate::environment::require_transport(&cfg.environment.system_user_endpoint())?;
        let resp = http.post(cfg.environment.system_user_endpoint()).json(&body).send().await.map_err(Error::from_reqwest)?;
        if !resp.status().is_success() {
            return Err(crate::error::api_error(resp).await);
        }
        let answer: AuthenticateResponse =
            resp.json().await.map_err(|e| Error::Decode(format!("PartnerSystemUser: {}", e.without_url())))?;
        let jwt = match (answer.is_successful, answer.token) {
            (true, Some(t)) => t,
            _ => {
                return Err(Error::sign_in(
                    ErrorCode::SystemUserRejected,
                    format!("SuperOffice refused the system user: {}", answer.error_message.unwrap_or_default()),
                ))
            }
        };
        validate_system_jwt(http, &cfg.environment, &jwt, cfg.serial.as_deref()).await
    }
}

/// Checks the system-user JWT (RS256 from the environment's JWKS, issuer `SuperOffice AS`,
/// audience `spn:{serial}`) and returns its ticket claim.
async fn validate_system_jwt(http: &reqwest::Client, env: &Environment, jwt: &str, serial: Option<&str>) -> Result<Secret> {
    let claims = crate::id_token::verify_signed(http, &env.jwks_uri(), jwt, "SuperOffice AS", None).await?;
    let aud_ok = |a: &str| match serial {
        Some(s) => a == format!("spn:{s}"),
        None => a.starts_with("spn:"),
    };
    let aud_matches = match &claims["aud"] {
        serde_json::Value::String(a) => aud_ok(a),
        serde_json::Value::Array(v) => v.iter().filter_map(|a| a.as_str()).any(aud_ok),
        _ => false,
    };
    if !aud_matches {
        return Err(Error::sign_in(ErrorCode::SystemUserWrongAudience, "the system user token was issued for another tenant"));
    }
    claims[format!("{CLAIM_NS}ticket")]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| Error::sign_in(ErrorCode::SystemUserNoTicket, "the system user token carries no ticket"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_token_has_the_documented_shape() {
        let key = rcgen_free_test_key();
        let now = time::macros::datetime!(2026-02-28 09:05 UTC);
        let signed = sign_system_token("SuperOffice Outbox-abc", &key, now).unwrap_or_else(|e| panic!("{e}"));
        let parts: Vec<&str> = signed.expose().rsplitn(2, '.').collect();
        assert!(parts[1].ends_with(".202602280905"), "{}", parts[1]);
        assert!(parts[1].starts_with("SuperOffice Outbox-abc."));
        let sig = base64::engine::general_purpose::STANDARD.decode(parts[0]).unwrap_or_default();
        assert_eq!(sig.len(), 256, "RSA-2048 PKCS#1 v1.5 signature, standard base64");
    }

    /// A fixed 2048-bit test key (generated for this test only).
    fn rcgen_free_test_key() -> Secret {
        Secret::new(include_str!("../tests/data/system-user-test-key.pem"))
    }
}
