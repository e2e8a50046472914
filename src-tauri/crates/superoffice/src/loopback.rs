//! The one-shot loopback listener that receives the authorization response (RFC 8252 §7.3).
//!
//! Binds 127.0.0.1 only, on a random port. The redirect URI is exactly `http://127.0.0.1:{port}`
//! with no path and no trailing slash: the Native-app template registers the regular
//! expression `^http://127.0.0.1\:\d{4,10}$` (SuperOffice docs,
//! `docs/en/developer-portal/create-app/native-app.md`), the authorize endpoint compares the
//! redirect URI exactly (`docs/en/api/authentication/online/sign-in-user/auth-code-flow.md`),
//! and SuperOffice's own native sample redirects to `http://127.0.0.1:{port}`. The browser then
//! requests `GET /?code=…`, so the listener accepts only the path `/`, whose query has exactly
//! one `state` equal to ours and exactly one `code` (or an `error`). Anything else gets a fixed
//! 400 page and the listener keeps waiting, so a racing local process cannot end the flow.
//! Reads are bounded in size and time; nothing from the request is echoed back.

use codes::ErrorCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{Error, Result};

/// The path the browser requests when it follows a redirect to `http://127.0.0.1:{port}`.
pub const CALLBACK_PATH: &str = "/";
const MAX_REQUEST: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; each is done within [`READ_TIMEOUT`].
const MAX_CONNECTIONS: usize = 64;

pub struct Listener {
    listener: TcpListener,
    port: u16,
}

/// What a valid redirect carried.
pub enum Redirect {
    Code(String),
    Denied(String),
}

/// Parses one request head. Returns `None` for anything that is not exactly our redirect.
pub fn parse_redirect(head: &str, expected_state: &str, issuer: &str) -> Option<Redirect> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if method != "GET" || !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    let (path, query) = target.split_once('?')?;
    if path != CALLBACK_PATH {
        return None;
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let one = |k: &str| -> Option<Option<String>> {
        let mut it = pairs.iter().filter(|(n, _)| n == k);
        let first = it.next().map(|(_, v)| v.clone());
        if it.next().is_some() {
            None
        } else {
            Some(first)
        }
    };
    let state = one("state")??;
    if state != expected_state {
        return None;
    }
    // RFC 9207: when the server names itself, it must be the issuer we started with.
    if let Some(iss) = one("iss")? {
        if iss != issuer {
            return None;
        }
    }
    let allowed = ["code", "state", "error", "error_description", "session_state", "iss"];
    if pairs.iter().any(|(k, _)| !allowed.contains(&k.as_str())) {
        return None;
    }
    match (one("code")?, one("error")?) {
        (Some(code), None) if !code.is_empty() => Some(Redirect::Code(code)),
        (None, Some(err)) => {
            let desc = one("error_description").flatten().unwrap_or_default();
            Some(Redirect::Denied(if desc.is_empty() { err } else { format!("{err}: {desc}") }))
        }
        _ => None,
    }
}

impl Listener {
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Error::sign_in(ErrorCode::LoopbackUnavailable, format!("could not open a loopback port: {e}")))?;
        let port = listener.local_addr().map_err(|e| Error::sign_in(ErrorCode::LoopbackUnavailable, e.to_string()))?.port();
        Ok(Listener { listener, port })
    }

    /// `http://127.0.0.1:{port}`, built as a string: a URL library would add a trailing slash,
    /// which the registered rule does not allow.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits for our redirect until `timeout`; the port closes when this returns. Connections
    /// are served concurrently (up to [`MAX_CONNECTIONS`] at once; more wait in the backlog),
    /// so idle or slow local connections cannot hold the real redirect up.
    pub async fn wait(self, expected_state: &str, issuer: &str, timeout: Duration) -> Result<Redirect> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut serving = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if serving.len() < MAX_CONNECTIONS => {
                    if let Ok((stream, _)) = accepted {
                        let (state, issuer) = (expected_state.to_owned(), issuer.to_owned());
                        serving.spawn(async move { handle(stream, &state, &issuer).await });
                    }
                }
                Some(done) = serving.join_next(), if !serving.is_empty() => {
                    if let Ok(Some(redirect)) = done {
                        return Ok(redirect);
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(Error::SignInCancelled("the browser did not come back in time".into()));
                }
            }
        }
    }
}

