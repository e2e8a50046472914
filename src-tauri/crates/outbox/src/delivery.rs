//! Approve → send → archive → complete, one durable step at a time.
//!
//! Each step commits its result before the next side effect. The archive step is keyed by the
//! Message-ID: the document id is recorded as soon as `POST Document` returns, and a create
//! whose result was lost is found again by `ExternalRef` instead of being repeated. Archiving
//! and task completion never trigger a resend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use serde_json::json;
use superoffice::models::{EMailAddress, EMailEntity};
use superoffice::Client;

use crate::channel::{Channel, ChannelChoice};
use crate::failpoint;
use crate::mime::{self, Outgoing};
use crate::reason::Reason;
use crate::seams::{Archive, Relay};
use crate::smtp::{Outcome, SmtpSettings};
use crate::store::Approved;
use crate::{Error, Result, State, Store};

/// The signed-in rep, as SuperOffice's `currentPrincipal` names them.
#[derive(Clone, Debug)]
pub struct Rep {
    pub associate_id: i64,
    pub name: String,
    pub email: String,
}

pub struct Delivery {
    pub store: Arc<Store>,
    pub client: Client,
    pub smtp: SmtpSettings,
    pub rep: Rep,
    /// Drafts whose archiving runs right now in this process: one archiver per draft.
    archiving: std::sync::Mutex<HashSet<i64>>,
    /// How long an approval can be undone before it is sent.
    hold: Duration,
    /// The channel new approvals take, and why (diagnostics may change it while running).
    channel: std::sync::Mutex<ChannelChoice>,
    /// The document template archived emails get (an outgoing email template); `None`: SuperOffice's default.
    template: std::sync::Mutex<Option<i64>>,
    /// Where messages are submitted and archived, when not `smtp` and `client` (`seams.rs`).
    pub(crate) relay: Option<Arc<dyn Relay>>,
    pub(crate) archive: Option<Arc<dyn Archive>>,
    /// The rep's connected mailbox, if any, and how a lost answer is settled (`by_mailbox.rs`):
    /// the look-ups right after it, the least time between the settle pass's look-ups of one
    /// message, and when each message was last looked up.
    pub(crate) mailbox: std::sync::Mutex<Option<Arc<dyn crate::seams::MailApi>>>,
    pub(crate) settle_pauses: Vec<Duration>,
    pub(crate) settle_every: Duration,
    pub(crate) settled_at: std::sync::Mutex<std::collections::HashMap<i64, std::time::Instant>>,
}

const ARCHIVE_ATTEMPTS: u32 = 4;

/// `Header` of a document is 219 characters in SuperOffice's database
/// (`docs/database/tables/document.md`, column `header`).
pub const MAX_HEADER_CHARS: usize = 219;

/// An RFC 3339 time cut to whole seconds, keeping its offset (`…T08:40:18.123Z` → `…T08:40:18Z`).
fn whole_seconds(t: &str) -> String {
    match time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
        Ok(parsed) => parsed
            .replace_nanosecond(0)
            .ok()
            .and_then(|p| p.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| t.to_owned()),
        Err(_) => t.to_owned(),
    }
}

