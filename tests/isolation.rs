//! One rep, one tenant, one outbox (issue 13): a delivery pipeline handed an outbox that is
//! not its rep's, or not its tenant's, approves, sends and archives nothing from it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::sync::Arc;

use outbox::{Delivery, Limits, NewDraft, Owner, Rep, State, Store};

fn draft(r: &str) -> NewDraft {
    NewDraft {
        contact_id: 2,
        person_id: 2,
        company: "Acme".into(),
        recipient_name: "Kim Buyer".into(),
        ..NewDraft::task(r, "kim@acme.example", "Hello", "Hi Kim")
    }
}

async fn rep_of(client: &superoffice::Client) -> Rep {
    let me = client.current_principal().await.unwrap();
    Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address }
}

/// Rep A's approval waits in rep A's outbox. Rep B of the same tenant signs in on this
/// machine: B's pipeline, even handed A's outbox, refuses to tick, send, approve or archive
/// from it; A's row stays approved and the mail server receives nothing.
#[tokio::test]
async fn two_reps_on_one_tenant_never_send_each_others_rows() {
    let sim = common::simulator().await;
    let client = common::sign_in(&sim).await;
    let a = rep_of(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let owner_a = Owner::new(sim.base_url(), &sim.context_id(), a.associate_id);
    let store = Arc::new(Store::open_for(&dir.path().join("a.sqlite"), &owner_a).unwrap());
    store.insert_draft(&draft("5001")).unwrap();
    store.insert_draft(&draft("5002")).unwrap();
    let ids: Vec<i64> = store.list().unwrap().iter().map(|d| d.id).collect();
    let rep_a = Delivery::new(store.clone(), client.clone(), common::sim_relay(&sim), a.clone());
    rep_a.approve(ids[0]).unwrap();

    let b = Rep { associate_id: a.associate_id + 1, name: "Ben Other".into(), email: "ben@roboplanet.example".into() };
    let rep_b = Delivery::new(store.clone(), client, common::sim_relay(&sim), b);
    assert_eq!(rep_b.tick(&Limits::default()).await.err().map(|e| e.code().as_str()), Some("outbox_of_another_owner"));
    assert_eq!(rep_b.deliver(ids[0]).await.err().map(|e| e.code().as_str()), Some("outbox_of_another_owner"));
    assert_eq!(rep_b.approve(ids[1]).err().map(|e| e.code().as_str()), Some("outbox_of_another_owner"));
    assert_eq!(rep_b.finish(ids[0]).await.err().map(|e| e.code().as_str()), Some("outbox_of_another_owner"));
    assert_eq!(store.get(ids[0]).unwrap().state, State::Approved, "A's approval is untouched");
    assert_eq!(store.get(ids[1]).unwrap().state, State::Pending);
    assert!(sim.mailbox().messages().is_empty(), "nothing was sent");
    // Rep A's own pipeline sends it, once.
    rep_a.tick(&Limits::default()).await.unwrap();
    assert_eq!(sim.mailbox().messages().len(), 1);
}

/// A message of tenant A was sent and waits to be archived; the app is then signed in to
/// tenant B. B's pipeline, handed A's outbox, archives nothing into B and completes no task of
/// B's; A's row stays "sent" for A's next sign-in.
#[tokio::test]
async fn switching_tenants_never_archives_into_the_other_tenant() {
    let sim = common::simulator().await;
    let client = common::sign_in(&sim).await;
    let rep = rep_of(&client).await;
    let dir = tempfile::tempdir().unwrap();
    // Tenant A: another context id on the same environment, the same associate id.
    let owner_a = Owner::new(sim.base_url(), "Cust99999", rep.associate_id);
    let store = Arc::new(Store::open_for(&dir.path().join("a.sqlite"), &owner_a).unwrap());
    store.insert_draft(&draft("5001")).unwrap();
    let id = store.list().unwrap()[0].id;
    store.approve(id, "rep", "<a1@roboplanet.example>", &rep.name, &rep.email, b"Subject: x\r\n\r\nbody\r\n", 0).unwrap();
    store.claim(id).unwrap();
    store.sent(id, "250 queued").unwrap();
    let documents_before = sim.tenant().documents.len();

    let tenant_b = Delivery::new(store.clone(), client, common::sim_relay(&sim), rep);
    assert_eq!(tenant_b.tick(&Limits::default()).await.err().map(|e| e.code().as_str()), Some("outbox_of_another_owner"));
    assert_eq!(tenant_b.finish(id).await.err().map(|e| e.code().as_str()), Some("outbox_of_another_owner"));
    assert_eq!(sim.tenant().documents.len(), documents_before, "nothing archived into tenant B");
    assert_eq!(store.get(id).unwrap().state, State::Sent, "A's message waits for A");
}
