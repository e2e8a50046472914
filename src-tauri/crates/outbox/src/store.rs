//! The outbox in SQLite: one row per draft, one append-only timeline of what happened to it.
//!
//! WAL with `synchronous=FULL`: a commit that returned survives a crash and a power loss, so
//! "approved", "sending" and "sent" are facts before the next side effect. Schema changes are
//! migrations keyed by `user_version`, each in one transaction. Every state change goes
//! through [`crate::state::next`], so the store cannot make a move the state machine forbids.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::draft::Problem;
use crate::state::{self, Event, State};
use crate::{Error, Result};

/// Milliseconds since the Unix epoch, the unit of every scheduling column.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The `source` of a draft drafted from a SuperOffice follow-up task (its `source_ref` is the
/// appointment id).
pub const SOURCE_TASK: &str = "superoffice-task";

/// A draft as it enters the outbox.
#[derive(Clone, Debug)]
pub struct NewDraft {
    pub source: String,
    pub source_ref: String,
    pub contact_id: i64,
    pub person_id: i64,
    pub sale_id: i64,
    pub company: String,
    pub recipient_name: String,
    pub recipient_email: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub problem: Option<Problem>,
}

impl NewDraft {
    /// A draft of a follow-up task (`source_ref` = the appointment id) with just its text: no
    /// CRM links or names yet (tests and tools fill in what they need with `..`).
    pub fn task(source_ref: &str, to: &str, subject: &str, body: &str) -> Self {
        NewDraft {
            source: SOURCE_TASK.into(),
            source_ref: source_ref.into(),
            contact_id: 0,
            person_id: 0,
            sale_id: 0,
            company: String::new(),
            recipient_name: String::new(),
            recipient_email: Some(to.into()),
            subject: Some(subject.into()),
            body: body.into(),
            problem: None,
        }
    }
}

/// A draft as the UI sees it (no MIME bytes).
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct DraftRow {
    pub id: i64,
    pub source: String,
    pub source_ref: String,
    pub company: String,
    pub recipient_name: String,
    pub recipient_email: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub problem: Option<Problem>,
    pub state: State,
    pub reason: Option<String>,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub smtp_reply: Option<String>,
    pub sent_at: Option<String>,
    pub document_id: Option<i64>,
    pub attempts: i64,
    pub updated_at: String,
    /// Approved: when the hold window ends and it may go out (ms since the epoch).
    pub send_after_ms: Option<i64>,
    /// Failed (not taken) or archiving postponed: the next automatic attempt (ms).
    pub next_attempt_ms: Option<i64>,
    /// Snoozed: until when (ms).
    pub snoozed_until_ms: Option<i64>,
    /// Failed: whether it will be tried again automatically.
    pub retryable: bool,
    /// The channel it took (or takes), and why.
    pub channel: Option<crate::Channel>,
    pub channel_reason: Option<String>,
    /// The same reason as data, for the UI to word (absent on rows from before it was kept).
    pub channel_why: Option<crate::channel::ChannelWhy>,
    /// `reason` as data, for the UI to word (absent for the rep's own reject reason and old rows).
    pub reason_why: Option<crate::Reason>,
}

/// One line of a draft's audit timeline.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct TimelineEvent {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

/// What delivery needs of an approved row.
#[derive(Clone, Debug)]
pub struct Approved {
    pub id: i64,
    pub source: String,
    pub source_ref: String,
    pub contact_id: i64,
    pub person_id: i64,
    pub sale_id: i64,
    pub recipient_email: String,
    pub subject: String,
    pub message_id: String,
    pub from_address: String,
    pub mime: Vec<u8>,
    pub mime_sha256: String,
    pub sent_at: Option<String>,
    pub document_id: Option<i64>,
    pub state: State,
    pub channel: Option<crate::Channel>,
}

