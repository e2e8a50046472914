//! The mailbox channel driven through the real `Delivery`, store and SuperOffice archive (the
//! demo simulator), with a scripted mailbox behind the `MailApi` seam: each test chooses how
//! the provider answers (accepted, answer lost after it sent, throttled, refused) and checks
//! that the message was sent exactly once, archived with the exact bytes, and that a lost
//! answer was settled by looking it up (Graph) or left to the rep (Gmail).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use mailbox::{Draft, Found, Provider};
use outbox::channel::{Channel, ChannelChoice, ChannelWhy};
use outbox::seams::{BoxFuture, MailApi};
use outbox::{Delivery, Rep, State, Store};
use superoffice::AppointmentFilter;
use superoffice_sim::SimHandle;

/// How the scripted provider answers the next send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Accepted,
    /// It sends, then the answer never arrives.
    LostAfterSending,
    /// 429 with `Retry-After: 1`: nothing sent.
    Throttled,
    /// 400: nothing sent.
    Refused,
}

#[derive(Default)]
struct Mailbox {
    /// Draft id → (MIME, sent, look-ups left before the Sent copy shows).
    drafts: BTreeMap<String, (Vec<u8>, bool, u32)>,
    /// Message-ID → how many times it went out.
    sent: BTreeMap<String, u32>,
    /// Every message body the provider was given.
    handed: Vec<Vec<u8>>,
    answers: Vec<Answer>,
    /// The answer to the next draft creation is lost (the draft is made).
    lose_next_draft_answer: bool,
    /// Look-ups that still show a sent message as a draft.
    sent_copy_delay: u32,
}

struct Scripted {
    provider: Provider,
    state: Mutex<Mailbox>,
}

fn message_id_of(mime: &[u8]) -> String {
    let text = String::from_utf8_lossy(mime);
    let line = text.split("\r\n").find(|l| l.to_ascii_lowercase().starts_with("message-id:")).expect("a Message-ID");
    line.split_once(':').map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

fn lost() -> mailbox::Error {
    mailbox::Error::Unreachable { detail: "the connection was reset".into(), timeout: false, connect: false }
}

fn api_error(status: u16, code: &str, retry_after: Option<Duration>) -> mailbox::Error {
    mailbox::Error::Api { status, provider_code: code.into(), message: "scripted".into(), retry_after }
}

impl Scripted {
    fn new(provider: Provider) -> Arc<Self> {
        Arc::new(Scripted { provider, state: Mutex::new(Mailbox::default()) })
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Mailbox> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn next_answer(&self) -> Answer {
        let mut s = self.lock();
        if s.answers.is_empty() {
            Answer::Accepted
        } else {
            s.answers.remove(0)
        }
    }
    /// Sends `mime` (once more) from the mailbox.
    fn deliver(&self, mime: &[u8]) {
        let mut s = self.lock();
        *s.sent.entry(message_id_of(mime)).or_default() += 1;
        s.handed.push(mime.to_vec());
    }
    fn sent(&self) -> BTreeMap<String, u32> {
        self.lock().sent.clone()
    }
}

impl MailApi for Scripted {
    fn provider(&self) -> Provider {
        self.provider
    }
    fn create_draft<'a>(&'a self, mime: &'a [u8]) -> BoxFuture<'a, mailbox::Result<Draft>> {
        Box::pin(async move {
            let mut s = self.lock();
            let id = format!("AAMk-{}", s.drafts.len() + 1);
            let delay = s.sent_copy_delay;
            s.drafts.insert(id.clone(), (mime.to_vec(), false, delay));
            if std::mem::take(&mut s.lose_next_draft_answer) {
                return Err(lost());
            }
            Ok(Draft { id, internet_message_id: Some(message_id_of(mime)) })
        })
    }
    fn find_draft<'a>(&'a self, message_id: &'a str) -> BoxFuture<'a, mailbox::Result<Option<String>>> {
        Box::pin(async move {
            let s = self.lock();
            Ok(s.drafts.iter().find(|(_, (m, sent, _))| !sent && message_id_of(m) == message_id).map(|(id, _)| id.clone()))
        })
    }
    fn send_draft<'a>(&'a self, id: &'a str) -> BoxFuture<'a, mailbox::Result<()>> {
        Box::pin(async move {
            let answer = self.next_answer();
            if matches!(answer, Answer::Throttled) {
                return Err(api_error(429, "TooManyRequests", Some(Duration::from_secs(1))));
            }
            if matches!(answer, Answer::Refused) {
                return Err(api_error(400, "ErrorInvalidRecipients", None));
            }
            let mime = {
                let mut s = self.lock();
                let Some(d) = s.drafts.get_mut(id) else { return Err(api_error(404, "ErrorItemNotFound", None)) };
                if d.1 {
                    return Err(api_error(400, "ErrorInvalidOperation", None));
                }
                d.1 = true;
                d.0.clone()
            };
            self.deliver(&mime);
            match answer {
                Answer::LostAfterSending => Err(lost()),
                _ => Ok(()),
            }
        })
    }
    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, mailbox::Result<Found>> {
        Box::pin(async move {
            let mut s = self.lock();
            let Some(d) = s.drafts.get_mut(id) else { return Ok(Found::Gone) };
            if !d.1 {
                return Ok(Found::Draft);
            }
            if d.2 > 0 {
                d.2 -= 1;
                return Ok(Found::Draft);
            }
            Ok(Found::Sent { internet_message_id: Some(message_id_of(&d.0)), sent_at: None })
        })
    }
    fn gmail_send<'a>(&'a self, mime: &'a [u8]) -> BoxFuture<'a, mailbox::Result<mailbox::gmail::Sent>> {
        Box::pin(async move {
            match self.next_answer() {
                Answer::Throttled => Err(api_error(429, "rateLimitExceeded", Some(Duration::from_secs(1)))),
                Answer::Refused => Err(api_error(400, "invalidArgument", None)),
                answer => {
                    self.deliver(mime);
                    if answer == Answer::LostAfterSending {
                        return Err(lost());
                    }
                    Ok(mailbox::gmail::Sent { id: "18c1f2".into(), thread_id: None, labels: vec!["SENT".into()] })
                }
            }
        })
    }
}

struct Rig {
    sim: SimHandle,
    delivery: Delivery,
    mailbox: Arc<Scripted>,
    _dir: tempfile::TempDir,
}

async fn rig(provider: Provider) -> Rig {
    let sim = testkit::simulator().await;
    let client = testkit::sign_in(&sim).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("outbox.sqlite")).expect("store"));
    outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: 18, task_type_id: 7 }).await.expect("intake");
    let me = client.current_principal().await.expect("principal");
    let rep = Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address.clone() };
    let why = ChannelWhy::Mailbox { provider, address: me.email_address };
    let delivery = Delivery::new(store, client, testkit::unreachable_relay(), rep)
        .with_channel(ChannelChoice::new(Channel::Mailbox, why))
        .with_settle_pauses(vec![Duration::from_millis(20); 3])
        .with_settle_every(Duration::ZERO);
    let mailbox = Scripted::new(provider);
    delivery.set_mailbox(Some(mailbox.clone()));
    Rig { sim, delivery, mailbox, _dir: dir }
}

