//! Intake: the GTM engine's drafts arrive as the rep's open follow-up tasks in SuperOffice.

use serde::Serialize;
use superoffice::{AppointmentFilter, Client};

use crate::draft::{check, parse_description};
use crate::{NewDraft, Result, Store};

use crate::store::SOURCE_TASK;

#[derive(Clone, Debug, Default, Serialize, specta::Type)]
pub struct IntakeReport {
    /// Open tasks of the draft type found in SuperOffice.
    pub found: u32,
    /// Of those, new to the outbox.
    pub added: u32,
    /// Of the new ones, how many cannot be sent as they are (kept, with the reason).
    pub with_problems: u32,
}

/// Fetches the rep's open draft tasks (all pages, each with its recipient: one request per
/// 200 tasks) and adds the new ones to the outbox. Tasks already in the outbox are left as
/// they are, whatever their state. A page SuperOffice refuses or that cannot be decoded fails
/// the whole intake with that error: nothing is added halfway and the caller shows it.
pub async fn intake_tasks(client: &Client, store: &Store, filter: &AppointmentFilter) -> Result<IntakeReport> {
    let rows = client.open_tasks(filter).await?;
    let known: std::collections::HashSet<String> =
        store.list()?.into_iter().filter(|d| d.source == SOURCE_TASK).map(|d| d.source_ref).collect();
    let mut report = IntakeReport { found: rows.len() as u32, ..IntakeReport::default() };
    let mut drafts = Vec::new();
    for row in rows {
        let source_ref = row.appointment_id.to_string();
        if known.contains(&source_ref) {
            continue;
        }
        let parsed = parse_description(&row.description);
        let problem = check(row.email.as_deref(), &row.person_name, parsed.subject.as_deref(), &parsed.body);
        drafts.push(NewDraft {
            source: SOURCE_TASK.into(),
            source_ref,
            contact_id: row.contact_id,
            person_id: row.person_id,
            sale_id: row.sale_id,
            company: row.company,
            recipient_name: row.person_name,
            recipient_email: row.email,
            subject: parsed.subject,
            body: parsed.body,
            problem,
        });
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

/// What kind of failure kept new drafts from arriving, and so who can fix it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum IntakeFailure {
    /// SuperOffice refused the app's query (a 4xx other than 401/403): the query or the
    /// configured task type does not fit this tenant. The app's vendor, with the admin.
    Refused,
    /// The rep may not read follow-ups (403): the tenant's administrator.
    Forbidden,
    /// The sign-in is no longer valid (401): the rep signs in again.
    SignedOut,
    /// SuperOffice answered in a form the app cannot read: the app's vendor.
    Unreadable,
    /// SuperOffice did not answer (5xx, network, timeout): tried again automatically.
    Unavailable,
    /// The outbox itself failed (the local database).
    Local,
}

/// The last intake failure, as the outbox banner shows it: the kind (worded by the UI), the
/// server's own words, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct IntakeProblem {
    pub failure: IntakeFailure,
    /// The HTTP status, when SuperOffice answered.
    pub status: Option<u16>,
    /// SuperOffice's answer (or the decoding error), as it came.
    pub detail: String,
    /// The error code, for the report.
    pub code: codes::ErrorCode,
    pub at_ms: i64,
}

impl IntakeProblem {
    pub fn from_error(e: &crate::Error) -> Self {
        let status = match e {
            crate::Error::SuperOffice(s) => s.status(),
            _ => None,
        };
        let failure = match e {
            crate::Error::SuperOffice(s) if s.needs_sign_in() => IntakeFailure::SignedOut,
            crate::Error::SuperOffice(s) if s.status() == Some(403) => IntakeFailure::Forbidden,
            crate::Error::SuperOffice(s) if s.is_transient() => IntakeFailure::Unavailable,
            crate::Error::SuperOffice(superoffice::Error::Decode(_)) => IntakeFailure::Unreadable,
            crate::Error::SuperOffice(_) => IntakeFailure::Refused,
            _ => IntakeFailure::Local,
        };
        // SuperOffice's own words (its error type and message); the banner adds the status.
        let detail = match e {
            crate::Error::SuperOffice(superoffice::Error::Api { error_type: Some(t), message, .. }) => format!("{t}: {message}"),
            crate::Error::SuperOffice(superoffice::Error::Api { message, .. }) => message.clone(),
            other => other.to_string(),
        };
        IntakeProblem { failure, status, detail, code: e.code(), at_ms: crate::store::now_ms() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_names_who_can_fix_it() {
        let api = |status: u16| {
            crate::Error::SuperOffice(superoffice::Error::Api {
                status,
                error_type: Some("SoArchiveException".into()),
                message: "Unknown column 'description'".into(),
                retry_after: None,
            })
        };
        let p = IntakeProblem::from_error(&api(400));
        assert_eq!((p.failure, p.status), (IntakeFailure::Refused, Some(400)));
        assert!(p.detail.contains("Unknown column 'description'"), "SuperOffice's own words: {}", p.detail);
        assert_eq!(IntakeProblem::from_error(&api(403)).failure, IntakeFailure::Forbidden);
        assert_eq!(IntakeProblem::from_error(&api(401)).failure, IntakeFailure::SignedOut);
        assert_eq!(IntakeProblem::from_error(&api(503)).failure, IntakeFailure::Unavailable);
        let bad = crate::Error::SuperOffice(superoffice::Error::Decode("Appointment: row 3".into()));
        assert_eq!(IntakeProblem::from_error(&bad).failure, IntakeFailure::Unreadable);
        assert_eq!(IntakeProblem::from_error(&crate::Error::NotFound(1)).failure, IntakeFailure::Local);
    }
}
