//! Part of `tests/crash.rs`: what the servers and the outbox hold after a run (`Snapshot`),
//! the global invariants counted over it (`Tally`: lost, auto_dup, misclassified_ambiguous,
//! archive_dup), and what a crash at one point must leave.

use std::collections::HashMap;

use outbox::{DraftRow, State, Store};

pub(crate) struct Doc {
    pub(crate) id: i64,
    pub(crate) content: Option<Vec<u8>>,
}

pub(crate) struct Snapshot {
    pub(crate) rows: Vec<DraftRow>,
    /// Received messages by Message-ID (without angle brackets).
    pub(crate) received: HashMap<String, Vec<Vec<u8>>>,
    /// Message-IDs received per (envelope recipients, Subject): one letter sent under two
    /// Message-IDs (e.g. a draft taken in twice) is a duplicate too.
    pub(crate) letters: HashMap<(String, String), Vec<String>>,
    /// Simulator documents by `ExternalRef` (without angle brackets).
    pub(crate) documents: HashMap<String, Vec<Doc>>,
    /// Appointment id → `Completed` status.
    pub(crate) tasks: HashMap<String, String>,
}

pub(crate) fn norm(message_id: &str) -> String {
    message_id.trim().trim_start_matches('<').trim_end_matches('>').to_owned()
}

impl Snapshot {
    pub(crate) fn row(&self, id: i64) -> &DraftRow {
        self.rows.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no row {id}"))
    }
    pub(crate) fn mid(row: &DraftRow) -> Option<String> {
        row.message_id.as_deref().map(norm)
    }
    pub(crate) fn received_for(&self, row: &DraftRow) -> &[Vec<u8>] {
        Self::mid(row).and_then(|m| self.received.get(&m)).map(Vec::as_slice).unwrap_or_default()
    }
    pub(crate) fn documents_for(&self, row: &DraftRow) -> &[Doc] {
        Self::mid(row).and_then(|m| self.documents.get(&m)).map(Vec::as_slice).unwrap_or_default()
    }
    pub(crate) fn task(&self, row: &DraftRow) -> &str {
        self.tasks.get(&row.source_ref).map(String::as_str).unwrap_or("(no such task)")
    }
}

/// The global invariants' counts, with the rows that breach them.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) lost: Vec<i64>,
    pub(crate) auto_dup: Vec<String>,
    pub(crate) misclassified_ambiguous: Vec<i64>,
    pub(crate) archive_dup: Vec<String>,
    /// Received Message-IDs that belong to no row (the counts would be meaningless).
    pub(crate) strangers: Vec<String>,
    /// Done rows whose archive is not exactly the received message (one document holding the
    /// received bytes, named on the row, its task completed), and undecided rows that were
    /// archived or completed as if sent.
    pub(crate) wrong_archive: Vec<i64>,
}

impl Tally {
    pub(crate) fn of(s: &Snapshot) -> Tally {
        let mut t = Tally::default();
        for row in &s.rows {
            let received = !s.received_for(row).is_empty();
            if row.message_id.is_some() && !matches!(row.state, State::Done | State::NeedsDecision | State::Failed) {
                t.lost.push(row.id);
            }
            let certain_sent = matches!(row.state, State::Done | State::Sent | State::Archived);
            let certain_unsent = matches!(row.state, State::Pending | State::Approved | State::Failed);
            if (certain_sent && !received) || (certain_unsent && received) {
                t.misclassified_ambiguous.push(row.id);
            }
            let docs = s.documents_for(row);
            let from_task = row.source == "superoffice-task";
            let archived_right = docs.len() == 1
                && row.document_id == Some(docs[0].id)
                && s.received_for(row).first().is_some_and(|m| docs[0].content.as_deref() == Some(m.as_slice()))
                && (!from_task || s.task(row) == "Completed");
            let untouched = docs.is_empty() && (!from_task || s.task(row) != "Completed");
            if (row.state == State::Done && !archived_right) || (row.state == State::NeedsDecision && !untouched) {
                t.wrong_archive.push(row.id);
            }
        }
        t.auto_dup = s.received.iter().filter(|(_, v)| v.len() > 1).map(|(k, _)| k.clone()).collect();
        for ((to, subject), ids) in &s.letters {
            let mut distinct = ids.clone();
            distinct.sort();
            distinct.dedup();
            if distinct.len() > 1 {
                t.auto_dup.push(format!("{subject:?} to {to} under {distinct:?}"));
            }
        }
        t.archive_dup = s.documents.iter().filter(|(_, v)| v.len() > 1).map(|(k, _)| k.clone()).collect();
        let known: std::collections::HashSet<String> = s.rows.iter().filter_map(Snapshot::mid).collect();
        t.strangers = s.received.keys().filter(|k| !known.contains(*k)).cloned().collect();
        t
    }

