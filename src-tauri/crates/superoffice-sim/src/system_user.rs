//! The system-user (back channel) flow of reference §2: the partner app's registration (its
//! RSA key pair, its system token, its application token) and
//! `POST /Login/api/PartnerSystemUser/Authenticate`, which checks a signed system token and
//! returns a JWT carrying a ticket that REST accepts as `Authorization: SOTicket <ticket>`
//! together with `SO-AppToken: <client secret>`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::oidc::{random_token, CLAIM_NS};
use crate::{lock, Sim};

/// Tickets are valid for 6 hours with sliding expiration (documented).
const TICKET_TTL: Duration = Duration::from_secs(6 * 3600);
/// How far the signed timestamp may be from the simulator's clock.
const MAX_SKEW_SECS: i64 = 15 * 60;

/// What the partner got when registering the app (the test plays the partner).
#[derive(Clone, Debug)]
pub struct SystemUserRegistration {
    /// The `system_token` claim, `SuperOffice Outbox-<random>`.
    pub system_token: String,
    /// The partner's private RSA key (PKCS#8 PEM) that signs the system token.
    pub private_key_pem: String,
    /// The application token, which is the client secret.
    pub app_token: String,
}

fn stamp(at: OffsetDateTime) -> Result<String, String> {
    let f = time::macros::format_description!("[year][month][day][hour][minute]");
    at.to_offset(time::UtcOffset::UTC).format(&f).map_err(|e| e.to_string())
}

impl SystemUserRegistration {
    /// Signs the system token as the partner does: `{token}.{yyyyMMddHHmm}.{base64(RSA-SHA256)}`.
    pub fn sign(&self, at: OffsetDateTime) -> Result<String, String> {
        let message = format!("{}.{}", self.system_token, stamp(at)?);
        let key = EncodingKey::from_rsa_pem(self.private_key_pem.as_bytes()).map_err(|e| e.to_string())?;
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::RS256).map_err(|e| e.to_string())?;
        let raw = URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?;
        Ok(format!("{message}.{}", STANDARD.encode(raw)))
    }
}

/// The simulator's side of the partner registration, and the tickets it issued.
pub struct Partner {
    pub system_token: String,
    private_key_pem: String,
    public_key: DecodingKey,
    tickets: Mutex<HashMap<String, Instant>>,
}

impl Partner {
    pub fn new() -> Result<Self, String> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())?;
        let public_key = DecodingKey::from_rsa_pem(pair.public_key_pem().as_bytes()).map_err(|e| e.to_string())?;
        Ok(Partner {
            system_token: format!("SuperOffice Outbox-{}", random_token(18).replace(['-', '_'], "x")),
            private_key_pem: pair.serialize_pem(),
            public_key,
            tickets: Mutex::default(),
        })
    }

    pub fn registration(&self, app_token: &str) -> SystemUserRegistration {
        SystemUserRegistration {
            system_token: self.system_token.clone(),
            private_key_pem: self.private_key_pem.clone(),
            app_token: app_token.to_owned(),
        }
    }

    /// Checks `{token}.{yyyyMMddHHmm}.{base64 signature}`.
    pub fn verify(&self, signed: &str, now: OffsetDateTime) -> Result<(), String> {
        let mut parts = signed.rsplitn(3, '.');
        let (Some(sig), Some(ts), Some(token)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("The signed system token is malformed".into());
        };
        if token != self.system_token {
            return Err("Unknown system token".into());
        }
        let f = time::macros::format_description!("[year][month][day][hour][minute]");
        let at = time::PrimitiveDateTime::parse(ts, &f).map_err(|_| "The time stamp of the signed system token is malformed")?;
        if (now.unix_timestamp() - at.assume_utc().unix_timestamp()).abs() > MAX_SKEW_SECS {
            return Err("The signed system token has expired or is not yet valid".into());
        }
        let raw = STANDARD.decode(sig).map_err(|_| "The signature is not base64")?;
        let message = format!("{token}.{ts}");
        match jsonwebtoken::crypto::verify(&URL_SAFE_NO_PAD.encode(raw), message.as_bytes(), &self.public_key, Algorithm::RS256) {
            Ok(true) => Ok(()),
            _ => Err("The signature of the system token is invalid".into()),
        }
    }

    pub fn issue_ticket(&self, context_id: &str) -> String {
        let ticket = format!("7T:{context_id}.{}", random_token(30));
        lock(&self.tickets).insert(ticket.clone(), Instant::now() + TICKET_TTL);
        ticket
    }

    /// A valid ticket slides its expiry forward.
    pub fn ticket_valid(&self, ticket: &str) -> bool {
        let mut tickets = lock(&self.tickets);
        match tickets.get_mut(ticket) {
            Some(expiry) if *expiry > Instant::now() => {
                *expiry = Instant::now() + TICKET_TTL;
                true
            }
            _ => false,
        }
    }
}

