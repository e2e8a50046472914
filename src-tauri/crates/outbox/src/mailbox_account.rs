//! Which mailbox the rep connected, kept in the rep's own outbox: the provider, the address it
//! sends from, the provider's ids. Kept here, not in `config.json`, because it belongs to one
//! rep of one tenant (or the demo), as the outbox does; the refresh token is in the keychain.

use rusqlite::{params, OptionalExtension};

use crate::store::now;
use crate::{Result, Store};

impl Store {
    /// The connected mailbox, if any. A row this version cannot read counts as none (the rep
    /// connects again) rather than stopping the outbox.
    pub fn mailbox_account(&self) -> Result<Option<mailbox::Account>> {
        let json: Option<String> =
            self.conn().query_row("SELECT account FROM mailbox_account WHERE id = 1", [], |r| r.get(0)).optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Records the connected mailbox (replacing an earlier one), or forgets it (`None`).
    pub fn set_mailbox_account(&self, account: Option<&mailbox::Account>) -> Result<()> {
        let conn = self.conn();
        match account {
            Some(a) => {
                let json = serde_json::to_string(a).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                conn.execute(
                    "INSERT INTO mailbox_account (id, account, connected_at) VALUES (1, ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET account = excluded.account, connected_at = excluded.connected_at",
                    params![json, now()],
                )?;
            }
            None => {
                conn.execute("DELETE FROM mailbox_account", [])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::Store;

    #[test]
    fn the_account_is_kept_replaced_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("o.sqlite")).unwrap();
        assert_eq!(store.mailbox_account().unwrap(), None);
        let mut a = mailbox::Account {
            provider: mailbox::Provider::Microsoft,
            address: "anna@x.example".into(),
            display_name: Some("Anna".into()),
            account_id: "oid-1".into(),
            tenant_id: Some("tid-1".into()),
            granted: vec!["Mail.Send".into()],
        };
        store.set_mailbox_account(Some(&a)).unwrap();
        assert_eq!(store.mailbox_account().unwrap().as_ref(), Some(&a));
        a.provider = mailbox::Provider::Google;
        store.set_mailbox_account(Some(&a)).unwrap();
        drop(store);
        let store = Store::open(&dir.path().join("o.sqlite")).unwrap();
        assert_eq!(store.mailbox_account().unwrap().map(|a| a.provider), Some(mailbox::Provider::Google), "kept across a restart");
        store.set_mailbox_account(None).unwrap();
        assert_eq!(store.mailbox_account().unwrap(), None);
    }
}
