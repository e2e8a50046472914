//! Throughput of approve → send → archive: N approved drafts sent over SMTP (STARTTLS + AUTH) to
//! the simulator's loopback relay and archived as documents in the simulator, through the real
//! pipeline (`Delivery::deliver`: claim → SMTP → sent → archive → task completion, every step
//! committed to SQLite in WAL mode with `synchronous=FULL`), against a baseline doing the same
//! protocol work with the same crates and no store and no state machine.
//!
//! ```text
//! cargo run --release -p outbox --example bench_send -- [--n 1000] [--warmup 20] [--block 50] [--store-dir DIR]
//! ```
//!
//! Each side has its own simulator instance (same demo tenant, same seeded tasks, so the same
//! messages). A warm-up of `--warmup` messages per side runs interleaved and is not counted;
//! then the measured messages run in alternating blocks of `--block` (B P, P B, B P, ...), so
//! that whatever else the machine does falls on both sides alike. Each side's wall time is the
//! sum of its blocks. The program prints measured figures and ratios; it asserts no time. It
//! exits non-zero only if the correctness check at the end fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on a broken setup

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keychain::Secret;
use lettre::address::Envelope;
use outbox::mime::{self, Outgoing};
use outbox::smtp::{self, Outcome};
use outbox::{Delivery, NewDraft, Rep, SmtpSecurity, SmtpSettings, State, Store};
use serde_json::json;
use superoffice::{AppointmentFilter, Client};
use superoffice_sim::{SimConfig, SimHandle};

/// The follow-up task type the GTM engine uses for drafts (the simulator's demo tenant).
const DRAFT_TASK_TYPE: i64 = 7;

/// SQLite commits one `Delivery::deliver` makes for a message that goes through cleanly:
/// claim, data_started, sent, archive_started, document_created (two autocommit statements),
/// archived, task_completed. The isolated store loop below repeats exactly these calls.
const COMMITS_PER_MESSAGE: u32 = 8;

/// Idle time before each commit in the spaced store loop.
const STORE_GAP: Duration = Duration::from_millis(5);

struct Args {
    n: usize,
    warmup: usize,
    block: usize,
    /// Where the SQLite files go (a temp dir is made inside); the system temp dir by default.
    /// `/dev/shm` (tmpfs, where fsync costs nothing) shows what the fsyncs cost in place.
    store_dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args { n: 1000, warmup: 20, block: 50, store_dir: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut text = || inline.clone().or_else(|| it.next()).unwrap_or_else(|| usage(&format!("{key} needs a value")));
        let mut number = || -> usize {
            let v = text();
            v.parse().unwrap_or_else(|_| usage(&format!("{key}: '{v}' is not a number")))
        };
        match key.as_str() {
            "--n" => a.n = number(),
            "--warmup" => a.warmup = number(),
            "--block" => a.block = number().max(1),
            "--store-dir" => a.store_dir = Some(text().into()),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if a.n == 0 {
        usage("--n must be at least 1");
    }
    a
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("bench_send: {problem}");
    }
    eprintln!("usage: cargo run --release -p outbox --example bench_send -- [--n 1000] [--warmup 20] [--block 50] [--store-dir DIR]");
    std::process::exit(2)
}

/// One simulator with a signed-in rep and the SMTP settings for its relay.
struct Side {
    sim: SimHandle,
    client: Client,
    rep: Rep,
    smtp: SmtpSettings,
}

async fn side(tasks: usize) -> Side {
    let sim = superoffice_sim::start(SimConfig::demo()).await.unwrap_or_else(|e| panic!("simulator: {e}"));
    sim.seed_tasks(tasks);
    let client = sign_in(&sim).await;
    let me = client.current_principal().await.expect("currentPrincipal");
    let (username, password) = sim.relay_credentials();
    let smtp = SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, username, Secret::new(password))
        .with_ca(Some(sim.relay_ca_pem().to_owned()));
    Side { sim, client, rep: Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address }, smtp }
}

/// Signs the demo rep in through the real loopback flow, playing the browser.
async fn sign_in(sim: &SimHandle) -> Client {
    testkit::sign_in(sim).await
}

/// What the baseline sends for one task (read from SuperOffice, kept in memory only).
struct Job {
    task_id: i64,
    contact_id: i64,
    person_id: i64,
    sale_id: i64,
    to_name: String,
    to_address: String,
    subject: String,
    body: String,
}

