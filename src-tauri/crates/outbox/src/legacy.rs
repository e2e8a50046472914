//! The shared outbox of earlier versions: one database for every tenant, rep and the demo.
//!
//! Why it exists (issue 13): those rows carry no owner. They are tagged once with the tenant
//! configured when this version first starts ([`tag`]); a rep who signs in to that tenant
//! takes the rows that are theirs ([`adopt`]: never approved, or approved with their own
//! address as sender) into their own outbox; every other row stays where it is, held, and
//! counted for the rep to see ([`held`]), never shown, sent or archived for anyone.
//!
//! Adoption copies first (one transaction in the rep's outbox; a row already there is skipped)
//! and deletes from the old database second (one transaction there): a crash in between
//! leaves a row in both places for a moment, never in neither, and the next run finishes it.

use std::path::Path;

use rusqlite::params;

use crate::{Error, Result, Store};

/// What an adoption moved and what it left held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adopted {
    pub moved: usize,
    pub held: usize,
}

/// Tags the rows of no tenant with `tenant` (an [`crate::Owner`]'s tenant key); returns how
/// many were tagged. Rows tagged before keep their tenant.
pub fn tag(path: &Path, tenant: &str) -> Result<usize> {
    let store = Store::open(path)?;
    let n = store.conn().execute("UPDATE drafts SET tenant = ?1 WHERE tenant IS NULL", [tenant])?;
    Ok(n)
}

/// How many rows the old outbox still holds (0 when there is none).
pub fn held(path: &Path) -> Result<usize> {
    if !path.exists() {
        return Ok(0);
    }
    let store = Store::open(path)?;
    let n: i64 = store.conn().query_row("SELECT COUNT(*) FROM drafts", [], |r| r.get(0))?;
    Ok(n as usize)
}

/// Moves the rows of `into`'s owner out of the old outbox at `path`: rows of its tenant that
/// were never approved, or were approved with `rep_email` as the sender.
pub fn adopt(path: &Path, into: &Store, rep_email: &str) -> Result<Adopted> {
    if !path.exists() {
        return Ok(Adopted::default());
    }
    let owner = into.owner().ok_or_else(|| Error::OtherOwner { owner: "no one yet".into() })?;
    drop(Store::open(path)?); // the old database in this version's schema
    let conn = into.conn();
    conn.execute("ATTACH DATABASE ?1 AS legacy", [path.to_string_lossy()])?;
    let result = move_rows(&conn, &owner.tenant, rep_email);
    let detached = conn.execute("DETACH DATABASE legacy", []);
    let adopted = result?;
    detached?;
    Ok(adopted)
}