impl Rig {
    fn approve_first(&self) -> i64 {
        let id = self.delivery.store.list().expect("list").into_iter().find(|d| d.problem.is_none()).expect("a sendable draft").id;
        self.delivery.approve(id).expect("approve");
        id
    }
    /// The archived document of `id` holds exactly the approved bytes.
    fn archived_exactly(&self, id: i64) {
        let row = self.delivery.store.get(id).expect("row");
        let docs = self.sim.tenant().documents;
        let doc = docs.iter().find(|d| Some(d.id) == row.document_id).expect("the archive document");
        let archived = base64::engine::general_purpose::STANDARD.decode(doc.content_base64.clone().expect("content")).expect("b64");
        let approved = self.delivery.store.approved(id).expect("approved").mime;
        assert_eq!(archived, outbox::mime::as_received(&approved), "the archive holds the approved message");
        let handed = self.mailbox.lock().handed.clone();
        assert!(handed.contains(&archived), "the archive holds exactly the bytes handed to the provider");
        assert_eq!(docs.iter().filter(|d| Some(&d.external_ref) == row.message_id.as_ref()).count(), 1, "one archive per Message-ID");
    }
    fn sent_once(&self, id: i64) {
        let message_id = self.delivery.store.get(id).expect("row").message_id.expect("Message-ID");
        assert_eq!(self.mailbox.sent().get(&message_id), Some(&1), "sent exactly once: {:?}", self.mailbox.sent());
    }
    fn reason_kind(&self, id: i64) -> String {
        let row = self.delivery.store.get(id).expect("row");
        serde_json::to_value(&row.reason_why).map(|v| v["kind"].as_str().unwrap_or_default().to_owned()).unwrap_or_default()
    }
}

#[tokio::test]
async fn graph_sends_once_and_the_archive_holds_the_bytes_it_was_given() {
    let rig = rig(Provider::Microsoft).await;
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done);
    rig.sent_once(id);
    rig.archived_exactly(id);
    let kinds: Vec<String> = rig.delivery.store.timeline(id).expect("timeline").into_iter().map(|e| e.kind).collect();
    let at = |k: &str| kinds.iter().position(|x| x == k).unwrap_or_else(|| panic!("no {k} in {kinds:?}"));
    assert!(
        at("provider_ref") < at("data_started") && at("data_started") < at("sent"),
        "the draft id is durable before the send: {kinds:?}"
    );
}

