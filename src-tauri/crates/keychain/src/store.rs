//! The keychain store: the platform's native credential store behind a small trait.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use crate::{Error, Result, Secret};

/// Where secrets are kept. The app has exactly one implementation, [`Keychain`]; tests of
/// other crates may use [`MemoryStore`] (feature `test-store`), which the app never builds.
pub trait SecretStore: Send + Sync {
    /// Reads a secret; `Ok(None)` when there is none under that name.
    fn get(&self, name: &str) -> Result<Option<Secret>>;
    /// Stores (or replaces) a secret.
    fn set(&self, name: &str, value: &Secret) -> Result<()>;
    /// Deletes a secret; deleting a missing one is not an error.
    fn delete(&self, name: &str) -> Result<()>;
}

/// The OS keychain, namespaced by a service name (e.g. `so-outbox`).
pub struct Keychain {
    store: Arc<CredentialStore>,
    service: String,
}

impl Keychain {
    /// Opens the platform's native store and proves it keeps what is written (write, read
    /// back, delete a random canary). Any failure is [`Error::Unavailable`] with an actionable
    /// message; there is no fallback.
    pub fn open(service: &str) -> Result<Self> {
        let store = native_store()?;
        let keychain = Keychain { store, service: service.to_owned() };
        keychain.self_test()?;
        Ok(keychain)
    }

    fn entry(&self, name: &str) -> Result<Entry> {
        self.store.build(&self.service, name, entry_modifiers().as_ref()).map_err(|e| Error::Failed(describe(&e)))
    }

    fn self_test(&self) -> Result<()> {
        let name = format!("self-test-{:016x}", rand::random::<u64>());
        let value = Secret::new(format!("canary-{:032x}", rand::random::<u128>()));
        // The inner error's own words, without a second "not available" prefix.
        let unavailable = |what: &str, e: Error| match e {
            Error::Unavailable(m) | Error::Failed(m) => Error::Unavailable(format!("{what}: {m}")),
        };
        self.set(&name, &value).map_err(|e| unavailable("could not store a test entry", e))?;
        let back = self.get(&name).map_err(|e| unavailable("could not read a test entry back", e));
        let deleted = self.delete(&name);
        match back? {
            Some(v) if v == value => {}
            _ => return Err(Error::Unavailable("the keychain did not keep a test entry (is it a non-persistent store?)".into())),
        }
        deleted.map_err(|e| unavailable("could not delete a test entry", e))
    }
}

impl SecretStore for Keychain {
    fn get(&self, name: &str) -> Result<Option<Secret>> {
        match read_text(&self.entry(name)?) {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(&e)),
        }
    }

    fn set(&self, name: &str, value: &Secret) -> Result<()> {
        write_text(&self.entry(name)?, value.expose()).map_err(|e| classify(&e))
    }

    fn delete(&self, name: &str) -> Result<()> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(&e)),
        }
    }
}

fn classify(e: &keyring_core::Error) -> Error {
    match e {
        // A locked collection whose unlock prompt was dismissed (or could not be shown).
        keyring_core::Error::NoStorageAccess(_) => Error::Unavailable(format!(
            "the keychain is locked ({}); unlock it (GNOME Keyring, KWallet, Keychain Access) and start again",
            describe(e)
        )),
        keyring_core::Error::PlatformFailure(_) => Error::Unavailable(describe(e)),
        // Windows' Credential Manager keeps at most 2560 bytes per entry (keyring's own text
        // calls those bytes "chars").
        keyring_core::Error::TooLong(what, limit) if what.contains("password") || what == "secret" => {
            Error::Failed(format!("the secret is too long for the OS keychain (at most {limit} bytes per entry)"))
        }
        _ => Error::Failed(describe(e)),
    }
}

/// keyring's error texts name the failure, never the stored value; the `BadEncoding` variants
/// carry raw bytes, which we do not print.
fn describe(e: &keyring_core::Error) -> String {
    match e {
        keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(_, _) => "a stored entry is not valid text".into(),
        other => other.to_string(),
    }
}

