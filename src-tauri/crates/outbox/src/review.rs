//! The rep's review of a draft before anything is sent: edit (every version kept), reject,
//! snooze, and undo an approval while its hold window is open.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::draft::{check, Problem};
use crate::state::{Event, State};
use crate::store::{now, now_ms};
use crate::{Error, Result, Store};

/// One version of a draft's text: the AI's, each of the rep's edits, and the approved one
/// (whose hash is that of the exact bytes that go out).
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Version {
    pub at: String,
    /// `ai`, `edit` or `approved`.
    pub kind: String,
    pub by: String,
    pub recipient_email: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub sha256: String,
}

/// A rep's edit of a pending draft.
#[derive(Clone, Debug, serde::Deserialize, specta::Type)]
pub struct Edit {
    pub recipient_email: Option<String>,
    pub subject: Option<String>,
    pub body: String,
}

impl Store {
    /// Applies an edit to a pending draft, keeps it as a new version, and re-checks whether
    /// it can be sent. Header values cannot smuggle headers: CR/LF/NUL are refused here and
    /// encoded by the MIME builder anyway.
    pub fn edit(&self, id: i64, e: &Edit, by: &str) -> Result<Option<Problem>> {
        let recipient = e.recipient_email.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let subject = e.subject.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if recipient.is_some_and(crate::draft::unsafe_header_value) || subject.is_some_and(crate::draft::unsafe_header_value) {
            return Err(Error::NotSendable("line breaks and control characters are not allowed in the recipient or the subject".into()));
        }
        let body = e.body.replace("\r\n", "\n");
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (state, name): (String, String) = tx
            .query_row("SELECT state, recipient_name FROM drafts WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or(Error::NotFound(id))?;
        let problem = check(recipient, &name, subject, &body);
        let from = State::from_db(&state).ok_or(Error::NotFound(id))?;
        if from != State::Pending {
            return Err(Error::InvalidTransition { from, action: "edit" });
        }
        let at = now();
        tx.execute(
            "UPDATE drafts SET recipient_email = ?2, subject = ?3, body = ?4, problem = ?5, updated_at = ?6 WHERE id = ?1",
            params![id, recipient, subject, body, problem.map(Problem::as_db), at],
        )?;
        tx.execute(
            "INSERT INTO versions (draft_id, at, kind, by, recipient_email, subject, body, sha256) VALUES (?1, ?2, 'edit', ?3, ?4, ?5, ?6, ?7)",
            params![id, at, by, recipient, subject, body, crate::mime::sha256_hex(body.as_bytes())],
        )?;
        let detail = match problem {
            Some(p) => format!("edited by {by}; {}", p.describe()),
            None => format!("edited by {by}"),
        };
        tx.execute("INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'edited', ?3)", params![id, at, detail])?;
        tx.commit()?;
        Ok(problem)
    }

    pub fn versions(&self, id: i64) -> Result<Vec<Version>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT at, kind, by, recipient_email, subject, body, sha256 FROM versions WHERE draft_id = ?1 ORDER BY id")?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(Version {
                    at: r.get(0)?,
                    kind: r.get(1)?,
                    by: r.get(2)?,
                    recipient_email: r.get(3)?,
                    subject: r.get(4)?,
                    body: r.get(5)?,
                    sha256: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The rep decides not to send this draft.
    pub fn reject(&self, id: i64, reason: &str, by: &str) -> Result<State> {
        let reason = reason.trim();
        let detail = if reason.is_empty() { format!("rejected by {by}") } else { format!("rejected by {by}: {reason}") };
        self.transition(id, Event::Reject, ("rejected", &detail), |tx| {
            tx.execute(
                "UPDATE drafts SET reason = ?2, reason_why = NULL WHERE id = ?1",
                params![id, (!reason.is_empty()).then_some(reason)],
            )
            .map(|_| ())
        })
    }

    /// Puts a pending draft aside until `until_ms`.
    pub fn snooze(&self, id: i64, until_ms: i64, by: &str) -> Result<State> {
        let when = time::OffsetDateTime::from_unix_timestamp(until_ms / 1000)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        self.transition(id, Event::Snooze, ("snoozed", &format!("snoozed by {by} until {when}")), |tx| {
            tx.execute("UPDATE drafts SET snoozed_until_ms = ?2 WHERE id = ?1", params![id, until_ms]).map(|_| ())
        })
    }

    /// Snoozed drafts whose time has come go back to review. Returns their ids.
    pub fn wake_due(&self, now: i64) -> Result<Vec<i64>> {
        let ids: Vec<i64> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT id FROM drafts WHERE state = 'snoozed' AND snoozed_until_ms <= ?1 ORDER BY id")?;
            let ids = stmt.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        };
        for id in &ids {
            self.transition(*id, Event::Wake, ("woke", "back to review"), |tx| {
                tx.execute("UPDATE drafts SET snoozed_until_ms = NULL WHERE id = ?1", [id]).map(|_| ())
            })?;
        }
        Ok(ids)
    }