    pub(crate) fn line(&self, crash_points: usize) -> String {
        format!(
            "crash points: {crash_points}, lost={} auto_dup={} misclassified_ambiguous={} archive_dup={}",
            self.lost.len(),
            self.auto_dup.len(),
            self.misclassified_ambiguous.len(),
            self.archive_dup.len()
        )
    }

    pub(crate) fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.auto_dup.is_empty()
            && self.misclassified_ambiguous.is_empty()
            && self.archive_dup.is_empty()
            && self.strangers.is_empty()
            && self.wrong_archive.is_empty()
    }

    /// Fails, printing the offending rows and their timelines, unless every count is 0.
    pub(crate) fn assert_clean(&self, s: &Snapshot, store: &Store, when: &str) {
        if self.clean() {
            return;
        }
        let mut ids: Vec<i64> = self.lost.iter().chain(&self.misclassified_ambiguous).chain(&self.wrong_archive).copied().collect();
        for mid in self.auto_dup.iter().chain(&self.archive_dup) {
            ids.extend(s.rows.iter().filter(|r| Snapshot::mid(r).as_ref() == Some(mid)).map(|r| r.id));
        }
        ids.sort_unstable();
        ids.dedup();
        let mut report = format!(
            "invariant breach {when}: lost={:?} auto_dup={:?} misclassified_ambiguous={:?} archive_dup={:?} unknown Message-IDs received={:?} wrong archive={:?}\n",
            self.lost, self.auto_dup, self.misclassified_ambiguous, self.archive_dup, self.strangers, self.wrong_archive
        );
        for id in ids {
            report.push_str(&describe(s, store, id));
        }
        panic!("{report}");
    }
}

/// A row, what the servers hold for it, and its timeline.
pub(crate) fn describe(s: &Snapshot, store: &Store, id: i64) -> String {
    let row = s.row(id);
    let mut out = format!(
        "  draft {id} (task {}): state {:?}, Message-ID {:?}, received {}x, documents {}, task {}, reason {:?}\n",
        row.source_ref,
        row.state,
        row.message_id,
        s.received_for(row).len(),
        s.documents_for(row).len(),
        s.task(row),
        row.reason
    );
    for e in store.timeline(id).expect("timeline") {
        out.push_str(&format!("      {} {:<18} {}\n", e.at, e.kind, e.detail));
    }
    out
}

/// What a crash at `point` must leave after the healing run, checked for `id`.
pub(crate) fn check_point(s: &Snapshot, point: &str, id: i64) -> Result<String, String> {
    let row = s.row(id);
    let received = s.received_for(row);
    let docs = s.documents_for(row);
    let task = s.task(row);
    let outcome = format!("{:?}, received {}x, documents {}, task {task}", row.state, received.len(), docs.len());
    let expect = |ok: bool, what: &str| if ok { Ok(()) } else { Err(format!("{point}: expected {what}; got {outcome}")) };
    match point {
        "after_claim" | "after_data_started" | "after_smtp_accepted" => {
            let messages = usize::from(point == "after_smtp_accepted");
            expect(row.state == State::NeedsDecision, "NeedsDecision (the run stopped during a send attempt)")?;
            expect(received.len() == messages, &format!("exactly {messages} complete message(s) at the SMTP server"))?;
            expect(docs.is_empty(), "no archive document for an undecided message")?;
            expect(task != "Completed", "the task still open")?;
        }
        _ => {
            expect(row.state == State::Done, "Done")?;
            expect(received.len() == 1, "exactly 1 message at the SMTP server")?;
            expect(docs.len() == 1, "exactly 1 document with ExternalRef = Message-ID")?;
            expect(row.document_id == Some(docs[0].id), "the row to name that document")?;
            expect(docs[0].content.as_deref() == Some(received[0].as_slice()), "the document content to be the exact received bytes")?;
            expect(task == "Completed", "the task Completed")?;
        }
    }
    Ok(outcome)
}
