//! The two providers a rep's mailbox can live at, as their public documentation describes them:
//! where to sign in, which scopes to ask for, where the mail API is, and the sending limits the
//! outbox paces to. The sources are in `docs/providers/` (Microsoft: `microsoft.md`, Google:
//! `google.md`), one key per rule; the keys are quoted beside each value here.

use serde::{Deserialize, Serialize};

/// Where the rep's mailbox is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Microsoft 365 (Exchange Online), through Microsoft Graph.
    Microsoft,
    /// Google Workspace (Gmail), through the Gmail API.
    Google,
}

/// The URLs one provider is reached at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    /// Where a refresh token is revoked on sign-out; Microsoft has no such endpoint for a
    /// public client (the rep or an admin revokes sessions), so `None`.
    pub revoke: Option<String>,
    /// The mail API's root: `https://graph.microsoft.com/v1.0` or `https://gmail.googleapis.com/gmail/v1`.
    pub api: String,
    /// The issuer an `iss` in the redirect must name (RFC 9207).
    pub issuer: String,
}

/// Documented sending limits of one mailbox, which the outbox paces to before the provider
/// throttles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct ProviderLimits {
    /// Messages in any minute.
    pub messages_per_minute: u32,
    /// Messages in any 24 hours.
    pub messages_per_day: u32,
    /// Recipients (To + Cc + Bcc) in any 24 hours.
    pub recipients_per_day: u32,
    /// Recipients of one message through the API.
    pub recipients_per_message: u32,
}

