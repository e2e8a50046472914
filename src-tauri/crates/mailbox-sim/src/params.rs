//! Strict parsing of OAuth request parameters (a query string or a form body) for both
//! providers: each parameter at most once, only the documented names, and the form body only
//! with the form content type. The providers' handlers turn a [`ParamError`] into their own
//! documented error shape.

use std::collections::BTreeMap;

use axum::http::{header, HeaderMap};

/// The parameters of one request, by name.
#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

#[derive(Debug, PartialEq, Eq)]
pub enum ParamError {
    /// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    Repeated(String),
    /// Not among the names the endpoint documents.
    Undocumented(String),
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text.
    pub fn parse(text: &str) -> Result<Params, ParamError> {
        let mut map = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
            if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                return Err(ParamError::Repeated(k.into_owned()));
            }
        }
        Ok(Params(map))
    }

    /// The first name not in `documented`.
    pub fn undocumented(&self, documented: &[&str]) -> Option<String> {
        self.0.keys().find(|k| !documented.contains(&k.as_str())).cloned()
    }

    /// Like [`Params::parse`], then refuses names outside `documented`.
    pub fn parse_documented(text: &str, documented: &[&str]) -> Result<Params, ParamError> {
        let p = Params::parse(text)?;
        match p.undocumented(documented) {
            Some(name) => Err(ParamError::Undocumented(name)),
            None => Ok(p),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The first of `names` that is missing or empty.
    pub fn first_missing<'a>(&self, names: &[&'a str]) -> Option<&'a str> {
        names.iter().copied().find(|n| self.get(n).is_none_or(str::is_empty))
    }
}

/// Whether the request's `Content-Type` is `application/x-www-form-urlencoded` (parameters
/// such as `; charset=UTF-8` allowed).
pub fn is_form(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|m| m == "application/x-www-form-urlencoded")
}

/// The lower-cased media type of `Content-Type`, without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_undocumented_names_are_refused() {
        assert_eq!(Params::parse("a=1&a=2").unwrap_err(), ParamError::Repeated("a".into()));
        assert_eq!(Params::parse_documented("a=1&b=2", &["a"]).unwrap_err(), ParamError::Undocumented("b".into()));
        let p = Params::parse_documented("a=x%20y&b=", &["a", "b", "c"]).unwrap();
        assert_eq!(p.get("a"), Some("x y"));
        assert_eq!(p.first_missing(&["a", "b"]), Some("b"));
        assert_eq!(p.first_missing(&["a", "c"]), Some("c"));
    }
}
