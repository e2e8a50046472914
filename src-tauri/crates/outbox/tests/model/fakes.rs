//! Part of `tests/model.rs`: the fake SMTP relay and the fake SuperOffice archive that the real
//! `Delivery` is given (`outbox::seams`). Before each step the model tells them how this attempt
//! ends; they record every message the relay accepted and every document the archive holds, per
//! Message-ID, for the invariants. A "crash" is a fake that never answers: it signals the
//! driver, which drops the `Delivery` future right there, as a dying process would stop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use outbox::seams::{Archive, BoxFuture, DataStarted, Envelope, Relay};
use outbox::smtp::Outcome;
use serde_json::{json, Value};
use superoffice::models::{DocumentEntity, DocumentRef};
use tokio::sync::Notify;

use crate::transitions::{ArchiveOutcome, SendOutcome};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Never answers, after telling the driver that the process died here.
async fn crash<T>(crashed: &Notify) -> T {
    crashed.notify_one();
    std::future::pending().await
}

/// The Message-ID header of a formatted message.
fn message_id_of(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let headers = text.split("\r\n\r\n").next().unwrap_or_default();
    let line = headers.split("\r\n").find(|l| l.to_ascii_lowercase().starts_with("message-id:"));
    line.and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| panic!("the relay got a message without a Message-ID"))
}

/// The fake SMTP relay: answers as the model chose, and keeps every copy it accepted.
pub(crate) struct FakeRelay {
    crashed: Arc<Notify>,
    answer: Mutex<SendOutcome>,
    /// Message-ID → every copy it accepted.
    accepted: Mutex<BTreeMap<String, Vec<Vec<u8>>>>,
}

impl FakeRelay {
    pub(crate) fn new(crashed: Arc<Notify>) -> Self {
        FakeRelay { crashed, answer: Mutex::new(SendOutcome::Accepted), accepted: Mutex::default() }
    }

    /// How the next attempt ends.
    pub(crate) fn answer(&self, o: SendOutcome) {
        *lock(&self.answer) = o;
    }

    pub(crate) fn accepted(&self) -> BTreeMap<String, Vec<Vec<u8>>> {
        lock(&self.accepted).clone()
    }

    fn take(&self, bytes: &[u8]) {
        lock(&self.accepted).entry(message_id_of(bytes)).or_default().push(bytes.to_vec());
    }
}

impl Relay for FakeRelay {
    fn submit<'a>(&'a self, _envelope: &'a Envelope, bytes: &'a [u8], data_started: DataStarted) -> BoxFuture<'a, Outcome> {
        use SendOutcome as O;
        let o = *lock(&self.answer);
        Box::pin(async move {
            match o {
                O::CrashAfterClaim => return crash(&self.crashed).await,
                O::PreDataFail4xx => return Outcome::NotAccepted("421 4.7.0 try again later".into()),
                O::Refused5xx => return Outcome::Refused("550 5.1.1 mailbox unavailable".into()),
                _ => {}
            }
            // 354: the outbox records that the body is about to leave.
            assert!(data_started().await, "the outbox could not record that DATA began");
            match o {
                O::CrashAfterDataStarted => crash(&self.crashed).await,
                O::LostMidBody => Outcome::Unknown("the connection broke while the body was being sent".into()),
                O::Accepted => {
                    self.take(bytes);
                    Outcome::Accepted("250 2.0.0 Ok: queued as 4F2A".into())
                }
                O::AmbiguousAfterDot => {
                    self.take(bytes);
                    Outcome::Unknown("no reply after the final dot".into())
                }
                O::CrashAfterAccepted => {
                    self.take(bytes);
                    crash(&self.crashed).await
                }
                O::CrashAfterClaim | O::PreDataFail4xx | O::Refused5xx => unreachable!("answered before DATA"),
            }
        })
    }
}

#[derive(Clone)]
pub(crate) struct Doc {
    pub(crate) id: i64,
    /// `ExternalRef`: the Message-ID.
    pub(crate) message_id: String,
    our_ref: Option<String>,
    pub(crate) content: Option<Vec<u8>>,
}

/// What happened in the archive during the current attempt (a `finish` call).
#[derive(Default)]
struct Attempt {
    answer: Option<ArchiveOutcome>,
    created: bool,
    uploaded: bool,
}

