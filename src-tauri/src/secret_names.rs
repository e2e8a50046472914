//! Where each secret lives in the keychain: one name per secret, built from what it belongs
//! to (the environment's host, the tenant, the app registration, the relay), so a secret of
//! one tenant, environment, relay or the demo is never read or replaced for another; and the
//! one-time move from the names of the version before.

use keychain::{Keychain, Secret, SecretStore};
use outbox::SmtpAuth;
use superoffice::Environment;

/// The keychain entry of a relay password, of its XOAUTH2 access token, or (when the token is
/// renewed) of its refresh token.
pub fn relay_key(auth: SmtpAuth, renewed: bool, username: &str, host: &str, port: u16) -> String {
    match (auth, renewed) {
        (SmtpAuth::Password, _) => format!("smtp-password:{username}@{host}:{port}"),
        (SmtpAuth::XOAuth2, false) => format!("smtp-xoauth2-token:{username}@{host}:{port}"),
        (SmtpAuth::XOAuth2, true) => format!("smtp-xoauth2-refresh:{username}@{host}:{port}"),
    }
}

/// The keychain entry of a tenant's client secret: named by the environment it belongs to
/// (its host), the tenant and the app registration, so no tenant of another environment (nor
/// the demo) ever reads or replaces it.
pub fn client_secret_key(env: &Environment, context_id: &str, client_id: &str) -> String {
    format!("superoffice-client-secret:{}:{context_id}:{client_id}", env.key())
}

/// The keychain entry of a mail provider's desktop client secret (Google's; not confidential,
/// RFC 8252 §8.5, but a secret all the same).
pub fn mailbox_client_secret_key(provider: mailbox::Provider, client_id: &str) -> String {
    format!("mailbox-client-secret:{}:{client_id}", provider.as_str())
}

/// The keychain entry of a rep's mailbox refresh token: named by the rep's outbox owner (the
/// tenant with its environment, or the demo, and the rep) and the app registration, so no other
/// rep, tenant or the demo ever sends through it.
pub fn mailbox_refresh_key(owner: &outbox::Owner, provider: mailbox::Provider, client_id: &str) -> String {
    format!("mailbox-refresh:{}:{client_id}:{}:{}", provider.as_str(), owner.tenant, owner.rep)
}

/// Reads `key`; a secret stored by a version that named entries without the environment
/// (`before`) is moved to `key` once, for the tenant configured now.
pub(crate) fn get_moved(keychain: &Keychain, key: &str, before: &str) -> Result<Option<Secret>, keychain::Error> {
    if let Some(s) = keychain.get(key)? {
        return Ok(Some(s));
    }
    let Some(old) = keychain.get(before)? else { return Ok(None) };
    keychain.set(key, &old)?;
    keychain.delete(before)?;
    Ok(Some(old))
}

/// The keychain entries of a tenant's system user: its token and the partner's private key,
/// named by environment and tenant like the client secret.
pub fn system_user_keys(env: &Environment, context_id: &str) -> (String, String) {
    let env = env.key();
    (format!("superoffice-system-token:{env}:{context_id}"), format!("superoffice-system-key:{env}:{context_id}"))
}

#[cfg(test)]
mod tests {
    use keychain::{Keychain, Secret, SecretStore};

    /// Secrets are named by the environment they belong to: the same context id and client id
    /// on two environments are two entries; an entry of the version before (no environment in
    /// its name) moves to the configured environment's name once, and is gone from the old one.
    #[test]
    fn secrets_are_named_by_their_environment_and_old_names_move_once() {
        if !crate::tests::keychain_session() {
            return;
        }
        use superoffice::Environment;
        let (online, sod, local) = (Environment::Online, Environment::Sod, Environment::Custom("http://127.0.0.1:4711".into()));
        let keys = [&online, &sod, &local].map(|e| super::client_secret_key(e, "Cust1", "app"));
        assert_eq!(keys.iter().collect::<std::collections::HashSet<_>>().len(), 3, "{keys:?}");
        assert_ne!(super::system_user_keys(&online, "Cust1"), super::system_user_keys(&sod, "Cust1"));
        assert_eq!(
            super::client_secret_key(&local, "C", "a"),
            super::client_secret_key(&Environment::Custom("http://127.0.0.1:9".into()), "C", "a"),
            "the simulator's port changes, its name does not"
        );

        let keychain = Keychain::open(&format!("so-outbox-test-keys-{}", std::process::id())).unwrap_or_else(|e| panic!("keychain: {e}"));
        let old = "superoffice-client-secret:Cust1:app";
        keychain.set(old, &Secret::new("provisioned-before")).unwrap_or_else(|e| panic!("{e}"));
        let moved = super::get_moved(&keychain, &keys[0], old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(moved.as_ref().map(Secret::expose), Some("provisioned-before"));
        assert_eq!(keychain.get(&keys[0]).unwrap_or_else(|e| panic!("{e}")).as_ref().map(Secret::expose), Some("provisioned-before"));
        assert!(keychain.get(old).unwrap_or_else(|e| panic!("{e}")).is_none(), "the old name is gone");
        assert!(super::get_moved(&keychain, &keys[1], old).unwrap_or_else(|e| panic!("{e}")).is_none(), "nothing for another environment");
        let _ = keychain.delete(&keys[0]);
    }
}