async fn handle(mut stream: TcpStream, expected_state: &str, issuer: &str) -> Option<Redirect> {
    let mut buf = Vec::with_capacity(1024);
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 1024];
        while buf.len() < MAX_REQUEST && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    })
    .await;
    let head = String::from_utf8_lossy(&buf).into_owned();
    let result = if matches!(read, Ok(Some(()))) { parse_redirect(&head, expected_state, issuer) } else { None };
    let (status, body) = match &result {
        Some(Redirect::Code(_)) => ("200 OK", "Signed in. You can close this tab and return to SuperOffice Outbox."),
        Some(Redirect::Denied(_)) => ("200 OK", "Sign-in was cancelled. You can close this tab and return to SuperOffice Outbox."),
        None => ("400 Bad Request", "This address only accepts the sign-in response of SuperOffice Outbox."),
    };
    let page =
        format!("<!doctype html><meta charset=\"utf-8\"><title>SuperOffice Outbox</title><p style=\"font-family:sans-serif\">{body}</p>");
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://sod.superoffice.com";

    fn get(target: &str) -> String {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    #[test]
    fn accepts_exactly_our_redirect() {
        assert!(matches!(parse_redirect(&get("/?code=abc&state=s1"), "s1", ISS), Some(Redirect::Code(c)) if c == "abc"));
        assert!(matches!(parse_redirect(&get("/?error=access_denied&state=s1"), "s1", ISS), Some(Redirect::Denied(_))));
    }

    #[tokio::test]
    async fn the_listener_gives_up_after_its_timeout_and_closes() {
        let l = Listener::bind().await.unwrap_or_else(|e| panic!("{e}"));
        let uri = l.redirect_uri();
        let port = uri.strip_prefix("http://127.0.0.1:").unwrap_or_default();
        assert!(!port.is_empty() && port.chars().all(|c| c.is_ascii_digit()), "no path, no trailing slash: {uri}");
        let started = std::time::Instant::now();
        let r = l.wait("s1", ISS, Duration::from_millis(300)).await;
        assert!(matches!(r, Err(Error::SignInCancelled(_))), "a timeout is a clean cancel");
        assert!(started.elapsed() < Duration::from_secs(5));
        let port: u16 = port.parse().unwrap_or(0);
        assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the port is closed afterwards");
    }

    #[tokio::test]
    async fn a_slow_or_oversized_request_does_not_stop_the_listener() {
        use tokio::io::AsyncWriteExt;
        let l = Listener::bind().await.unwrap_or_else(|e| panic!("{e}"));
        let port: u16 = l.redirect_uri().trim_start_matches("http://127.0.0.1:").parse().unwrap_or(0);
        let waiter = tokio::spawn(async move { l.wait("s1", ISS, Duration::from_secs(20)).await });
        // 64 KiB of garbage, then a proper redirect on a new connection.
        let mut junk = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap_or_else(|e| panic!("{e}"));
        let _ = junk.write_all(&vec![b'A'; 64 * 1024]).await;
        drop(junk);
        let mut ok = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap_or_else(|e| panic!("{e}"));
        ok.write_all(get("/?code=good&state=s1").as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
        let r = waiter.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(r, Ok(Redirect::Code(c)) if c == "good"));
    }

    #[tokio::test]
    async fn idle_local_connections_do_not_hold_up_the_redirect() {
        use tokio::io::AsyncWriteExt;
        let l = Listener::bind().await.unwrap_or_else(|e| panic!("{e}"));
        let port: u16 = l.redirect_uri().trim_start_matches("http://127.0.0.1:").parse().unwrap_or(0);
        let waiter = tokio::spawn(async move { l.wait("s1", ISS, Duration::from_secs(30)).await });
        // Seventy connections that send nothing (more than are served at once).
        let mut idle = Vec::new();
        for _ in 0..70 {
            idle.push(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap_or_else(|e| panic!("{e}")));
        }
        let started = std::time::Instant::now();
        let mut ok = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap_or_else(|e| panic!("{e}"));
        ok.write_all(get("/?code=good&state=s1").as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
        let r = waiter.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(r, Ok(Redirect::Code(c)) if c == "good"));
        // At most one round of read timeouts for the connections beyond the bound.
        assert!(started.elapsed() < READ_TIMEOUT + Duration::from_secs(2), "took {:?}", started.elapsed());
        drop(idle);
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "/?code=abc&state=other",
            "/?code=abc",
            "/?code=abc&state=s1&state=s1",
            "/?code=a&code=b&state=s1",
            "/?code=abc&state=s1&extra=1",
            "/other?code=abc&state=s1",
            "/callback?code=abc&state=s1",
            "/",
            "/?state=s1",
            "/?code=&state=s1",
            "/?code=abc&state=s1&iss=https%3A%2F%2Fevil.example",
        ] {
            assert!(parse_redirect(&get(bad), "s1", ISS).is_none(), "accepted {bad}");
        }
        assert!(parse_redirect("POST /?code=a&state=s1 HTTP/1.1\r\n\r\n", "s1", ISS).is_none());
        assert!(parse_redirect("\u{0}\u{1}garbage", "s1", ISS).is_none());
        assert!(matches!(
            parse_redirect(&get("/?code=abc&state=s1&iss=https%3A%2F%2Fsod.superoffice.com"), "s1", ISS),
            Some(Redirect::Code(_))
        ));
    }
}
