//! What the app remembers between starts, in `config.json` in its data directory. No secrets:
//! the client secret and the SMTP password live in the keychain, written by
//! `so-outbox configure` (or, for the demo tenant, at its start).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Config {
    /// `"demo"` or `"superoffice"` (the configured tenant below).
    pub tenant: Option<String>,
    pub superoffice: Option<TenantConfig>,
    /// Seconds an approval can be undone before it is sent (0–60; default 10).
    pub hold_secs: Option<u64>,
    /// Sending limits per rep.
    pub limits: Option<outbox::Limits>,
    /// `auto` (email agent → SMTP → handoff) or one channel forced by the admin.
    pub channel: Option<outbox::ChannelSetting>,
    /// The document template archived emails get; `None`: the tenant's first outgoing email
    /// template.
    #[serde(default)]
    pub email_template_id: Option<i64>,
}

impl Config {
    pub fn hold(&self) -> std::time::Duration {
        self.hold_secs.map(|s| std::time::Duration::from_secs(s.min(60))).unwrap_or_else(outbox::schedule::hold_default)
    }
}

/// A real SuperOffice tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantConfig {
    /// `sod`, `qaonline`, `online`, or the base URL of an onsite installation.
    pub environment: String,
    /// The tenant id, e.g. `Cust12345`.
    pub context_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The follow-up task type the GTM engine uses for drafted emails.
    pub task_type_id: i64,
    pub smtp: RelayConfig,
    /// The company's app registrations at the reps' mail providers ("Connect your mailbox").
    #[serde(default)]
    pub mailboxes: Vec<MailboxConfig>,
}

/// The company's app registration at one mail provider: a public client (Microsoft Entra
/// "Mobile and desktop applications", redirect `http://localhost`; Google Cloud "Desktop app",
/// whose non-confidential secret is in the keychain). README: "Connecting reps' mailboxes".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxConfig {
    pub provider: mailbox::Provider,
    pub client_id: String,
    /// Microsoft's authority: `organizations` (default) or the company's Entra tenant id.
    #[serde(default)]
    pub tenant: Option<String>,
}

impl MailboxConfig {
    /// A client id without spaces; a Microsoft authority of letters, digits, dots and dashes.
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.trim().is_empty() || self.client_id.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(format!("the {} client id is missing or contains spaces", self.provider.product()));
        }
        if let Some(t) = &self.tenant {
            if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
                return Err(format!("the Microsoft tenant {t:?} is not an Entra tenant id or domain"));
            }
        }
        Ok(())
    }

    /// Where the provider is reached: the real service.
    pub fn endpoints(&self) -> mailbox::Endpoints {
        self.provider.endpoints(self.tenant.as_deref().unwrap_or(mailbox::provider::MICROSOFT_ORGANIZATIONS))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    /// `tls` (implicit TLS, port 465) or `starttls` (required, port 587).
    pub security: outbox::SmtpSecurity,
    pub username: String,
    /// `password` (default) or `xoauth2` (an OAuth access token for the mailbox); the secret
    /// itself is in the keychain.
    #[serde(default)]
    pub auth: outbox::SmtpAuth,
    /// With `xoauth2`: renew the access token at the mail provider (the refresh token is in the
    /// keychain); without it the stored access token is used as it is.
    #[serde(default)]
    pub oauth: Option<MailOAuthConfig>,
    /// A PEM file with an extra CA to trust (onsite relays).
    pub ca_file: Option<PathBuf>,
}

/// The mail provider's OAuth client for renewing the relay's access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailOAuthConfig {
    pub token_url: String,
    pub client_id: String,
    #[serde(default)]
    pub scope: Option<String>,
}

impl MailOAuthConfig {
    /// `https://`, or `http://` on loopback only; a client id without spaces.
    pub fn validate(&self) -> Result<(), String> {
        if !superoffice::transport_ok_str(self.token_url.trim()) {
            return Err("the token endpoint must be an https:// address".into());
        }
        if self.client_id.trim().is_empty() || self.client_id.contains(char::is_whitespace) {
            return Err("the mail provider's client id is missing or contains spaces".into());
        }
        Ok(())
    }

    pub fn core(&self) -> outbox::mail_oauth::MailOAuth {
        outbox::mail_oauth::MailOAuth {
            token_url: self.token_url.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            client_secret: None,
            scope: self.scope.clone().filter(|s| !s.trim().is_empty()),
        }
    }
}

