//! The mailbox client against the strict provider simulators (`mailbox-sim`, built from
//! Microsoft's and Google's documentation, not from this client): connecting through the
//! browser sign-in, sending our exact MIME, finding the Sent copy after a lost answer,
//! throttling, refusals, and a revoked connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use codes::ErrorCode;
use keychain::{MemoryStore, SecretStore};
use mailbox::{Account, ConnectRequest, Found, Mailbox, PendingConnect, Provider};
use mailbox_sim::{ConsentRefusal, MailboxSim, MailboxSimConfig};

const KEY: &str = "mailbox-refresh:test";

fn mime(message_id: &str, to: &str) -> Vec<u8> {
    format!(
        "From: Demo Rep <rep@outbox-demo.onmicrosoft.com>\r\nTo: Jonas <{to}>\r\nSubject: Angebot\r\nDate: Thu, 03 Dec 2026 18:00:00 +0000\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nHallo Jonas,\r\n\r\nbis bald.\r\n"
    )
    .into_bytes()
}

struct Rig {
    sim: MailboxSim,
    config: MailboxSimConfig,
    store: Arc<MemoryStore>,
}

async fn rig(config: MailboxSimConfig) -> Rig {
    let sim = mailbox_sim::start(config.clone()).await.expect("simulator");
    Rig { sim, config, store: Arc::new(MemoryStore::default()) }
}

impl Rig {
    fn provider(&self) -> Provider {
        match self.config.provider {
            mailbox_sim::Provider::Microsoft => Provider::Microsoft,
            mailbox_sim::Provider::Google => Provider::Google,
        }
    }
    fn endpoints(&self) -> mailbox::Endpoints {
        self.provider().endpoints_at(self.sim.base_url(), mailbox::provider::MICROSOFT_ORGANIZATIONS)
    }
    fn request(&self) -> ConnectRequest {
        ConnectRequest {
            provider: self.provider(),
            client_id: self.config.client_id.clone(),
            client_secret: self.config.client_secret.clone().map(keychain::Secret::new),
            endpoints: self.endpoints(),
            login_hint: Some(self.config.user.address.clone()),
        }
    }
    /// Connects, the test playing the rep in the browser (`allow`: accept the consent).
    async fn connect(&self, allow: bool) -> mailbox::Result<Account> {
        let pending = PendingConnect::start(self.request()).await?;
        let url = pending.authorize_url().to_owned();
        let browser = tokio::spawn(async move { mailbox_sim::browser::consent(&url, allow).await });
        let result = pending.finish(self.store.clone(), KEY, Duration::from_secs(10)).await;
        let _ = browser.await;
        result
    }
    fn mailbox(&self, account: &Account) -> Mailbox {
        Mailbox::new(
            self.provider(),
            self.endpoints(),
            account.address.clone(),
            self.config.client_id.clone(),
            self.config.client_secret.clone().map(keychain::Secret::new),
            self.store.clone(),
            KEY.into(),
        )
    }
}

#[tokio::test]
async fn microsoft_connects_sends_the_exact_bytes_and_finds_the_sent_copy() {
    let rig = rig(MailboxSimConfig::microsoft_demo()).await;
    let account = rig.connect(true).await.expect("connected");
    assert_eq!(account.address, rig.config.user.address, "the address from Graph's /me");
    assert_eq!(account.tenant_id.as_deref(), Some(rig.config.user.tenant_id.as_str()));
    assert!(rig.store.get(KEY).unwrap().is_some(), "the refresh token is in the keychain");
    let mb = rig.mailbox(&account);
    assert_eq!(mb.check().await.expect("check").as_deref(), Some(rig.config.user.address.as_str()));

    let bytes = mime("<m1@outbox.example>", "jonas@mueller.example");
    let draft = mb.create_draft(&bytes).await.expect("draft");
    assert_eq!(draft.internet_message_id.as_deref(), Some("<m1@outbox.example>"), "our Message-ID kept");
    assert_eq!(mb.find(&draft.id).await.expect("find"), Found::Draft);
    mb.send_draft(&draft.id).await.expect("sent");
    let sent = rig.sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].mime, bytes, "the Sent copy holds exactly the bytes we gave");
    assert!(matches!(mb.find(&draft.id).await.expect("find"), Found::Sent { .. }), "found by its immutable id");
}

#[tokio::test]
async fn a_lost_graph_answer_is_found_sent_and_a_late_copy_shows_as_a_draft_first() {
    let rig = rig(MailboxSimConfig::microsoft_demo()).await;
    let mb = rig.mailbox(&rig.connect(true).await.expect("connected"));
    let draft = mb.create_draft(&mime("<m2@outbox.example>", "a@b.example")).await.expect("draft");
    rig.sim.lose_next_answers(1);
    rig.sim.sent_copy_delay(Duration::from_millis(300));
    let e = mb.send_draft(&draft.id).await.expect_err("the answer is lost");
    assert!(!e.certainly_not_done(), "a lost answer may have sent: {e:?}");
    assert_eq!(mb.find(&draft.id).await.expect("find"), Found::Draft, "the copy is not in Sent Items yet");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(matches!(mb.find(&draft.id).await.expect("find"), Found::Sent { .. }));
    assert_eq!(rig.sim.sent().len(), 1);
}