/// The sendable open draft tasks, in task order, exactly as intake would read them.
async fn baseline_jobs(side: &Side, want: usize) -> Vec<Job> {
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
struct Phases([Duration; 7]);

const PHASES: [&str; 7] = [
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
async fn baseline_one(side: &Side, job: &Job, phases: &mut Phases, sent: &mut Vec<(String, i64, Option<i64>)>) -> Duration {
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

async fn pipeline_one(delivery: &Delivery, id: i64) -> Duration {
    let t0 = Instant::now();
    let state = delivery.deliver(id).await.expect("deliver");
    let took = t0.elapsed();
    assert_eq!(state, State::Done, "draft {id}: {:?}", delivery.store.get(id).map(|r| r.reason));
    took
}

/// The pipeline's own timeline splits each delivery into the same phases. Each timestamp is
/// taken right before its commit, so every interval holds the preceding step's commit(s).
fn pipeline_phases(store: &Store, ids: &[i64], totals: &[Duration]) -> Phases {
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

/// Times store calls; `gap` is idle time before each commit (not counted), standing in for
/// the network steps between the pipeline's commits.
struct Clock {
    gap: Duration,
    busy: Duration,
}

impl Clock {
    fn commit<T>(&mut self, f: impl FnOnce() -> T) -> T {
        if !self.gap.is_zero() {
            std::thread::sleep(self.gap);
        }
        self.read(f)
    }
    fn read<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let v = f();
        self.busy += t.elapsed();
        v
    }
}

/// Repeats the store calls of `Delivery::deliver` (SMTP path) for `n` approved drafts, with no
/// network in between: what the pipeline spends in SQLite per message. Returns the time spent
/// in the calls.
fn store_only(path: &std::path::Path, rep: &Rep, n: usize, gap: Duration) -> Duration {
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
fn raw_fsync(dir: &std::path::Path, n: usize) -> Duration {
    let mut f = std::fs::File::create(dir.join("fsync-probe")).expect("probe file");
    let page = [0x5au8; 4096];
    let t0 = Instant::now();
    for _ in 0..n {
        f.write_all(&page).expect("write");
        f.sync_data().expect("fdatasync");
    }
    t0.elapsed()
}

struct Stats {
    mean_ms: f64,
    p50_ms: f64,
    p95_ms: f64,
    max_ms: f64,
}

fn stats(each: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = each.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    let wall: Duration = each.iter().sum();
    Stats { mean_ms: wall.as_secs_f64() * 1e3 / ms.len() as f64, p50_ms: q(0.5), p95_ms: q(0.95), max_ms: q(1.0) }
}

fn message_id_of(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("Message-ID").then(|| value.trim().to_owned())
    })
}

/// Relay messages, documents and tasks of one side, against the Message-IDs it should hold.
fn check(side: &Side, expected: &[(String, i64, Option<i64>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let received = side.sim.mailbox().messages();
    let by_id: HashMap<String, &[u8]> = received.iter().filter_map(|m| message_id_of(&m.data).map(|id| (id, m.data.as_slice()))).collect();
    if received.len() != expected.len() {
        problems.push(format!("{} messages in the relay's mailbox, expected {}", received.len(), expected.len()));
    }
    if by_id.len() != received.len() {
        problems.push(format!("{} distinct Message-IDs among {} received messages", by_id.len(), received.len()));
    }
    let tenant = side.sim.tenant();
    if tenant.documents.len() != expected.len() {
        problems.push(format!("{} documents, expected {}", tenant.documents.len(), expected.len()));
    }
    let by_ref: HashMap<&str, _> = tenant.documents.iter().map(|d| (d.external_ref.as_str(), d)).collect();
    let completed: HashSet<i64> = tenant.appointments.iter().filter(|a| a.completed == "Completed").map(|a| a.id).collect();
    let (mut missing, mut wrong_bytes, mut wrong_doc, mut open_tasks) = (0, 0, 0, 0);
    for (message_id, task, document_id) in expected {
        let Some(sent) = by_id.get(message_id) else {
            missing += 1;
            continue;
        };
        match by_ref.get(message_id.as_str()) {
            Some(doc) => {
                if doc.content.as_deref() != Some(*sent) {
                    wrong_bytes += 1;
                }
                if document_id.is_some_and(|d| d != doc.id) {
                    wrong_doc += 1;
                }
            }
            None => missing += 1,
        }
        if !completed.contains(task) {
            open_tasks += 1;
        }
    }
    for (n, what) in [
        (missing, "messages missing from the relay or the archive"),
        (wrong_bytes, "archives whose bytes differ from what the relay received"),
        (wrong_doc, "rows whose document_id is not the archive document"),
        (open_tasks, "tasks not completed"),
    ] {
        if n > 0 {
            problems.push(format!("{n} {what}"));
        }
    }
    problems
}

#[tokio::main]
async fn main() {
    let args = args();
    let per_side = args.warmup + args.n;
    let started = Instant::now();
    println!(
        "bench_send: N = {} messages per side (+ {} warm-up per side, not counted), blocks of {}, {} CPU(s)",
        args.n,
        args.warmup,
        args.block,
        std::thread::available_parallelism().map(usize::from).unwrap_or(1)
    );

    // Two simulators with the same tenant: one for the baseline, one for the pipeline.
    let base = side(per_side).await;
    let pipe = side(per_side).await;
    let jobs = baseline_jobs(&base, per_side).await;

    let dir = match &args.store_dir {
        Some(d) => tempfile::tempdir_in(d).expect("tempdir in --store-dir"),
        None => tempfile::tempdir().expect("tempdir"),
    };
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).expect("store"));
    let filter = AppointmentFilter { associate_id: pipe.rep.associate_id, task_type_id: DRAFT_TASK_TYPE };
    let report = outbox::intake_tasks(&pipe.client, &store, &filter).await.expect("intake");
    let delivery = Delivery::new(store.clone(), pipe.client.clone(), pipe.smtp.clone(), pipe.rep.clone()).with_hold(Duration::ZERO);
    let ids: Vec<i64> = store.list().expect("list").into_iter().filter(|d| d.problem.is_none()).map(|d| d.id).take(per_side).collect();
    assert_eq!(ids.len(), per_side, "not enough sendable drafts ({} taken in)", report.added);
    for id in &ids {
        delivery.approve(*id).expect("approve");
    }
    println!(
        "setup: 2 simulators (relay 127.0.0.1:{} and :{}), {} drafts taken in, {} approved (hold 0, no limits), {:.1} s",
        base.sim.smtp_addr().port(),
        pipe.sim.smtp_addr().port(),
        report.added,
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    println!("store: {} (SQLite WAL, synchronous=FULL as Store::open sets it)", dir.path().join("outbox.sqlite").display());

    // Warm-up, interleaved, not counted.
    let mut scratch = Phases::default();
    let mut base_expected = Vec::with_capacity(per_side);
    for i in 0..args.warmup {
        baseline_one(&base, &jobs[i], &mut scratch, &mut base_expected).await;
        pipeline_one(&delivery, ids[i]).await;
    }

    // Measured: alternating blocks, each side's wall time is the sum of its blocks.
    let mut base_each = Vec::with_capacity(args.n);
    let mut pipe_each = Vec::with_capacity(args.n);
    let mut base_phases = Phases::default();
    let (mut base_wall, mut pipe_wall) = (Duration::ZERO, Duration::ZERO);
    let measured = args.warmup..per_side;
    let blocks: Vec<std::ops::Range<usize>> = measured.clone().step_by(args.block).map(|s| s..(s + args.block).min(measured.end)).collect();
    for (b, range) in blocks.iter().enumerate() {
        for baseline_first in [b % 2 == 0, b % 2 != 0] {
            let t0 = Instant::now();
            if baseline_first {
                for i in range.clone() {
                    base_each.push(baseline_one(&base, &jobs[i], &mut base_phases, &mut base_expected).await);
                }
                base_wall += t0.elapsed();
            } else {
                for i in range.clone() {
                    pipe_each.push(pipeline_one(&delivery, ids[i]).await);
                }
                pipe_wall += t0.elapsed();
            }
        }
        if (b + 1) % 4 == 0 || b + 1 == blocks.len() {
            eprintln!("  {} / {} messages per side", base_each.len(), args.n);
        }
    }

    let bs = stats(&base_each);
    let ps = stats(&pipe_each);
    let base_rate = args.n as f64 / base_wall.as_secs_f64();
    let pipe_rate = args.n as f64 / pipe_wall.as_secs_f64();
    println!();
    println!("{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}", "", "wall s", "msg/s", "mean ms", "p50 ms", "p95 ms", "max ms");
    for (name, s, wall, rate) in [("baseline", &bs, base_wall, base_rate), ("pipeline", &ps, pipe_wall, pipe_rate)] {
        println!(
            "{name:<10} {:>9.2} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            wall.as_secs_f64(),
            rate,
            s.mean_ms,
            s.p50_ms,
            s.p95_ms,
            s.max_ms
        );
    }
    let ratio = pipe_rate / base_rate;
    println!("ratio pipeline/baseline (msg/s): {ratio:.3}  (target >= 0.85: {})", if ratio >= 0.85 { "met" } else { "NOT met" });

    // Where the time goes.
    let pipe_phases = pipeline_phases(&store, &ids[args.warmup..], &pipe_each);
    let per = |d: Duration| d.as_secs_f64() * 1e3 / args.n as f64;
    println!();
    println!("where the time goes, mean ms per message (pipeline phases from its timeline; each holds the commit(s) before it):");
    println!("  {:<56} {:>9} {:>9} {:>9}", "phase", "baseline", "pipeline", "extra");
    for (i, name) in PHASES.iter().enumerate() {
        let (b, p) = (per(base_phases.0[i]), per(pipe_phases.0[i]));
        println!("  {name:<56} {b:>9.3} {p:>9.3} {:>+9.3}", p - b);
    }
    println!("  {:<56} {:>9.3} {:>9.3} {:>+9.3}", "total", bs.mean_ms, ps.mean_ms, ps.mean_ms - bs.mean_ms);

    // SQLite on its own: the same store calls as deliver, no network, back to back and with
    // idle time before each commit (as between the pipeline's network steps); the raw fsync.
    let store_time = store_only(&dir.path().join("store-only.sqlite"), &pipe.rep, args.n, Duration::ZERO);
    let spaced_n = args.n.min(200);
    let spaced_time = store_only(&dir.path().join("store-spaced.sqlite"), &pipe.rep, spaced_n, STORE_GAP);
    let fsync_n = (args.n * COMMITS_PER_MESSAGE as usize).min(2000);
    let fsync_time = raw_fsync(dir.path(), fsync_n);
    let store_ms = store_time.as_secs_f64() * 1e3 / args.n as f64;
    let spaced_ms = spaced_time.as_secs_f64() * 1e3 / spaced_n as f64;
    let fsync_ms = fsync_time.as_secs_f64() * 1e3 / fsync_n as f64;
    let commits = f64::from(COMMITS_PER_MESSAGE);
    println!();
    println!("fsync setting: journal_mode=WAL, synchronous=FULL (every commit fsyncs the WAL); {COMMITS_PER_MESSAGE} commits per delivered message");
    println!(
        "SQLite alone, deliver's store calls back to back ({} messages): {:.2} s = {:.3} ms/message = {:.3} ms/commit",
        args.n,
        store_time.as_secs_f64(),
        store_ms,
        store_ms / commits
    );
    println!(
        "SQLite alone, same calls with {} ms idle before each commit ({spaced_n} messages, idle not counted): {:.3} ms/message = {:.3} ms/commit",
        STORE_GAP.as_millis(),
        spaced_ms,
        spaced_ms / commits
    );
    println!("raw 4 KiB write + fdatasync on the same disk, back to back: {fsync_ms:.3} ms each ({fsync_n} times)");
    println!(
        "pipeline − baseline = {:.3} ms/message ({:.1} % of the pipeline's time); SQLite alone accounts for {:.3}–{:.3} ms of it",
        ps.mean_ms - bs.mean_ms,
        100.0 * (ps.mean_ms - bs.mean_ms) / ps.mean_ms,
        store_ms,
        spaced_ms
    );

    // Correctness: every message reached the relay once, was archived with the same bytes, and
    // its task was completed.
    let pipe_expected: Vec<(String, i64, Option<i64>)> = ids
        .iter()
        .map(|id| {
            let row = store.get(*id).expect("row");
            assert_eq!(row.state, State::Done);
            (row.message_id.expect("message id"), row.source_ref.parse().expect("task id"), row.document_id)
        })
        .collect();
    println!();
    let mut failed = false;
    for (name, side, expected) in [("pipeline", &pipe, &pipe_expected), ("baseline", &base, &base_expected)] {
        let problems = check(side, expected);
        if problems.is_empty() {
            println!(
                "check {name}: {} messages in the relay's mailbox with {} distinct Message-IDs, {} documents holding the received bytes, {} tasks completed: OK",
                expected.len(),
                expected.len(),
                expected.len(),
                expected.len()
            );
        } else {
            failed = true;
            println!("check {name}: FAILED: {}", problems.join("; "));
        }
    }
    println!("total run time {:.1} s", started.elapsed().as_secs_f64());
    if failed {
        std::process::exit(1);
    }
}
