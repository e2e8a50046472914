//! The seams of a delivery: the [`Relay`] that takes an approved message, the rep's mailbox
//! ([`MailApi`]) that sends one through the provider's API, and the [`Archive`] that keeps the
//! sent one and completes its task. In the app they are the SMTP
//! relay ([`SmtpSettings`], through `smtp::submit`) and SuperOffice ([`Client`]); a `Delivery`
//! uses those unless it is given others with [`Delivery::with_relay`] and
//! [`Delivery::with_archive`].
//!
//! Why it exists: so that a test can drive the real `Delivery` (its step order, its commits,
//! its retries and its look-up of a lost archive answer) against fakes whose every outcome it
//! chooses, instead of re-implementing the pipeline beside it (`tests/model.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The SMTP envelope (lettre's): the sender and the recipients.
pub use lettre::address::Envelope;
use serde_json::Value;
use superoffice::models::{DocumentEntity, DocumentRef};
use superoffice::Client;

use crate::smtp::{Outcome, SmtpSettings};
use crate::Delivery;

/// A boxed future that can move between threads (what the seams' methods return, so that
/// they can be called through `dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Called by the relay after the server's `354` and before the first body byte: it makes
/// "DATA began" durable and says whether it could (if not, no body byte may leave).
pub type DataStarted = Box<dyn FnOnce() -> BoxFuture<'static, bool> + Send>;

/// Where an approved message is submitted.
pub trait Relay: Send + Sync {
    /// Submits `bytes` to `envelope`; what the attempt came to.
    fn submit<'a>(&'a self, envelope: &'a Envelope, bytes: &'a [u8], data_started: DataStarted) -> BoxFuture<'a, Outcome>;
}

/// The SMTP relay these settings reach.
impl Relay for SmtpSettings {
    fn submit<'a>(&'a self, envelope: &'a Envelope, bytes: &'a [u8], data_started: DataStarted) -> BoxFuture<'a, Outcome> {
        Box::pin(crate::smtp::submit(self, envelope, bytes, data_started))
    }
}

/// The rep's own mailbox, the calls the mailbox channel makes (`mailbox::Mailbox` in the app).
pub trait MailApi: Send + Sync {
    fn provider(&self) -> mailbox::Provider;
    /// Graph: a draft from the exact MIME.
    fn create_draft<'a>(&'a self, mime: &'a [u8]) -> BoxFuture<'a, mailbox::Result<mailbox::Draft>>;
    /// Graph: a draft made earlier from the MIME with this Message-ID.
    fn find_draft<'a>(&'a self, message_id: &'a str) -> BoxFuture<'a, mailbox::Result<Option<String>>>;
    /// Graph: sends a draft.
    fn send_draft<'a>(&'a self, id: &'a str) -> BoxFuture<'a, mailbox::Result<()>>;
    /// Graph: where a submitted draft is now.
    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, mailbox::Result<mailbox::Found>>;
    /// Gmail: sends the exact MIME.
    fn gmail_send<'a>(&'a self, mime: &'a [u8]) -> BoxFuture<'a, mailbox::Result<mailbox::gmail::Sent>>;
}

impl MailApi for mailbox::Mailbox {
    fn provider(&self) -> mailbox::Provider {
        mailbox::Mailbox::provider(self)
    }
    fn create_draft<'a>(&'a self, mime: &'a [u8]) -> BoxFuture<'a, mailbox::Result<mailbox::Draft>> {
        Box::pin(mailbox::Mailbox::create_draft(self, mime))
    }
    fn find_draft<'a>(&'a self, message_id: &'a str) -> BoxFuture<'a, mailbox::Result<Option<String>>> {
        Box::pin(mailbox::Mailbox::find_draft(self, message_id))
    }
    fn send_draft<'a>(&'a self, id: &'a str) -> BoxFuture<'a, mailbox::Result<()>> {
        Box::pin(mailbox::Mailbox::send_draft(self, id))
    }
    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, mailbox::Result<mailbox::Found>> {
        Box::pin(mailbox::Mailbox::find(self, id))
    }
    fn gmail_send<'a>(&'a self, mime: &'a [u8]) -> BoxFuture<'a, mailbox::Result<mailbox::gmail::Sent>> {
        Box::pin(mailbox::Mailbox::gmail_send(self, mime))
    }
}