fn move_rows(conn: &rusqlite::Connection, tenant: &str, rep_email: &str) -> Result<Adopted> {
    let columns: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('drafts', 'main') WHERE name NOT IN ('id', 'tenant', 'rep')")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        names
    };
    let list = columns.join(", ");
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare(
            "SELECT id FROM legacy.drafts WHERE tenant = ?1 AND rep IS NULL
             AND (from_address IS NULL OR lower(from_address) = lower(?2)) ORDER BY id",
        )?;
        let ids = stmt.query_map(params![tenant, rep_email], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        ids
    };
    // First: copy into the rep's outbox (draft, timeline, versions), skipping what is there.
    let tx = conn.unchecked_transaction()?;
    let mut moved = 0;
    for old in &ids {
        let n = tx.execute(&format!("INSERT OR IGNORE INTO main.drafts ({list}) SELECT {list} FROM legacy.drafts WHERE id = ?1"), [old])?;
        if n == 0 {
            continue;
        }
        let new = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO main.timeline (draft_id, at, kind, detail) SELECT ?2, at, kind, detail FROM legacy.timeline WHERE draft_id = ?1 ORDER BY id",
            params![old, new],
        )?;
        tx.execute(
            "INSERT INTO main.versions (draft_id, at, kind, by, recipient_email, subject, body, sha256)
             SELECT ?2, at, kind, by, recipient_email, subject, body, sha256 FROM legacy.versions WHERE draft_id = ?1 ORDER BY id",
            params![old, new],
        )?;
        tx.execute(
            "INSERT INTO main.timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'adopted', ?3)",
            params![
                new,
                crate::store::now(),
                format!("taken from the shared outbox of an earlier version (draft {old}) into this rep's own")
            ],
        )?;
        moved += 1;
    }
    tx.commit()?;
    // Second: remove from the old outbox what the rep's outbox now holds.
    let tx = conn.unchecked_transaction()?;
    for old in &ids {
        let copied: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM main.drafts m JOIN legacy.drafts l ON m.source = l.source AND m.source_ref = l.source_ref WHERE l.id = ?1)",
            [old],
            |r| r.get(0),
        )?;
        if copied {
            tx.execute("DELETE FROM legacy.timeline WHERE draft_id = ?1", [old])?;
            tx.execute("DELETE FROM legacy.versions WHERE draft_id = ?1", [old])?;
            tx.execute("DELETE FROM legacy.drafts WHERE id = ?1", [old])?;
        }
    }
    tx.commit()?;
    let held: i64 = conn.query_row("SELECT COUNT(*) FROM legacy.drafts", [], |r| r.get(0))?;
    Ok(Adopted { moved, held: held as usize })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{NewDraft, Owner, State};

    fn draft(r: &str) -> NewDraft {
        NewDraft { recipient_name: "R".into(), ..NewDraft::task(r, "a@b.example", "s", "b") }
    }

    fn approve(store: &Store, r: &str, from: &str) {
        let id = store.list().unwrap().into_iter().find(|d| d.source_ref == r).unwrap().id;
        store.approve(id, "rep", &format!("<{r}@x>"), "Rep", from, b"mime", 0).unwrap();
    }

    /// The shared outbox of an earlier version: rep A's approval, rep B's approval, a pending
    /// draft. Tagged with the configured tenant, rep A takes the pending draft and their own
    /// approval (with its timeline); rep B's stays held, counted, until rep B signs in; a
    /// second run moves nothing twice; another tenant takes nothing.
    #[test]
    fn a_rep_adopts_their_own_rows_and_the_rest_stays_held() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("outbox.sqlite");
        {
            let old = Store::open(&legacy).unwrap();
            for r in ["1", "2", "3"] {
                old.insert_draft(&draft(r)).unwrap();
            }
            approve(&old, "1", "anna@corp.example");
            approve(&old, "2", "ben@corp.example");
        }
        let tenant = Owner::new("https://online.superoffice.com", "Cust1", 0).tenant;
        assert_eq!(tag(&legacy, &tenant).unwrap(), 3);
        assert_eq!(held(&legacy).unwrap(), 3);

        let other = Store::open_for(&dir.path().join("other.sqlite"), &Owner::new("https://online.superoffice.com", "Cust2", 7)).unwrap();
        assert_eq!(adopt(&legacy, &other, "anna@corp.example").unwrap(), Adopted { moved: 0, held: 3 }, "another tenant takes nothing");

        let anna = Store::open_for(&dir.path().join("anna.sqlite"), &Owner::new("https://online.superoffice.com", "Cust1", 7)).unwrap();
        assert_eq!(adopt(&legacy, &anna, "Anna@Corp.example").unwrap(), Adopted { moved: 2, held: 1 });
        let rows = anna.list().unwrap();
        let refs: Vec<(&str, State)> = rows.iter().map(|d| (d.source_ref.as_str(), d.state)).collect();
        assert_eq!(refs, [("1", State::Approved), ("3", State::Pending)]);
        assert!(anna.timeline(rows[0].id).unwrap().iter().any(|e| e.kind == "approved"), "the timeline came along");
        assert!(anna.timeline(rows[0].id).unwrap().iter().any(|e| e.kind == "adopted"));
        assert_eq!(adopt(&legacy, &anna, "anna@corp.example").unwrap(), Adopted { moved: 0, held: 1 }, "nothing twice");
        assert_eq!(held(&legacy).unwrap(), 1, "Ben's approval is held");

        let ben = Store::open_for(&dir.path().join("ben.sqlite"), &Owner::new("https://online.superoffice.com", "Cust1", 8)).unwrap();
        assert_eq!(adopt(&legacy, &ben, "ben@corp.example").unwrap(), Adopted { moved: 1, held: 0 });
        assert_eq!(ben.list().unwrap()[0].from_address.as_deref(), Some("ben@corp.example"));
    }

    /// A crash between the copy and the delete: the row is in both outboxes for a moment; the
    /// next adoption removes it from the old one and copies nothing twice.
    #[test]
    fn an_interrupted_adoption_finishes_without_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("outbox.sqlite");
        Store::open(&legacy).unwrap().insert_draft(&draft("1")).unwrap();
        let tenant = Owner::new("https://online.superoffice.com", "Cust1", 0).tenant;
        tag(&legacy, &tenant).unwrap();
        let anna = Store::open_for(&dir.path().join("anna.sqlite"), &Owner::new("https://online.superoffice.com", "Cust1", 7)).unwrap();
        // The copy committed, the delete did not happen.
        anna.insert_draft(&draft("1")).unwrap();
        assert_eq!(adopt(&legacy, &anna, "anna@corp.example").unwrap(), Adopted { moved: 0, held: 0 });
        assert_eq!(anna.list().unwrap().len(), 1);
    }
}