/// How a secret's text is kept. Windows' Credential Manager holds at most 2560 bytes per entry,
/// and keyring's password form stores UTF-16 there: 1280 characters, less than an RSA private
/// key in PEM (the system user's key, about 1.7 KB). So on Windows an entry holds the text's
/// UTF-8 bytes (2560 bytes; no Windows version of the app ever wrote the UTF-16 form).
#[cfg(target_os = "windows")]
fn write_text(entry: &Entry, text: &str) -> keyring_core::Result<()> {
    entry.set_secret(text.as_bytes())
}

#[cfg(target_os = "windows")]
fn read_text(entry: &Entry) -> keyring_core::Result<String> {
    String::from_utf8(entry.get_secret()?).map_err(|e| keyring_core::Error::BadEncoding(e.into_bytes()))
}

#[cfg(not(target_os = "windows"))]
fn write_text(entry: &Entry, text: &str) -> keyring_core::Result<()> {
    entry.set_password(text)
}

#[cfg(not(target_os = "windows"))]
fn read_text(entry: &Entry) -> keyring_core::Result<String> {
    entry.get_password()
}

/// On Windows an entry is a generic credential of the signed-in user, persisted `Local`: kept
/// on this computer only, never roamed with the user's profile (the store's default,
/// `Enterprise`, roams). The secrets belong with the outbox and settings, which live in the
/// local, non-roaming app data; a refresh token roamed to a second computer and rotated there
/// would leave this one holding a dead copy.
#[cfg(target_os = "windows")]
fn entry_modifiers() -> Option<std::collections::HashMap<&'static str, &'static str>> {
    Some(std::collections::HashMap::from([("persistence", "Local")]))
}

#[cfg(not(target_os = "windows"))]
fn entry_modifiers() -> Option<std::collections::HashMap<&'static str, &'static str>> {
    None
}

#[cfg(target_os = "linux")]
fn native_store() -> Result<Arc<CredentialStore>> {
    zbus_secret_service_keyring_store::Store::new().map(|s| s as Arc<CredentialStore>).map_err(|e| {
        Error::Unavailable(format!(
            "no Secret Service on the D-Bus session bus ({}); start gnome-keyring or KWallet and unlock it",
            describe(&e)
        ))
    })
}

#[cfg(target_os = "windows")]
fn native_store() -> Result<Arc<CredentialStore>> {
    windows_native_keyring_store::Store::new().map(|s| s as Arc<CredentialStore>).map_err(|e| Error::Unavailable(describe(&e)))
}

#[cfg(target_os = "macos")]
fn native_store() -> Result<Arc<CredentialStore>> {
    apple_native_keyring_store::keychain::Store::new().map(|s| s as Arc<CredentialStore>).map_err(|e| Error::Unavailable(describe(&e)))
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
fn native_store() -> Result<Arc<CredentialStore>> {
    Err(Error::Unavailable("no supported keychain on this platform".into()))
}

/// An in-memory store for tests of other crates. Never used by the app.
#[cfg(any(test, feature = "test-store"))]
#[derive(Default)]
pub struct MemoryStore {
    map: std::sync::Mutex<std::collections::HashMap<String, Secret>>,
}

#[cfg(any(test, feature = "test-store"))]
impl SecretStore for MemoryStore {
    fn get(&self, name: &str) -> Result<Option<Secret>> {
        let map = self.map.lock().map_err(|_| Error::Failed("poisoned".into()))?;
        Ok(map.get(name).cloned())
    }
    fn set(&self, name: &str, value: &Secret) -> Result<()> {
        let mut map = self.map.lock().map_err(|_| Error::Failed("poisoned".into()))?;
        map.insert(name.to_owned(), value.clone());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<()> {
        let mut map = self.map.lock().map_err(|_| Error::Failed("poisoned".into()))?;
        map.remove(name);
        Ok(())
    }
}
