//! Part of `tests/model.rs`: what must hold after every step (I1–I5 on the store and the fakes,
//! and the store's agreement with the model, row by row), and the heal and drain that ends
//! each case.

use std::collections::BTreeMap;

use outbox::{mime, DraftRow, State};

use crate::reference::Model;
use crate::transitions::{ArchiveOutcome, SendOutcome};
use crate::world::World;
use crate::{far_future_ms, ok};

impl World {
    /// I1–I5, checked on the store and the fakes. `m` is the model after the step (after a
    /// drain only its world facts, the approvals and the rep's decisions, still hold).
    pub(crate) fn check_world(&self, m: &Model, drained: bool) {
        let rows = self.rows();
        let by_id: BTreeMap<i64, &DraftRow> = rows.iter().map(|d| (d.id, d)).collect();
        // I1 nothing lost.
        assert_eq!(rows.len(), m.rows.len(), "I1: the outbox holds {} drafts; {} were created", rows.len(), m.rows.len());
        for (r, mr) in m.rows.iter().enumerate() {
            let id = self.ids[r];
            let d = by_id.get(&id).unwrap_or_else(|| panic!("I1: draft {id} (row {r}) is missing from the outbox"));
            if !mr.ever_approved {
                continue;
            }
            let allowed: &[State] = if drained {
                &[State::Done, State::Failed, State::NeedsDecision, State::Pending, State::Rejected, State::Snoozed]
            } else {
                &[
                    State::Approved,
                    State::Sent,
                    State::Archived,
                    State::Done,
                    State::Failed,
                    State::NeedsDecision,
                    State::Pending,
                    State::Rejected,
                    State::Snoozed,
                ]
            };
            assert!(
                allowed.contains(&d.state),
                "I1: approved draft {id} is {} {}; it must be one of {allowed:?}",
                d.state,
                if drained { "after heal and drain" } else { "between steps (never left in sending)" }
            );
        }
        // I2 no automatic duplicate.
        let server = self.relay.accepted();
        for (mid, copies) in &server {
            let allowed = 1 + m.rep_resends.get(mid).copied().unwrap_or(0);
            assert!(
                copies.len() as u32 <= allowed,
                "I2: the relay accepted {} copies of {mid}, but the rep asked for only {} resend(s)",
                copies.len(),
                allowed - 1
            );
        }
        // I3 ambiguity surfaced.
        for (r, mr) in m.rows.iter().enumerate() {
            let d = by_id[&self.ids[r]];
            if mr.ambiguous {
                assert_eq!(
                    d.state,
                    State::NeedsDecision,
                    "I3: draft {}'s SMTP outcome was unknown to the store; it must wait for the rep in needs_decision, but it is {}",
                    d.id,
                    d.state
                );
            }
        }
        // I4 approved bytes = sent bytes.
        for (mid, copies) in &server {
            let approved = self.approved_bytes.get(mid).unwrap_or_else(|| panic!("I4: the relay got {mid}, which was never approved"));
            for (i, c) in copies.iter().enumerate() {
                assert!(c == approved, "I4: copy {i} of {mid} that the relay received differs from the bytes approved");
            }
        }
        for d in &rows {
            let Ok(a) = self.store().approved(d.id) else { continue };
            assert_eq!(mime::sha256_hex(&a.mime), a.mime_sha256, "I4: draft {}'s stored bytes do not match mime_sha256", d.id);
            let approved = self
                .approved_bytes
                .get(&a.message_id)
                .unwrap_or_else(|| panic!("I4: draft {} has Message-ID {}, never approved", d.id, a.message_id));
            assert!(&a.mime == approved, "I4: draft {}'s stored bytes differ from the bytes approved for {}", d.id, a.message_id);
        }
        // I5 one archive document per Message-ID.
        let docs = self.archive.docs();
        let mut seen = BTreeMap::new();
        for doc in &docs {
            if let Some(first) = seen.insert(doc.message_id.clone(), doc.id) {
                panic!("I5: the archive holds documents {first} and {} for the same Message-ID {}", doc.id, doc.message_id);
            }
        }
        for d in rows.iter().filter(|d| matches!(d.state, State::Archived | State::Done)) {
            let mid = d.message_id.as_deref().unwrap_or_else(|| panic!("I5: {} draft {} has no Message-ID", d.state, d.id));
            let doc = docs.iter().find(|x| x.message_id == mid);
            let doc = doc.unwrap_or_else(|| panic!("I5: draft {} is {} but the archive has no document for {mid}", d.id, d.state));
            assert_eq!(
                d.document_id,
                Some(doc.id),
                "I5: draft {} records document {:?}; the archive holds {} for {mid}",
                d.id,
                d.document_id,
                doc.id
            );
            let approved = &self.approved_bytes[mid];
            assert!(
                doc.content.as_deref() == Some(&mime::as_received(approved)[..]),
                "I5: document {} does not hold the sent bytes of {mid}",
                doc.id
            );
        }
        if drained {
            for doc in &docs {
                let owner = rows.iter().find(|d| d.message_id.as_deref() == Some(&doc.message_id));
                assert!(
                    owner.is_some_and(|d| d.state == State::Done),
                    "I5: after the drain, document {} for {} belongs to no done draft ({:?})",
                    doc.id,
                    doc.message_id,
                    owner.map(|d| d.state)
                );
            }
        }
    }

    /// The store agrees with the reference model, row by row.
    pub(crate) fn check_model(&self, m: &Model) {
        for (r, mr) in m.rows.iter().enumerate() {
            let id = self.ids[r];
            let d = ok("get", self.store().get(id));
            assert_eq!(d.state, mr.state, "draft {id} (row {r}) is {} in the store, {} in the model (state::next)", d.state, mr.state);
            assert_eq!(d.message_id, mr.message_id, "draft {id}: Message-ID");
            assert_eq!(d.document_id.is_some(), mr.doc_recorded, "draft {id}: whether a document id is recorded");
        }
    }

    /// Heal and drain: restart with a healthy network, retry what is due, send what is approved,
    /// archive what is sent, until nothing is left to do.
    pub(crate) fn heal_and_drain(&mut self) {
        self.restart(0);
        let far = far_future_ms();
        for _round in 0..20 {
            let mut work = !ok("retry_due", self.store().retry_due(far)).is_empty();
            for id in ok("due_for_sending", self.store().due_for_sending(far)) {
                self.deliver(id, SendOutcome::Accepted, ArchiveOutcome::Ok, State::Done);
                work = true;
            }
            for id in ok("archive_due", self.store().archive_due(far)) {
                self.finish(id, ArchiveOutcome::Ok, State::Done);
                work = true;
            }
            if !work {
                return;
            }
        }
        panic!("I1: the drain still finds work after 20 rounds");
    }
}