/// The fake SuperOffice archive: documents as `Delivery` creates them, found by `OurRef` and
/// read back with their `ExternalRef`, as SuperOffice would.
pub(crate) struct FakeArchive {
    crashed: Arc<Notify>,
    attempt: Mutex<Attempt>,
    docs: Mutex<Vec<Doc>>,
}

impl FakeArchive {
    pub(crate) fn new(crashed: Arc<Notify>) -> Self {
        FakeArchive { crashed, attempt: Mutex::default(), docs: Mutex::default() }
    }

    /// How the next attempt ends.
    pub(crate) fn answer(&self, o: ArchiveOutcome) {
        *lock(&self.attempt) = Attempt { answer: Some(o), ..Attempt::default() };
    }

    pub(crate) fn docs(&self) -> Vec<Doc> {
        lock(&self.docs).clone()
    }

    fn outcome(&self) -> ArchiveOutcome {
        lock(&self.attempt).answer.unwrap_or_else(|| panic!("the archive was called without an outcome from the model"))
    }

    /// A write SuperOffice refuses: not one to retry, so the attempt ends with it noted.
    fn refused(what: &str) -> superoffice::Error {
        superoffice::Error::Api {
            status: 403,
            error_type: None,
            message: format!("{what} refused (the model's archive)"),
            retry_after: None,
        }
    }
}

fn text(entity: &Value, field: &str) -> Option<String> {
    entity[field].as_str().map(str::to_owned)
}

impl Archive for FakeArchive {
    fn document_default(&self) -> BoxFuture<'_, superoffice::Result<Value>> {
        Box::pin(async { Ok(json!({ "DocumentId": 0 })) })
    }

    fn create_document<'a>(&'a self, entity: &'a Value) -> BoxFuture<'a, superoffice::Result<DocumentRef>> {
        Box::pin(async move {
            if self.outcome() == ArchiveOutcome::Fail {
                return Err(Self::refused("POST Document"));
            }
            let message_id = text(entity, "ExternalRef").unwrap_or_else(|| panic!("a document without ExternalRef: {entity}"));
            let id = {
                let mut docs = lock(&self.docs);
                let id = 9_000 + docs.len() as i64 + 1;
                docs.push(Doc { id, message_id, our_ref: text(entity, "OurRef"), content: None });
                id
            };
            lock(&self.attempt).created = true;
            if self.outcome() == ArchiveOutcome::CreatedButAnswerLost {
                return Err(superoffice::Error::Decode("the answer to POST Document was lost (the model's archive)".into()));
            }
            Ok(DocumentRef { document_id: id, name: text(entity, "Name").unwrap_or_default() })
        })
    }

    fn put_document_content(&self, document_id: i64, bytes: Vec<u8>) -> BoxFuture<'_, superoffice::Result<()>> {
        Box::pin(async move {
            let created = lock(&self.attempt).created;
            match self.outcome() {
                ArchiveOutcome::CrashAfterDocumentCreated if created => return crash(&self.crashed).await,
                ArchiveOutcome::Fail => return Err(Self::refused("PUT Document content")),
                _ => {}
            }
            let mut docs = lock(&self.docs);
            let doc = docs.iter_mut().find(|d| d.id == document_id).unwrap_or_else(|| panic!("the archive has no document {document_id}"));
            doc.content = Some(bytes);
            lock(&self.attempt).uploaded = true;
            Ok(())
        })
    }

    fn find_documents_by_ourref<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, superoffice::Result<Vec<i64>>> {
        Box::pin(async move { Ok(lock(&self.docs).iter().filter(|d| d.our_ref.as_deref() == Some(reference)).map(|d| d.id).collect()) })
    }

    fn document_entity(&self, id: i64) -> BoxFuture<'_, superoffice::Result<DocumentEntity>> {
        Box::pin(async move {
            let docs = lock(&self.docs);
            let d = docs.iter().find(|d| d.id == id).unwrap_or_else(|| panic!("the archive has no document {id}"));
            Ok(DocumentEntity { document_id: d.id, our_ref: d.our_ref.clone(), external_ref: Some(d.message_id.clone()) })
        })
    }

    fn complete_task(&self, _appointment_id: i64) -> BoxFuture<'_, superoffice::Result<()>> {
        Box::pin(async move {
            let uploaded = lock(&self.attempt).uploaded;
            match self.outcome() {
                ArchiveOutcome::CrashAfterArchived if uploaded => crash(&self.crashed).await,
                ArchiveOutcome::Fail => Err(Self::refused("PATCH Appointment")),
                _ => Ok(()),
            }
        })
    }
}