    /// Takes an approval back while nothing has been attempted (`approved`, not `sending`).
    /// The Message-ID and bytes are dropped; a new approval gets new ones.
    pub fn undo_approval(&self, id: i64, by: &str) -> Result<State> {
        // A message that was attempted before (and is approved again after "send again" or a
        // retry) may already be in the recipient's inbox: it keeps its Message-ID and bytes.
        let (state, attempts): (String, i64) = self
            .conn()
            .query_row("SELECT state, attempts FROM drafts WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or(Error::NotFound(id))?;
        if state == State::Approved.as_db() && attempts > 0 {
            return Err(Error::InvalidTransition { from: State::Approved, action: "undo (it was already attempted) the approval of" });
        }
        self.transition(id, Event::Undo, ("undone", &format!("approval undone by {by}")), |tx| {
            tx.execute(
                "UPDATE drafts SET message_id = NULL, mime = NULL, mime_sha256 = NULL, approved_at = NULL, send_after_ms = NULL WHERE id = ?1",
                [id],
            )
            .map(|_| ())
        })
    }
}

/// Milliseconds from now, for snoozing "for N minutes".
pub fn in_ms(minutes: i64) -> i64 {
    now_ms() + minutes * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewDraft;

    fn store() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let s = Store::open(&dir.path().join("o.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        s.insert_draft(&NewDraft {
            source: "superoffice-task".into(),
            source_ref: "1".into(),
            contact_id: 2,
            person_id: 2,
            sale_id: 0,
            company: "Müller Logistik GmbH".into(),
            recipient_name: "Jonas Weber".into(),
            recipient_email: None,
            subject: Some("Angebot".into()),
            body: "Hallo".into(),
            problem: Some(Problem::NeedsRecipient),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let id = s.list().unwrap_or_default()[0].id;
        (dir, s, id)
    }

    #[test]
    fn edits_fix_problems_and_every_version_is_kept() -> Result<()> {
        let (_d, s, id) = store();
        let fixed = s.edit(
            id,
            &Edit {
                recipient_email: Some(" jonas@mueller.example ".into()),
                subject: Some("Angebot".into()),
                body: "Hallo Herr Weber".into(),
            },
            "anna",
        )?;
        assert_eq!(fixed, None, "a recipient fixes the draft");
        let row = s.get(id)?;
        assert_eq!((row.recipient_email.as_deref(), row.problem), (Some("jonas@mueller.example"), None));
        let broken =
            s.edit(id, &Edit { recipient_email: Some("jonas@mueller.example".into()), subject: None, body: "x".into() }, "anna")?;
        assert_eq!(broken, Some(Problem::NeedsSubject));
        let kinds: Vec<String> = s.versions(id)?.into_iter().map(|v| v.kind).collect();
        assert_eq!(kinds, ["ai", "edit", "edit"]);
        let injected = s.edit(
            id,
            &Edit { recipient_email: Some("a@b.example".into()), subject: Some("Hi\r\nBcc: x@evil.example".into()), body: "x".into() },
            "anna",
        );
        assert!(matches!(injected, Err(Error::NotSendable(_))), "CR/LF in a header value is refused");
        Ok(())
    }

    #[test]
    fn reject_snooze_wake_and_undo() -> Result<()> {
        let (_d, s, id) = store();
        s.edit(id, &Edit { recipient_email: Some("j@m.example".into()), subject: Some("A".into()), body: "B".into() }, "anna")?;
        s.snooze(id, 1_000, "anna")?;
        assert_eq!(s.get(id)?.state, State::Snoozed);
        assert!(s.wake_due(999)?.is_empty(), "not before its time");
        assert_eq!(s.wake_due(1_000)?, vec![id]);
        s.approve(id, "anna", "<m1@x.example>", "Anna", "anna@x.example", b"bytes", now_ms() + 10_000)?;
        assert!(s.due_for_sending(now_ms())?.is_empty(), "held during the undo window");
        s.undo_approval(id, "anna")?;
        let row = s.get(id)?;
        assert_eq!((row.state, row.message_id), (State::Pending, None));
        s.reject(id, "not relevant any more", "anna")?;
        assert_eq!(s.get(id)?.reason.as_deref(), Some("not relevant any more"));
        assert!(matches!(s.undo_approval(id, "anna"), Err(Error::InvalidTransition { .. })));
        Ok(())
    }
}
