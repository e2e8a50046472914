//! Delivery through the rep's own mailbox, one durable step at a time.
//!
//! Microsoft Graph (the documented "immutable ID with sending mail" recipe, `mailbox::graph`):
//!
//! ```text
//! claim ─ draft (found again by Message-ID, or created) ─ provider_ref committed ─ data_started committed
//!       ─ send ──202──────────────────────────────► sent ─ archive ─ done
//!              ├─4xx / no connection (not done) ─► failed (retry / final) · 429 ─► approved, later
//!              └─lost answer / 5xx ─ look it up ─► in Sent Items: sent · still a draft: needs_decision
//!                                                  └─ the settle pass keeps looking for 15 min ─► sent
//! ```
//!
//! The provider is given the message exactly as the archive keeps it (`mime::as_received`: the
//! approved bytes ending in CRLF), so the `.eml` in SuperOffice is what the mailbox was handed.
//!
//! Gmail (`users.messages.send`, send-only scope): the answer is the only evidence; a lost one
//! is the rep's question (nothing can be read back). Nothing is ever sent again on our own:
//! only `approved` rows are sent, and a message whose answer was lost is never `approved`.

use std::time::Duration;

use crate::reason::Reason;
use crate::seams::MailApi;
use crate::store::{now_ms, Approved};
use crate::{failpoint, Delivery, Result, State};

/// Look-ups right after a lost answer (about a minute in all), before the rep is asked.
pub(crate) const SETTLE_PAUSES: [Duration; 4] =
    [Duration::from_secs(3), Duration::from_secs(7), Duration::from_secs(15), Duration::from_secs(30)];
/// How long the settle pass keeps looking for a message in question ([IMM]: the Sent copy
/// "may take time"; an engineering choice, `docs/providers/microsoft.md` §5c).
pub const SETTLE_WINDOW_MS: i64 = 15 * 60_000;
/// Between two look-ups of one message by the settle pass.
pub(crate) const SETTLE_EVERY: Duration = Duration::from_secs(30);
/// The wait after a throttling answer that named none.
const THROTTLE_DEFAULT: Duration = Duration::from_secs(60);

impl Delivery {
    pub(crate) async fn deliver_by_mailbox(&self, id: i64, a: &Approved) -> Result<State> {
        self.store.claim(id)?;
        failpoint::hit("after_claim");
        let Some(api) = self.mailbox() else {
            let detail = "no mailbox is connected: connect it in Settings, then send again".into();
            return self.store.failed(id, false, &Reason::Refused { detail });
        };
        match api.provider() {
            mailbox::Provider::Microsoft => self.by_graph(id, a, api.as_ref()).await,
            mailbox::Provider::Google => self.by_gmail(id, a, api.as_ref()).await,
        }
    }

    async fn by_graph(&self, id: i64, a: &Approved, api: &dyn MailApi) -> Result<State> {
        let draft = match self.store.provider_ref(id)?.as_deref().and_then(|r| r.strip_prefix("graph:")) {
            Some(earlier) => earlier.to_owned(),
            None => {
                // A draft whose creation answer was lost is found by our Message-ID, not made twice.
                let found = match api.find_draft(&a.message_id).await {
                    Ok(found) => found,
                    Err(e) => return self.not_taken(id, &e),
                };
                let draft = match found {
                    Some(d) => d,
                    None => match api.create_draft(&crate::mime::as_received(&a.mime)).await {
                        Ok(d) => d.id,
                        Err(e) => return self.not_taken(id, &e),
                    },
                };
                self.store.set_provider_ref(id, &format!("graph:{draft}"))?;
                draft
            }
        };
        self.store.data_started(id)?;
        failpoint::hit("after_data_started");
        let answer = api.send_draft(&draft).await;
        tracing::info!(draft = id, ok = answer.is_ok(), "Graph send finished");
        match answer {
            Ok(()) => {
                self.record_sent(id, "Microsoft Graph accepted it from your mailbox (202 Accepted)").await?;
                failpoint::hit("after_sent");
                self.finish(id).await
            }
            Err(e) if e.certainly_not_done() => {
                if matches!(e, mailbox::Error::Api { status: 404, .. }) {
                    // The draft is gone (deleted by the rep): the next attempt makes a new one.
                    self.store.set_provider_ref(id, "")?;
                }
                self.not_taken(id, &e)
            }
            Err(e) => self.settle_now(id, api, &draft, &e.to_string()).await,
        }
    }

