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
//!
//! The tests are here; their parts are in `tests/crash/`: the child's app run (`child.rs`),
//! the parent's world and child runs (`world.rs`), the snapshot and its counts (`tally.rs`),
//! and the tortures' seeded plans (`torture.rs`).
//!
//! Unix only: the torture's kill is SIGKILL and a run is classified by the signal that ended
//! it (a Windows `TerminateProcess` leaves only an exit code), and the SMTP server is a Python
//! process the test starts, which a Windows test binary under Wine cannot run.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

#[path = "crash/child.rs"]
mod child;
mod common;
#[path = "crash/tally.rs"]
mod tally;
#[path = "crash/torture.rs"]
mod torture;
#[path = "crash/world.rs"]
mod world;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use child::{app_run, bulk_run};
use outbox::failpoint::POINTS;
use outbox::{DraftRow, State};
use superoffice::AppointmentFilter;
use tally::{check_point, describe, Doc, Snapshot, Tally};
use torture::{env_or, write_summary, KillStats, Plan, Rng};
use world::World;

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
