//! Crash recovery with real process deaths. The parent test keeps the SuperOffice simulator
//! (in-process), a real SMTP server (aiosmtpd, its own process) and the outbox's SQLite file;
//! each app run is a child process (this test binary again, running `crash_child`) that signs
//! in, recovers, takes in tasks, resumes unfinished work and sends what it was asked to. With
//! `SO_OUTBOX_CRASH_AT=<point>` the child dies at that point (exit 137, no destructors); a
//! healing run follows. Every crash point is checked on its own, then a seeded random torture
//! runs; after each healing run the invariants are counted from the SMTP server's files, the
//! simulator's records and the outbox database: nothing lost, nothing sent twice on our own,
//! nothing archived twice, no ambiguous outcome classified as certain.
//!
//! The bulk torture kills the app with a real `kill -9` (SIGKILL from this process at a seeded
//! random moment) or at a random named crash point while it sends 100-message bulks through
//! its scheduler (`Delivery::tick`, as the app's ticker does), restarts it until the bulk is
//! through, then runs it once more undisturbed and counts `lost`, `auto_dup`,
//! `misclassified_ambiguous` and `archive_dup` (all must be 0).
//!
//! `CRASH_SEED` sets both tortures' seed (printed; the same seed gives the same schedule),
//! `CRASH_ROUNDS` the crash-point torture's rounds (default 12), `CRASH_KILLS` the bulk
//! torture's kills (default 20 here; `scripts/torture.sh` runs 240), `CRASH_BULK` its bulk size
//! (100) and `CRASH_KILL_WINDOW_MS` how long after the app is ready a kill may fall (400 ms).
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{SmtpServer, SMTP_PASSWORD, SMTP_USER};
use keychain::Secret;
use outbox::failpoint::POINTS;
use outbox::{Delivery, DraftRow, Limits, Rep, SmtpSecurity, SmtpSettings, State, Store};
use superoffice::AppointmentFilter;

/// The child test's name, as `--exact` wants it.
const CHILD_TEST: &str = "crash_child";
/// What `failpoint::hit` exits with.
const CRASH_EXIT: i32 = 137;
const CRASH_AT: &str = "SO_OUTBOX_CRASH_AT";
const CHILD: &str = "CRASH_CHILD";
const SIM_URL: &str = "CRASH_SIM_URL";
const CLIENT_ID: &str = "CRASH_CLIENT_ID";
const CLIENT_SECRET: &str = "CRASH_CLIENT_SECRET";
const CONTEXT_ID: &str = "CRASH_CONTEXT_ID";
const SMTP_PORT: &str = "CRASH_SMTP_PORT";
const SMTP_CA: &str = "CRASH_SMTP_CA";
const SMTP_LOGIN: &str = "CRASH_SMTP_USER";
const SMTP_SECRET: &str = "CRASH_SMTP_PASSWORD";
const DB: &str = "CRASH_DB";
const APPROVE: &str = "CRASH_APPROVE";
/// `bulk`: the child runs like the app's ticker (approve a selection, then `tick` until done).
const MODE: &str = "CRASH_MODE";
/// What a bulk child prints once it is signed in, has recovered and has taken in the tasks.
const READY: &str = "child: ready";
/// A child that takes longer than this is killed and the test fails.
const CHILD_DEADLINE: Duration = Duration::from_secs(90);
const FILTER: AppointmentFilter = AppointmentFilter { associate_id: 18, task_type_id: 7 };
/// Extra open tasks seeded on top of the demo's 25, so every crash point and the torture get fresh drafts.
const SEEDED_TASKS: usize = 60;
/// Its first 12 rounds pick every crash point and one run without a crash.
const DEFAULT_SEED: u64 = 0x5EED_2026_022B;
const DEFAULT_ROUNDS: usize = 12;
const DRAFTS_PER_ROUND: usize = 3;
/// The bulk torture's kills in a plain `cargo test` (CI); `scripts/torture.sh` asks for more.
const DEFAULT_KILLS: usize = 20;
const DEFAULT_BULK: usize = 100;
/// A SIGKILL falls this long (at most) after the child said it is ready, i.e. while it approves
/// and sends; some fall from the start instead (sign-in, recovery, intake).
const DEFAULT_KILL_WINDOW_MS: u64 = 400;
const STARTUP_WINDOW_MS: u64 = 100;
/// No bulk takes more kills than this before it is drained undisturbed (a stuck bulk would
/// otherwise eat the whole budget).
const MAX_KILLS_PER_BULK: usize = 80;
/// The parent tests run one after the other: two cores, and one summary file.
static SERIAL: Mutex<()> = Mutex::new(());
/// Lines of `target/tmp/crash-summary.txt`, by test.
static SUMMARY: Mutex<BTreeMap<&'static str, String>> = Mutex::new(BTreeMap::new());

