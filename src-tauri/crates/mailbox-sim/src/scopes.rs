//! Scope strings as each provider spells and compares them: Microsoft's resource-prefixed
//! permissions (a bare name means Graph) and OIDC scopes, Google's short identity names and long
//! API scope URLs. Everything is kept in one canonical form so consent, tokens and API checks
//! compare like with like.

use crate::Provider;

pub const GRAPH: &str = "https://graph.microsoft.com/";
pub const OUTLOOK: &str = "https://outlook.office.com/";
pub const GOOGLE_AUTH: &str = "https://www.googleapis.com/auth/";
pub const GMAIL_FULL: &str = "https://mail.google.com/";

/// [SC] "OpenID Connect scopes": not tied to a resource.
const MS_OIDC: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// The delegated Graph permissions the simulated app registration may ask for ([UG], [SM],
/// [PM], [MG], [LM]); `.default` asks for the registration's static list ([SC] ".default").
const GRAPH_PERMISSIONS: [&str; 7] =
    ["User.Read", "User.ReadWrite", "Mail.Send", "Mail.ReadWrite", "Mail.Read", "Mail.ReadBasic", ".default"];
/// SIM: the static permissions the registration lists, granted for `.default`.
const GRAPH_STATIC: [&str; 3] = ["User.Read", "Mail.Send", "Mail.ReadWrite"];
/// [OAUTHIMAP]: `https://outlook.office.com/SMTP.Send`.
const OUTLOOK_PERMISSIONS: [&str; 1] = ["SMTP.Send"];

/// Google's identity scopes; NA Step 5: an `id_token` is returned for `openid`, `profile` or
/// `email`.
const GOOGLE_IDENTITY: [&str; 3] =
    ["openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"];
/// The Gmail scopes of DISC (send, list, get, profile) plus the identity scopes.
const GOOGLE_KNOWN: [&str; 9] = [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.metadata",
    "https://www.googleapis.com/auth/gmail.addons.current.action.compose",
    "https://www.googleapis.com/auth/gmail.addons.current.message.readonly",
    "https://www.googleapis.com/auth/gmail.addons.current.message.metadata",
];

/// Why a scope list was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ScopeError {
    Unknown(String),
    /// [SC] ".default": "Do not mix `.default` with named scopes".
    DefaultMixed,
    Empty,
}

/// Splits and canonicalises a space-separated scope parameter; duplicates dropped.
pub fn parse(provider: Provider, raw: &str) -> Result<Vec<String>, ScopeError> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.split(' ').filter(|s| !s.is_empty()) {
        let c = match provider {
            Provider::Microsoft => ms_canonical(s),
            Provider::Google => google_canonical(s),
        }
        .ok_or_else(|| ScopeError::Unknown(s.to_owned()))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(ScopeError::Empty);
    }
    if provider == Provider::Microsoft {
        let defaults = out.iter().filter(|s| s.ends_with("/.default")).count();
        if defaults > 0 && out.iter().any(|s| !is_oidc(provider, s) && !s.ends_with("/.default")) {
            return Err(ScopeError::DefaultMixed);
        }
        if defaults > 0 {
            // SIM: `.default` stands for the registration's static Graph permissions.
            out.retain(|s| !s.ends_with("/.default"));
            out.extend(GRAPH_STATIC.iter().map(|p| format!("{GRAPH}{p}")));
        }
    }
    Ok(out)
}

/// [SC]: "`User.Read` ≡ `https://graph.microsoft.com/User.Read`"; scope names are compared
/// without regard to case (INF), and kept in the documented spelling.
fn ms_canonical(s: &str) -> Option<String> {
    if let Some(o) = MS_OIDC.iter().find(|o| o.eq_ignore_ascii_case(s)) {
        return Some((*o).to_owned());
    }
    let lower = s.to_ascii_lowercase();
    let (resource, name, known): (&str, &str, &[&str]) = if lower.starts_with(GRAPH) {
        (GRAPH, &s[GRAPH.len()..], &GRAPH_PERMISSIONS)
    } else if lower.starts_with(OUTLOOK) {
        (OUTLOOK, &s[OUTLOOK.len()..], &OUTLOOK_PERMISSIONS)
    } else if !s.contains('/') && !s.contains(':') {
        (GRAPH, s, &GRAPH_PERMISSIONS)
    } else {
        return None;
    };
    known.iter().find(|k| k.eq_ignore_ascii_case(name)).map(|k| format!("{resource}{k}"))
}

