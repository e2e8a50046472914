//! The `intake` check: the outbox's own query for the rep's open draft tasks, run as the
//! outbox runs it, so an admin sees SuperOffice's answer to it and who can fix a refusal.

use std::time::Instant;

use superoffice::Client;

use crate::caller::{evidence, ok_line, Caller};
use crate::{Action, Cause, Check, CheckId, Owner, Status};

/// The intake query itself, exactly as the outbox runs it: the rep's open follow-ups of the
/// draft task type with their recipients (FindAppointment, `GET Appointment`). Read-only.
pub(crate) async fn intake(client: &Client, caller: Caller, task_type_id: i64) -> Option<Check> {
    let session = client.session().filter(|_| caller == Caller::Rep)?;
    let filter = superoffice::AppointmentFilter { associate_id: session.claims().associate_id, task_type_id };
    let t = Instant::now();
    let r = client.open_tasks(&filter).await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::Intake, Status::Pass);
    c.tried.push(format!("GET Appointment?$filter={}", filter.odata()));
    match r {
        Ok(rows) => {
            let without = rows.iter().filter(|r| r.email.is_none()).count();
            c.evidence.push(ok_line(&format!("200: {} open draft task(s), {without} without a recipient address", rows.len()), ms));
            c.found = Some(rows.len().to_string());
        }
        Err(e) => {
            c.evidence.push(evidence(&e, ms));
            c.http_status = e.status();
            let failure = outbox::IntakeProblem::from_error(&outbox::Error::SuperOffice(e)).failure;
            use outbox::IntakeFailure as F;
            let (status, cause, owner, action) = match failure {
                F::Unavailable => (Status::Unknown, Cause::IntakeUnavailable, None, Action::NothingIntakeRetries),
                F::SignedOut => (Status::Fail, Cause::IntakeSignedOut, Some(Owner::Rep), Action::SignInAgain),
                F::Forbidden => (Status::Fail, Cause::IntakeForbidden, Some(Owner::TenantAdmin), Action::GrantReadFollowUps),
                F::Unreadable => (Status::Fail, Cause::IntakeUnreadable, Some(Owner::AppVendor), Action::SendReportToVendor),
                F::Refused | F::Local => (Status::Fail, Cause::IntakeRefused, Some(Owner::AppVendor), Action::SendReportCheckTaskType),
            };
            c.status = status;
            c.cause = Some(cause);
            c.owner = owner;
            c.action = Some(action);
        }
    }
    Some(c)
}