// ---------------------------------------------------------------------------------------------
// The child: one app run.
// ---------------------------------------------------------------------------------------------

/// One run of the app, in its own process. Does nothing unless started by the parent test.
#[test]
#[ignore = "a child process: its parent test starts it (with --ignored) and gives it its environment"]
fn crash_child() {
    assert!(std::env::var_os(CHILD).is_some(), "crash_child runs only as a child of the crash tests");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    if std::env::var(MODE).as_deref() == Ok("bulk") {
        rt.block_on(bulk_run());
    } else {
        rt.block_on(app_run());
    }
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child: {name} is not set"))
}

fn smtp_settings() -> SmtpSettings {
    SmtpSettings::new(
        "localhost",
        var(SMTP_PORT).parse().expect("port"),
        SmtpSecurity::StartTls,
        var(SMTP_LOGIN),
        Secret::new(var(SMTP_SECRET)),
    )
    .with_ca(Some(std::fs::read_to_string(var(SMTP_CA)).expect("CA PEM")))
    .with_data_timeout(Duration::from_secs(30))
}

fn asked() -> Vec<i64> {
    var(APPROVE).split(',').filter(|s| !s.is_empty()).map(|s| s.parse().expect("draft id")).collect()
}

async fn app_run() {
    let client = common::sign_in_at(&var(SIM_URL), &var(CLIENT_ID), &var(CLIENT_SECRET), &var(CONTEXT_ID)).await;
    let store = Arc::new(Store::open(Path::new(&var(DB))).expect("open the outbox"));
    let recovered = store.recover_interrupted().expect("recover interrupted sends");
    let intake = outbox::intake_tasks(&client, &store, &FILTER).await.expect("intake");
    let me = client.current_principal().await.expect("principal");
    let delivery = Delivery::new(
        store.clone(),
        client,
        smtp_settings(),
        Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address },
    );
    println!("child: recovered {recovered} interrupted, intake found {} added {}", intake.found, intake.added);

    // Resume: what was approved is sent; what was sent is archived. Nothing is resent.
    for id in store.ids_in(State::Approved).expect("approved ids") {
        let state = delivery.deliver(id).await.unwrap_or_else(|e| panic!("resume: deliver {id}: {e}"));
        println!("child: resumed delivery of {id}: {state:?}");
    }
    let mut unfinished = store.ids_in(State::Sent).expect("sent ids");
    unfinished.extend(store.ids_in(State::Archived).expect("archived ids"));
    for id in unfinished {
        let state = delivery.finish(id).await.unwrap_or_else(|e| panic!("resume: finish {id}: {e}"));
        println!("child: finished {id}: {state:?}");
    }

    // The rep approves what the parent asked for (if still pending), then it is sent.
    let mut approved = vec![];
    for id in asked() {
        if store.get(id).expect("row").state == State::Pending {
            delivery.approve(id).unwrap_or_else(|e| panic!("approve {id}: {e}"));
            approved.push(id);
        }
    }
    for id in approved {
        let state = delivery.deliver(id).await.unwrap_or_else(|e| panic!("deliver {id}: {e}"));
        println!("child: delivered {id}: {state:?}");
    }
}