/// Where a sent message is archived as a document, and its follow-up task completed: the
/// SuperOffice calls the archive step makes.
pub trait Archive: Send + Sync {
    /// `GET Document/default`: a new document entity with the server's defaults.
    fn document_default(&self) -> BoxFuture<'_, superoffice::Result<Value>>;
    /// `POST Document`.
    fn create_document<'a>(&'a self, entity: &'a Value) -> BoxFuture<'a, superoffice::Result<DocumentRef>>;
    /// `PUT Document/{id}/Content`.
    fn put_document_content(&self, document_id: i64, bytes: Vec<u8>) -> BoxFuture<'_, superoffice::Result<()>>;
    /// The documents whose `OurRef` is `reference` (candidates only).
    fn find_documents_by_ourref<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, superoffice::Result<Vec<i64>>>;
    /// `GET Document/{id}`: what identifies an archived email.
    fn document_entity(&self, id: i64) -> BoxFuture<'_, superoffice::Result<DocumentEntity>>;
    /// Marks the follow-up task completed.
    fn complete_task(&self, appointment_id: i64) -> BoxFuture<'_, superoffice::Result<()>>;
}

/// SuperOffice, as the signed-in rep.
impl Archive for Client {
    fn document_default(&self) -> BoxFuture<'_, superoffice::Result<Value>> {
        Box::pin(Client::document_default(self))
    }
    fn create_document<'a>(&'a self, entity: &'a Value) -> BoxFuture<'a, superoffice::Result<DocumentRef>> {
        Box::pin(Client::create_document(self, entity))
    }
    fn put_document_content(&self, document_id: i64, bytes: Vec<u8>) -> BoxFuture<'_, superoffice::Result<()>> {
        Box::pin(Client::put_document_content(self, document_id, bytes))
    }
    fn find_documents_by_ourref<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, superoffice::Result<Vec<i64>>> {
        Box::pin(Client::find_documents_by_ourref(self, reference))
    }
    fn document_entity(&self, id: i64) -> BoxFuture<'_, superoffice::Result<DocumentEntity>> {
        Box::pin(Client::document_entity(self, id))
    }
    fn complete_task(&self, appointment_id: i64) -> BoxFuture<'_, superoffice::Result<()>> {
        Box::pin(Client::complete_task(self, appointment_id))
    }
}

impl Delivery {
    /// Submits to `relay` instead of the SMTP relay of `smtp`.
    pub fn with_relay(mut self, relay: Arc<dyn Relay>) -> Self {
        self.relay = Some(relay);
        self
    }

    /// Archives into `archive` instead of SuperOffice through `client`.
    pub fn with_archive(mut self, archive: Arc<dyn Archive>) -> Self {
        self.archive = Some(archive);
        self
    }

    /// Sends the mailbox channel's messages through `api` (`None`: the rep disconnected it).
    pub fn set_mailbox(&self, api: Option<Arc<dyn MailApi>>) {
        *self.mailbox.lock().unwrap_or_else(|p| p.into_inner()) = api;
    }

    /// Sets the pauses between look-ups of a message whose send answer was lost.
    pub fn with_settle_pauses(mut self, pauses: Vec<std::time::Duration>) -> Self {
        self.settle_pauses = pauses;
        self
    }

    /// Sets the least time between two look-ups of one message by the settle pass.
    pub fn with_settle_every(mut self, every: std::time::Duration) -> Self {
        self.settle_every = every;
        self
    }

    pub(crate) fn mailbox(&self) -> Option<Arc<dyn MailApi>> {
        self.mailbox.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn relay(&self) -> &dyn Relay {
        self.relay.as_deref().unwrap_or(&self.smtp)
    }

    pub(crate) fn archive(&self) -> &dyn Archive {
        self.archive.as_deref().unwrap_or(&self.client)
    }
}
