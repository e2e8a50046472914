//! The keychain against the Windows Credential Manager (`CredWriteW`/`CredReadW`/`CredDeleteW`
//! through `windows-native-keyring-store`). CI runs it under Wine (`scripts/windows.sh test`),
//! whose advapi32 implements the same calls and keeps the credentials, encrypted, in the Wine
//! prefix's registry; on Windows it runs against the signed-in user's own vault.
#![cfg(target_os = "windows")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

use keychain::{Error, Keychain, Secret, SecretStore};
use keyring_core::api::CredentialStoreApi as _;

const SERVICE: &str = "so-outbox-test";

fn unique(what: &str) -> String {
    format!("{what}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

#[test]
fn stores_reads_and_deletes_in_the_credential_manager() {
    let k = Keychain::open(SERVICE).unwrap_or_else(|e| panic!("keychain: {e}"));
    let name = unique("smtp-password:anna@relay.example:465");
    // Not only ASCII: the store keeps a password as UTF-16.
    let value = Secret::new("CANARY-Grüße-€-🔑-0f9e8d7c");
    k.set(&name, &value).expect("set");
    assert_eq!(k.get(&name).expect("get"), Some(value.clone()));
    // A second handle (as after a restart) sees the same entry: it is really stored.
    let again = Keychain::open(SERVICE).expect("reopen");
    assert_eq!(again.get(&name).expect("get again"), Some(value));
    // Replacing keeps one entry with the new value.
    let rotated = Secret::new("CANARY-rotated");
    k.set(&name, &rotated).expect("replace");
    assert_eq!(again.get(&name).expect("get rotated"), Some(rotated));
    k.delete(&name).expect("delete");
    assert_eq!(again.get(&name).expect("get after delete"), None);
    k.delete(&name).expect("deleting a missing entry is fine");
}

/// What the app writes is a generic credential named `<entry>.<service>`, kept on this
/// computer only (`Local`), not roamed with the profile (the store's default, `Enterprise`).
#[test]
fn entries_are_local_generic_credentials_named_by_entry_and_service() {
    let k = Keychain::open(SERVICE).expect("keychain");
    let name = unique("superoffice-refresh-token:online.superoffice.com:Cust12345");
    k.set(&name, &Secret::new("CANARY-RT")).expect("set");
    let store = windows_native_keyring_store::Store::new().expect("the Windows store");
    let entry = store.build(SERVICE, &name, None).expect("entry");
    let attributes = entry.get_attributes().expect("attributes of the stored credential");
    k.delete(&name).expect("delete");
    assert_eq!(attributes.get("persistence").map(String::as_str), Some("Local"), "{attributes:?}");
    assert_eq!(attributes.get("target_name"), Some(&format!("{name}.{SERVICE}")), "{attributes:?}");
    assert_eq!(attributes.get("username"), Some(&name), "{attributes:?}");
}

/// The Credential Manager keeps at most 2560 bytes per entry. The keychain stores the UTF-8
/// bytes, so an RSA private key in PEM (the demo's and a real system user's key, about 1.7 KB,
/// which as UTF-16 would not fit) is kept whole; one byte over the limit is refused with a
/// message that says so, and the stored value stays as it was.
#[test]
fn entries_hold_up_to_2560_bytes_and_refuse_more_without_storing_it() {
    let k = Keychain::open(SERVICE).expect("keychain");
    let name = unique("superoffice-system-key:online.superoffice.com:Cust12345");
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".repeat(32);
    let pem = Secret::new(format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"));
    assert!(pem.expose().encode_utf16().count() > 1280, "as UTF-16 it would be over 2560 bytes");
    k.set(&name, &pem).expect("an RSA key's PEM fits");
    assert_eq!(k.get(&name).expect("get the PEM"), Some(pem));
    // 2560 bytes, two of them per "ü": the limit counts bytes, not characters.
    let full = Secret::new(format!("{}{}", "ü".repeat(1000), "a".repeat(560)));
    assert_eq!(full.expose().len(), 2560);
    k.set(&name, &full).expect("2560 bytes fit");
    assert_eq!(k.get(&name).expect("get"), Some(full.clone()));
    let err = k.set(&name, &Secret::new(format!("{}b", full.expose()))).expect_err("2561 bytes do not fit");
    assert!(matches!(err, Error::Failed(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("too long for the OS keychain") && text.contains("2560 bytes"), "{text}");
    assert!(!text.contains("üü"), "the message never carries the secret: {text}");
    assert_eq!(k.get(&name).expect("get after the refusal"), Some(full), "the stored value is unchanged");
    k.delete(&name).expect("delete");
}
