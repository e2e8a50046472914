//! Sending one request to a mail API and reading its answer the way both providers document
//! errors: Graph's `{"error":{"code":"…","message":"…"}}` ([ERR]) and Gmail's
//! `{"error":{"code":403,"message":"…","errors":[{"reason":"…"}]}}` ([G6]); the wait a
//! throttled answer asks for, from `Retry-After` (seconds, [THR]) or from Gmail's "Retry after
//! <time>" in the message ([G6], no header). Tokens only go over `superoffice::transport_ok`.

use std::time::Duration;

use crate::{Error, Result};

/// The one HTTP client for the mail APIs: no redirects followed (a token must not follow one
/// to another host), bounded waits.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Refuses to send a token anywhere but `https://` (or plain `http://` to a loopback IP).
pub fn check_transport(url: &str) -> Result<()> {
    if superoffice::transport_ok_str(url) {
        Ok(())
    } else {
        Err(Error::BadAnswer(format!("the mail API must be an https:// address, not {url:?}; nothing was sent")))
    }
}

/// The request could not be made or got no answer.
pub fn unreachable(e: reqwest::Error) -> Error {
    Error::Unreachable { timeout: e.is_timeout(), connect: e.is_connect(), detail: e.without_url().to_string() }
}

/// A success's body, or the API's error.
pub async fn read(response: reqwest::Response) -> Result<(u16, String)> {
    let status = response.status().as_u16();
    let header_wait = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
    let text = response.text().await.map_err(unreachable)?;
    if (200..300).contains(&status) {
        return Ok((status, text));
    }
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let error = &body["error"];
    // Graph: a string code. Gmail: a number code, the reason in errors[0].
    let provider_code = error["code"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| error["errors"][0]["reason"].as_str().map(str::to_owned))
        .or_else(|| error["status"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let message: String = error["message"].as_str().unwrap_or_default().chars().filter(|c| !c.is_control()).take(300).collect();
    let retry_after = header_wait.or_else(|| retry_after_in(&message, time::OffsetDateTime::now_utc()));
    Err(Error::Api { status, provider_code, message, retry_after })
}

/// Gmail's "User-rate limit exceeded.  Retry after 2026-09-11T20:00:00.000Z": the wait until then.
fn retry_after_in(message: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let at = message.split("Retry after ").nth(1)?.split_whitespace().next()?;
    let at = time::OffsetDateTime::parse(at.trim_end_matches('.'), &time::format_description::well_known::Rfc3339).ok()?;
    let wait = at - now;
    Some(if wait.is_positive() { Duration::from_secs_f64(wait.as_seconds_f64().min(86_400.0)) } else { Duration::ZERO })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_names_its_wait_in_the_message() {
        let now = time::macros::datetime!(2026-09-11 19:59:30 UTC);
        let msg = "User-rate limit exceeded.  Retry after 2026-09-11T20:00:00.000Z";
        assert_eq!(retry_after_in(msg, now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after_in("Rate Limit Exceeded", now), None);
        assert_eq!(retry_after_in("Retry after yesterday", now), None);
        let past = time::macros::datetime!(2026-09-11 21:00:00 UTC);
        assert_eq!(retry_after_in(msg, past), Some(Duration::ZERO));
    }

    #[test]
    fn tokens_go_only_over_the_transport_rule() {
        assert!(check_transport("https://graph.microsoft.com/v1.0/me").is_ok());
        assert!(check_transport("http://127.0.0.1:4000/v1.0/me").is_ok());
        assert!(check_transport("http://graph.microsoft.com/v1.0/me").is_err());
        assert!(check_transport("http://localhost.attacker.example/v1.0").is_err());
    }
}