#[tokio::test]
async fn a_draft_whose_answer_was_lost_is_found_by_its_message_id() {
    let rig = rig(MailboxSimConfig::microsoft_demo()).await;
    let mb = rig.mailbox(&rig.connect(true).await.expect("connected"));
    let draft = mb.create_draft(&mime("<m3@outbox.example>", "a@b.example")).await.expect("draft");
    let found = mb.find_draft("<m3@outbox.example>").await.expect("search");
    assert_eq!(found, Some(draft.id));
    assert_eq!(mb.find_draft("<other@outbox.example>").await.expect("search"), None);
}

#[tokio::test]
async fn graph_throttling_names_its_wait_and_counts_as_not_done() {
    let mut config = MailboxSimConfig::microsoft_demo();
    config.limits.per_minute = Some(1);
    let rig = rig(config).await;
    let mb = rig.mailbox(&rig.connect(true).await.expect("connected"));
    let first = mb.create_draft(&mime("<t1@outbox.example>", "a@b.example")).await.expect("draft");
    mb.send_draft(&first.id).await.expect("the first goes");
    let second = mb.create_draft(&mime("<t2@outbox.example>", "a@b.example")).await.expect("draft");
    let e = mb.send_draft(&second.id).await.expect_err("over the limit");
    assert!(e.is_throttled() && e.certainly_not_done(), "{e:?}");
    assert!(e.retry_after().is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(60)), "{:?}", e.retry_after());
    assert_eq!(rig.sim.sent().len(), 1);
}

#[tokio::test]
async fn a_declined_consent_or_a_missing_permission_is_said_by_code() {
    let rig = rig(MailboxSimConfig::microsoft_demo()).await;
    rig.sim.refuse_consent(ConsentRefusal::UserDeclined);
    assert_eq!(rig.connect(true).await.expect_err("declined").code(), ErrorCode::MailboxConsentRefused);
    rig.sim.grant_only(&["openid", "profile", "offline_access", "User.Read", "Mail.ReadWrite"]);
    assert_eq!(rig.connect(true).await.expect_err("no Mail.Send").code(), ErrorCode::MailboxScopeMissing);
    assert!(rig.store.get(KEY).unwrap().is_none(), "nothing stored for a connection that cannot send");
}

#[tokio::test]
async fn a_revoked_connection_asks_the_rep_to_connect_again() {
    let rig = rig(MailboxSimConfig::microsoft_demo()).await;
    let mb = rig.mailbox(&rig.connect(true).await.expect("connected"));
    rig.sim.revoke_refresh_tokens();
    rig.sim.expire_access_tokens();
    let e = mb.check().await.expect_err("revoked");
    assert_eq!(e.code(), ErrorCode::MailboxSignInAgain, "{e:?}");
    assert!(e.certainly_not_done());
}

#[tokio::test]
async fn google_connects_with_its_desktop_secret_and_sends_through_the_gmail_api() {
    let rig = rig(MailboxSimConfig::google_demo()).await;
    let account = rig.connect(true).await.expect("connected");
    assert_eq!(account.address, rig.config.user.address, "the verified email of the ID token");
    assert!(account.granted.iter().any(|g| g == "https://www.googleapis.com/auth/gmail.send"));
    let mb = rig.mailbox(&account);
    assert_eq!(mb.check().await.expect("check"), None, "gmail.send reads nothing; the renewal is the check");
    let sent = mb.gmail_send(&mime("<g1@outbox.example>", "a@b.example")).await.expect("sent");
    assert!(sent.labels.iter().any(|l| l == "SENT"));
    let copies = rig.sim.sent();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].id, sent.id);
    // Google puts its own Message-ID on API sends (docs/providers/google.md G5).
    assert_ne!(copies[0].internet_message_id, "<g1@outbox.example>");
}

#[tokio::test]
async fn google_without_the_send_permission_is_refused_before_anything_is_stored() {
    let rig = rig(MailboxSimConfig::google_demo()).await;
    rig.sim.grant_only(&["openid", "email"]);
    assert_eq!(rig.connect(true).await.expect_err("no gmail.send").code(), ErrorCode::MailboxScopeMissing);
    rig.sim.grant_only(&[]);
    rig.sim.refuse_consent(ConsentRefusal::AccessDenied);
    assert_eq!(rig.connect(true).await.expect_err("denied").code(), ErrorCode::MailboxConsentRefused);
    assert!(rig.store.get(KEY).unwrap().is_none());
}
