//! Intake of N open draft tasks from SuperOffice into the outbox (OData paging with the
//! recipients in the same rows, parsing, checks, SQLite inserts) against raw paging of the same tasks (the same
//! HTTP requests and JSON decoding, nothing stored), with the request counts; then how fast
//! the list's first page comes out of the store at 100 and at 10,000 drafts.
//!
//! ```text
//! cargo run --release -p outbox --example bench_intake -- [--n 5000]
//! ```
//!
//! Prints measured figures and ratios; asserts no time. Exits non-zero only if the intake
//! did not take in every task.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on a broken setup

use std::time::{Duration, Instant};

use outbox::page::PageQuery;
use outbox::{NewDraft, Store};
use superoffice::{AppointmentFilter, Client};
use superoffice_sim::{SimConfig, SimHandle};

const FILTER: AppointmentFilter = AppointmentFilter { associate_id: 18, task_type_id: 7 };

async fn sign_in(sim: &SimHandle) -> Client {
    testkit::sign_in(sim).await
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The list's first page (50 rows, newest first) from a store of `n` drafts.
fn first_page_time(n: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("list.sqlite")).unwrap();
    let drafts: Vec<NewDraft> = (0..n)
        .map(|i| NewDraft {
            source: "bench".into(),
            source_ref: i.to_string(),
            contact_id: 1,
            person_id: 1,
            sale_id: 0,
            company: format!("Company {i}"),
            recipient_name: format!("Person {i}"),
            recipient_email: Some(format!("p{i}@x.example")),
            subject: Some(format!("Subject {i}")),
            body: "Guten Tag,\n\n".repeat(40),
            problem: None,
        })
        .collect();
    store.insert_drafts(&drafts).unwrap();
    let q = PageQuery { limit: 50, ..PageQuery::default() };
    let _ = store.page(&q).unwrap();
    median(
        (0..21)
            .map(|_| {
                let t = Instant::now();
                let p = store.page(&q).unwrap();
                assert_eq!(p.rows.len(), n.min(50));
                t.elapsed()
            })
            .collect(),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut n: usize = 5000;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--n" {
            n = it.next().and_then(|v| v.parse().ok()).expect("--n needs a number");
        }
    }
    let sim = superoffice_sim::start(SimConfig::demo()).await.unwrap();
    let already = 25; // the demo's own drafts
    sim.seed_tasks(n.saturating_sub(already));
    let client = sign_in(&sim).await;

    // Raw paging: the same requests and decoding, nothing stored (twice; the second counts).
    let _ = client.open_tasks(&FILTER).await.unwrap();
    let before = sim.counters().requests("/api/");
    let t = Instant::now();
    let rows = client.open_tasks(&FILTER).await.unwrap();
    let raw = t.elapsed();
    let raw_requests = sim.counters().requests("/api/") - before;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("intake.sqlite")).unwrap();
    let before = sim.counters().requests("/api/");
    let t = Instant::now();
    let report = outbox::intake_tasks(&client, &store, &FILTER).await.unwrap();
    let intake = t.elapsed();
    let intake_requests = sim.counters().requests("/api/") - before;
    let t = Instant::now();
    let again = outbox::intake_tasks(&client, &store, &FILTER).await.unwrap();
    let repeat = t.elapsed();

    println!("intake: {} open tasks ({} pages of {})", rows.len(), rows.len().div_ceil(superoffice::PAGE_SIZE), superoffice::PAGE_SIZE);
    println!("  raw paging:   {:>8.1} ms, {raw_requests} requests", raw.as_secs_f64() * 1000.0);
    let pages = rows.len().div_ceil(superoffice::PAGE_SIZE);
    println!(
        "  outbox intake:{:>8.1} ms, {intake_requests} requests for {} tasks = ceil({}/{}) = {pages} pages + {} (target: + at most 2), {} added, {} with problems",
        intake.as_secs_f64() * 1000.0,
        rows.len(),
        rows.len(),
        superoffice::PAGE_SIZE,
        intake_requests as i64 - pages as i64,
        report.added,
        report.with_problems
    );
    println!("  intake / raw paging = {:.2}", intake.as_secs_f64() / raw.as_secs_f64());
    println!("  repeated intake (nothing new): {:.1} ms, {} added", repeat.as_secs_f64() * 1000.0, again.added);

    let small = first_page_time(100);
    let large = first_page_time(10_000);
    println!(
        "list first page (50 rows) from the store: 100 drafts {:.2} ms, 10,000 drafts {:.2} ms, ratio {:.2}",
        small.as_secs_f64() * 1000.0,
        large.as_secs_f64() * 1000.0,
        large.as_secs_f64() / small.as_secs_f64()
    );

    if store.list().unwrap().len() != rows.len() {
        eprintln!("intake lost tasks: {} stored of {}", store.list().unwrap().len(), rows.len());
        std::process::exit(1);
    }
}
