//! Part of `examples/bench_send.rs`: SQLite on its own. The store calls `Delivery::deliver`
//! makes for a message, repeated with no network in between (back to back, or with idle time
//! before each commit), and the raw cost of a write plus `fdatasync` on the same disk.

use std::io::Write as _;
use std::time::{Duration, Instant};

use outbox::mime::{self, Outgoing};
use outbox::{NewDraft, Rep, State, Store};

/// SQLite commits one `Delivery::deliver` makes for a message that goes through cleanly:
/// claim, data_started, sent, archive_started, document_created (two autocommit statements),
/// archived, task_completed. The isolated store loop below repeats exactly these calls.
pub(crate) const COMMITS_PER_MESSAGE: u32 = 8;

/// Idle time before each commit in the spaced store loop.
pub(crate) const STORE_GAP: Duration = Duration::from_millis(5);

/// Times store calls; `gap` is idle time before each commit (not counted), standing in for
/// the network steps between the pipeline's commits.
pub(crate) struct Clock {
    pub(crate) gap: Duration,
    pub(crate) busy: Duration,
}

impl Clock {
    pub(crate) fn commit<T>(&mut self, f: impl FnOnce() -> T) -> T {
        if !self.gap.is_zero() {
            std::thread::sleep(self.gap);
        }
        self.read(f)
    }
    pub(crate) fn read<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let v = f();
        self.busy += t.elapsed();
        v
    }
}

/// Repeats the store calls of `Delivery::deliver` (SMTP path) for `n` approved drafts, with no
/// network in between: what the pipeline spends in SQLite per message. Returns the time spent
/// in the calls.
pub(crate) fn store_only(path: &std::path::Path, rep: &Rep, n: usize, gap: Duration) -> Duration {
    let store = Store::open(path).expect("store");
    for i in 0..n {
        let draft = NewDraft {
            source: "bench".into(),
            source_ref: format!("{}", 900_000 + i),
            contact_id: 2,
            person_id: 2,
            sale_id: 0,
            company: "Bench GmbH".into(),
            recipient_name: "Olivia Carter".into(),
            recipient_email: Some("olivia.carter@brightwater.example".into()),
            subject: Some(format!("Follow-up {i}")),
            body: format!("Hello Olivia,\n\nthis is follow-up {i}.\n\nKind regards\nAnna Berger"),
            problem: None,
        };
        assert!(store.insert_draft(&draft).expect("insert"));
    }
    let rows = store.list().expect("list");
    for row in &rows {
        let message_id = mime::new_message_id(&rep.email);
        let message = mime::build(&Outgoing {
            from_name: &rep.name,
            from_address: &rep.email,
            to_name: &row.recipient_name,
            to_address: row.recipient_email.as_deref().unwrap_or_default(),
            subject: row.subject.as_deref().unwrap_or_default(),
            body: &row.body,
            message_id: &message_id,
            date: time::OffsetDateTime::now_utc(),
        })
        .expect("mime");
        store.approve(row.id, &rep.name, &message_id, &rep.name, &rep.email, &message.formatted(), 0).expect("approve");
    }
    let mut c = Clock { gap, busy: Duration::ZERO };
    for id in rows.iter().map(|r| r.id) {
        let a = c.read(|| store.approved(id)).expect("approved");
        assert!(mime::sha256_hex(&a.mime) == a.mime_sha256);
        c.commit(|| store.claim(id)).expect("claim");
        c.commit(|| store.data_started(id)).expect("data_started");
        c.commit(|| store.sent(id, "250 2.0.0 Ok: queued")).expect("sent");
        let a = c.read(|| store.approved(id)).expect("approved");
        assert!(!c.read(|| store.archive_attempted(id)).expect("archive_attempted"));
        c.commit(|| store.archive_started(id)).expect("archive_started");
        c.commit(|| store.document_created(id, 10_000 + id)).expect("document_created"); // two commits
        c.commit(|| store.archived(id, 10_000 + id)).expect("archived");
        let _ = c.read(|| store.approved(id)).expect("approved");
        assert_eq!(c.commit(|| store.task_completed(id, &a.source_ref)).expect("task_completed"), State::Done);
    }
    c.busy
}

/// A 4 KiB write plus `fdatasync`, `n` times, on a file in `dir`: the floor of one commit.
pub(crate) fn raw_fsync(dir: &std::path::Path, n: usize) -> Duration {
    let mut f = std::fs::File::create(dir.join("fsync-probe")).expect("probe file");
    let page = [0x5au8; 4096];
    let t0 = Instant::now();
    for _ in 0..n {
        f.write_all(&page).expect("write");
        f.sync_data().expect("fdatasync");
    }
    t0.elapsed()
}
