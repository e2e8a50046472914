//! Plays the user in the system browser, for tests and the demo: opens the authorize URL,
//! presses "Accept" (or "Cancel") on the simulator's consent page, and follows the redirect to
//! the app's loopback listener as a browser would (the fragment stays in the browser). Plain
//! HTTP/1.1 over loopback only.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::consent::CONSENT_PATH;

/// Walks `authorize_url` through the consent page.
///
/// `Ok` is the URL the browser was finally sent to (the app's loopback redirect, carrying
/// `code`/`state` or `error`); it is requested from the loopback listener when one is there.
/// `Err` is the text of the error page the provider showed instead of redirecting (e.g. one
/// carrying `AADSTS50011` or `Error 400: redirect_uri_mismatch`), or what stopped the browser.
pub async fn consent(authorize_url: &str, allow: bool) -> Result<String, String> {
    let url = url::Url::parse(authorize_url).map_err(|e| e.to_string())?;
    let page = request(&url, "GET", None).await?;
    let location = if let Some(l) = page.location {
        l
    } else if page.status == 200 && page.body.contains("name=\"request_id\"") {
        let request_id = page
            .body
            .split("name=\"request_id\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .ok_or("no request id on the consent page")?
            .to_owned();
        let form = format!("request_id={request_id}&decision={}", if allow { "allow" } else { "deny" });
        let post_url = url.join(CONSENT_PATH).map_err(|e| e.to_string())?;
        let answer = request(&post_url, "POST", Some(&form)).await?;
        answer.location.ok_or_else(|| format!("{} {}", answer.status, text_of(&answer.body)))?
    } else {
        return Err(format!("{} {}", page.status, text_of(&page.body)));
    };
    let target = url::Url::parse(&location).map_err(|e| format!("bad redirect {location}: {e}"))?;
    let loopback = matches!(target.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !loopback || target.scheme() != "http" {
        return Err(format!("the test browser follows only http loopback redirects, not {location}"));
    }
    let mut visit = target.clone();
    visit.set_fragment(None);
    if let Err(e) = request(&visit, "GET", None).await {
        tracing::debug!(error = %e, %location, "no loopback listener answered the redirect");
    }
    Ok(location)
}

/// The visible text of an HTML page, on one line.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn request(url: &url::Url, method: &str, form: Option<&str>) -> Result<Page, String> {
    let host = url.host_str().ok_or("no host")?;
    let connect_host = match host {
        "127.0.0.1" | "localhost" => host,
        "[::1]" => "::1",
        other => return Err(format!("the test browser only visits loopback, not {other}")),
    };
    let port = url.port_or_known_default().ok_or("no port")?;
    let mut stream = tokio::net::TcpStream::connect((connect_host, port)).await.map_err(|e| format!("{url}: {e}"))?;
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nUser-Agent: mailbox-sim-test-browser\r\nAccept: text/html\r\n");
    if let Some(f) = form {
        req.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", f.len()));
    }
    req.push_str("\r\n");
    req.push_str(form.unwrap_or(""));
    stream.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
    let location =
        head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.trim().to_owned()));
    Ok(Page { status, location, body: body.to_owned() })
}
