//! The app registration's redirect rules, checked by the authorize endpoint.
//!
//! A registration holds a list of allowed redirect URLs, and a URL may be a regular expression:
//! "You can register (whitelist) additional URLs. If you plan to use multiple endpoints,
//! consider submitting a URL that incorporates a regular expression"
//! (`docs/en/developer-portal/create-app/config/redirects.md`). The Native app template "Adds
//! `^http://127.0.0.1\:\d{4,10}$` as an allowed redirect URL"
//! (`docs/en/developer-portal/create-app/native-app.md`), and the redirect_uri "must exactly
//! match one of the redirect URIs for your registered application"
//! (`docs/en/api/authentication/online/sign-in-user/auth-code-flow.md`).
//!
//! So a `redirect_uri` is allowed when it equals a rule, or when a rule, as a regular
//! expression, matches the **whole** of it. By default `http://127.0.0.1:5555` is allowed and
//! `http://127.0.0.1:5555/`, `http://127.0.0.1:5555/callback` and `http://localhost:5555` are
//! not. (`.../sign-in-user/native-apps.md` shows `http://127.0.0.1:7890/desktop-callback/` as
//! an example; such a URL works only if the registration lists a rule for it.)

use regex::Regex;

/// Whether `uri` matches one of `rules` exactly.
pub fn allowed(rules: &[String], uri: &str) -> bool {
    rules.iter().any(|rule| rule == uri || whole_match(rule, uri))
}

fn whole_match(rule: &str, uri: &str) -> bool {
    Regex::new(&format!("^(?:{rule})$")).is_ok_and(|re| re.is_match(uri))
}

/// Every rule must be a valid regular expression (an exact URL is one too).
pub fn validate(rules: &[String]) -> Result<(), String> {
    for rule in rules {
        Regex::new(rule).map_err(|e| format!("redirect rule {rule:?} is not a regular expression: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::NATIVE_APP_REDIRECT_RULE;

    #[test]
    fn the_native_template_allows_a_port_and_nothing_else() {
        let rules = vec![NATIVE_APP_REDIRECT_RULE.to_owned()];
        assert!(validate(&rules).is_ok());
        assert!(allowed(&rules, "http://127.0.0.1:5555"));
        assert!(allowed(&rules, "http://127.0.0.1:49152"));
        for refused in [
            "http://127.0.0.1:5555/",
            "http://127.0.0.1:5555/callback",
            "http://127.0.0.1:555",
            "http://localhost:5555",
            "https://127.0.0.1:5555",
            "http://127.0.0.1:5555?x=1",
            "http://127.0.0.1:5555\nhttp://127.0.0.1:5556",
            "http://[::1]:5555",
        ] {
            assert!(!allowed(&rules, refused), "{refused}");
        }
        let more = vec![NATIVE_APP_REDIRECT_RULE.to_owned(), "http://127.0.0.1:7890/desktop-callback/".to_owned()];
        assert!(allowed(&more, "http://127.0.0.1:7890/desktop-callback/"));
        assert!(validate(&["(".to_owned()]).is_err());
    }
}
