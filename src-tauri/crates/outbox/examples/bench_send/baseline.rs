//! Part of `examples/bench_send.rs`: the two sides' work per message. The baseline does the
//! protocol work by hand (MIME, SMTP, the document, its content, the task) with no store and no
//! state machine; the pipeline is `Delivery::deliver`; both are split into the same phases.

use std::cell::Cell;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use outbox::mime::{self, Outgoing};
use outbox::smtp::{self, Outcome};
use outbox::{Delivery, State, Store};
use serde_json::json;
use superoffice::AppointmentFilter;

use crate::{Side, DRAFT_TASK_TYPE};

/// What the baseline sends for one task (read from SuperOffice, kept in memory only).
pub(crate) struct Job {
    pub(crate) task_id: i64,
    pub(crate) contact_id: i64,
    pub(crate) person_id: i64,
    pub(crate) sale_id: i64,
    pub(crate) to_name: String,
    pub(crate) to_address: String,
    pub(crate) subject: String,
    pub(crate) body: String,
}

/// The sendable open draft tasks, in task order, exactly as intake would read them.
pub(crate) async fn baseline_jobs(side: &Side, want: usize) -> Vec<Job> {
    let filter = AppointmentFilter { associate_id: side.rep.associate_id, task_type_id: DRAFT_TASK_TYPE };
    let rows = side.client.open_tasks(&filter).await.expect("open tasks");
    let mut jobs = Vec::new();
    for row in rows {
        if jobs.len() == want {
            break;
        }
        if row.person_id == 0 {
            continue;
        }
        let parsed = outbox::draft::parse_description(&row.description);
        let email = row.email.clone();
        if outbox::draft::check(email.as_deref(), &row.person_name, parsed.subject.as_deref(), &parsed.body).is_some() {
            continue;
        }
        jobs.push(Job {
            task_id: row.appointment_id,
            contact_id: row.contact_id,
            person_id: row.person_id,
            sale_id: row.sale_id,
            to_name: row.person_name.clone(),
            to_address: email.unwrap_or_default(),
            subject: parsed.subject.unwrap_or_default(),
            body: parsed.body,
        });
    }
    assert_eq!(jobs.len(), want, "not enough sendable tasks for the baseline");
    jobs
}

/// Per-phase time sums, in the order of [`PHASES`].
#[derive(Default, Clone, Copy)]
pub(crate) struct Phases(pub(crate) [Duration; 7]);

pub(crate) const PHASES: [&str; 7] = [
    "SMTP connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA → 354",
    "SMTP body → 250, QUIT",
    "(pipeline only) between 250 and the archive",
    "archive: GET Document/default + POST Document",
    "archive: PUT Document/{id}/Content",
    "task: PATCH Appointment/{id}",
    "the rest (MIME build / row reads, last commit)",
];