    /// The answer to the send was lost: look the draft up by its immutable id a few times.
    async fn settle_now(&self, id: i64, api: &dyn MailApi, draft: &str, lost: &str) -> Result<State> {
        for pause in self.settle_pauses.clone() {
            tokio::time::sleep(pause).await;
            match api.find(draft).await {
                Ok(mailbox::Found::Sent { .. }) => {
                    self.record_sent(id, &format!("found in your Sent Items after the answer to the send was lost ({lost})")).await?;
                    failpoint::hit("after_sent");
                    return self.finish(id).await;
                }
                Ok(mailbox::Found::Gone) => {
                    let detail = format!("{lost}; the draft is no longer in your mailbox");
                    return self.store.needs_decision(id, &Reason::MailboxUnknown { detail });
                }
                Ok(mailbox::Found::Draft) | Err(_) => {}
            }
        }
        self.store.needs_decision(id, &Reason::MailboxUnconfirmed { detail: lost.to_owned() })
    }

    async fn by_gmail(&self, id: i64, a: &Approved, api: &dyn MailApi) -> Result<State> {
        self.store.data_started(id)?;
        failpoint::hit("after_data_started");
        let answer = api.gmail_send(&crate::mime::as_received(&a.mime)).await;
        tracing::info!(draft = id, ok = answer.is_ok(), "Gmail send finished");
        match answer {
            Ok(sent) => {
                self.record_sent(id, &format!("Gmail accepted it from your mailbox (message {})", sent.id)).await?;
                self.store.set_provider_ref(id, &format!("gmail:{}", sent.id))?;
                failpoint::hit("after_sent");
                self.finish(id).await
            }
            Err(e) if e.certainly_not_done() => self.not_taken(id, &e),
            Err(e) => self.store.needs_decision(id, &Reason::MailboxUnknown { detail: e.to_string() }),
        }
    }

    /// The provider did not take it: throttled (wait as asked, not a failure), transient
    /// (retried later), or refused (the rep acts).
    fn not_taken(&self, id: i64, e: &mailbox::Error) -> Result<State> {
        let detail = e.to_string();
        if e.is_throttled() {
            let wait = e.retry_after().unwrap_or(THROTTLE_DEFAULT).max(Duration::from_secs(1));
            return self.store.throttled(id, now_ms() + wait.as_millis() as i64, &Reason::Throttled { detail });
        }
        self.store.failed(id, e.is_transient(), &if e.is_transient() { Reason::NotSent { detail } } else { Reason::Refused { detail } })
    }

    /// Looks up the messages in question whose Sent copy can be found (Graph), each at most
    /// every 30 s and for 15 minutes after its send; a found one is recorded sent and archived.
    /// Returns the ids it settled.
    pub async fn settle_mailbox_sends(&self) -> Result<Vec<i64>> {
        let Some(api) = self.mailbox() else { return Ok(vec![]) };
        let mut settled = vec![];
        for (id, reference, started_ms) in self.store.unsettled_mailbox_sends()? {
            if now_ms() - started_ms > SETTLE_WINDOW_MS {
                continue;
            }
            {
                let mut at = self.settled_at.lock().unwrap_or_else(|p| p.into_inner());
                if at.get(&id).is_some_and(|t| t.elapsed() < self.settle_every) {
                    continue;
                }
                at.insert(id, std::time::Instant::now());
            }
            let draft = reference.trim_start_matches("graph:");
            if let Ok(mailbox::Found::Sent { .. }) = api.find(draft).await {
                self.store.found_sent(id, "found in your Sent Items after the answer to the send was lost")?;
                settled.push(id);
                if let Err(e) = self.finish(id).await {
                    tracing::warn!(draft = id, code = e.code().as_str(), "archiving postponed");
                }
            }
        }
        Ok(settled)
    }
}