/// Microsoft's `{tenant}` for work and school accounts of any organisation ([AC] "Request an
/// authorization code"): reps of every customer tenant sign in to one multitenant registration.
pub const MICROSOFT_ORGANIZATIONS: &str = "organizations";

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Microsoft => "microsoft",
            Provider::Google => "google",
        }
    }

    /// The name a rep knows.
    pub fn product(self) -> &'static str {
        match self {
            Provider::Microsoft => "Microsoft 365",
            Provider::Google => "Google Workspace",
        }
    }

    /// The real service. `tenant` is Microsoft's authority (`organizations`, or the tenant id
    /// from an earlier sign-in's `tid`); Google has none.
    pub fn endpoints(self, tenant: &str) -> Endpoints {
        match self {
            // [AC] endpoints; [MG]/[SM] Graph v1.0.
            Provider::Microsoft => Endpoints {
                authorize: format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"),
                token: format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
                revoke: None,
                api: "https://graph.microsoft.com/v1.0".into(),
                issuer: format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            },
            // [NA] endpoints, [T7] revoke, [G1] Gmail v1.
            Provider::Google => Endpoints {
                authorize: "https://accounts.google.com/o/oauth2/v2/auth".into(),
                token: "https://oauth2.googleapis.com/token".into(),
                revoke: Some("https://oauth2.googleapis.com/revoke".into()),
                api: "https://gmail.googleapis.com/gmail/v1".into(),
                issuer: "https://accounts.google.com".into(),
            },
        }
    }

    /// The same paths under `base` (the demo's and the tests' simulator on loopback). Whether
    /// `base` may receive tokens is checked where they are sent (`superoffice::transport_ok`).
    pub fn endpoints_at(self, base: &str, tenant: &str) -> Endpoints {
        let real = self.endpoints(tenant);
        let moved = |url: &str| match url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j)) {
            Some(path) => format!("{}{}", base.trim_end_matches('/'), &url[path..]),
            None => base.to_owned(),
        };
        Endpoints {
            authorize: moved(&real.authorize),
            token: moved(&real.token),
            revoke: real.revoke.as_deref().map(moved),
            api: moved(&real.api),
            issuer: real.issuer,
        }
    }

    /// What the authorize request asks for.
    ///
    /// - Microsoft: Graph's `Mail.Send` (send), `Mail.ReadWrite` (create the draft whose
    ///   immutable id finds the Sent copy after a lost answer), `User.Read` (the mailbox's
    ///   address from `/me`), `offline_access` (a refresh token), `openid profile` (`tid`,
    ///   `oid`): [AC], [SC], [PM], [MS], [UG]. All user-consentable unless the tenant blocks
    ///   user consent (AADSTS90094, the admin consents).
    /// - Google: `gmail.send` (sensitive, not restricted: [G3], [RS]) and `openid email` for the
    ///   address, which `gmail.send` cannot read ([I3]). No read scope: every scope that can
    ///   find a sent message is restricted ([L4]), so a lost answer is the rep's question.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Provider::Microsoft => &[
                "openid",
                "profile",
                "offline_access",
                "https://graph.microsoft.com/User.Read",
                "https://graph.microsoft.com/Mail.Send",
                "https://graph.microsoft.com/Mail.ReadWrite",
            ],
            Provider::Google => &["openid", "email", "https://www.googleapis.com/auth/gmail.send"],
        }
    }

    /// The granted scopes without which nothing can be sent, as the token response names
    /// them (Microsoft drops the Graph prefix there: `Mail.Send`; Google keeps the URL).
    pub fn required_grants(self) -> &'static [&'static str] {
        match self {
            Provider::Microsoft => &["Mail.Send", "Mail.ReadWrite", "User.Read"],
            Provider::Google => &["https://www.googleapis.com/auth/gmail.send"],
        }
    }

    /// The `scope` of a refresh: Microsoft answers with a token for the first resource named
    /// ([AC] "Refresh the access token"), so Graph's scopes are named; Google's refresh takes
    /// none ([T4]).
    pub fn refresh_scope(self) -> Option<String> {
        match self {
            Provider::Microsoft => Some(
                self.scopes()
                    .iter()
                    .filter(|s| s.starts_with("https://graph.microsoft.com/") || **s == "offline_access")
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Provider::Google => None,
        }
    }

    /// Parameters the provider adds to the redirect besides `code` and `state` ([A4]: Google's
    /// `scope`, `authuser`, `hd`, `prompt`; Microsoft's `session_state` is allowed for all).
    pub fn redirect_extras(self) -> &'static [&'static str] {
        match self {
            Provider::Microsoft => &[],
            Provider::Google => &["scope", "authuser", "hd", "prompt"],
        }
    }

    /// Whether the redirect goes to `http://localhost:{port}` (Microsoft: the "Mobile and
    /// desktop applications" platform registers `http://localhost` and ignores the port, [RU];
    /// `127.0.0.1` cannot be entered in the portal) or `http://127.0.0.1:{port}` (Google [A3]).
    pub fn redirects_to_localhost(self) -> bool {
        matches!(self, Provider::Microsoft)
    }

    /// The documented limits ([MS-limits] Exchange Online: 30 messages a minute, 10,000
    /// recipients a day, 500 recipients a message; [WSL] Google Workspace: 2,000 messages and
    /// 10,000 recipients a day, 100 recipients a message through the API; [QUO] 6,000 quota
    /// units a minute per user at 100 a send = 60 a minute).
    pub fn limits(self) -> ProviderLimits {
        match self {
            Provider::Microsoft => ProviderLimits {
                messages_per_minute: 30,
                messages_per_day: 10_000,
                recipients_per_day: 10_000,
                recipients_per_message: 500,
            },
            Provider::Google => {
                ProviderLimits { messages_per_minute: 60, messages_per_day: 2_000, recipients_per_day: 10_000, recipients_per_message: 100 }
            }
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "microsoft" | "m365" | "office365" => Ok(Provider::Microsoft),
            "google" | "gmail" => Ok(Provider::Google),
            other => Err(format!("unknown mailbox provider {other:?}: microsoft or google")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulator_serves_the_real_paths() {
        let e = Provider::Microsoft.endpoints_at("http://127.0.0.1:4000/", "organizations");
        assert_eq!(e.authorize, "http://127.0.0.1:4000/organizations/oauth2/v2.0/authorize");
        assert_eq!(e.token, "http://127.0.0.1:4000/organizations/oauth2/v2.0/token");
        assert_eq!(e.api, "http://127.0.0.1:4000/v1.0");
        let g = Provider::Google.endpoints_at("http://127.0.0.1:4001", "");
        assert_eq!(g.authorize, "http://127.0.0.1:4001/o/oauth2/v2/auth");
        assert_eq!(g.token, "http://127.0.0.1:4001/token");
        assert_eq!(g.revoke.as_deref(), Some("http://127.0.0.1:4001/revoke"));
        assert_eq!(g.api, "http://127.0.0.1:4001/gmail/v1");
    }

    #[test]
    fn names_round_trip_and_limits_are_the_documented_ones() {
        for p in [Provider::Microsoft, Provider::Google] {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
        }
        assert!("yahoo".parse::<Provider>().is_err());
        assert_eq!(Provider::Microsoft.limits().messages_per_minute, 30);
        assert_eq!(Provider::Google.limits().messages_per_day, 2_000);
        assert!(
            !Provider::Google.scopes().iter().any(|s| s.contains("readonly") || *s == "https://mail.google.com/"),
            "no restricted scope"
        );
    }
}
