//! Whose outbox a database is: one tenant and one rep.
//!
//! Why it exists (issue 13): one outbox used to hold every tenant's, every rep's and the
//! demo's drafts, de-duplicated by bare appointment id, and the scheduler sent and archived
//! whatever it found through whatever session was active. Now each tenant and rep has a
//! database of their own whose `owner` is fixed on first open; opening it for anyone else is
//! refused, every row is stamped with the owner (the schema refuses a row of anyone else), and
//! a delivery pipeline refuses to send or archive from an outbox that is not its rep's.

use crate::{Error, Result, Store};
use rusqlite::OptionalExtension;

/// A tenant (its environment's base address and context id) and a rep (associate id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// `{environment base}/{context id}`, e.g. `https://online.superoffice.com/Cust26720`;
    /// the demo's is `demo/{context id}` (its address changes with every start).
    pub tenant: String,
    pub rep: i64,
}

impl Owner {
    /// The owner for a tenant at `environment_base` (no trailing slash) and a rep.
    pub fn new(environment_base: &str, context_id: &str, rep: i64) -> Self {
        Owner { tenant: format!("{}/{}", environment_base.trim_end_matches('/'), context_id), rep }
    }

    /// The demo's rep (the demo tenant lives apart from every real one).
    pub fn demo(context_id: &str, rep: i64) -> Self {
        Owner { tenant: format!("demo/{context_id}"), rep }
    }

    /// A directory name for this owner's outbox: readable, safe on every file system, and
    /// distinct for distinct owners (a hash of the whole tenant key settles look-alikes).
    pub fn dir_name(&self) -> String {
        let readable: String = self
            .tenant
            .rsplit('/')
            .next()
            .unwrap_or("")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .take(40)
            .collect();
        let hash = &crate::mime::sha256_hex(self.tenant.as_bytes())[..12];
        format!("{readable}-{hash}-rep{}", self.rep)
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rep {} of {}", self.rep, self.tenant)
    }
}

impl Store {
    /// Opens the outbox of `owner`, claiming a new (empty) database for them. A database that
    /// belongs to someone else, or holds drafts of no owner, is refused: nothing of it is
    /// ever shown, sent or archived for `owner`.
    pub fn open_for(path: &std::path::Path, owner: &Owner) -> Result<Self> {
        let store = Store::open(path)?;
        store.claim_for(owner)?;
        Ok(store)
    }

    fn claim_for(&self, owner: &Owner) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: Option<(String, i64)> = tx.query_row("SELECT tenant, rep FROM owner", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match found {
            Some((tenant, rep)) if tenant == owner.tenant && rep == owner.rep => {}
            Some((tenant, rep)) => return Err(Error::OtherOwner { owner: Owner { tenant, rep }.to_string() }),
            None => {
                let untagged: i64 = tx.query_row("SELECT COUNT(*) FROM drafts", [], |r| r.get(0))?;
                if untagged > 0 {
                    return Err(Error::OtherOwner { owner: format!("no one ({untagged} drafts from an earlier version)") });
                }
                tx.execute("INSERT INTO owner (id, tenant, rep) VALUES (1, ?1, ?2)", rusqlite::params![owner.tenant, owner.rep])?;
            }
        }
        tx.commit()?;
        *self.owner.lock().unwrap_or_else(|p| p.into_inner()) = Some(owner.clone());
        Ok(())
    }

    /// Whose outbox this is (`None` for a database opened without an owner: tests, tools and
    /// the held rows of an earlier version).
    pub fn owner(&self) -> Option<Owner> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn draft(r: &str) -> crate::NewDraft {
        crate::NewDraft::task(r, "a@b.example", "s", "b")
    }

    #[test]
    fn an_outbox_is_one_tenants_and_one_reps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        let a = Owner::new("https://online.superoffice.com", "Cust1", 7);
        let store = Store::open_for(&path, &a).unwrap();
        assert!(store.insert_draft(&draft("5001")).unwrap());
        let (tenant, rep): (String, i64) =
            store.conn().query_row("SELECT tenant, rep FROM drafts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((tenant.as_str(), rep), ("https://online.superoffice.com/Cust1", 7), "every row carries its owner");
        drop(store);
        // Another rep of the same tenant, another tenant, the demo: all refused.
        for other in [
            Owner::new("https://online.superoffice.com", "Cust1", 8),
            Owner::new("https://online.superoffice.com", "Cust2", 7),
            Owner::new("https://sod.superoffice.com", "Cust1", 7),
            Owner::demo("Cust1", 7),
        ] {
            let e = Store::open_for(&path, &other).err().expect("refused");
            assert_eq!(e.code(), "outbox_of_another_owner", "{other}");
        }
        let again = Store::open_for(&path, &a).unwrap();
        assert_eq!(again.owner(), Some(a));
        // The schema itself refuses a row of another owner and a change of owner.
        let conn = again.conn();
        let foreign = conn.execute(
            "INSERT INTO drafts (source, source_ref, body, state, created_at, updated_at, tenant, rep) VALUES ('import', 'x', 'b', 'pending', '', '', 'https://online.superoffice.com/Cust1', 8)",
            [],
        );
        assert!(foreign.is_err(), "a row of rep 8 in rep 7's outbox");
        assert!(conn.execute("UPDATE drafts SET rep = 8", []).is_err(), "a row moved to rep 8");
        assert!(conn.execute("UPDATE owner SET rep = 8", []).is_err(), "the owner changed");
        assert!(conn.execute("DELETE FROM owner", []).is_err(), "the owner removed");
    }

    #[test]
    fn directory_names_differ_for_different_owners_and_stay_safe() {
        let names: std::collections::HashSet<String> = [
            Owner::new("https://online.superoffice.com", "Cust1", 7),
            Owner::new("https://online.superoffice.com", "Cust1", 8),
            Owner::new("https://sod.superoffice.com", "Cust1", 7),
            Owner::new("https://crm.example/../..", "Cust1/../../x", 7),
            Owner::demo("Cust1", 7),
        ]
        .iter()
        .map(Owner::dir_name)
        .collect();
        assert_eq!(names.len(), 5);
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{n}");
        }
    }

    #[test]
    fn a_database_with_drafts_of_no_owner_is_not_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        Store::open(&path).unwrap().insert_draft(&draft("5001")).unwrap();
        let e = Store::open_for(&path, &Owner::new("https://online.superoffice.com", "Cust1", 7)).err().expect("refused");
        assert_eq!(e.code(), "outbox_of_another_owner");
    }
}