/// NA/T3: `email` comes back as `…/userinfo.email`, `profile` as `…/userinfo.profile`; other
/// names are case-sensitive ("space-delimited, case-sensitive strings").
fn google_canonical(s: &str) -> Option<String> {
    let c = match s {
        "email" => format!("{GOOGLE_AUTH}userinfo.email"),
        "profile" => format!("{GOOGLE_AUTH}userinfo.profile"),
        "openid" => "openid".to_owned(),
        other if other.starts_with(GOOGLE_AUTH) || other == GMAIL_FULL => other.to_owned(),
        _ => return None,
    };
    (GOOGLE_IDENTITY.contains(&c.as_str()) || GOOGLE_KNOWN.contains(&c.as_str())).then_some(c)
}

/// Identity scopes: never unticked at consent, not tied to an API.
pub fn is_oidc(provider: Provider, s: &str) -> bool {
    match provider {
        Provider::Microsoft => MS_OIDC.contains(&s),
        Provider::Google => GOOGLE_IDENTITY.contains(&s),
    }
}

/// The Microsoft resource a canonical scope belongs to (`None` for OIDC scopes).
pub fn ms_resource(s: &str) -> Option<&'static str> {
    if s.starts_with(GRAPH) {
        Some(GRAPH)
    } else if s.starts_with(OUTLOOK) {
        Some(OUTLOOK)
    } else {
        None
    }
}

/// What the user consents to: the requested scopes, minus the ones a test unticked with
/// `grant_only` (identity scopes always stay).
pub fn consented(provider: Provider, requested: &[String], only: Option<&[String]>) -> Vec<String> {
    let Some(only) = only else { return requested.to_vec() };
    let keep: Vec<String> = only.iter().filter_map(|s| parse(provider, s).ok()).flatten().collect();
    requested.iter().filter(|s| is_oidc(provider, s) || keep.contains(s)).cloned().collect()
}

/// Whether `granted` holds any of `needed` (canonical names).
pub fn any_of(granted: &[String], needed: &[&str]) -> bool {
    granted.iter().any(|g| needed.contains(&g.as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_scopes_default_to_graph_and_refuse_mixing_default() {
        let s = parse(Provider::Microsoft, "openid offline_access mail.send https://outlook.office.com/SMTP.Send").unwrap();
        assert_eq!(s, ["openid", "offline_access", "https://graph.microsoft.com/Mail.Send", "https://outlook.office.com/SMTP.Send"]);
        assert_eq!(parse(Provider::Microsoft, "https://graph.microsoft.com/.default Mail.Read"), Err(ScopeError::DefaultMixed));
        assert_eq!(parse(Provider::Microsoft, "Files.Read"), Err(ScopeError::Unknown("Files.Read".into())));
        assert_eq!(parse(Provider::Microsoft, " "), Err(ScopeError::Empty));
        assert_eq!(ms_resource("https://outlook.office.com/SMTP.Send"), Some(OUTLOOK));
    }

    #[test]
    fn google_short_identity_names_become_long_and_granular_consent_keeps_identity() {
        let s = parse(Provider::Google, "openid email https://www.googleapis.com/auth/gmail.send").unwrap();
        assert_eq!(s[1], "https://www.googleapis.com/auth/userinfo.email");
        assert!(parse(Provider::Google, "https://www.googleapis.com/auth/GMAIL.SEND").is_err());
        let only = vec!["https://www.googleapis.com/auth/gmail.readonly".to_owned()];
        assert_eq!(consented(Provider::Google, &s, Some(&only)), ["openid", "https://www.googleapis.com/auth/userinfo.email"]);
    }
}