impl RelayConfig {
    /// The one check of a relay, for the command line, the first-run form and the settings: a
    /// host name, a port, a user name, and a provider's OAuth client only with XOAUTH2.
    pub fn validate(&self) -> Result<(), String> {
        if self.host.is_empty() || self.host.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("the SMTP host is missing or contains spaces".into());
        }
        if self.port == 0 {
            return Err("the SMTP port is 1 to 65535".into());
        }
        if self.username.is_empty() || self.username.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("the SMTP user is missing or contains spaces".into());
        }
        match (&self.oauth, self.auth) {
            (Some(_), outbox::SmtpAuth::Password) => Err("renewing a token at the mail provider needs XOAUTH2 sign-in".into()),
            (Some(o), outbox::SmtpAuth::XOAuth2) => o.validate(),
            (None, _) => Ok(()),
        }
    }

    /// The keychain entry of this relay's secret (password, access token or refresh token).
    pub fn keychain_key(&self) -> String {
        crate::secret_names::relay_key(self.auth, self.oauth.is_some(), &self.username, &self.host, self.port)
    }
}

/// `config.json` exists but cannot be read as settings. The app stops at it (a blocker that
/// names the place and the fix) and no save path ever writes over it: a typo in a hand-edited
/// file must not cost the admin the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub path: PathBuf,
    /// serde's words: the field or value and the line and column.
    pub detail: String,
    /// Where a copy of the file was kept when it was first found unreadable.
    pub copy: Option<PathBuf>,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cannot be read: {}. Correct that value (see the README for the settings and their values), or run `so-outbox configure` again; nothing is written over the file until then.",
            self.path.display(),
            self.detail
        )?;
        if let Some(c) = &self.copy {
            write!(f, " A copy of it is kept at {}.", c.display())?;
        }
        Ok(())
    }
}

impl Config {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("config.json")
    }

    /// The settings; `Config::default()` when there is no file yet. A file that cannot be
    /// parsed is an error, never "no settings" (a copy is kept the first time).
    pub fn read(data_dir: &Path) -> Result<Config, Unreadable> {
        let path = Self::path(data_dir);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(Unreadable { path, detail: e.to_string(), copy: None }),
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            let copy = data_dir.join("config.json.unreadable");
            let kept = if copy.exists() { true } else { std::fs::write(&copy, &bytes).is_ok() };
            Unreadable { path, detail: e.to_string(), copy: kept.then_some(copy) }
        })
    }

    /// The settings, or the defaults when they cannot be read (for what only needs a value;
    /// the app itself is blocked by [`Config::read`] before it gets here).
    pub fn load(data_dir: &Path) -> Config {
        Self::read(data_dir).unwrap_or_default()
    }

    /// Changes the settings: under `config.lock` (shared with `so-outbox configure`), reads the
    /// current file (refusing an unreadable one), applies `change`, and writes a unique temp
    /// file, fsyncs it, renames it over `config.json` and fsyncs the directory.
    pub fn update<T>(data_dir: &Path, change: impl FnOnce(&mut Config) -> Result<T, String>) -> Result<T, String> {
        crate::data_dir::prepare(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let lock_path = data_dir.join("config.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        lock.lock().map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        let mut config = Self::read(data_dir).map_err(|e| e.to_string())?;
        let out = change(&mut config)?;
        config.write(data_dir).map_err(|e| format!("cannot write {}: {e}", Self::path(data_dir).display()))?;
        drop(lock);
        Ok(out)
    }

    fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        use std::io::Write as _;
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let path = Self::path(data_dir);
        let tmp = data_dir.join(format!("config.json.{}-{:016x}.tmp", std::process::id(), rand_u64()));
        let result = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            // Private: 0600 on Unix; on Windows the profile's access list (see data_dir.rs).
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            // The rename itself is durable only once the directory is. (Windows has no directory
            // flush through std; NTFS journals the rename, which reaches the disk with its log.)
            #[cfg(unix)]
            std::fs::File::open(data_dir)?.sync_all()?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// A random number for temp-file names (no `rand` dependency in the app crate).
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default());
    h.finish()
}