impl Approved {
    /// The SuperOffice follow-up task this message came from, if any (imports have none).
    pub fn task_id(&self) -> Option<i64> {
        (self.source == SOURCE_TASK).then(|| self.source_ref.parse().ok()).flatten()
    }
}

pub struct Store {
    conn: Mutex<Connection>,
    /// Whose outbox this is, once claimed ([`Store::open_for`]).
    pub(crate) owner: Mutex<Option<crate::owner::Owner>>,
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

pub(crate) const ROW_COLUMNS: &str = "id, source, source_ref, company, recipient_name, recipient_email, subject, body, problem, state, reason, message_id, from_address, smtp_reply, sent_at, document_id, attempts, updated_at, send_after_ms, next_attempt_ms, snoozed_until_ms, retryable, channel, channel_reason, channel_why, reason_why";

pub(crate) fn draft_row(r: &Row<'_>) -> rusqlite::Result<DraftRow> {
    let state: String = r.get(9)?;
    let problem: Option<String> = r.get(8)?;
    Ok(DraftRow {
        id: r.get(0)?,
        source: r.get(1)?,
        source_ref: r.get(2)?,
        company: r.get(3)?,
        recipient_name: r.get(4)?,
        recipient_email: r.get(5)?,
        subject: r.get(6)?,
        body: r.get(7)?,
        problem: problem.as_deref().and_then(Problem::from_db),
        state: State::from_db(&state).ok_or_else(|| rusqlite::Error::InvalidColumnType(9, state.clone(), rusqlite::types::Type::Text))?,
        reason: r.get(10)?,
        message_id: r.get(11)?,
        from_address: r.get(12)?,
        smtp_reply: r.get(13)?,
        sent_at: r.get(14)?,
        document_id: r.get(15)?,
        attempts: r.get(16)?,
        updated_at: r.get(17)?,
        send_after_ms: r.get(18)?,
        next_attempt_ms: r.get(19)?,
        snoozed_until_ms: r.get(20)?,
        retryable: r.get::<_, i64>(21)? != 0,
        channel: r.get::<_, Option<String>>(22)?.as_deref().and_then(crate::Channel::from_db),
        channel_reason: r.get(23)?,
        channel_why: r.get::<_, Option<String>>(24)?.and_then(|j| serde_json::from_str(&j).ok()),
        reason_why: r.get::<_, Option<String>>(25)?.and_then(|j| serde_json::from_str(&j).ok()),
    })
}

impl Store {
    /// Opens (or creates) the outbox database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        // Created private (0600 on Unix); SQLite gives the -wal and -shm files the same mode. On
        // Windows the file takes the access list of its directory (the user's profile).
        #[cfg(unix)]
        if !path.exists() && path.as_os_str() != ":memory:" && !path.as_os_str().is_empty() {
            use std::os::unix::fs::OpenOptionsExt as _;
            let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.create_scalar_function(
            "so_fold",
            1,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8 | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| Ok(crate::fold::search_key(ctx.get_raw(0).as_str().unwrap_or(""))),
        )?;
        let store = Store { conn: Mutex::new(conn), owner: Mutex::new(None) };
        store.migrate()?;
        Ok(store)
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in crate::schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Adds a draft unless one with the same source reference exists. Returns whether it was new.
    pub fn insert_draft(&self, d: &NewDraft) -> Result<bool> {
        Ok(self.insert_drafts(std::slice::from_ref(d))?[0])
    }

    /// Adds drafts in one transaction (draft, timeline line and first version together, or
    /// nothing); returns for each whether it was new.
    pub fn insert_drafts(&self, drafts: &[NewDraft]) -> Result<Vec<bool>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now();
        let mut added = Vec::with_capacity(drafts.len());
        for d in drafts {
            added.push(insert_one(&tx, d, &now)?);
        }
        tx.commit()?;
        Ok(added)
    }
}

fn insert_one(conn: &rusqlite::Transaction<'_>, d: &NewDraft, now: &str) -> Result<bool> {
    {
        let n = conn.execute(
            "INSERT INTO drafts (source, source_ref, contact_id, person_id, sale_id, company, recipient_name, recipient_email, subject, body, problem, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12, ?12)
             ON CONFLICT (source, source_ref) DO NOTHING",
            params![d.source, d.source_ref, d.contact_id, d.person_id, d.sale_id, d.company, d.recipient_name, d.recipient_email, d.subject, d.body, d.problem.map(Problem::as_db), now],
        )?;
        if n == 1 {
            let id = conn.last_insert_rowid();
            let detail = match d.problem {
                Some(p) => format!("from {} {}; {}", d.source, d.source_ref, p.describe()),
                None => format!("from {} {}", d.source, d.source_ref),
            };
            conn.execute("INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'drafted', ?3)", params![id, now, detail])?;
            conn.execute(
                "INSERT INTO versions (draft_id, at, kind, recipient_email, subject, body, sha256) VALUES (?1, ?2, 'ai', ?3, ?4, ?5, ?6)",
                params![id, now, d.recipient_email, d.subject, d.body, crate::mime::sha256_hex(d.body.as_bytes())],
            )?;
        }
        Ok(n == 1)
    }
}

impl Store {
    pub fn list(&self) -> Result<Vec<DraftRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {ROW_COLUMNS} FROM drafts ORDER BY id"))?;
        let rows = stmt.query_map([], draft_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn get(&self, id: i64) -> Result<DraftRow> {
        let conn = self.conn();
        conn.query_row(&format!("SELECT {ROW_COLUMNS} FROM drafts WHERE id = ?1"), [id], draft_row).optional()?.ok_or(Error::NotFound(id))
    }

    pub fn timeline(&self, id: i64) -> Result<Vec<TimelineEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT at, kind, detail FROM timeline WHERE draft_id = ?1 ORDER BY id")?;
        let rows = stmt
            .query_map([id], |r| Ok(TimelineEvent { at: r.get(0)?, kind: r.get(1)?, detail: r.get(2)? }))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Applies `event` to row `id` in one transaction: checks the transition, runs `set`
    /// (extra column updates), writes the timeline line, commits.
    pub(crate) fn transition(
        &self,
        id: i64,
        event: Event,
        timeline: (&str, &str),
        set: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
    ) -> Result<State> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: String =
            tx.query_row("SELECT state FROM drafts WHERE id = ?1", [id], |r| r.get(0)).optional()?.ok_or(Error::NotFound(id))?;
        let from = State::from_db(&current).ok_or(Error::NotFound(id))?;
        let to = state::next(from, event).ok_or(Error::InvalidTransition { from, action: event.verb() })?;
        set(&tx)?;
        let now = now();
        tx.execute("UPDATE drafts SET state = ?2, updated_at = ?3 WHERE id = ?1", params![id, to.as_db(), now])?;
        tx.execute("INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)", params![id, now, timeline.0, timeline.1])?;
        tx.commit()?;
        Ok(to)
    }