/// One app run as the app does it: the outbox is opened and interrupted sends recovered at
/// start, the rep signs in, tasks are taken in; the rep approves the selection (what of it is
/// still pending, as `approve_many` does), and the ticker sends and archives until nothing is
/// due. No hold window; no sending limits (the bulks would exceed the default daily cap).
async fn bulk_run() {
    let store = Arc::new(Store::open(Path::new(&var(DB))).expect("open the outbox"));
    let recovered = store.recover_interrupted().expect("recover interrupted sends");
    let client = common::sign_in_at(&var(SIM_URL), &var(CLIENT_ID), &var(CLIENT_SECRET), &var(CONTEXT_ID)).await;
    let intake = outbox::intake_tasks(&client, &store, &FILTER).await.expect("intake");
    let me = client.current_principal().await.expect("principal");
    let delivery = Delivery::new(
        store.clone(),
        client,
        smtp_settings(),
        Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address },
    );
    println!("{READY}: recovered {recovered} interrupted, intake found {} added {}", intake.found, intake.added);
    let mut approved = 0;
    for id in asked() {
        if store.get(id).expect("row").state == State::Pending {
            delivery.approve(id).unwrap_or_else(|e| panic!("approve {id}: {e}"));
            approved += 1;
        }
    }
    println!("child: approved {approved}");
    let limits = Limits { daily_cap: 0, min_spacing_ms: 0 };
    loop {
        let report = delivery.tick(&limits).await.unwrap_or_else(|e| panic!("tick: {e}"));
        println!("child: tick sent {} archived {}", report.attempted.len(), report.archived.len());
        if !report.changed() {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parent: the world that outlives the app runs.
// ---------------------------------------------------------------------------------------------

struct World {
    sim: superoffice_sim::SimHandle,
    smtp: SmtpServer,
    dir: tempfile::TempDir,
    db: PathBuf,
    ca: PathBuf,
    runs: usize,
    /// Children run as the app's ticker does ([`bulk_run`]) instead of [`app_run`].
    bulk: bool,
}

struct Run {
    code: Option<i32>,
    /// The signal that ended the child, if one did (9 after our SIGKILL).
    signal: Option<i32>,
    /// How long after its start a bulk child said it was ready.
    ready_after: Option<Duration>,
    log: PathBuf,
}

impl Run {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// Fails with the child's output unless it exited with `code`.
    fn expect_code(&self, code: i32, what: &str) {
        if self.code != Some(code) {
            panic!("{what}: the child exited with {:?}, expected {code}; its output:\n{}", self.code, self.log_text());
        }
    }
}

/// A SIGKILL from the parent: this long after the start, or after the child said it is ready.
#[derive(Clone, Copy, Debug)]
struct Sigkill {
    after_ready: bool,
    after: Duration,
}

impl World {
    /// The simulator (with `seeded` extra open tasks), the SMTP server and an empty outbox.
    fn start(rt: &tokio::runtime::Runtime, seeded: usize, bulk: bool) -> World {
        let sim = rt.block_on(common::simulator());
        sim.seed_tasks(seeded);
        let smtp = SmtpServer::start("starttls");
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = dir.path().join("relay-ca.pem");
        std::fs::write(&ca, &smtp.pki.ca_pem).expect("CA file");
        let db = dir.path().join("outbox.sqlite");
        World { sim, smtp, dir, db, ca, runs: 0, bulk }
    }

    /// One app run: approves and delivers `approve`, dying at `crash_at` if given.
    fn run(&mut self, approve: &[i64], crash_at: Option<&str>) -> Run {
        self.run_with(approve, crash_at, None)
    }

    /// One app run, ended by a crash point or by our SIGKILL if either is given.
    fn run_with(&mut self, approve: &[i64], crash_at: Option<&str>, kill: Option<Sigkill>) -> Run {
        self.runs += 1;
        let log = self.dir.path().join(format!("run-{:03}.log", self.runs));
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let ids: Vec<String> = approve.iter().map(i64::to_string).collect();
        let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
        cmd.args(["--ignored", "--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env(MODE, if self.bulk { "bulk" } else { "single" })
            .env(SIM_URL, self.sim.base_url())
            .env(CLIENT_ID, &self.sim.client().client_id)
            .env(CLIENT_SECRET, &self.sim.client().client_secret)
            .env(CONTEXT_ID, self.sim.context_id())
            .env(SMTP_PORT, self.smtp.port.to_string())
            .env(SMTP_CA, &self.ca)
            .env(SMTP_LOGIN, SMTP_USER)
            .env(SMTP_SECRET, SMTP_PASSWORD)
            .env(DB, &self.db)
            .env(APPROVE, ids.join(","))
            .env_remove(CRASH_AT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err);
        if let Some(point) = crash_at {
            cmd.env(CRASH_AT, point);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("start a child run");
        // The child's stdout goes to its log through this thread, which notes when it is ready.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("child stdout");
        let copier = std::thread::spawn(move || {
            let mut out = out;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(READY) {
                    let _ = ready_tx.send(Instant::now());
                }
                let _ = writeln!(out, "{line}");
            }
        });
        let deadline = started + CHILD_DEADLINE;
        let mut kill_at = kill.filter(|k| !k.after_ready).map(|k| started + k.after);
        let mut ready_after = None;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the child") {
                break status;
            }
            if let Ok(ready) = ready_rx.try_recv() {
                ready_after = Some(ready - started);
                if let Some(k) = kill.filter(|k| k.after_ready) {
                    kill_at = Some(ready + k.after);
                }
            }
            let now = Instant::now();
            if kill_at.is_some_and(|at| now >= at) {
                // kill -9: std's `Child::kill` sends SIGKILL.
                let _ = child.kill();
                break child.wait().expect("wait for the killed child");
            }
            if now > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let _ = copier.join();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("child run {} (crash at {crash_at:?}) hung for {CHILD_DEADLINE:?}; its output:\n{text}", self.runs);
            }
            let step = kill_at.map(|at| at.saturating_duration_since(now)).unwrap_or(Duration::from_millis(20));
            std::thread::sleep(step.clamp(Duration::from_micros(200), Duration::from_millis(if kill.is_some() { 2 } else { 20 })));
        };
        let _ = copier.join();
        if let (None, Ok(ready)) = (ready_after, ready_rx.try_recv()) {
            ready_after = Some(ready - started);
        }
        Run { code: status.code(), signal: status.signal(), ready_after, log }
    }

    /// A run that must die at `point`.
    fn crash(&mut self, approve: &[i64], point: &str) {
        let run = self.run(approve, Some(point));
        run.expect_code(CRASH_EXIT, &format!("crash at {point} with drafts {approve:?}"));
        assert!(
            run.log_text().contains(&format!("crash point {point} reached")),
            "the child died, but not at {point}:\n{}",
            run.log_text()
        );
    }

    /// A run without a crash point that must end normally.
    fn heal(&mut self, approve: &[i64], what: &str) {
        self.run(approve, None).expect_code(0, what);
    }

    fn store(&self) -> Store {
        Store::open(&self.db).expect("open the outbox")
    }

    fn sendable(&self) -> Vec<DraftRow> {
        self.store().list().expect("list").into_iter().filter(|d| d.problem.is_none() && d.state == State::Pending).collect()
    }

    /// What the servers and the outbox hold now.
    fn snapshot(&self) -> Snapshot {
        let mut received: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        let mut letters: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (i, (meta, bytes)) in self.smtp.received().into_iter().enumerate() {
            let parsed = mail_parser::MessageParser::default()
                .parse(bytes.as_slice())
                .unwrap_or_else(|| panic!("received message {} does not parse", i + 1));
            let id = norm(parsed.message_id().unwrap_or_else(|| panic!("received message {} has no Message-ID", i + 1)));
            let letter = (meta["rcpt_to"].to_string(), parsed.subject().unwrap_or_default().to_owned());
            letters.entry(letter).or_default().push(id.clone());
            received.entry(id).or_default().push(bytes);
        }
        let tenant = self.sim.tenant();
        let mut documents: HashMap<String, Vec<Doc>> = HashMap::new();
        for d in &tenant.documents {
            let content = d.content_base64.as_ref().map(|b| base64::engine::general_purpose::STANDARD.decode(b).expect("document base64"));
            documents.entry(norm(&d.external_ref)).or_default().push(Doc { id: d.id, content });
        }
        let tasks = tenant.appointments.iter().map(|a| (a.id.to_string(), a.completed.clone())).collect();
        Snapshot { rows: self.store().list().expect("list"), received, letters, documents, tasks }
    }
}

struct Doc {
    id: i64,
    content: Option<Vec<u8>>,
}

struct Snapshot {
    rows: Vec<DraftRow>,
    /// Received messages by Message-ID (without angle brackets).
    received: HashMap<String, Vec<Vec<u8>>>,
    /// Message-IDs received per (envelope recipients, Subject): one letter sent under two
    /// Message-IDs (e.g. a draft taken in twice) is a duplicate too.
    letters: HashMap<(String, String), Vec<String>>,
    /// Simulator documents by `ExternalRef` (without angle brackets).
    documents: HashMap<String, Vec<Doc>>,
    /// Appointment id → `Completed` status.
    tasks: HashMap<String, String>,
}

fn norm(message_id: &str) -> String {
    message_id.trim().trim_start_matches('<').trim_end_matches('>').to_owned()
}

impl Snapshot {
    fn row(&self, id: i64) -> &DraftRow {
        self.rows.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no row {id}"))
    }
    fn mid(row: &DraftRow) -> Option<String> {
        row.message_id.as_deref().map(norm)
    }
    fn received_for(&self, row: &DraftRow) -> &[Vec<u8>] {
        Self::mid(row).and_then(|m| self.received.get(&m)).map(Vec::as_slice).unwrap_or_default()
    }
    fn documents_for(&self, row: &DraftRow) -> &[Doc] {
        Self::mid(row).and_then(|m| self.documents.get(&m)).map(Vec::as_slice).unwrap_or_default()
    }
    fn task(&self, row: &DraftRow) -> &str {
        self.tasks.get(&row.source_ref).map(String::as_str).unwrap_or("(no such task)")
    }
}

/// The global invariants' counts, with the rows that breach them.
#[derive(Default)]
struct Tally {
    lost: Vec<i64>,
    auto_dup: Vec<String>,
    misclassified_ambiguous: Vec<i64>,
    archive_dup: Vec<String>,
    /// Received Message-IDs that belong to no row (the counts would be meaningless).
    strangers: Vec<String>,
    /// Done rows whose archive is not exactly the received message (one document holding the
    /// received bytes, named on the row, its task completed), and undecided rows that were
    /// archived or completed as if sent.
    wrong_archive: Vec<i64>,
}

impl Tally {
    fn of(s: &Snapshot) -> Tally {
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

    fn line(&self, crash_points: usize) -> String {
        format!(
            "crash points: {crash_points}, lost={} auto_dup={} misclassified_ambiguous={} archive_dup={}",
            self.lost.len(),
            self.auto_dup.len(),
            self.misclassified_ambiguous.len(),
            self.archive_dup.len()
        )
    }

    fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.auto_dup.is_empty()
            && self.misclassified_ambiguous.is_empty()
            && self.archive_dup.is_empty()
            && self.strangers.is_empty()
            && self.wrong_archive.is_empty()
    }

    /// Fails, printing the offending rows and their timelines, unless every count is 0.
    fn assert_clean(&self, s: &Snapshot, store: &Store, when: &str) {
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
fn describe(s: &Snapshot, store: &Store, id: i64) -> String {
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

/// The counters count what they name: each breach, planted in a made-up snapshot, is counted
/// (so the zeros the tortures print can be trusted), and a sound row counts nowhere.
#[test]
fn the_counters_count_each_kind_of_breach() {
    fn row(id: i64, state: State, mid: &str) -> DraftRow {
        DraftRow {
            id,
            source: "superoffice-task".into(),
            source_ref: format!("{}", 5000 + id),
            company: String::new(),
            recipient_name: String::new(),
            recipient_email: Some("x@example.test".into()),
            subject: Some(format!("subject {id}")),
            body: String::new(),
            problem: None,
            state,
            reason: None,
            message_id: Some(format!("<{mid}>")),
            from_address: None,
            smtp_reply: None,
            sent_at: None,
            document_id: Some(id),
            attempts: 1,
            updated_at: String::new(),
            send_after_ms: None,
            next_attempt_ms: None,
            snoozed_until_ms: None,
            retryable: false,
            channel: None,
            channel_reason: None,
            channel_why: None,
            reason_why: None,
        }
    }
    let mail = |mid: &str| format!("Message-ID: <{mid}>\r\n\r\nbody").into_bytes();
    let doc = |id: i64, mid: &str| Doc { id, content: Some(mail(mid)) };
    let rows = vec![
        row(1, State::Done, "sound"),
        row(2, State::Approved, "lost"),
        row(3, State::Done, "twice"),
        row(4, State::Failed, "arrived"),
        row(5, State::Done, "archived-twice"),
        row(6, State::NeedsDecision, "undecided-but-archived"),
        row(7, State::Done, "letter-a"),
        row(8, State::NeedsDecision, "letter-b"),
    ];
    let mut received: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    for mid in ["sound", "twice", "twice", "arrived", "archived-twice", "undecided-but-archived", "letter-a", "letter-b"] {
        received.entry(mid.into()).or_default().push(mail(mid));
    }
    let mut letters: HashMap<(String, String), Vec<String>> = HashMap::new();
    for mid in ["letter-a", "letter-b"] {
        letters.entry(("[\"x@example.test\"]".into(), "same subject".into())).or_default().push(mid.into());
    }
    let mut documents: HashMap<String, Vec<Doc>> = HashMap::new();
    for (id, mid) in
        [(1, "sound"), (3, "twice"), (5, "archived-twice"), (5, "archived-twice"), (6, "undecided-but-archived"), (7, "letter-a")]
    {
        documents.entry(mid.into()).or_default().push(doc(id, mid));
    }
    let tasks =
        rows.iter().map(|r| (r.source_ref.clone(), if r.state == State::Done { "Completed" } else { "NotStarted" }.to_owned())).collect();
    let t = Tally::of(&Snapshot { rows, received, letters, documents, tasks });
    assert_eq!(t.lost, vec![2]);
    assert_eq!(t.auto_dup.len(), 2, "a Message-ID received twice, and one letter under two Message-IDs: {:?}", t.auto_dup);
    assert_eq!(t.misclassified_ambiguous, vec![4]);
    assert_eq!(t.archive_dup, vec!["archived-twice".to_owned()]);
    assert_eq!(t.wrong_archive, vec![5, 6], "two documents for one message; an undecided message archived");
    assert!(t.strangers.is_empty());
    assert!(!t.clean());
}

/// What a crash at `point` must leave after the healing run, checked for `id`.
fn check_point(s: &Snapshot, point: &str, id: i64) -> Result<String, String> {
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

/// splitmix64: a small, fixed, reproducible generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not valid")),
        Err(_) => default,
    }
}

#[test]
fn a_crash_anywhere_loses_nothing_and_sends_nothing_twice() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut world = World::start(&rt, SEEDED_TASKS, false);

    // The first run only takes the tasks in.
    world.heal(&[], "first run (intake)");
    println!("outbox: {} drafts, {} sendable", world.store().list().expect("list").len(), world.sendable().len());
    let mut crashes = 0;

    // Every crash point on its own: a fresh draft, a run that dies there, a healing run.
    let mut failures = vec![];
    for point in POINTS {
        let draft = world.sendable().into_iter().next().unwrap_or_else(|| panic!("no sendable draft left for {point}"));
        world.crash(&[draft.id], point);
        crashes += 1;
        world.heal(&[], &format!("healing after {point}"));
        let snap = world.snapshot();
        let store = world.store();
        match check_point(&snap, point, draft.id) {
            Ok(outcome) => println!("  {point:<24} draft {:>3} -> {outcome}", draft.id),
            Err(why) => {
                println!("  {point:<24} draft {:>3} -> UNEXPECTED: {why}", draft.id);
                failures.push(format!("{why}\n{}", describe(&snap, &store, draft.id)));
            }
        }
        Tally::of(&snap).assert_clean(&snap, &store, &format!("after the crash at {point}"));
    }
    assert!(failures.is_empty(), "per-point expectations not met:\n{}", failures.join("\n"));

    // Seeded torture: three approvals per run, a random crash point (or none), then healing.
    let seed = env_or("CRASH_SEED", DEFAULT_SEED);
    let rounds = env_or("CRASH_ROUNDS", DEFAULT_ROUNDS);
    println!("torture: seed {seed} (CRASH_SEED), {rounds} rounds (CRASH_ROUNDS)");
    let mut rng = Rng(seed);
    for round in 1..=rounds {
        let ids: Vec<i64> = world.sendable().into_iter().take(DRAFTS_PER_ROUND).map(|d| d.id).collect();
        if ids.is_empty() {
            println!("  round {round}: no sendable drafts left; stopping");
            break;
        }
        let pick = rng.below(POINTS.len() + 1);
        match POINTS.get(pick) {
            Some(point) => {
                world.crash(&ids, point);
                crashes += 1;
                world.heal(&[], &format!("healing after round {round} ({point})"));
            }
            None => world.heal(&ids, &format!("round {round} (no crash)")),
        }
        let snap = world.snapshot();
        let states: Vec<String> = ids.iter().map(|id| format!("{id}:{:?}", snap.row(*id).state)).collect();
        println!("  round {round:>2}: crash at {:<24} -> {}", POINTS.get(pick).copied().unwrap_or("(none)"), states.join(" "));
        Tally::of(&snap).assert_clean(&snap, &world.store(), &format!("after torture round {round} (seed {seed})"));
    }

    let snap = world.snapshot();
    let tally = Tally::of(&snap);
    let count = |s: State| snap.rows.iter().filter(|r| r.state == s).count();
    println!(
        "totals: {} runs, {} messages received, {} documents, rows done={} needs_decision={} failed={} pending={}, {:.1} s",
        world.runs,
        snap.received.values().map(Vec::len).sum::<usize>(),
        snap.documents.values().map(Vec::len).sum::<usize>(),
        count(State::Done),
        count(State::NeedsDecision),
        count(State::Failed),
        count(State::Pending),
        started.elapsed().as_secs_f64()
    );
    let line = tally.line(crashes);
    println!("{line}");
    write_summary("1-points", line);
    tally.assert_clean(&snap, &world.store(), "at the end");
}

/// Keeps a test's figures in `target/tmp/crash-summary.txt` for the test script to print (cargo
/// test captures a passing test's output); the file holds the line of every test of this run.
fn write_summary(test: &'static str, line: String) {
    let mut all = SUMMARY.lock().unwrap_or_else(|p| p.into_inner());
    all.insert(test, line);
    let text: String = all.values().map(|l| format!("{l}\n")).collect();
    let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("crash-summary.txt"), text);
}

/// How one bulk-torture run is ended.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// `SO_OUTBOX_CRASH_AT`: the first message to reach the point ends the run there.
    Point(&'static str),
    Kill(Sigkill),
}

impl Plan {
    /// Draws the next plan: a quarter named crash points, a tenth SIGKILLs from the start
    /// (sign-in, recovery, intake), the rest SIGKILLs within `window` of the child being ready
    /// (approving and sending). `approving` says whether approvals can still happen in the run,
    /// so `after_approve` is not drawn when nothing is left to approve.
    fn draw(rng: &mut Rng, window: Duration, approving: bool) -> Plan {
        let within = |rng: &mut Rng, d: Duration| Duration::from_micros(rng.next() % (d.as_micros() as u64).max(1));
        match rng.below(100) {
            0..=24 => {
                let mut i = rng.below(POINTS.len());
                if POINTS[i] == "after_approve" && !approving {
                    i = (i + 1) % POINTS.len();
                }
                Plan::Point(POINTS[i])
            }
            25..=34 => Plan::Kill(Sigkill { after_ready: false, after: within(rng, Duration::from_millis(STARTUP_WINDOW_MS)) }),
            _ => Plan::Kill(Sigkill { after_ready: true, after: within(rng, window) }),
        }
    }
}

/// Where the kills fell, for the report.
#[derive(Default)]
struct KillStats {
    points: BTreeMap<&'static str, usize>,
    /// SIGKILLs by what the child had printed last: before it was ready, while approving, while
    /// sending and archiving.
    startup: usize,
    approving: usize,
    sending: usize,
}

impl KillStats {
    fn total(&self) -> usize {
        self.points.values().sum::<usize>() + self.sigkills()
    }
    fn sigkills(&self) -> usize {
        self.startup + self.approving + self.sending
    }
}

/// `kill -9` during 100-message bulk sends: the app approves a bulk and its ticker sends and
/// archives it; each run is killed (SIGKILL at a seeded random moment, or at a random crash
/// point) and restarted until the bulk is through; then one undisturbed run drains what is left
/// and the invariants are counted over everything the servers and the outbox hold.
#[test]
fn kill_9_during_bulk_sends_loses_nothing_and_sends_nothing_twice() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let seed = env_or("CRASH_SEED", DEFAULT_SEED);
    let target = env_or("CRASH_KILLS", DEFAULT_KILLS);
    let size = env_or("CRASH_BULK", DEFAULT_BULK);
    let window = Duration::from_millis(env_or("CRASH_KILL_WINDOW_MS", DEFAULT_KILL_WINDOW_MS));
    println!(
        "bulk torture: seed {seed} (CRASH_SEED), {target} kills (CRASH_KILLS), bulks of {size} (CRASH_BULK), kill window {} ms (CRASH_KILL_WINDOW_MS)",
        window.as_millis()
    );
    // Its own generator, so the crash-point torture's schedule for a seed stays what it was.
    let mut rng = Rng(seed ^ 0xB01C_B01C_B01C_B01C);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut world = World::start(&rt, 0, true);
    let mut stats = KillStats::default();
    let mut bulks = 0;
    let mut drafts = 0;
    // How long the children took to be ready (signed in, recovered, tasks taken in).
    let mut ready: Vec<Duration> = vec![];
    let verbose = std::env::var_os("CRASH_VERBOSE").is_some();
    while stats.total() < target {
        bulks += 1;
        let bulk_started = Instant::now();
        world.sim.seed_tasks(size);
        world.heal(&[], &format!("intake for bulk {bulks}"));
        let ids: Vec<i64> = world.sendable().into_iter().take(size).map(|d| d.id).collect();
        assert_eq!(ids.len(), size, "bulk {bulks}: not enough sendable drafts");
        drafts += ids.len();
        let (before, runs_before) = (stats.total(), world.runs);
        let mut first = true;
        while stats.total() < target && stats.total() - before < MAX_KILLS_PER_BULK {
            let plan = Plan::draw(
                &mut rng,
                window,
                first || world.store().ids_in(State::Pending).expect("pending").iter().any(|i| ids.contains(i)),
            );
            first = false;
            let run = match plan {
                Plan::Point(point) => world.run_with(&ids, Some(point), None),
                Plan::Kill(k) => world.run_with(&ids, None, Some(k)),
            };
            let log = run.log_text();
            ready.extend(run.ready_after);
            if verbose {
                println!(
                    "  run {:>4}: {plan:?} -> exit {:?}, signal {:?}, ready after {:?}",
                    world.runs, run.code, run.signal, run.ready_after
                );
            }
            match (plan, run.code, run.signal) {
                (Plan::Kill(_), None, Some(9)) if !log.contains(READY) => stats.startup += 1,
                (Plan::Kill(_), None, Some(9)) if !log.contains("child: approved") => stats.approving += 1,
                (Plan::Kill(_), None, Some(9)) => stats.sending += 1,
                (Plan::Point(point), Some(CRASH_EXIT), _) if log.contains(&format!("crash point {point} reached")) => {
                    *stats.points.entry(point).or_default() += 1
                }
                // The run got through the whole bulk before its kill came.
                (_, Some(0), _) => break,
                _ => panic!("bulk {bulks}, run {} ({plan:?}) ended with {:?}/{:?}; its output:\n{log}", world.runs, run.code, run.signal),
            }
        }
        world.heal(&ids, &format!("undisturbed drain of bulk {bulks}"));
        let snap = world.snapshot();
        let mut tally = Tally::of(&snap);
        for id in &ids {
            if !matches!(snap.row(*id).state, State::Done | State::NeedsDecision) && !tally.lost.contains(id) {
                tally.lost.push(*id);
            }
        }
        let count = |s: State| ids.iter().filter(|id| snap.row(**id).state == s).count();
        println!(
            "  bulk {bulks}: {} kills in {} runs -> done={} needs_decision={} other={}, {:.1} s",
            stats.total() - before,
            world.runs - runs_before,
            count(State::Done),
            count(State::NeedsDecision),
            size - count(State::Done) - count(State::NeedsDecision),
            bulk_started.elapsed().as_secs_f64()
        );
        if !tally.clean() {
            write_summary("2-bulk", format!("bulk kill -9 torture (seed {seed}): FAILED in bulk {bulks}; {}", tally.line(stats.total())));
        }
        tally.assert_clean(&snap, &world.store(), &format!("after bulk {bulks} (seed {seed})"));
    }

    let snap = world.snapshot();
    let tally = Tally::of(&snap);
    let messages = snap.received.values().map(Vec::len).sum::<usize>();
    let points: Vec<String> = stats.points.iter().map(|(p, n)| format!("{p}={n}")).collect();
    println!(
        "kills: {} SIGKILL ({} during start-up, {} while approving, {} while sending/archiving), {} at crash points ({})",
        stats.sigkills(),
        stats.startup,
        stats.approving,
        stats.sending,
        stats.points.values().sum::<usize>(),
        points.join(" ")
    );
    ready.sort();
    println!(
        "child start-up (start to ready): median {} ms, max {} ms over {} runs",
        ready.get(ready.len() / 2).copied().unwrap_or_default().as_millis(),
        ready.last().copied().unwrap_or_default().as_millis(),
        ready.len()
    );
    let needs_decision = snap.rows.iter().filter(|r| r.state == State::NeedsDecision).count();
    let line = format!(
        "bulk kill -9 torture: seed {seed}, {} kills ({} SIGKILL, {} crash points) over {bulks} bulks of {size} ({drafts} drafts, {messages} messages received, {needs_decision} needs decision), {} runs, {:.1} s: lost={} auto_dup={} misclassified_ambiguous={} archive_dup={}",
        stats.total(),
        stats.sigkills(),
        stats.points.values().sum::<usize>(),
        world.runs,
        started.elapsed().as_secs_f64(),
        tally.lost.len(),
        tally.auto_dup.len(),
        tally.misclassified_ambiguous.len(),
        tally.archive_dup.len()
    );
    println!("{line}");
    write_summary("2-bulk", line);
    tally.assert_clean(&snap, &world.store(), "at the end of the bulk torture");
    assert!(stats.total() >= target, "only {} of {target} kills happened", stats.total());
}
