//! The loopback listener's request parser (`superoffice::loopback::parse_redirect`).

use superoffice::fuzz::{parse_redirect, Redirect};

/// The `state` this sign-in sent (the shape of the real one: 32 random bytes, base64url).
pub const STATE: &str = "q3Vf0W9kL2xZc1pBdEdQbW5KeTRoN3JpUXo4dVlsWEU";
pub const ISSUER: &str = "https://sod.superoffice.com";
const ALLOWED: &[&str] = &["code", "state", "error", "error_description", "session_state", "iss"];

/// The input as the request head the listener read (decoded as it decodes it). Accepted is
/// only `GET /?…` over HTTP/1.x with exactly one `state` equal to ours, no unknown
/// parameter, an `iss` (if any) equal to the issuer, and either one non-empty `code` or one
/// `error`; only the request line counts; the same request with another expected state is
/// refused; a code read from it reads back the same after re-encoding.
pub fn loopback_redirect(data: &[u8]) {
    let head = String::from_utf8_lossy(data);
    let result = view(parse_redirect(&head, STATE, ISSUER));
    let first = head.lines().next().unwrap_or_default();
    assert_eq!(
        view(parse_redirect(&format!("{first}\r\nHost: 127.0.0.1\r\n\r\n"), STATE, ISSUER)),
        result,
        "not decided by the request line"
    );
    let Some((is_code, value)) = result else { return };

    let mut parts = first.split(' ');
    assert_eq!(parts.next(), Some("GET"));
    let target = parts.next().unwrap_or_default();
    assert!(parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) && parts.next().is_none(), "{first:?}");
    let Some(("/", query)) = target.split_once('?') else { panic!("accepted target {target:?}") };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let all = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
    assert!(pairs.iter().all(|(k, _)| ALLOWED.contains(&k.as_str())), "unknown parameter accepted: {query:?}");
    assert_eq!(all("state"), [STATE]);
    assert!(all("iss").iter().all(|i| *i == ISSUER) && all("iss").len() <= 1);
    if is_code {
        assert!(!value.is_empty());
        assert_eq!(all("code"), [value.as_str()]);
        assert!(all("error").is_empty());
    } else {
        assert!(all("code").is_empty());
        assert_eq!(all("error").len(), 1);
        assert!(value.starts_with(all("error")[0]));
    }

    assert!(parse_redirect(&head, "another-state", ISSUER).is_none(), "accepted for another sign-in");
    if is_code {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let again = format!("GET /?code={}&state={} HTTP/1.1\r\n\r\n", enc(&value), enc(STATE));
        assert_eq!(view(parse_redirect(&again, STATE, ISSUER)), Some((true, value)), "the code does not survive re-encoding");
    }
}

fn view(r: Option<Redirect>) -> Option<(bool, String)> {
    r.map(|r| match r {
        Redirect::Code(c) => (true, c),
        Redirect::Denied(d) => (false, d),
    })
}
