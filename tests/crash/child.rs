//! Part of `tests/crash.rs`: one run of the app in a child process (the test binary again,
//! `crash_child`). It signs in, recovers, takes the tasks in, resumes unfinished work and sends
//! what the parent asked for, as the app does; the parent decides where it dies.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keychain::Secret;
use outbox::{Delivery, Limits, Rep, SmtpSecurity, SmtpSettings, State, Store};

use crate::common;
use crate::{APPROVE, CLIENT_ID, CLIENT_SECRET, CONTEXT_ID, DB, FILTER, READY, SIM_URL, SMTP_CA, SMTP_LOGIN, SMTP_PORT, SMTP_SECRET};

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

/// Takes the open tasks in and builds the signed-in rep's pipeline (the relay from the parent).
async fn take_in(client: superoffice::Client, store: &Arc<Store>) -> (Delivery, outbox::IntakeReport) {
    let intake = outbox::intake_tasks(&client, store, &FILTER).await.expect("intake");
    let me = client.current_principal().await.expect("principal");
    let rep = Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address };
    (Delivery::new(store.clone(), client, smtp_settings(), rep), intake)
}

/// One app run as the first version of the test had it: sign in, recover, take in, resume what
/// was approved or sent, then approve and deliver what the parent asked for, one by one.
pub(crate) async fn app_run() {
    let client = common::sign_in_at(&var(SIM_URL), &var(CLIENT_ID), &var(CLIENT_SECRET), &var(CONTEXT_ID)).await;
    let store = Arc::new(Store::open(Path::new(&var(DB))).expect("open the outbox"));
    let recovered = store.recover_interrupted().expect("recover interrupted sends");
    let (delivery, intake) = take_in(client, &store).await;
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
pub(crate) async fn bulk_run() {
    let store = Arc::new(Store::open(Path::new(&var(DB))).expect("open the outbox"));
    let recovered = store.recover_interrupted().expect("recover interrupted sends");
    let client = common::sign_in_at(&var(SIM_URL), &var(CLIENT_ID), &var(CLIENT_SECRET), &var(CONTEXT_ID)).await;
    let (delivery, intake) = take_in(client, &store).await;
    println!("{READY}: recovered {recovered} interrupted, intake found {} added {}", intake.found, intake.added);
    let mut approved = 0;
    for id in asked() {
        if store.get(id).expect("row").state == State::Pending {
            delivery.approve(id).unwrap_or_else(|e| panic!("approve {id}: {e}"));
            approved += 1;
        }
    }
    println!("child: approved {approved}");
    let limits = Limits { daily_cap: 0, min_spacing_ms: 0, per_minute: 0 };
    loop {
        let report = delivery.tick(&limits).await.unwrap_or_else(|e| panic!("tick: {e}"));
        println!("child: tick sent {} archived {}", report.attempted.len(), report.archived.len());
        if !report.changed() {
            break;
        }
    }
}