    pub fn approved(&self, id: i64) -> Result<Approved> {
        let conn = self.conn();
        conn.query_row(
            "SELECT id, source_ref, contact_id, person_id, sale_id, recipient_email, subject, message_id, from_address, mime, mime_sha256, sent_at, document_id, state, channel, source FROM drafts WHERE id = ?1 AND message_id IS NOT NULL",
            [id],
            |r| {
                let state: String = r.get(13)?;
                Ok(Approved {
                    id: r.get(0)?,
                    source_ref: r.get(1)?,
                    contact_id: r.get(2)?,
                    person_id: r.get(3)?,
                    sale_id: r.get(4)?,
                    recipient_email: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    subject: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                    message_id: r.get(7)?,
                    from_address: r.get(8)?,
                    mime: r.get(9)?,
                    mime_sha256: r.get(10)?,
                    sent_at: r.get(11)?,
                    document_id: r.get(12)?,
                    state: State::from_db(&state).unwrap_or(State::Failed),
                    channel: r.get::<_, Option<String>>(14)?.as_deref().and_then(crate::Channel::from_db),
                    source: r.get(15)?,
                })
            },
        )
        .optional()?
        .ok_or(Error::NotFound(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_between_reading_and_approving_fails_the_approval() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("o.sqlite")).unwrap();
        s.insert_draft(&draft("1")).unwrap();
        let row = s.list().unwrap().remove(0);
        let seen = (row.recipient_email.as_deref(), row.subject.as_deref(), row.body.as_str());
        // The rep's edit lands after the approval read the draft and built its bytes.
        let edit =
            crate::Edit { recipient_email: row.recipient_email.clone(), subject: row.subject.clone(), body: "the edited text".into() };
        s.edit(row.id, &edit, "anna").unwrap();
        let e =
            s.approve_seen(row.id, Some(seen), "anna", "<m@x.example>", "Anna", "anna@x.example", b"bytes of the old text", 0).unwrap_err();
        assert!(e.to_string().contains("changed while it was being approved"), "{e}");
        let now = s.get(row.id).unwrap();
        assert_eq!((now.state, now.message_id), (State::Pending, None), "nothing recorded");
        let seen = (now.recipient_email.as_deref(), now.subject.as_deref(), now.body.as_str());
        assert_eq!(
            s.approve_seen(row.id, Some(seen), "anna", "<m@x.example>", "Anna", "anna@x.example", b"bytes", 0).unwrap(),
            State::Approved
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_database_and_its_wal_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        let store = Store::open(&path).unwrap();
        store.insert_draft(&draft("1")).unwrap();
        for f in ["outbox.sqlite", "outbox.sqlite-wal", "outbox.sqlite-shm"] {
            let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }

    fn draft(r: &str) -> NewDraft {
        NewDraft {
            contact_id: 2,
            person_id: 2,
            company: "Müller Logistik GmbH".into(),
            recipient_name: "Jonas Weber".into(),
            ..NewDraft::task(r, "jonas@example.com", "Hallo", "Text")
        }
    }

    #[test]
    fn drafts_are_deduplicated_and_survive_reopening() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Mime(e.to_string()))?;
        let path = dir.path().join("outbox.sqlite");
        {
            let s = Store::open(&path)?;
            assert!(s.insert_draft(&draft("5000"))?);
            assert!(!s.insert_draft(&draft("5000"))?, "the same task must not become two drafts");
            let id = s.list()?[0].id;
            s.approve(id, "anna", "<x@example.com>", "Anna", "anna@example.com", b"bytes", 0)?;
        }
        let s = Store::open(&path)?;
        let rows = s.list()?;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, State::Approved);
        assert_eq!(rows[0].message_id.as_deref(), Some("<x@example.com>"));
        let journal: String = s.conn().pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        let sync: i64 = s.conn().pragma_query_value(None, "synchronous", |r| r.get(0))?;
        assert_eq!((journal.as_str(), sync), ("wal", 2), "WAL with synchronous=FULL");
        Ok(())
    }

    #[test]
    fn forbidden_moves_are_refused_and_interrupted_sends_need_a_decision() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Mime(e.to_string()))?;
        let s = Store::open(&dir.path().join("o.sqlite"))?;
        s.insert_draft(&draft("1"))?;
        let id = s.list()?[0].id;
        assert!(matches!(s.claim(id), Err(Error::InvalidTransition { .. })), "a pending draft cannot be sent");
        s.approve(id, "anna", "<y@example.com>", "Anna", "anna@example.com", b"m", 0)?;
        s.claim(id)?;
        s.data_started(id)?;
        assert_eq!(s.recover_interrupted()?, 1);
        let row = s.get(id)?;
        assert_eq!(row.state, State::NeedsDecision);
        assert!(row.reason.unwrap_or_default().contains("may have been delivered"));
        Ok(())
    }
}
