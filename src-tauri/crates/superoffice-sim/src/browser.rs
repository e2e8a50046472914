//! Plays the rep's part in the system browser for tests: opens the authorize URL, presses
//! "Allow" (or "Deny") on the consent page and follows the redirect to the app's loopback
//! listener, like a browser would. Plain HTTP/1.1 over loopback only.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the browser saw at the end.
#[derive(Debug)]
pub struct BrowserResult {
    /// Status of the loopback page the app served.
    pub loopback_status: u16,
    pub loopback_body: String,
}

/// Follows `authorize_url` through consent to the redirect target.
pub async fn consent(authorize_url: &str, allow: bool) -> Result<BrowserResult, String> {
    let url = url::Url::parse(authorize_url).map_err(|e| e.to_string())?;
    let page = request(&url, "GET", None).await?;
    if page.status != 200 {
        return Err(format!("authorize page answered {}: {}", page.status, page.body));
    }
    let request_id = page
        .body
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("no consent form on the authorize page")?
        .to_owned();
    let form = format!("request_id={request_id}&decision={}", if allow { "allow" } else { "deny" });
    let post_url = url.join("/login/common/oauth/authorize").map_err(|e| e.to_string())?;
    let consent = request(&post_url, "POST", Some(&form)).await?;
    let location = consent.location.ok_or_else(|| format!("consent answered {} without a redirect: {}", consent.status, consent.body))?;
    let target = url::Url::parse(&location).map_err(|e| e.to_string())?;
    let landing = request(&target, "GET", None).await?;
    Ok(BrowserResult { loopback_status: landing.status, loopback_body: landing.body })
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn request(url: &url::Url, method: &str, form: Option<&str>) -> Result<Page, String> {
    let host = url.host_str().ok_or("no host")?;
    if host != "127.0.0.1" && host != "localhost" {
        return Err(format!("the test browser only visits loopback, not {host}"));
    }
    let port = url.port_or_known_default().ok_or("no port")?;
    let mut stream = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nUser-Agent: so-outbox-test-browser\r\n");
    if let Some(f) = form {
        req.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", f.len()));
    }
    req.push_str("\r\n");
    if let Some(f) = form {
        req.push_str(f);
    }
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