fn failure(message: &str) -> Json<Value> {
    Json(json!({"IsSuccessful": false, "Token": null, "ErrorMessage": message}))
}

/// `POST /Login/api/PartnerSystemUser/Authenticate`. Errors come back as `IsSuccessful: false`
/// with HTTP 200, as the service does.
pub async fn authenticate(State(sim): State<Arc<Sim>>, body: axum::body::Bytes) -> Json<Value> {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else { return failure("The request is not JSON") };
    let field = |k: &str| req[k].as_str().unwrap_or("").to_owned();
    let tenant = lock(&sim.tenant).clone();
    if !tenant.profile.system_user.enabled {
        return failure("The system user is not enabled for this application on this tenant");
    }
    if field("ApplicationToken") != sim.client.client_secret {
        return failure("Invalid application token");
    }
    if !field("ContextIdentifier").eq_ignore_ascii_case(&tenant.context_id) {
        return failure("Unknown context identifier, or the application is not approved for it");
    }
    if let Err(e) = sim.partner.verify(&field("SignedSystemToken"), OffsetDateTime::now_utc()) {
        return failure(&e);
    }
    let Some(system) = tenant.system_associate() else { return failure("The tenant has no system user") };
    let ticket = sim.partner.issue_ticket(&tenant.context_id);
    if field("ReturnTokenType").eq_ignore_ascii_case("Ticket") {
        return Json(json!({"IsSuccessful": true, "Token": ticket, "ErrorMessage": ""}));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let ns = |k: &str| format!("{CLAIM_NS}{k}");
    let webapi_url = format!("{}/{}/api/", sim.base_url, tenant.context_id);
    let mut claims = json!({
        "iss": "SuperOffice AS",
        "aud": format!("spn:{}", tenant.serial),
        "sub": system.username,
        "iat": now, "nbf": now, "exp": now + TICKET_TTL.as_secs() as i64,
    });
    claims[ns("ticket")] = json!(ticket);
    claims[ns("ctx")] = json!(tenant.context_id);
    claims[ns("associateid")] = json!(system.id.to_string());
    claims[ns("webapi_url")] = json!(webapi_url);
    claims[ns("serial")] = json!(tenant.serial);
    claims[ns("company_name")] = json!(tenant.company_name);
    match sim.oidc.sign(&claims) {
        Ok(jwt) => Json(json!({"IsSuccessful": true, "Token": jwt, "ErrorMessage": ""})),
        Err(e) => failure(&e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_and_tampering_is_caught() {
        let p = Partner::new().expect("partner");
        let reg = p.registration("secret");
        assert!(reg.system_token.starts_with("SuperOffice Outbox-") && !reg.system_token.contains('.'));
        let now = OffsetDateTime::now_utc();
        let signed = reg.sign(now).expect("sign");
        assert_eq!(signed.split('.').nth(1).map(str::len), Some(12), "yyyyMMddHHmm");
        p.verify(&signed, now).expect("valid");
        assert!(p.verify(&signed, now + time::Duration::minutes(20)).is_err(), "stale");
        let old = reg.sign(now - time::Duration::minutes(30)).expect("sign");
        assert!(p.verify(&old, now).is_err());
        let (head, sig) = signed.rsplit_once('.').expect("parts");
        let mut raw = STANDARD.decode(sig).expect("b64");
        raw[0] ^= 1;
        assert!(p.verify(&format!("{head}.{}", STANDARD.encode(raw)), now).is_err());
        let other = Partner::new().expect("other").registration("secret");
        let forged = SystemUserRegistration { system_token: reg.system_token.clone(), ..other }.sign(now).expect("sign");
        assert!(p.verify(&forged, now).is_err(), "signed with another key");
        let t = p.issue_ticket("Cust1");
        assert!(t.starts_with("7T:") && p.ticket_valid(&t) && !p.ticket_valid("7T:nope"));
    }
}
