//! The outbox's schema as migrations keyed by `user_version`, each run in one transaction:
//! a database written by any earlier version opens in this one with nothing lost.

pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    contact_id INTEGER NOT NULL DEFAULT 0,
    person_id INTEGER NOT NULL DEFAULT 0,
    sale_id INTEGER NOT NULL DEFAULT 0,
    company TEXT NOT NULL DEFAULT '',
    recipient_name TEXT NOT NULL DEFAULT '',
    recipient_email TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    problem TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    message_id TEXT UNIQUE,
    from_name TEXT,
    from_address TEXT,
    approved_at TEXT,
    mime BLOB,
    mime_sha256 TEXT,
    smtp_reply TEXT,
    sent_at TEXT,
    document_id INTEGER,
    task_completed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (source, source_ref)
);
CREATE INDEX drafts_state ON drafts(state);
CREATE TABLE timeline (
    id INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL REFERENCES drafts(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX timeline_draft ON timeline(draft_id);
"#,
    r#"
ALTER TABLE drafts ADD COLUMN send_after_ms INTEGER;
ALTER TABLE drafts ADD COLUMN retryable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN next_attempt_ms INTEGER;
ALTER TABLE drafts ADD COLUMN snoozed_until_ms INTEGER;
ALTER TABLE drafts ADD COLUMN sent_ms INTEGER;
CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL REFERENCES drafts(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    by TEXT NOT NULL DEFAULT '',
    recipient_email TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX versions_draft ON versions(draft_id);
INSERT INTO versions (draft_id, at, kind, recipient_email, subject, body, sha256)
    SELECT id, created_at, 'ai', recipient_email, subject, body, '' FROM drafts;
"#,
    r#"
ALTER TABLE drafts ADD COLUMN channel TEXT;
ALTER TABLE drafts ADD COLUMN channel_reason TEXT;
"#,
    // The list's default order (newest activity first), per view and overall.
    r#"
CREATE INDEX drafts_updated ON drafts(updated_at, id);
CREATE INDEX drafts_state_updated ON drafts(state, updated_at, id);
"#,
    // Why the channel was chosen, as data (JSON of `ChannelWhy`) the UI words in its language.
    r#"
ALTER TABLE drafts ADD COLUMN channel_why TEXT;
"#,
    // Why a message is where it is, as data (JSON of `Reason`) beside `reason`'s words. A
    // statement that changes `reason` without it (reject, reset) leaves no stale data behind.
    r#"
ALTER TABLE drafts ADD COLUMN reason_why TEXT;
CREATE TRIGGER drafts_reason_why_follows AFTER UPDATE OF reason ON drafts
    WHEN NEW.reason_why IS OLD.reason_why AND NEW.reason IS NOT OLD.reason
    BEGIN UPDATE drafts SET reason_why = NULL WHERE id = NEW.id; END;
"#,
    // Whose outbox this is (issue 13): one tenant (environment + context id) and one rep
    // (associate id), fixed when the database is first opened for them. Every draft carries
    // both, stamped from `owner` as it is inserted, and a row of anyone else is refused: no
    // draft, approval or sent message of one tenant or rep can be shown, sent or archived for
    // another. Rows from before (no owner) stay untagged until the app adopts or holds them.
    r#"
CREATE TABLE owner (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tenant TEXT NOT NULL,
    rep INTEGER NOT NULL
);
CREATE TRIGGER owner_is_fixed BEFORE UPDATE ON owner
    BEGIN SELECT RAISE(ABORT, 'the outbox belongs to another tenant or rep'); END;
CREATE TRIGGER owner_is_kept BEFORE DELETE ON owner
    BEGIN SELECT RAISE(ABORT, 'the outbox belongs to another tenant or rep'); END;
ALTER TABLE drafts ADD COLUMN tenant TEXT;
ALTER TABLE drafts ADD COLUMN rep INTEGER;
CREATE TRIGGER drafts_owner_stamp AFTER INSERT ON drafts
    WHEN EXISTS (SELECT 1 FROM owner) AND NEW.tenant IS NULL AND NEW.rep IS NULL
    BEGIN UPDATE drafts SET tenant = (SELECT tenant FROM owner), rep = (SELECT rep FROM owner) WHERE id = NEW.id; END;
CREATE TRIGGER drafts_owner_only BEFORE INSERT ON drafts
    WHEN EXISTS (SELECT 1 FROM owner) AND (NEW.tenant IS NOT NULL OR NEW.rep IS NOT NULL)
        AND (NEW.tenant IS NOT (SELECT tenant FROM owner) OR NEW.rep IS NOT (SELECT rep FROM owner))
    BEGIN SELECT RAISE(ABORT, 'a draft of another tenant or rep'); END;
CREATE TRIGGER drafts_owner_unchanged BEFORE UPDATE OF tenant, rep ON drafts
    WHEN EXISTS (SELECT 1 FROM owner)
        AND (NEW.tenant IS NOT (SELECT tenant FROM owner) OR NEW.rep IS NOT (SELECT rep FROM owner))
    BEGIN SELECT RAISE(ABORT, 'a draft of another tenant or rep'); END;
"#,
    // `reason_why` is written by every statement that writes `reason` (the coded reason, or
    // NULL beside the rep's own words), so the trigger that dropped it is not needed.
    r#"
DROP TRIGGER drafts_reason_why_follows;
"#,
    // The rep's mailbox names what it made of a message (Graph's immutable draft id, Gmail's
    // message id), recorded before the send so a lost answer can be settled by looking it up.
    r#"
ALTER TABLE drafts ADD COLUMN provider_ref TEXT;
"#,
    // The rep's connected mailbox (no secret: the refresh token is in the keychain). In the
    // rep's own outbox, so another rep, tenant or the demo never sends through it.
    r#"
CREATE TABLE mailbox_account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account TEXT NOT NULL,
    connected_at TEXT NOT NULL
);
"#,
];
