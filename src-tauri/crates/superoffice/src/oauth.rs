//! The one OAuth 2.0 token client: SuperOffice's code exchange (RFC 6749 §4.1.3) and refresh
//! (§6), and the mail provider's refresh for the relay's XOAUTH2 token (the `outbox` crate's
//! `mail_oauth`), post their forms here and read failures one way (§5.2):
//!
//! | answer | [`Failure`] | what follows |
//! | --- | --- | --- |
//! | `invalid_grant` | `SignInAgain` | the refresh token or code is no longer honoured |
//! | `invalid_client` | `Configuration` | the client id or secret is wrong |
//! | 5xx, 429, no answer | `Transient` ([`TokenError::is_transient`]) | try again later |
//! | any other refusal, an answer that is no token, an endpoint not allowed | `Rejected` | someone has to look |
//!
//! A token is only ever sent to an `https://` endpoint (or plain `http://` to a loopback IP):
//! [`crate::transport_ok_str`], checked before anything is sent. Errors never carry a token or
//! the form; the provider's `error_description` is kept, cut to 200 characters.

use std::time::Duration;

use keychain::Secret;

/// A token endpoint's answer.
pub struct Tokens {
    pub access_token: Secret,
    /// `expires_in`, within a minute and a day; `None` when the endpoint did not say (each
    /// caller has its own default).
    pub expires_in: Option<Duration>,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    /// The scopes granted, space-separated, when the endpoint says (RFC 6749 §5.1; a user may
    /// grant fewer than were asked for).
    pub scope: Option<String>,
}

/// Why no token came back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The endpoint may not receive a token or secret; nothing was sent.
    #[error("the token endpoint must be an https:// address (host {host}); nothing was sent")]
    NotAllowed { host: String },
    /// No answer: connection refused or reset, DNS, TLS, timeout.
    #[error("the token endpoint did not answer: {detail}")]
    Unreachable { detail: String, timeout: bool },
    /// An error status, with the OAuth error code (empty when the body had none).
    #[error("the token endpoint refused (HTTP {status}): {error}{}", description.as_deref().map(|d| format!(", {d}")).unwrap_or_default())]
    Refused { status: u16, error: String, description: Option<String>, retry_after: Option<u64> },
    /// A success status without a token.
    #[error("the token endpoint's answer is not a token: {0}")]
    BadAnswer(String),
}

/// What a failed token request means, for every caller alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// `invalid_grant`: sign in again (or store a new refresh token).
    SignInAgain,
    /// `invalid_client`: the app registration's client id or secret.
    Configuration,
    /// 5xx, 429 or no answer: try again later.
    Transient,
    /// Anything else: the request or the answer is wrong.
    Rejected,
}

impl TokenError {
    pub fn failure(&self) -> Failure {
        match self {
            TokenError::Unreachable { .. } => Failure::Transient,
            TokenError::Refused { status, .. } if *status >= 500 || *status == 429 => Failure::Transient,
            TokenError::Refused { error, .. } if error == "invalid_grant" => Failure::SignInAgain,
            TokenError::Refused { error, .. } if error == "invalid_client" => Failure::Configuration,
            TokenError::Refused { .. } | TokenError::NotAllowed { .. } | TokenError::BadAnswer(_) => Failure::Rejected,
        }
    }

    /// Worth trying again later: 5xx, 429, no answer.
    pub fn is_transient(&self) -> bool {
        self.failure() == Failure::Transient
    }
}

/// Posts `form` to the token endpoint and reads the answer.
pub async fn request(http: &reqwest::Client, endpoint: &str, form: &[(&str, String)]) -> Result<Tokens, TokenError> {
    if !crate::transport_ok_str(endpoint) {
        let host = url::Url::parse(endpoint).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "?".into());
        return Err(TokenError::NotAllowed { host });
    }
    let unreachable = |e: reqwest::Error| TokenError::Unreachable { timeout: e.is_timeout(), detail: e.without_url().to_string() };
    let response = http.post(endpoint).form(form).send().await.map_err(unreachable)?;
    let status = response.status();
    let retry_after =
        response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let text = response.text().await.map_err(unreachable)?;
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if !status.is_success() {
        return Err(TokenError::Refused {
            status: status.as_u16(),
            error: body["error"].as_str().unwrap_or_default().to_owned(),
            description: body["error_description"]
                .as_str()
                .map(|d| d.chars().filter(|c| !c.is_control()).take(200).collect::<String>())
                .filter(|d| !d.is_empty()),
            retry_after,
        });
    }
    let text_of = |key: &str| body[key].as_str().filter(|t| !t.is_empty()).map(Secret::new);
    let access_token = text_of("access_token")
        .ok_or_else(|| TokenError::BadAnswer(if body.is_object() { "no access_token".into() } else { "not a JSON object".into() }))?;
    // A number, or (some providers) a number in a string.
    let expires_in = body["expires_in"].as_u64().or_else(|| body["expires_in"].as_str().and_then(|s| s.trim().parse().ok()));
    Ok(Tokens {
        access_token,
        expires_in: expires_in.map(|s| Duration::from_secs(s.clamp(60, 86_400))),
        refresh_token: text_of("refresh_token"),
        id_token: text_of("id_token"),
        scope: body["scope"].as_str().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, error: &str) -> TokenError {
        TokenError::Refused { status, error: error.into(), description: None, retry_after: None }
    }

    #[test]
    fn one_classification() {
        assert_eq!(refused(400, "invalid_grant").failure(), Failure::SignInAgain);
        assert_eq!(refused(401, "invalid_client").failure(), Failure::Configuration);
        assert_eq!(refused(400, "invalid_scope").failure(), Failure::Rejected);
        assert_eq!(refused(400, "").failure(), Failure::Rejected);
        for transient in [refused(500, ""), refused(503, "invalid_grant"), refused(429, "")] {
            assert!(transient.is_transient(), "{transient:?}");
        }
        assert!(TokenError::Unreachable { detail: "refused".into(), timeout: false }.is_transient());
        assert!(!TokenError::BadAnswer("no access_token".into()).is_transient());
        assert!(!TokenError::NotAllowed { host: "example.com".into() }.is_transient());
    }

    #[tokio::test]
    async fn nothing_goes_to_an_endpoint_that_is_not_allowed() {
        let http = reqwest::Client::new();
        for url in ["http://localhost.attacker.example/token", "http://localhost:9/token", "ftp://127.0.0.1/token", "not a url"] {
            let form = [("refresh_token", "rt-secret".to_owned())];
            match request(&http, url, &form).await {
                Err(e @ TokenError::NotAllowed { .. }) => assert!(!e.to_string().contains("rt-secret"), "{url}: {e}"),
                Err(other) => panic!("{url}: {other:?}"),
                Ok(_) => panic!("{url}: a token"),
            }
        }
    }
}
