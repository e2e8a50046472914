//! A bulk approval of N drafts sent through the rep's Microsoft 365 mailbox under Exchange
//! Online's documented 30 messages a minute, through the real pipeline (`Delivery::tick` every
//! 100 ms: pacing, draft, send, archive) against the strict Graph simulator (which answers 429
//! beyond 30 a minute) and the SuperOffice simulator. Prints the time against the limit's
//! minimum (the first 30 at once, then 30 more each minute: (ceil(N/30) − 1) minutes), the
//! throttling answers the provider gave and the failures the rep would have to handle. Nothing
//! is asserted but the count of sent messages.
//!
//! ```text
//! cargo run --release -p outbox --example bench_pacing -- [--n 100]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on a broken setup

use std::sync::Arc;
use std::time::{Duration, Instant};

use keychain::MemoryStore;
use mailbox::{ConnectRequest, Mailbox, PendingConnect, Provider};
use outbox::channel::{Channel, ChannelChoice, ChannelWhy};
use outbox::{Delivery, Limits, Rep, State, Store};
use superoffice::AppointmentFilter;

const PER_MINUTE: u32 = 30;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().skip_while(|a| a != "--n").nth(1).and_then(|v| v.parse().ok()).unwrap_or(100);
    let sim = testkit::simulator().await;
    sim.seed_tasks(n);
    let client = testkit::sign_in(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).unwrap());
    outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.unwrap();
    let me = client.current_principal().await.unwrap();

    let mut config = mailbox_sim::MailboxSimConfig::microsoft_demo();
    config.user.address = me.email_address.clone();
    config.limits.per_minute = Some(PER_MINUTE);
    let mail = mailbox_sim::start(config.clone()).await.unwrap();
    let endpoints = Provider::Microsoft.endpoints_at(mail.base_url(), "organizations");
    let keys = Arc::new(MemoryStore::default());
    let request = ConnectRequest {
        provider: Provider::Microsoft,
        client_id: config.client_id.clone(),
        client_secret: None,
        endpoints: endpoints.clone(),
        login_hint: None,
    };
    let pending = PendingConnect::start(request).await.unwrap();
    let url = pending.authorize_url().to_owned();
    tokio::spawn(async move { mailbox_sim::browser::consent(&url, true).await });
    let account = pending.finish(keys.clone(), "refresh", Duration::from_secs(10)).await.unwrap();
    let api = Mailbox::new(Provider::Microsoft, endpoints, account.address.clone(), config.client_id, None, keys, "refresh".into());

    let why = ChannelWhy::Mailbox { provider: Provider::Microsoft, address: account.address };
    let rep = Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address };
    let delivery =
        Delivery::new(store.clone(), client, testkit::unreachable_relay(), rep).with_channel(ChannelChoice::new(Channel::Mailbox, why));
    delivery.set_mailbox(Some(Arc::new(api)));
    let ids: Vec<i64> = store.list().unwrap().into_iter().filter(|d| d.problem.is_none()).map(|d| d.id).take(n).collect();
    assert_eq!(ids.len(), n, "not enough sendable drafts");
    let started = Instant::now();
    for (_, e) in delivery.approve_many(&ids).unwrap() {
        assert!(e.is_none(), "{e:?}");
    }
    // The app's ticker, with no limits of the admin's own: the provider's 30 a minute applies.
    let limits = Limits { daily_cap: 0, min_spacing_ms: 0, per_minute: 0 };
    let deadline = started + Duration::from_secs(60 * (n as u64 / PER_MINUTE as u64 + 3));
    let done = loop {
        delivery.tick(&limits).await.unwrap();
        let rows = store.list().unwrap();
        let done = rows.iter().filter(|r| ids.contains(&r.id) && matches!(r.state, State::Done | State::Archived | State::Sent)).count();
        if done == n || Instant::now() > deadline {
            break done;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wall = started.elapsed();
    let minimum = Duration::from_secs(60 * (n.div_ceil(PER_MINUTE as usize) as u64 - 1));
    let mut throttled = 0;
    let mut failed = 0;
    for id in &ids {
        let timeline = store.timeline(*id).unwrap();
        throttled += timeline.iter().filter(|e| e.kind == "throttled").count();
        failed += timeline.iter().filter(|e| e.kind == "not_accepted" || e.kind == "refused" || e.kind == "needs_decision").count();
    }
    println!("pacing: {n} messages through Microsoft Graph under {PER_MINUTE} a minute");
    println!(
        "pacing: sent {done} of {n} in {:.1} s; the limit's minimum is {:.0} s; ratio {:.3}",
        wall.as_secs_f64(),
        minimum.as_secs_f64(),
        wall.as_secs_f64() / minimum.as_secs_f64().max(1.0)
    );
    println!(
        "pacing: throttling answers from the provider: {throttled}; failures the rep would handle: {failed}; copies in Sent Items: {}",
        mail.sent().len()
    );
    assert_eq!(done, n, "not every message was sent");
}
