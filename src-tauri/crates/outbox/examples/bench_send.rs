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
//!
//! The parts are in `examples/bench_send/`: each side's work per message and its phases
//! (`baseline.rs`), SQLite on its own (`store.rs`), the figures and the check (`report.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on a broken setup

#[path = "bench_send/baseline.rs"]
mod baseline;
#[path = "bench_send/report.rs"]
mod report;
#[path = "bench_send/store.rs"]
mod store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baseline::{baseline_jobs, baseline_one, pipeline_one, pipeline_phases, Phases, PHASES};
use keychain::Secret;
use outbox::{Delivery, Rep, SmtpSecurity, SmtpSettings, State, Store};
use report::{check, stats};
use store::{raw_fsync, store_only, COMMITS_PER_MESSAGE, STORE_GAP};
use superoffice::{AppointmentFilter, Client};
use superoffice_sim::SimHandle;

/// The follow-up task type the GTM engine uses for drafts (the simulator's demo tenant).
const DRAFT_TASK_TYPE: i64 = 7;

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
    let sim = testkit::simulator().await;
    sim.seed_tasks(tasks);
    let client = testkit::sign_in(&sim).await;
    let me = client.current_principal().await.expect("currentPrincipal");
    let (username, password) = sim.relay_credentials();
    let smtp = SmtpSettings::new("localhost", sim.smtp_addr().port(), SmtpSecurity::StartTls, username, Secret::new(password))
        .with_ca(Some(sim.relay_ca_pem().to_owned()));
    Side { sim, client, rep: Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address }, smtp }
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
