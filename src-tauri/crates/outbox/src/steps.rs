//! The delivery steps of a message as durable store operations: each one checks its
//! transition against the state machine, writes the row and its timeline line, and commits
//! before the caller's next side effect (the SMTP command, the SuperOffice call).

use rusqlite::params;

use crate::reason::Reason;
use crate::state::{Event, State};
use crate::store::{now, now_ms};
use crate::{Error, Result, Store};

impl Store {
    /// Records the approval with everything that must not change afterwards: the Message-ID,
    /// the sender, the exact bytes and their hash.
    /// `send_after_ms` ends the hold window during which the approval can be undone.
    #[allow(clippy::too_many_arguments)]
    pub fn approve(
        &self,
        id: i64,
        by: &str,
        message_id: &str,
        from_name: &str,
        from_address: &str,
        mime: &[u8],
        send_after_ms: i64,
    ) -> Result<State> {
        self.approve_seen(id, None, by, message_id, from_name, from_address, mime, send_after_ms)
    }

    /// [`Store::approve`], but only if the draft still reads `seen` (recipient, subject, body)
    /// inside the approval's transaction: an edit that lands between reading the draft and
    /// recording the approval makes the approval fail (approve again), so the approved bytes
    /// and hash always belong to the text the row and its `approved` version hold.
    #[allow(clippy::too_many_arguments)]
    pub fn approve_seen(
        &self,
        id: i64,
        seen: Option<(Option<&str>, Option<&str>, &str)>,
        by: &str,
        message_id: &str,
        from_name: &str,
        from_address: &str,
        mime: &[u8],
        send_after_ms: i64,
    ) -> Result<State> {
        let hash = crate::mime::sha256_hex(mime);
        let detail = format!("approved by {by}; Message-ID {message_id}; sha256 {hash}");
        let result = self.transition(id, Event::Approve, ("approved", &detail), |tx| {
            if let Some((to, subject, body)) = seen {
                let now: (Option<String>, Option<String>, String) = tx.query_row(
                    "SELECT recipient_email, subject, body FROM drafts WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
                if (now.0.as_deref(), now.1.as_deref(), now.2.as_str()) != (to, subject, body) {
                    return Err(rusqlite::Error::StatementChangedRows(0));
                }
            }
            tx.execute(
                "UPDATE drafts SET message_id = ?2, from_name = ?3, from_address = ?4, approved_at = ?5, mime = ?6, mime_sha256 = ?7, reason = NULL, reason_why = NULL, send_after_ms = ?8, provider_ref = NULL WHERE id = ?1",
                params![id, message_id, from_name, from_address, now(), mime, hash, send_after_ms],
            )?;
            tx.execute(
                "INSERT INTO versions (draft_id, at, kind, by, recipient_email, subject, body, sha256)
                 SELECT id, ?2, 'approved', ?3, recipient_email, subject, body, ?4 FROM drafts WHERE id = ?1",
                params![id, now(), by, hash],
            )
            .map(|_| ())
        });
        match result {
            Err(Error::Store(rusqlite::Error::StatementChangedRows(0))) => {
                Err(Error::NotSendable("the draft changed while it was being approved; review it and approve again".into()))
            }
            other => other,
        }
    }

    /// Records the channel an approved message takes, and why (before any attempt).
    pub fn set_channel(&self, id: i64, choice: &crate::ChannelChoice) -> Result<()> {
        let (channel, reason) = (choice.channel.as_db(), choice.reason());
        let why = serde_json::to_string(&choice.why).unwrap_or_default();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE drafts SET channel = ?2, channel_reason = ?3, channel_why = ?4 WHERE id = ?1",
            params![id, channel, reason, why],
        )?;
        tx.execute(
            "INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'channel', ?3)",
            params![id, now(), format!("{channel}: {reason}")],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The message went to the rep's mail program; the rep confirms when it is sent.
    pub fn handed_off(&self, id: i64) -> Result<State> {
        let why = Reason::HandedOff;
        self.transition(id, Event::HandedOff, ("handed_off", &why.english()), |tx| {
            tx.execute("UPDATE drafts SET reason = ?2, reason_why = ?3 WHERE id = ?1", params![id, why.english(), why.json()]).map(|_| ())
        })
    }

    /// `approved → sending`, committed before the connection is opened.
    pub fn claim(&self, id: i64) -> Result<State> {
        self.transition(id, Event::Claim, ("sending", "SMTP attempt started"), |tx| {
            tx.execute("UPDATE drafts SET attempts = attempts + 1 WHERE id = ?1", [id]).map(|_| ())
        })
    }

    /// The server said `354`: the body is about to leave. After this, no automatic resend.
    pub fn data_started(&self, id: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute("INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'data_started', 'the relay accepted DATA; sending the body')", params![id, now()])?;
        Ok(())
    }

    /// What the rep's mailbox made of the message (`graph:<immutable id>`, `gmail:<id>`),
    /// committed before the send so that a lost answer can be settled by looking it up.
    pub fn set_provider_ref(&self, id: i64, reference: &str) -> Result<()> {
        let conn = self.conn();
        conn.execute("UPDATE drafts SET provider_ref = ?2 WHERE id = ?1", params![id, reference])?;
        conn.execute(
            "INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'provider_ref', ?3)",
            params![id, now(), format!("the mailbox holds it as {reference}")],
        )?;
        Ok(())
    }

    pub fn provider_ref(&self, id: i64) -> Result<Option<String>> {
        Ok(self.conn().query_row("SELECT provider_ref FROM drafts WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// Messages in question whose mailbox copy can be looked up (Graph), with when the
    /// attempt began (ms): the settle pass's work list.
    pub fn unsettled_mailbox_sends(&self) -> Result<Vec<(i64, String, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT d.id, d.provider_ref, COALESCE((SELECT MAX(t.id) FROM timeline t WHERE t.draft_id = d.id AND t.kind = 'data_started'), 0)
             FROM drafts d WHERE d.state = 'needs_decision' AND d.channel = 'mailbox' AND d.provider_ref LIKE 'graph:%' ORDER BY d.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, reference, timeline_id) = row?;
            let at: Option<String> = conn.query_row("SELECT at FROM timeline WHERE id = ?1", [timeline_id], |r| r.get(0)).ok();
            let ms = at
                .and_then(|a| time::OffsetDateTime::parse(&a, &time::format_description::well_known::Rfc3339).ok())
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .unwrap_or(0);
            out.push((id, reference, ms));
        }
        Ok(out)
    }

    /// The provider did not take the message and asked us to wait: back to `approved`, due
    /// again at `until_ms`, the attempt not counted (it is not a failure the rep must handle).
    pub fn throttled(&self, id: i64, until_ms: i64, why: &Reason) -> Result<State> {
        let reason = why.english();
        self.transition(id, Event::Throttled, ("throttled", &reason), |tx| {
            tx.execute(
                "UPDATE drafts SET attempts = MAX(attempts - 1, 0), send_after_ms = ?2, reason = ?3, reason_why = ?4 WHERE id = ?1",
                params![id, until_ms, reason, why.json()],
            )
            .map(|_| ())
        })
    }

    /// The Sent copy was found in the rep's mailbox after the answer to the send was lost.
    pub fn found_sent(&self, id: i64, detail: &str) -> Result<State> {
        self.transition(id, Event::FoundSent, ("found_sent", detail), |tx| {
            tx.execute(
                "UPDATE drafts SET smtp_reply = ?2, reason = NULL, reason_why = NULL, sent_at = COALESCE(sent_at, ?3), sent_ms = COALESCE(sent_ms, ?4), next_attempt_ms = NULL WHERE id = ?1",
                params![id, detail, now(), now_ms()],
            )
            .map(|_| ())
        })
    }

    pub fn sent(&self, id: i64, reply: &str) -> Result<State> {
        self.transition(id, Event::Accepted, ("sent", reply), |tx| {
            tx.execute(
                "UPDATE drafts SET smtp_reply = ?2, sent_at = ?3, sent_ms = ?4, reason = NULL, reason_why = NULL, next_attempt_ms = NULL WHERE id = ?1",
                params![id, reply, now(), now_ms()],
            )
            .map(|_| ())
        })
    }

    /// Not sent. A retryable failure (the server did not take the message: 4xx, a network
    /// error before DATA) is tried again automatically after a growing pause, up to
    /// [`crate::schedule::AUTO_RETRIES`] attempts; a refusal (5xx) waits for the rep.
    pub fn failed(&self, id: i64, retryable: bool, why: &Reason) -> Result<State> {
        let event = if retryable { Event::NotAccepted } else { Event::Refused };
        let kind = if retryable { "not_accepted" } else { "refused" };
        let reason = why.english();
        self.transition(id, event, (kind, &reason), |tx| {
            let attempts: i64 = tx.query_row("SELECT attempts FROM drafts WHERE id = ?1", [id], |r| r.get(0))?;
            let next = if retryable { crate::schedule::retry_delay_ms(attempts).map(|d| now_ms() + d) } else { None };
            tx.execute(
                "UPDATE drafts SET reason = ?2, reason_why = ?3, retryable = ?4, next_attempt_ms = ?5 WHERE id = ?1",
                params![id, reason, why.json(), retryable as i64, next],
            )
            .map(|_| ())
        })
    }

    pub fn needs_decision(&self, id: i64, why: &Reason) -> Result<State> {
        let reason = why.english();
        self.transition(id, Event::Lost, ("needs_decision", &reason), |tx| {
            tx.execute("UPDATE drafts SET reason = ?2, reason_why = ?3 WHERE id = ?1", params![id, reason, why.json()]).map(|_| ())
        })
    }

    /// The document exists in SuperOffice: recorded the moment `POST Document` returned, so a
    /// crash before the content upload never leads to a second document.
    pub fn document_created(&self, id: i64, document_id: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute("UPDATE drafts SET document_id = ?2, updated_at = ?3 WHERE id = ?1", params![id, document_id, now()])?;
        conn.execute(
            "INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'document_created', ?3)",
            params![id, now(), format!("document {document_id}")],
        )?;
        Ok(())
    }

    /// Written right before `POST Document`: if no `document_created` follows, a later attempt
    /// must look for the document instead of creating another.
    pub fn archive_started(&self, id: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, 'archive_started', 'creating the archive document')",
            params![id, now()],
        )?;
        Ok(())
    }

    /// Whether an archive document may already have been created for this draft.
    pub fn archive_attempted(&self, id: i64) -> Result<bool> {
        let conn = self.conn();
        Ok(conn.query_row("SELECT EXISTS(SELECT 1 FROM timeline WHERE draft_id = ?1 AND kind = 'archive_started')", [id], |r| r.get(0))?)
    }

    /// The rep's answer to "needs decision": it was delivered.
    pub fn confirm_sent(&self, id: i64, by: &str) -> Result<State> {
        self.transition(id, Event::RepConfirmsSent, ("rep_confirmed_sent", &format!("{by} confirmed the message was delivered")), |tx| {
            tx.execute(
                "UPDATE drafts SET reason = NULL, reason_why = NULL, sent_at = COALESCE(sent_at, ?2) WHERE id = ?1",
                params![id, now()],
            )
            .map(|_| ())
        })
    }

    /// The rep's answer to "needs decision": send it again (same Message-ID, same bytes).
    pub fn send_again(&self, id: i64, by: &str) -> Result<State> {
        self.transition(id, Event::RepSendsAgain, ("rep_sends_again", &format!("{by} chose to send it again")), |tx| {
            // A new attempt through the mailbox makes a new draft (the old one may have gone out).
            tx.execute("UPDATE drafts SET reason = NULL, reason_why = NULL, provider_ref = NULL WHERE id = ?1", [id]).map(|_| ())
        })
    }

    /// A message that was not sent goes back to the queue (same Message-ID, same bytes).
    pub fn retry(&self, id: i64, by: &str) -> Result<State> {
        self.transition(id, Event::Retry, ("retry", &format!("{by} asked to try again")), |tx| {
            tx.execute("UPDATE drafts SET reason = NULL, reason_why = NULL WHERE id = ?1", [id]).map(|_| ())
        })
    }

    pub fn archived(&self, id: i64, document_id: i64) -> Result<State> {
        let channel: Option<String> = self.conn().query_row("SELECT channel FROM drafts WHERE id = ?1", [id], |r| r.get(0)).ok().flatten();
        let what = match channel.as_deref().and_then(crate::Channel::from_db) {
            Some(crate::Channel::EmailAgent) => {
                format!("the approved text is document {document_id} (SuperOffice's email agent built and sent its own message from it)")
            }
            Some(crate::Channel::Handoff) => format!("the approved text is document {document_id} (sent from the rep's own mail program)"),
            _ => format!("the sent .eml is document {document_id}"),
        };
        self.transition(id, Event::Archived, ("archived", &what), |_| Ok(()))
    }

    pub fn task_completed(&self, id: i64, task: &str) -> Result<State> {
        self.transition(id, Event::TaskCompleted, ("task_completed", &format!("follow-up {task} completed")), |tx| {
            tx.execute("UPDATE drafts SET task_completed_at = ?2 WHERE id = ?1", params![id, now()]).map(|_| ())
        })
    }

    /// Notes a problem that does not change the state (e.g. archiving will be retried).
    pub fn note(&self, id: i64, kind: &str, why: &Reason) -> Result<()> {
        let detail = why.english();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE drafts SET reason = ?2, reason_why = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, detail, why.json(), now()],
        )?;
        tx.execute("INSERT INTO timeline (draft_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)", params![id, now(), kind, detail])?;
        tx.commit()?;
        Ok(())
    }

    /// Ids of rows in `state`.
    pub fn ids_in(&self, state: State) -> Result<Vec<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM drafts WHERE state = ?1 ORDER BY id")?;
        let ids = stmt.query_map([state.as_db()], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    /// After a crash: rows left in `sending` are never retried blindly. If the timeline shows
    /// DATA began, the outcome is unknown (needs decision); if not, nothing left the machine,
    /// but we cannot prove the server did not receive a partial attempt either, so the rep
    /// decides too. Returns how many rows were resolved.
    pub fn recover_interrupted(&self) -> Result<usize> {
        let ids = self.ids_in(State::Sending)?;
        for id in &ids {
            let began: bool = {
                let conn = self.conn();
                conn.query_row(
                    "SELECT EXISTS(SELECT 1 FROM timeline WHERE draft_id = ?1 AND kind = 'data_started' AND id > (SELECT MAX(id) FROM timeline WHERE draft_id = ?1 AND kind = 'sending'))",
                    [id],
                    |r| r.get(0),
                )?
            };
            let why = if began { Reason::StoppedDuringData } else { Reason::StoppedBeforeData };
            self.needs_decision(*id, &why)?;
        }
        Ok(ids.len())
    }
}