impl TenantConfig {
    pub fn environment(&self) -> Result<superoffice::Environment, String> {
        Ok(match self.environment.as_str() {
            "sod" => superoffice::Environment::Sod,
            "qaonline" | "stage" => superoffice::Environment::Stage,
            "online" => superoffice::Environment::Online,
            url if superoffice::transport_ok_str(url) => superoffice::Environment::Custom(url.trim_end_matches('/').to_owned()),
            other => return Err(format!("unknown environment '{other}': use sod, qaonline, online or an https:// base URL")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_registration_is_checked_and_older_files_have_none() {
        let m = MailboxConfig { provider: mailbox::Provider::Microsoft, client_id: "3c9a6b1e".into(), tenant: None };
        assert!(m.validate().is_ok());
        assert_eq!(m.endpoints().token, "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
        assert!(MailboxConfig { client_id: "a b".into(), ..m.clone() }.validate().is_err());
        assert!(MailboxConfig { tenant: Some("contoso.example/../x".into()), ..m.clone() }.validate().is_err());
        let json = r#"{"environment":"online","context_id":"Cust1","client_id":"c","task_type_id":7,"smtp":{"host":"h","port":587,"security":"starttls","username":"u","ca_file":null}}"#;
        let t: TenantConfig = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.mailboxes.is_empty(), "a config.json of the version before reads with no mailbox");
    }

    #[test]
    fn a_relay_reads_as_typed_values_and_is_checked_in_one_place() {
        let json = r#"{"host":"smtp.example.com","port":465,"security":"tls","username":"anna@example.com","ca_file":null}"#;
        let mut relay: RelayConfig = serde_json::from_str(json).expect("an earlier version's relay");
        assert_eq!((relay.security, relay.auth), (outbox::SmtpSecurity::ImplicitTls, outbox::SmtpAuth::Password));
        assert!(serde_json::to_string(&relay).expect("json").contains(r#""security":"tls""#));
        assert!(serde_json::from_str::<RelayConfig>(&json.replace(r#""tls""#, r#""none""#)).is_err(), "no plaintext");
        assert_eq!(relay.validate(), Ok(()));
        relay.oauth = Some(MailOAuthConfig { token_url: "https://login.example.com/token".into(), client_id: "c".into(), scope: None });
        assert!(relay.validate().is_err_and(|e| e.contains("XOAUTH2")), "a token endpoint without XOAUTH2");
        relay.auth = outbox::SmtpAuth::XOAuth2;
        assert_eq!(relay.validate(), Ok(()));
        relay.oauth = Some(MailOAuthConfig { token_url: "http://login.example.com/token".into(), client_id: "c".into(), scope: None });
        assert!(relay.validate().is_err(), "http:// off loopback");
        for (host, port, user) in [("", 465, "a"), ("a b", 465, "a"), ("h", 0, "a"), ("h", 465, "")] {
            let r = RelayConfig { host: host.into(), port, username: user.into(), oauth: None, ..relay.clone() };
            assert!(r.validate().is_err(), "{host:?} {port} {user:?}");
        }
    }

    #[test]
    fn an_unreadable_file_blocks_and_survives_every_save() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = br#"{"tenant": "superoffice", "channel": "Handoff", "superoffice": {"environment": "online"}}"#;
        std::fs::write(Config::path(dir.path()), broken).expect("write");
        let e = Config::read(dir.path()).expect_err("a typo is not 'no config'");
        assert!(e.detail.contains("Handoff"), "names the value: {e}");
        assert!(e.to_string().contains("config.json") && e.to_string().contains("Correct"), "{e}");
        let err = Config::update(dir.path(), |c| {
            c.tenant = Some("demo".into());
            Ok(())
        })
        .expect_err("no save writes over it");
        assert!(err.contains("cannot be read"), "{err}");
        assert_eq!(std::fs::read(Config::path(dir.path())).expect("read"), broken, "byte-identical");
        assert_eq!(std::fs::read(dir.path().join("config.json.unreadable")).expect("copy"), broken, "a copy is kept");
    }

    #[test]
    fn updates_are_atomic_and_leave_no_temp_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Config::read(dir.path()).expect("missing is fine").tenant.is_none());
        Config::update(dir.path(), |c| {
            c.hold_secs = Some(3);
            Ok(())
        })
        .expect("update");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let d = dir.path().to_owned();
                std::thread::spawn(move || {
                    Config::update(&d, |c| {
                        c.hold_secs = Some(c.hold_secs.unwrap_or(0) + 1);
                        Ok(i)
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().expect("join").expect("update");
        }
        assert_eq!(Config::read(dir.path()).expect("read").hold_secs, Some(11), "no update lost under the lock");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }
}
