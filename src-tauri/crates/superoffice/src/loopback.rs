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
    /// `[::1]` on the same port, for a redirect to `localhost` (which the browser may resolve to
    /// either address); `None` for a redirect to `127.0.0.1`.
    v6: Option<TcpListener>,
    host: &'static str,
    port: u16,
}

/// What a valid redirect carried.
pub enum Redirect {
    Code(String),
    Denied(String),
}

/// What a redirect must look like for one sign-in.
#[derive(Clone, Copy, Debug)]
pub struct RedirectRules<'a> {
    /// Exactly one `state`, equal to this.
    pub state: &'a str,
    /// When the server names itself (`iss`, RFC 9207), it must be this issuer.
    pub issuer: &'a str,
    /// Parameters the provider adds beyond `code`, `state`, `error`, `error_description`,
    /// `session_state` and `iss` (Google adds `scope`, `authuser`, `hd` and `prompt`).
    pub also: &'a [&'a str],
}

/// Parses one request head of SuperOffice's redirect. Returns `None` for anything that is not
/// exactly our redirect.
pub fn parse_redirect(head: &str, expected_state: &str, issuer: &str) -> Option<Redirect> {
    parse_redirect_with(head, &RedirectRules { state: expected_state, issuer, also: &[] })
}

/// Parses one request head under `rules`. Returns `None` for anything that is not exactly our
/// redirect.
pub fn parse_redirect_with(head: &str, rules: &RedirectRules<'_>) -> Option<Redirect> {
    let (expected_state, issuer) = (rules.state, rules.issuer);
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
    if pairs.iter().any(|(k, _)| !allowed.contains(&k.as_str()) && !rules.also.contains(&k.as_str())) {
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
        Ok(Listener { listener, v6: None, host: "127.0.0.1", port })
    }

    /// For a provider whose registration names `http://localhost` (Microsoft's "Mobile and
    /// desktop applications" platform, which ignores the port of a loopback redirect): listens on
    /// 127.0.0.1 and, when this machine has IPv6 loopback and the port is free there, on `[::1]`
    /// too, because the browser resolves `localhost` itself.
    pub async fn bind_localhost() -> Result<Self> {
        let mut l = Listener::bind().await?;
        l.v6 = TcpListener::bind(("::1", l.port)).await.ok();
        l.host = "localhost";
        Ok(l)
    }

    /// `http://127.0.0.1:{port}` (or `http://localhost:{port}`), built as a string: a URL
    /// library would add a trailing slash, which SuperOffice's registered rule does not allow.
    pub fn redirect_uri(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Waits for our redirect until `timeout`; the port closes when this returns. Connections
    /// are served concurrently (up to [`MAX_CONNECTIONS`] at once; more wait in the backlog),
    /// so idle or slow local connections cannot hold the real redirect up.
    pub async fn wait(self, expected_state: &str, issuer: &str, timeout: Duration) -> Result<Redirect> {
        self.wait_for(RedirectRules { state: expected_state, issuer, also: &[] }, timeout).await
    }

    /// [`Listener::wait`] under `rules`.
    pub async fn wait_for(self, rules: RedirectRules<'_>, timeout: Duration) -> Result<Redirect> {
        let also: Vec<String> = rules.also.iter().map(|a| (*a).to_owned()).collect();
        let (expected_state, issuer) = (rules.state, rules.issuer);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut serving = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = accept_either(&self.listener, self.v6.as_ref()), if serving.len() < MAX_CONNECTIONS => {
                    if let Ok((stream, _)) = accepted {
                        let (state, issuer, also) = (expected_state.to_owned(), issuer.to_owned(), also.clone());
                        serving.spawn(async move {
                            let also: Vec<&str> = also.iter().map(String::as_str).collect();
                            handle(stream, &RedirectRules { state: &state, issuer: &issuer, also: &also }).await
                        });
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

/// The next connection on either listener.
async fn accept_either(v4: &TcpListener, v6: Option<&TcpListener>) -> std::io::Result<(TcpStream, std::net::SocketAddr)> {
    match v6 {
        None => v4.accept().await,
        Some(v6) => tokio::select! {
            a = v4.accept() => a,
            a = v6.accept() => a,
        },
    }
}

async fn handle(mut stream: TcpStream, rules: &RedirectRules<'_>) -> Option<Redirect> {
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
    let result = if matches!(read, Ok(Some(()))) { parse_redirect_with(&head, rules) } else { None };
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
    fn a_providers_extra_parameters_pass_only_when_named() {
        let google = "/?state=s1&code=4%2F0Ab&scope=email%20openid&authuser=0&prompt=consent";
        assert!(parse_redirect(&get(google), "s1", ISS).is_none(), "SuperOffice's rules refuse unknown parameters");
        let rules = RedirectRules { state: "s1", issuer: "https://accounts.google.com", also: &["scope", "authuser", "hd", "prompt"] };
        assert!(matches!(parse_redirect_with(&get(google), &rules), Some(Redirect::Code(c)) if c == "4/0Ab"));
        assert!(parse_redirect_with(&get(&format!("{google}&other=1")), &rules).is_none());
        assert!(parse_redirect_with(&get("/?state=s2&code=x&scope=email"), &rules).is_none(), "the state still decides");
    }

    #[tokio::test]
    async fn a_localhost_redirect_is_served_on_both_loopback_addresses() {
        use tokio::io::AsyncWriteExt;
        let l = Listener::bind_localhost().await.unwrap_or_else(|e| panic!("{e}"));
        let uri = l.redirect_uri();
        let port: u16 = uri.strip_prefix("http://localhost:").unwrap_or_else(|| panic!("{uri}")).parse().unwrap_or(0);
        let has_v6 = l.v6.is_some();
        let waiter = tokio::spawn(async move { l.wait("s1", ISS, Duration::from_secs(20)).await });
        let target = if has_v6 { "::1" } else { "127.0.0.1" };
        let mut ok = tokio::net::TcpStream::connect((target, port)).await.unwrap_or_else(|e| panic!("{target}: {e}"));
        ok.write_all(get("/?code=good&state=s1").as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
        let r = waiter.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(r, Ok(Redirect::Code(c)) if c == "good"), "via {target}");
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
