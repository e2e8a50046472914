//! The client under the simulator's faults: single-flight refresh, 421 re-resolve, paging,
//! throttling and transport errors, sign-out.

mod common;

use keychain::SecretStore;
use superoffice::AppointmentFilter;
use superoffice_sim::{Fault, FaultKind};

fn fault(path: &str, kind: FaultKind, times: Option<u32>) -> Fault {
    Fault { path_contains: path.into(), method: None, kind, times }
}

#[tokio::test]
async fn fifty_calls_on_an_expired_token_cause_one_refresh() {
    let sim = common::sim().await;
    let (client, _store) = common::signed_in(&sim).await;
    client.current_principal().await.unwrap_or_else(|e| panic!("{e}"));
    sim.expire_access_tokens();
    let before = sim.counters().refreshes;
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.current_principal().await })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap_or_else(|e| panic!("{e}")).is_ok());
    }
    assert_eq!(sim.counters().refreshes - before, 1, "exactly one refresh for 50 concurrent 401s");
}

#[tokio::test]
async fn a_rotated_refresh_token_replaces_the_old_one_in_the_keychain() {
    let sim = common::sim().await;
    sim.set_profile("full").unwrap_or_else(|e| panic!("{e}"));
    let (client, store) = common::signed_in(&sim).await;
    let key = superoffice::refresh_token_key(
        &superoffice::Environment::Custom(sim.base_url().to_owned()),
        &sim.context_id(),
        &sim.client().client_id,
    );
    let first = store.get(&key).ok().flatten().unwrap_or_else(|| panic!("no refresh token stored"));
    sim.expire_access_tokens();
    client.current_principal().await.unwrap_or_else(|e| panic!("{e}"));
    let second = store.get(&key).ok().flatten().unwrap_or_else(|| panic!("no refresh token after refresh"));
    assert_ne!(first, second, "the rotated token was saved");
    sim.expire_access_tokens();
    client.current_principal().await.unwrap_or_else(|e| panic!("the rotated token works: {e}"));
}

#[tokio::test]
async fn a_421_re_resolves_the_tenant_and_the_call_succeeds() {
    let sim = common::sim().await;
    let (client, _) = common::signed_in(&sim).await;
    let before = client.api_base();
    sim.inject(fault("/User/currentPrincipal", FaultKind::MisdirectOnce, Some(1)));
    let me = client.current_principal().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(me.associate_id, 18);
    assert_ne!(client.api_base(), before, "the client follows the tenant to its new address");
    client.person(2).await.unwrap_or_else(|e| panic!("later calls use the new address: {e}"));
}

#[tokio::test]
async fn paging_5000_tasks_takes_25_requests() {
    let sim = common::sim().await;
    sim.seed_tasks(5000 - 25);
    let (client, _) = common::signed_in(&sim).await;
    let before = sim.counters().requests("/Appointment");
    let tasks = client.open_tasks(&AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tasks.len(), 5000);
    let mut ids: Vec<i64> = tasks.iter().map(|t| t.appointment_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 5000, "no task twice");
    let requests = sim.counters().requests("/Appointment") - before;
    let pages = 5000_u64.div_ceil(superoffice::PAGE_SIZE as u64);
    println!("intake: 5000 tasks in {requests} requests (ceil(5000/200) = {pages}, + at most 2 allowed)");
    assert!((pages..=pages + 2).contains(&requests), "{requests} requests for {pages} pages");
    assert!(sim.counters().requests("/Person/") == 0, "no request per person: the address comes with the task");
}

#[tokio::test]
async fn errors_are_classified_not_string_matched() {
    let sim = common::sim().await;
    let (client, _) = common::signed_in(&sim).await;
    sim.inject(fault("/Person/2", FaultKind::TooManyRequests { retry_after_secs: 7 }, Some(1)));
    let e = client.person(2).await.err().unwrap_or_else(|| panic!("429 expected"));
    assert_eq!((e.status(), e.is_transient(), e.code().as_str()), (Some(429), true, "superoffice_throttled"));
    assert!(matches!(e, superoffice::Error::Api { retry_after: Some(7), .. }), "{e:?}");

    sim.inject(fault(
        "/Person/3",
        FaultKind::Status { status: 503, error_type: "SoServerException".into(), message: "Database is busy".into() },
        Some(1),
    ));
    let e = client.person(3).await.err().unwrap_or_else(|| panic!("503 expected"));
    assert!(e.is_transient() && e.to_string().contains("Database is busy") && e.to_string().contains("SoServerException"), "{e}");

    sim.inject(fault("/Person/4", FaultKind::Reset, Some(1)));
    let e = client.person(4).await.err().unwrap_or_else(|| panic!("reset expected"));
    assert!(e.is_transient() && e.status().is_none(), "{e:?}");

    let e = client.person(999_999).await.err().unwrap_or_else(|| panic!("404 expected"));
    assert_eq!((e.code().as_str(), e.is_transient()), ("superoffice_not_found", false));
    assert!(!format!("{e} {e:?}").contains("8A:"), "no token in error text");
}

