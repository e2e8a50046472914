//! Intake: the GTM engine's drafts arrive as the rep's open follow-up tasks in SuperOffice.

use std::collections::HashMap;

use serde::Serialize;
use superoffice::{AppointmentFilter, Client};

use crate::draft::{check, parse_description};
use crate::{NewDraft, Result, Store};

pub const SOURCE_TASK: &str = "superoffice-task";

#[derive(Clone, Debug, Default, Serialize, specta::Type)]
pub struct IntakeReport {
    /// Open tasks of the draft type found in SuperOffice.
    pub found: u32,
    /// Of those, new to the outbox.
    pub added: u32,
    /// Of the new ones, how many cannot be sent as they are (kept, with the reason).
    pub with_problems: u32,
    /// Tasks left for the next refresh because their person could not be read.
    pub skipped: u32,
}

/// Fetches the rep's open draft tasks (all pages) and adds the new ones to the outbox.
/// Tasks already in the outbox are left as they are, whatever their state.
pub async fn intake_tasks(client: &Client, store: &Store, filter: &AppointmentFilter) -> Result<IntakeReport> {
    let rows = client.open_tasks(filter).await?;
    let known: std::collections::HashSet<String> =
        store.list()?.into_iter().filter(|d| d.source == SOURCE_TASK).map(|d| d.source_ref).collect();
    let mut people = HashMap::new();
    let mut report = IntakeReport { found: rows.len() as u32, ..IntakeReport::default() };
    let mut drafts = Vec::new();
    for row in rows {
        let source_ref = row.appointment_id.to_string();
        if known.contains(&source_ref) {
            continue;
        }
        let person = if row.person_id == 0 {
            None
        } else if let Some(p) = people.get(&row.person_id) {
            Some(Clone::clone(p))
        } else {
            match client.person(row.person_id).await {
                Ok(p) => {
                    people.insert(row.person_id, p.clone());
                    Some(p)
                }
                Err(e) => {
                    // One unreadable person must not stop the others; the task stays in
                    // SuperOffice and comes back on the next refresh.
                    tracing::warn!(task = row.appointment_id, code = e.code(), "person could not be read; task skipped for now");
                    report.skipped += 1;
                    continue;
                }
            }
        };
        let parsed = parse_description(&row.description);
        let email = person.as_ref().and_then(|p| p.primary_email()).map(str::to_owned);
        let problem = check(email.as_deref(), parsed.subject.as_deref(), &parsed.body);
        let draft = NewDraft {
            source: SOURCE_TASK.into(),
            source_ref,
            contact_id: row.contact_id,
            person_id: row.person_id,
            sale_id: row.sale_id,
            company: person.as_ref().and_then(|p| p.contact.as_ref()).and_then(|c| c.name.clone()).unwrap_or_default(),
            recipient_name: person.as_ref().map(|p| p.display_name()).unwrap_or_default(),
            recipient_email: email,
            subject: parsed.subject,
            body: parsed.body,
            problem,
        };
        drafts.push(draft);
    }
    // One transaction for the whole intake: one fsync, not three per task.
    for (d, added) in drafts.iter().zip(store.insert_drafts(&drafts)?) {
        if added {
            report.added += 1;
            if d.problem.is_some() {
                report.with_problems += 1;
            }
        }
    }
    Ok(report)
}