/// The baseline for one message: build the MIME, submit it on its own SMTP connection, create
/// the document, upload the bytes, complete the task. No store, no state machine.
pub(crate) async fn baseline_one(side: &Side, job: &Job, phases: &mut Phases, sent: &mut Vec<(String, i64, Option<i64>)>) -> Duration {
    let t0 = Instant::now();
    let message_id = mime::new_message_id(&side.rep.email);
    let message = mime::build(&Outgoing {
        from_name: &side.rep.name,
        from_address: &side.rep.email,
        to_name: &job.to_name,
        to_address: &job.to_address,
        subject: &job.subject,
        body: &job.body,
        message_id: &message_id,
        date: time::OffsetDateTime::now_utc(),
    })
    .expect("mime");
    let bytes = message.formatted();
    let from = side.rep.email.parse::<lettre::Address>().expect("from");
    let to = job.to_address.parse::<lettre::Address>().expect("to");
    let envelope = Envelope::new(Some(from), vec![to]).expect("envelope");
    let t_built = Instant::now();
    let data_started = Cell::new(None);
    let outcome = smtp::submit(&side.smtp, &envelope, &bytes, || async {
        data_started.set(Some(Instant::now()));
        true
    })
    .await;
    let t_sent = Instant::now();
    assert!(matches!(outcome, Outcome::Accepted(_)), "baseline SMTP: {outcome:?}");
    let t_354 = data_started.get().unwrap_or(t_sent);
    let sent_at = time::OffsetDateTime::now_utc();

    let mut e = side.client.document_default().await.expect("Document/default");
    let file: String = job.subject.chars().map(|c| if c.is_alphanumeric() || c == ' ' || c == '-' { c } else { '_' }).take(80).collect();
    e["Header"] = json!(job.subject.chars().take(255).collect::<String>());
    e["Name"] = json!(format!("{}.eml", file.trim()));
    e["Description"] = json!(format!("Sent by SuperOffice Outbox over SMTP to {} (Message-ID {})", job.to_address, message_id));
    e["ExternalRef"] = json!(message_id);
    e["Contact"] = if job.contact_id != 0 { json!({ "ContactId": job.contact_id }) } else { json!(null) };
    e["Person"] = if job.person_id != 0 { json!({ "PersonId": job.person_id }) } else { json!(null) };
    e["Sale"] = if job.sale_id != 0 { json!({ "SaleId": job.sale_id }) } else { json!(null) };
    e["Associate"] = json!({ "AssociateId": side.rep.associate_id });
    e["Date"] = json!(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        sent_at.year(),
        u8::from(sent_at.month()),
        sent_at.day(),
        sent_at.hour(),
        sent_at.minute(),
        sent_at.second()
    ));
    e["Type"] = json!("Document");
    e["Completed"] = json!("Completed");
    let document_id = side.client.create_document(&e).await.expect("POST Document").document_id;
    let t_doc = Instant::now();
    side.client.put_document_content(document_id, mime::as_received(&bytes)).await.expect("PUT Content");
    let t_content = Instant::now();
    side.client.complete_task(job.task_id).await.expect("PATCH Appointment");
    let t_end = Instant::now();

    let p = &mut phases.0;
    p[0] += t_354 - t_built;
    p[1] += t_sent - t_354;
    p[3] += t_doc - t_sent;
    p[4] += t_content - t_doc;
    p[5] += t_end - t_content;
    p[6] += t_built - t0;
    sent.push((message_id, job.task_id, Some(document_id)));
    t_end - t0
}

pub(crate) async fn pipeline_one(delivery: &Delivery, id: i64) -> Duration {
    let t0 = Instant::now();
    let state = delivery.deliver(id).await.expect("deliver");
    let took = t0.elapsed();
    assert_eq!(state, State::Done, "draft {id}: {:?}", delivery.store.get(id).map(|r| r.reason));
    took
}

/// The pipeline's own timeline splits each delivery into the same phases. Each timestamp is
/// taken right before its commit, so every interval holds the preceding step's commit(s).
pub(crate) fn pipeline_phases(store: &Store, ids: &[i64], totals: &[Duration]) -> Phases {
    let order = ["sending", "data_started", "sent", "archive_started", "document_created", "archived", "task_completed"];
    let mut phases = Phases::default();
    for (id, total) in ids.iter().zip(totals) {
        let timeline = store.timeline(*id).expect("timeline");
        let at = |kind: &str| -> time::OffsetDateTime {
            let e = timeline.iter().find(|e| e.kind == kind).unwrap_or_else(|| panic!("draft {id}: no '{kind}' in the timeline"));
            time::OffsetDateTime::parse(&e.at, &time::format_description::well_known::Rfc3339).expect("timeline time")
        };
        let stamps: Vec<time::OffsetDateTime> = order.iter().map(|k| at(k)).collect();
        let mut span = Duration::ZERO;
        for (i, w) in stamps.windows(2).enumerate() {
            let d = Duration::try_from(w[1] - w[0]).unwrap_or_default();
            phases.0[i] += d;
            span += d;
        }
        phases.0[6] += total.saturating_sub(span);
    }
    phases
}