#[tokio::test]
async fn sign_out_revokes_and_forgets_the_refresh_token() {
    let sim = common::sim().await;
    let (client, store) = common::signed_in(&sim).await;
    let key = superoffice::refresh_token_key(
        &superoffice::Environment::Custom(sim.base_url().to_owned()),
        &sim.context_id(),
        &sim.client().client_id,
    );
    assert!(store.get(&key).ok().flatten().is_some());
    client.session().unwrap_or_else(|| panic!("rep session")).sign_out().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(store.get(&key).ok().flatten().is_none(), "the keychain entry is gone");
    let e = client.current_principal().await.err().unwrap_or_else(|| panic!("signed out"));
    assert!(e.needs_sign_in(), "{e:?}");
}

#[tokio::test]
async fn a_stored_sign_in_is_resumed_without_the_browser() {
    let sim = common::sim().await;
    let (client, store) = common::signed_in(&sim).await;
    let env = superoffice::Environment::Custom(sim.base_url().to_owned());
    let secret = Some(keychain::Secret::new(sim.client().client_secret.clone()));
    let resumed =
        superoffice::Session::restore(env.clone(), sim.client().client_id.clone(), &sim.context_id(), secret.clone(), store.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("a stored sign-in must resume"));
    assert_eq!(resumed.claims().associate_id, 18);
    assert_eq!(superoffice::Client::new(resumed).current_principal().await.unwrap_or_else(|e| panic!("{e}")).associate_id, 18);
    // After sign-out nothing is stored, so nothing resumes.
    client.session().unwrap_or_else(|| panic!("rep")).sign_out().await.unwrap_or_else(|e| panic!("{e}"));
    let none = superoffice::Session::restore(env, sim.client().client_id.clone(), &sim.context_id(), secret, store).await;
    assert!(matches!(none, Ok(None)), "{:?}", none.map(|s| s.is_some()));
}

/// A keychain whose reads fail (locked, D-Bus hiccup): sign-out still deletes the refresh
/// token, and the session can no longer call anything.
#[tokio::test]
async fn sign_out_deletes_the_refresh_token_even_when_reading_it_fails() {
    struct FlakyReads {
        inner: keychain::MemoryStore,
        fail_reads: std::sync::atomic::AtomicBool,
    }
    impl keychain::SecretStore for FlakyReads {
        fn get(&self, name: &str) -> keychain::Result<Option<keychain::Secret>> {
            if self.fail_reads.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(keychain::Error::Unavailable("the keychain is locked (test)".into()));
            }
            self.inner.get(name)
        }
        fn set(&self, name: &str, value: &keychain::Secret) -> keychain::Result<()> {
            self.inner.set(name, value)
        }
        fn delete(&self, name: &str) -> keychain::Result<()> {
            self.inner.delete(name)
        }
    }
    let sim = common::sim().await;
    let store = std::sync::Arc::new(FlakyReads { inner: keychain::MemoryStore::default(), fail_reads: false.into() });
    let pending = superoffice::PendingSignIn::start(common::request(&sim)).await.unwrap_or_else(|e| panic!("{e}"));
    let url = pending.authorize_url().to_owned();
    let secret = Some(keychain::Secret::new(sim.client().client_secret.clone()));
    let finish = tokio::spawn(pending.finish(secret, store.clone(), std::time::Duration::from_secs(20)));
    superoffice_sim::browser::consent(&url, true).await.unwrap_or_else(|e| panic!("{e}"));
    let session = finish.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
    let key = superoffice::refresh_token_key(
        &superoffice::Environment::Custom(sim.base_url().to_owned()),
        &sim.context_id(),
        &sim.client().client_id,
    );
    assert!(store.inner.get(&key).unwrap_or_default().is_some());
    store.fail_reads.store(true, std::sync::atomic::Ordering::SeqCst);
    let result = session.sign_out().await;
    assert!(result.is_err(), "the failed read is reported");
    assert!(store.inner.get(&key).unwrap_or_default().is_none(), "the refresh token is gone anyway");
    store.fail_reads.store(false, std::sync::atomic::Ordering::SeqCst);
    let client = superoffice::Client::new(session);
    assert!(client.current_principal().await.is_err(), "nothing is called with the old session");
}

/// A refresh in flight when the rep signs out (the token endpoint answers slowly, with a
/// rotated token): sign-out waits for it under the refresh lock and deletes afterwards, so no
/// rotated refresh token is written back into the keychain after the sign-out.
#[tokio::test]
async fn a_refresh_in_flight_cannot_write_its_token_back_after_sign_out() {
    let sim = common::sim().await;
    sim.set_profile("full").unwrap_or_else(|e| panic!("{e}")); // rotates refresh tokens
    let (client, store) = common::signed_in(&sim).await;
    let key = superoffice::refresh_token_key(
        &superoffice::Environment::Custom(sim.base_url().to_owned()),
        &sim.context_id(),
        &sim.client().client_id,
    );
    sim.expire_access_tokens();
    sim.inject(fault("oauth/tokens", FaultKind::SlowBody { delay_ms: 700 }, Some(1)));
    let call = {
        let c = client.clone();
        tokio::spawn(async move { c.current_principal().await })
    };
    // Sign out while the refresh waits for its answer: the server has rotated the token, its
    // answer (700 ms late) carries the new one.
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    client.session().unwrap_or_else(|| panic!("rep session")).sign_out().await.unwrap_or_else(|e| panic!("{e}"));
    let _ = call.await;
    assert!(store.get(&key).ok().flatten().is_none(), "no refresh token came back after the sign-out");
    let e = client.current_principal().await.err().unwrap_or_else(|| panic!("signed out"));
    assert!(e.needs_sign_in(), "{e:?}");
}