#[tokio::test]
async fn a_lost_graph_answer_is_settled_by_looking_in_sent_items() {
    let rig = rig(Provider::Microsoft).await;
    rig.mailbox.lock().answers = vec![Answer::LostAfterSending];
    rig.mailbox.lock().sent_copy_delay = 1;
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done, "found on the second look-up");
    rig.sent_once(id);
    rig.archived_exactly(id);
}

#[tokio::test]
async fn a_copy_that_shows_late_is_found_by_the_settle_pass_and_nothing_is_resent_meanwhile() {
    let rig = rig(Provider::Microsoft).await;
    rig.mailbox.lock().answers = vec![Answer::LostAfterSending];
    // Three look-ups right after the send and three by the ticks below still show a draft.
    rig.mailbox.lock().sent_copy_delay = 6;
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::NeedsDecision);
    assert_eq!(rig.reason_kind(id), "mailbox_unconfirmed");
    // The ticker never sends it again; the settle pass looks each time (the rig sets no least
    // time between look-ups; the app's is 30 s).
    for _ in 0..3 {
        let report = rig.delivery.tick(&outbox::Limits::default()).await.expect("tick");
        assert!(report.settled.is_empty() && report.attempted.is_empty());
    }
    let report = rig.delivery.tick(&outbox::Limits::default()).await.expect("tick");
    assert_eq!(report.settled, vec![id], "found once the Sent copy showed");
    assert_eq!(rig.delivery.store.get(id).expect("row").state, State::Done);
    rig.sent_once(id);
    rig.archived_exactly(id);
}

#[tokio::test]
async fn throttling_waits_as_asked_and_is_not_a_failure() {
    let rig = rig(Provider::Microsoft).await;
    rig.mailbox.lock().answers = vec![Answer::Throttled];
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Approved);
    let row = rig.delivery.store.get(id).expect("row");
    assert_eq!((row.attempts, rig.reason_kind(id).as_str()), (0, "throttled"), "not counted as a failed attempt");
    assert!(rig.delivery.store.due_for_sending(outbox::now_ms()).expect("due").is_empty(), "not before the wait it asked for");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done);
    rig.sent_once(id);
    assert_eq!(rig.mailbox.lock().drafts.len(), 1, "the draft of the first attempt was sent, not a second one");
}

#[tokio::test]
async fn a_lost_answer_to_the_draft_finds_that_draft_again() {
    let rig = rig(Provider::Microsoft).await;
    rig.mailbox.lock().lose_next_draft_answer = true;
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Failed, "nothing was sent: retried later");
    rig.delivery.store.retry(id, "test").expect("retry");
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done);
    assert_eq!(rig.mailbox.lock().drafts.len(), 1, "found by its Message-ID, not made twice");
    rig.sent_once(id);
}

#[tokio::test]
async fn a_refusal_is_final_and_sends_nothing() {
    let rig = rig(Provider::Microsoft).await;
    rig.mailbox.lock().answers = vec![Answer::Refused];
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Failed);
    assert_eq!(rig.reason_kind(id), "refused");
    assert!(rig.mailbox.sent().is_empty());
}

#[tokio::test]
async fn gmail_sends_once_and_a_lost_answer_is_the_reps_question() {
    let rig = rig(Provider::Google).await;
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Done);
    rig.sent_once(id);
    rig.archived_exactly(id);

    let ids: Vec<i64> =
        rig.delivery.store.list().expect("list").into_iter().filter(|d| d.problem.is_none() && d.id != id).map(|d| d.id).collect();
    let other = ids[0];
    rig.mailbox.lock().answers = vec![Answer::LostAfterSending];
    rig.delivery.approve(other).expect("approve");
    assert_eq!(rig.delivery.deliver(other).await.expect("deliver"), State::NeedsDecision);
    assert_eq!(rig.reason_kind(other), "mailbox_unknown");
    for _ in 0..3 {
        let report = rig.delivery.tick(&outbox::Limits::default()).await.expect("tick");
        assert!(report.settled.is_empty() && !report.attempted.contains(&other));
    }
    rig.sent_once(other);
}

#[tokio::test]
async fn without_a_connected_mailbox_nothing_is_sent_and_the_rep_is_told() {
    let rig = rig(Provider::Microsoft).await;
    rig.delivery.set_mailbox(None);
    let id = rig.approve_first();
    assert_eq!(rig.delivery.deliver(id).await.expect("deliver"), State::Failed);
    assert_eq!(rig.reason_kind(id), "refused");
    assert!(rig.delivery.store.get(id).expect("row").reason.unwrap_or_default().contains("connect"));
}