impl Delivery {
    pub fn new(store: Arc<Store>, client: Client, smtp: SmtpSettings, rep: Rep) -> Self {
        Delivery {
            store,
            client,
            smtp,
            rep,
            archiving: std::sync::Mutex::new(HashSet::new()),
            hold: Duration::ZERO,
            channel: std::sync::Mutex::new(ChannelChoice::new(Channel::Smtp, crate::channel::ChannelWhy::Initial)),
            template: std::sync::Mutex::new(None),
            relay: None,
            archive: None,
            mailbox: std::sync::Mutex::new(None),
            settle_pauses: crate::by_mailbox::SETTLE_PAUSES.to_vec(),
            settle_every: crate::by_mailbox::SETTLE_EVERY,
            settled_at: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Sets the undo window after approval (0–60 s; default 0 here, 10 s in the app).
    pub fn with_hold(mut self, hold: Duration) -> Self {
        self.hold = hold.min(Duration::from_secs(60));
        self
    }

    pub fn hold(&self) -> Duration {
        self.hold
    }

    /// Sets the channel new approvals take (chosen from what the tenant allows).
    pub fn with_channel(self, channel: ChannelChoice) -> Self {
        self.set_channel(channel);
        self
    }

    /// Changes the channel for approvals from now on (messages approved before keep theirs).
    pub fn set_channel(&self, channel: ChannelChoice) {
        *self.channel.lock().unwrap_or_else(|p| p.into_inner()) = channel;
    }

    pub fn channel(&self) -> ChannelChoice {
        self.channel.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets the document template for archived emails.
    pub fn with_template(self, template: Option<i64>) -> Self {
        self.set_template(template);
        self
    }

    /// Changes the template for documents archived from now on.
    pub fn set_template(&self, template: Option<i64>) {
        *self.template.lock().unwrap_or_else(|p| p.into_inner()) = template;
    }

    pub fn template(&self) -> Option<i64> {
        *self.template.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses an outbox that is not this rep's, of this tenant: a pipeline never approves,
    /// sends or archives another rep's or tenant's messages, whatever outbox it was handed.
    pub fn check_owner(&self) -> Result<()> {
        let Some(owner) = self.store.owner() else { return Ok(()) };
        let context = self.client.session().map(|s| s.claims().context_id.clone());
        let tenant_matches = context.is_none_or(|c| owner.tenant.rsplit('/').next().is_some_and(|t| t.eq_ignore_ascii_case(&c)));
        if owner.rep != self.rep.associate_id || !tenant_matches {
            return Err(Error::OtherOwner { owner: owner.to_string() });
        }
        Ok(())
    }

    /// Records the rep's approval: Message-ID, sender, the exact bytes and their hash.
    pub fn approve(&self, id: i64) -> Result<()> {
        self.check_owner()?;
        let row = self.store.get(id)?;
        let problem = row
            .problem
            .or_else(|| crate::draft::check(row.recipient_email.as_deref(), &row.recipient_name, row.subject.as_deref(), &row.body));
        if let Some(p) = problem {
            return Err(Error::NotSendable(p.describe().into()));
        }
        let (Some(to), Some(subject)) = (row.recipient_email.as_deref(), row.subject.as_deref()) else {
            return Err(Error::NotSendable("recipient or subject missing".into()));
        };
        let message_id = mime::new_message_id(&self.rep.email);
        let message = mime::build(&Outgoing {
            from_name: &self.rep.name,
            from_address: &self.rep.email,
            to_name: &row.recipient_name,
            to_address: to,
            subject,
            body: &row.body,
            message_id: &message_id,
            date: time::OffsetDateTime::now_utc(),
        })?;
        let send_after = crate::store::now_ms() + self.hold.as_millis() as i64;
        let seen = (row.recipient_email.as_deref(), row.subject.as_deref(), row.body.as_str());
        self.store.approve_seen(
            id,
            Some(seen),
            &self.rep.name,
            &message_id,
            &self.rep.name,
            &self.rep.email,
            &message.formatted(),
            send_after,
        )?;
        let choice = self.channel();
        self.store.set_channel(id, &choice)?;
        failpoint::hit("after_approve");
        Ok(())
    }

    /// Approves a selection, each draft on its own (a refused one keeps its reason, the rest go
    /// on). On the handoff channel the whole selection is refused before anything is approved:
    /// a handoff needs the rep at each message.
    pub fn approve_many(&self, ids: &[i64]) -> Result<Vec<(i64, Option<Error>)>> {
        self.check_owner()?;
        if self.channel().channel == Channel::Handoff {
            return Err(Error::BulkHandoff);
        }
        Ok(ids.iter().map(|&id| (id, self.approve(id).err())).collect())
    }

    /// Sends an approved message, then archives it and completes its task.
    pub async fn deliver(&self, id: i64) -> Result<State> {
        self.check_owner()?;
        let a = self.store.approved(id)?;
        if mime::sha256_hex(&a.mime) != a.mime_sha256 {
            return Err(Error::ApprovalMismatch);
        }
        // The draft rules hold for every channel, again right before sending (a row approved
        // by an older version, or changed under us, is stopped here).
        let row = self.store.get(id)?;
        let problem = crate::draft::check(Some(&a.recipient_email), &row.recipient_name, Some(&a.subject), &row.body)
            .or_else(|| crate::draft::unsafe_header_value(&self.rep.name).then_some(crate::draft::Problem::UnsafeName));
        if let Some(p) = problem {
            self.store.claim(id)?;
            return self.store.failed(id, false, &Reason::Refused { detail: format!("not sent: {}; edit the draft", p.describe()) });
        }
        match a.channel.unwrap_or_else(|| self.channel().channel) {
            Channel::Smtp => self.deliver_by_smtp(id, &a).await,
            Channel::EmailAgent => self.deliver_by_agent(id, &a, &row).await,
            Channel::Mailbox => self.deliver_by_mailbox(id, &a).await,
            Channel::Handoff => {
                self.store.claim(id)?;
                failpoint::hit("after_claim");
                self.store.handed_off(id)
            }
        }
    }

    /// SuperOffice's email agent sends it with the rep's Inbox account
    /// (`Agents/EMail/Send`, docs `docs/en/api/reference/restful/agent/EMail_Agent/v1EMailAgent_Send.md`).
    ///
    /// What the answer means, as far as the documentation goes:
    /// - 2xx: sent. The documentation promises nothing more (`IsSent` on a Send answer is not
    ///   described), so a successful answer is taken as sent and its words are kept.
    /// - 4xx: SuperOffice refused the request itself, before any mail server saw it: not sent.
    /// - 5xx whose `ErrorType` is `SmtpCommandException`: the rep's mail server answered the
    ///   agent with an error code (MailKit's exception for an SMTP error reply, e.g. `5.5.2
    ///   Line too long`): the server refused the message, nothing was sent.
    /// - anything else (another 5xx, a timeout, a lost connection or answer): the outcome is
    ///   open. The rep decides; nothing is resent on its own.
    async fn deliver_by_agent(&self, id: i64, a: &Approved, row: &crate::DraftRow) -> Result<State> {
        self.store.claim(id)?;
        failpoint::hit("after_claim");
        let account = match self.client.email_current_account().await {
            Ok(Some(account)) => account,
            Ok(None) => {
                let detail =
                    "you have no SuperOffice Inbox account to send from; set one up in SuperOffice, or ask your administrator".into();
                return self.store.failed(id, false, &Reason::Refused { detail });
            }
            Err(e) if e.is_transient() => return self.store.failed(id, true, &Reason::NotSent { detail: e.to_string() }),
            Err(e) => return self.store.failed(id, false, &Reason::Refused { detail: e.to_string() }),
        };
        let email = EMailEntity {
            to: vec![EMailAddress {
                address: a.recipient_email.clone(),
                name: row.recipient_name.clone(),
                person_id: a.person_id,
                contact_id: a.contact_id,
            }],
            // The account's own address: the agent sends with that account.
            from: Some(EMailAddress {
                address: Some(account.email_address.trim().to_owned()).filter(|a| !a.is_empty()).unwrap_or_else(|| self.rep.email.clone()),
                name: self.rep.name.clone(),
                ..EMailAddress::default()
            }),
            subject: a.subject.clone(),
            plain_body: crate::mime::wrap_long_lines(&row.body),
            html_body: None,
            message_id: a.message_id.clone(),
            account_id: account.e_mail_account_id,
            ..EMailEntity::default()
        };
        let answer = self.client.email_send(&[email]).await;
        tracing::info!(draft = id, ok = answer.is_ok(), "email agent attempt finished");
        match answer {
            Ok(_) => {
                self.record_sent(id, "accepted by SuperOffice's email agent").await?;
                failpoint::hit("after_sent");
                self.finish(id).await
            }
            Err(e) if e.status() == Some(429) => self.store.failed(id, true, &Reason::NotSent { detail: e.to_string() }),
            Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => {
                self.store.failed(id, false, &Reason::Refused { detail: e.to_string() })
            }
            Err(e) if e.mail_server_refused() => self.store.failed(id, false, &Reason::Refused { detail: e.to_string() }),
            Err(e) => self.store.needs_decision(id, &Reason::AgentUnknown { detail: e.to_string() }),
        }
    }

    async fn deliver_by_smtp(&self, id: i64, a: &Approved) -> Result<State> {
        let envelope = envelope(a)?;
        self.store.claim(id)?;
        failpoint::hit("after_claim");
        let store = self.store.clone();
        let data_started = move || -> crate::seams::BoxFuture<'static, bool> {
            Box::pin(async move {
                let recorded = store.data_started(id).is_ok();
                failpoint::hit("after_data_started");
                recorded
            })
        };
        let outcome = self.relay().submit(&envelope, &a.mime, Box::new(data_started)).await;
        if matches!(outcome, Outcome::Accepted(_)) {
            failpoint::hit("after_smtp_accepted");
        }
        tracing::info!(draft = id, outcome = outcome_kind(&outcome), "SMTP attempt finished");
        match outcome {
            Outcome::Accepted(reply) => {
                self.record_sent(id, &reply).await?;
                failpoint::hit("after_sent");
            }
            Outcome::NotAccepted(detail) => return self.store.failed(id, true, &Reason::NotSent { detail }),
            Outcome::Refused(detail) => return self.store.failed(id, false, &Reason::Refused { detail }),
            Outcome::Unknown(detail) => return self.store.needs_decision(id, &Reason::ConnectionLost { detail }),
        };
        self.finish(id).await
    }

    /// The relay took the message: that must be recorded, so a failing write is retried.
    pub(crate) async fn record_sent(&self, id: i64, reply: &str) -> Result<State> {
        let mut last = None;
        for pause in [0u64, 200, 1000, 3000] {
            if pause > 0 {
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            match self.store.sent(id, reply) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    tracing::error!(draft = id, code = e.code().as_str(), "could not record an accepted message; retrying");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(Error::NotFound(id)))
    }

    /// Archives a sent message and completes its task, retrying transient SuperOffice errors
    /// with backoff. What still fails stays visible on the row and is retried later. Only one
    /// archiver runs per draft in this process.
    pub async fn finish(&self, id: i64) -> Result<State> {
        self.check_owner()?;
        {
            let mut busy = self.archiving.lock().unwrap_or_else(|p| p.into_inner());
            if !busy.insert(id) {
                return Ok(self.store.get(id)?.state);
            }
        }
        let result = self.finish_with_retries(id).await;
        self.archiving.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        result
    }

    async fn finish_with_retries(&self, id: i64) -> Result<State> {
        let mut delay = Duration::from_millis(500);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.finish_once(id).await {
                Ok(s) => return Ok(s),
                // A Retry-After longer than a short pause leaves it to the scheduler (60 s).
                Err(e)
                    if e.is_transient() && attempt < ARCHIVE_ATTEMPTS && e.retry_after().is_none_or(|r| r <= Duration::from_secs(10)) =>
                {
                    let wait = delay.max(e.retry_after().unwrap_or_default());
                    tracing::warn!(draft = id, code = e.code().as_str(), wait_ms = wait.as_millis() as u64, "archiving failed, retrying");
                    tokio::time::sleep(wait).await;
                    delay *= 2;
                }
                Err(e) => {
                    self.store.note(id, "archive_pending", &Reason::ArchivePending { detail: e.to_string() })?;
                    return Err(e);
                }
            }
        }
    }

    async fn finish_once(&self, id: i64) -> Result<State> {
        let a = self.store.approved(id)?;
        if a.state == State::Sent {
            let document_id = match a.document_id {
                Some(d) => d,
                None => {
                    // A create that may have reached SuperOffice before (its answer lost) is
                    // looked up by Message-ID instead of being repeated.
                    let existing = if self.store.archive_attempted(id)? { self.find_archived(&a).await? } else { None };
                    let d = match existing {
                        Some(d) => d,
                        None => {
                            self.store.archive_started(id)?;
                            failpoint::hit("after_archive_started");
                            self.archive().create_document(&self.document_entity(&a).await?).await?.document_id
                        }
                    };
                    self.store.document_created(id, d)?;
                    failpoint::hit("after_document_created");
                    d
                }
            };
            self.archive().put_document_content(document_id, mime::as_received(&a.mime)).await?;
            failpoint::hit("after_content_uploaded");
            self.store.archived(id, document_id)?;
            failpoint::hit("after_archived");
        }
        let a = self.store.approved(id)?;
        if a.state == State::Archived {
            if let Some(task) = a.task_id() {
                self.archive().complete_task(task).await?;
            }
            let done = self.store.task_completed(id, &a.source_ref)?;
            failpoint::hit("after_task_completed");
            return Ok(done);
        }
        Ok(a.state)
    }

    /// Finds the document an earlier, interrupted archive attempt may have created. FindDocument
    /// cannot search `ExternalRef`, so every document carries [`superoffice::archive_ref`] of
    /// its Message-ID in `OurRef` (a searchable column); each candidate is then read with
    /// `GET Document/{id}` and used only when both `OurRef` and `ExternalRef` prove it is this
    /// message's. When SuperOffice cannot be searched, archiving waits with the reason instead
    /// of risking a second document or writing into someone else's.
    async fn find_archived(&self, a: &Approved) -> Result<Option<i64>> {
        let reference = superoffice::archive_ref(&a.message_id);
        let candidates = self.archive().find_documents_by_ourref(&reference).await.map_err(|e| {
            if e.is_transient() {
                Error::SuperOffice(e)
            } else {
                Error::NotSendable(format!(
                    "an earlier archive attempt may have created a document, and SuperOffice could not be searched for it ({e}); check SuperOffice before archiving again"
                ))
            }
        })?;
        let mut proven = Vec::new();
        for id in candidates {
            let d = self.archive().document_entity(id).await?;
            if d.document_id == id
                && d.our_ref.as_deref() == Some(reference.as_str())
                && d.external_ref.as_deref() == Some(a.message_id.as_str())
            {
                proven.push(id);
            } else {
                tracing::warn!(document = id, "a document with our reference does not carry this message's id; not used");
            }
        }
        proven.sort_unstable();
        Ok(proven.first().copied())
    }

    async fn document_entity(&self, a: &Approved) -> Result<serde_json::Value> {
        let mut e = self.archive().document_default().await?;
        let file: String = a.subject.chars().map(|c| if c.is_alphanumeric() || c == ' ' || c == '-' { c } else { '_' }).take(80).collect();
        e["Header"] = json!(a.subject.chars().take(MAX_HEADER_CHARS).collect::<String>());
        e["Name"] = json!(format!("{}.eml", file.trim()));
        // Only the SMTP channel archives the bytes the mail server received; the others archive
        // the approved text and say so.
        let how = match a.channel.unwrap_or(Channel::Smtp) {
            Channel::Smtp => "over the SMTP relay; this file is the exact message the mail server received",
            Channel::EmailAgent => {
                "with SuperOffice's email agent; this file is the approved text, from which SuperOffice built and sent its own message (not the bytes the mail server received)"
            }
            Channel::Handoff => "through the rep's own mail program (the rep confirmed sending); this file is the approved text",
            Channel::Mailbox => "from the rep's own mailbox (Microsoft 365 or Google); this file is the exact message handed to the mail provider",
        };
        e["Description"] = json!(format!("Sent by SuperOffice Outbox {how}. To {}, Message-ID {}", a.recipient_email, a.message_id));
        e["ExternalRef"] = json!(a.message_id);
        e["OurRef"] = json!(superoffice::archive_ref(&a.message_id));
        e["Contact"] = if a.contact_id != 0 { json!({ "ContactId": a.contact_id }) } else { json!(null) };
        e["Person"] = if a.person_id != 0 { json!({ "PersonId": a.person_id }) } else { json!(null) };
        e["Sale"] = if a.sale_id != 0 { json!({ "SaleId": a.sale_id }) } else { json!(null) };
        e["Associate"] = json!({ "AssociateId": self.rep.associate_id });
        // The send time with its offset (UTC, `Z`): without one the server would read it as
        // its own local time.
        if let Some(sent) = &a.sent_at {
            e["Date"] = json!(whole_seconds(sent));
        }
        if let Some(t) = self.template() {
            e["DocumentTemplate"] = json!({ "DocumentTemplateId": t });
        }
        e["Type"] = json!("Document");
        e["Completed"] = json!("Completed");
        Ok(e)
    }
}

fn envelope(a: &Approved) -> Result<Envelope> {
    let from = a.from_address.trim().parse::<lettre::Address>().map_err(|e| Error::Mime(e.to_string()))?;
    let to = a.recipient_email.trim().parse::<lettre::Address>().map_err(|e| Error::Mime(e.to_string()))?;
    Envelope::new(Some(from), vec![to]).map_err(|e| Error::Mime(e.to_string()))
}

fn outcome_kind(o: &Outcome) -> &'static str {
    match o {
        Outcome::Accepted(_) => "accepted",
        Outcome::NotAccepted(_) => "not_accepted",
        Outcome::Refused(_) => "refused",
        Outcome::Unknown(_) => "unknown",
    }
}
