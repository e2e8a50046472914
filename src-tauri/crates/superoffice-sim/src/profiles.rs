//! Tenant permission profiles: what the tenant, the app registration, the signed-in rep and the
//! tenant's system user may do, kept as JSON data files in `profiles/*.json`.
//!
//! The built-in files are embedded with `include_str!` so the binary and tests need no files
//! at run time; further profiles can be loaded from a path (or posted to the control API) and
//! the simulator can switch between them while it runs.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// What the tenant, the app registration, the rep and the system user are allowed to do.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The tenant is running (state API `IsRunning`). When false, REST answers 503.
    pub running: bool,
    /// State API `State`; defaults to `Running` / `OfflineMaintenance` after `running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// "Access to (agents): Email" on the app registration.
    pub email_agent_granted: bool,
    /// "Access to (agents): CRMScript" on the app registration.
    pub crmscript_granted: bool,
    /// Each refresh returns a new refresh token and invalidates the old one.
    #[serde(default)]
    pub refresh_token_rotation: bool,
    /// The signed-in rep.
    pub rep: RepProfile,
    /// The tenant's system user (partner system-user flow).
    #[serde(default)]
    pub system_user: SystemUserProfile,
}

/// The signed-in rep's rights and set-up.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RepProfile {
    /// The rep's role may create archive documents (`POST Document`; 403 otherwise).
    pub archive_rights: bool,
    /// The rep has a SuperOffice Inbox account whose address is the rep's first email.
    pub inbox_account: bool,
    /// The rep holds the Marketing User licence.
    pub marketing_licence: bool,
    /// Fixed answers for matching REST requests made as the rep.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// The system user's behaviour. It "is not restricted by functional rights or data rights",
/// but the app registration's agent grants still apply, and overrides can reproduce what was
/// observed on a real tenant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SystemUserProfile {
    /// `PartnerSystemUser/Authenticate` succeeds.
    pub enabled: bool,
    /// The system user may create archive documents.
    pub archive_rights: bool,
    /// Fixed answers for matching REST requests made as the system user.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

impl Default for SystemUserProfile {
    fn default() -> Self {
        SystemUserProfile { enabled: true, archive_rights: true, overrides: Vec::new() }
    }
}

/// A fixed SuperOffice error answer for REST paths containing `path_contains`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Override {
    pub path_contains: String,
    /// Only this HTTP method (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub status: u16,
    pub error_type: String,
    pub message: String,
}

impl Override {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        path.contains(&self.path_contains) && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// The embedded profile files.
const BUILTIN: &[(&str, &str)] = &[
    ("full", include_str!("../profiles/full.json")),
    ("seed-feb-2026", include_str!("../profiles/seed-feb-2026.json")),
    ("no-inbox", include_str!("../profiles/no-inbox.json")),
    ("no-archive-rights", include_str!("../profiles/no-archive-rights.json")),
    ("maintenance", include_str!("../profiles/maintenance.json")),
];

/// The profile the demo tenant starts with: the seed's situation.
pub const DEMO_PROFILE: &str = "seed-feb-2026";

impl Profile {
    /// Parses a profile file.
    pub fn from_json(json: &str) -> Result<Profile, String> {
        let p: Profile = serde_json::from_str(json).map_err(|e| format!("not a profile: {e}"))?;
        if p.name.trim().is_empty() {
            return Err("a profile needs a name".into());
        }
        Ok(p)
    }

    /// Reads and parses a profile file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Profile, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Profile::from_json(&text)
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<Profile> {
        BUILTIN.iter().find(|(n, _)| *n == name).and_then(|(_, json)| Profile::from_json(json).ok())
    }

    /// All built-in profiles, in a stable order.
    pub fn builtins() -> Vec<Profile> {
        BUILTIN.iter().filter_map(|(_, json)| Profile::from_json(json).ok()).collect()
    }

    /// The state API's `State`.
    pub fn state(&self) -> String {
        match (&self.state, self.running) {
            (Some(s), _) => s.clone(),
            (None, true) => "Running".into(),
            (None, false) => "OfflineMaintenance".into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_is_named_after_its_file() {
        for (name, json) in BUILTIN {
            let p = Profile::from_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
            assert!(!p.description.is_empty());
        }
        assert_eq!(Profile::builtins().len(), BUILTIN.len());
    }

    #[test]
    fn seed_profile_matches_the_analysis() {
        let p = Profile::builtin("seed-feb-2026").expect("seed");
        assert!(p.running && !p.email_agent_granted && !p.crmscript_granted && !p.rep.marketing_licence);
        assert!(p.rep.archive_rights && p.system_user.archive_rights);
        assert!(p.system_user.overrides.iter().any(|o| o.matches("POST", "/Cust1/api/v1/Shipment") && o.status == 500));
        let m = Profile::builtin("maintenance").expect("maintenance");
        assert_eq!((m.running, m.state().as_str()), (false, "OfflineMaintenance"));
    }

    #[test]
    fn profiles_load_from_a_path() {
        let dir = std::env::temp_dir().join(format!("sim-profile-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("custom.json");
        let mut p = Profile::builtin("full").expect("full");
        p.name = "custom".into();
        std::fs::write(&file, serde_json::to_string(&p).expect("json")).expect("write");
        assert_eq!(Profile::from_path(&file).expect("load"), p);
        assert!(Profile::from_path(dir.join("missing.json")).is_err());
        assert!(Profile::from_json("{\"name\":\"x\"}").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
