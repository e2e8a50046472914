//! When queued work runs: the hold window after approval, sending limits per rep, automatic
//! retries of messages the server did not take, snoozes, and archiving that has to wait.
//!
//! [`Delivery::tick`] is called by the app every second; everything it decides comes from the
//! database, so a restart picks up exactly where the last run stopped. It never resends a
//! message whose outcome is unknown (`needs_decision`): only `approved` rows are sent.

use std::time::Duration;

use rusqlite::params;
use serde::Serialize;

use crate::state::{Event, State};
use crate::store::now_ms;
use crate::{Delivery, Result, Store};

/// Automatic attempts for a message the server did not take before the rep is asked.
pub const AUTO_RETRIES: i64 = 4;

/// The pause before the next automatic attempt, after `attempts` attempts; `None` when the
/// automatic attempts are used up.
pub fn retry_delay_ms(attempts: i64) -> Option<i64> {
    match attempts {
        a if a < 1 => Some(60_000),
        1 => Some(60_000),
        2 => Some(5 * 60_000),
        3 => Some(15 * 60_000),
        _ => None,
    }
}

/// Sending limits per rep, so a bulk approval does not look like a spam run to the relay.
#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, specta::Type)]
pub struct Limits {
    /// At most this many messages in any 24 hours.
    pub daily_cap: u32,
    /// At least this long between two messages, in milliseconds.
    pub min_spacing_ms: u32,
    /// At most this many messages in any minute (0: no such limit). The rep's mailbox sets it
    /// from its provider's documented rate (Exchange Online: 30 a minute).
    #[serde(default)]
    pub per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { daily_cap: 250, min_spacing_ms: 0, per_minute: 0 }
    }
}

impl Limits {
    /// These limits within a mailbox provider's documented ones (the stricter of each).
    pub fn within(self, provider: mailbox::ProviderLimits) -> Limits {
        let stricter = |mine: u32, theirs: u32| if mine == 0 { theirs } else { mine.min(theirs) };
        Limits {
            daily_cap: stricter(self.daily_cap, provider.messages_per_day),
            min_spacing_ms: self.min_spacing_ms,
            per_minute: stricter(self.per_minute, provider.messages_per_minute),
        }
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;
const MINUTE_MS: i64 = 60_000;
/// The pause before archiving is tried again after a failure.
const ARCHIVE_RETRY_MS: i64 = 60_000;

/// Which sending limit holds approved messages back (the UI words it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Pace {
    /// `cap` messages were sent in the last 24 hours.
    DailyLimit { cap: u32 },
    /// The configured pause between two messages.
    Spacing { seconds: u32 },
    /// `cap` messages were sent in the last minute (the mailbox provider's rate).
    PerMinute { cap: u32 },
}

impl Pace {
    /// In English (logs).
    pub fn english(self) -> String {
        match self {
            Pace::DailyLimit { cap } => format!("daily limit of {cap} messages reached"),
            Pace::Spacing { seconds } => format!("keeping {seconds} s between messages"),
            Pace::PerMinute { cap } => format!("{cap} messages a minute reached (the mail provider's limit)"),
        }
    }
}

/// Why the next queued message waits, and until when (ms); `None` when it may go now.
pub fn limit_wait(limits: &Limits, sent_last_day: &[i64], now: i64) -> Option<(Pace, i64)> {
    if limits.daily_cap > 0 && sent_last_day.len() as u32 >= limits.daily_cap {
        let oldest = sent_last_day.iter().min().copied().unwrap_or(now);
        return Some((Pace::DailyLimit { cap: limits.daily_cap }, oldest + DAY_MS));
    }
    if limits.per_minute > 0 {
        let mut last_minute: Vec<i64> = sent_last_day.iter().copied().filter(|t| *t > now - MINUTE_MS).collect();
        if last_minute.len() as u32 >= limits.per_minute {
            // Free again when enough of the last minute's sends have aged out of it.
            last_minute.sort_unstable();
            let free_at = last_minute[last_minute.len() - limits.per_minute as usize] + MINUTE_MS;
            return Some((Pace::PerMinute { cap: limits.per_minute }, free_at));
        }
    }
    let last = sent_last_day.iter().max().copied();
    match last {
        Some(l) if now < l + i64::from(limits.min_spacing_ms) => {
            Some((Pace::Spacing { seconds: limits.min_spacing_ms / 1000 }, l + i64::from(limits.min_spacing_ms)))
        }
        _ => None,
    }
}

/// What one tick did.
#[derive(Clone, Debug, Default, Serialize, specta::Type)]
pub struct TickReport {
    pub woken: Vec<i64>,
    pub retried: Vec<i64>,
    pub attempted: Vec<i64>,
    pub archived: Vec<i64>,
    /// Set when the sending limits hold messages back: why, and until when (ms).
    pub waiting: Option<(Pace, i64)>,
    /// Messages in question found sent in the rep's mailbox.
    pub settled: Vec<i64>,
}

impl TickReport {
    pub fn changed(&self) -> bool {
        !(self.woken.is_empty()
            && self.retried.is_empty()
            && self.attempted.is_empty()
            && self.archived.is_empty()
            && self.settled.is_empty())
    }
}

impl Store {
    fn ids(&self, sql: &str, now: i64) -> Result<Vec<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql)?;
        let ids = stmt.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    /// Approved messages whose hold window has passed, oldest approval first. Not those to be
    /// handed off: only the rep's own action (clipboard and mail program) delivers a handoff;
    /// the ticker never marks one handed off behind the rep's back.
    pub fn due_for_sending(&self, now: i64) -> Result<Vec<i64>> {
        self.ids(
            "SELECT id FROM drafts WHERE state = 'approved' AND (send_after_ms IS NULL OR send_after_ms <= ?1) AND (channel IS NULL OR channel != 'handoff') ORDER BY approved_at, id",
            now,
        )
    }

    /// Not-taken messages whose next automatic attempt is due go back to `approved`.
    pub fn retry_due(&self, now: i64) -> Result<Vec<i64>> {
        let ids = self.ids("SELECT id FROM drafts WHERE state = 'failed' AND retryable = 1 AND next_attempt_ms <= ?1 ORDER BY id", now)?;
        for id in &ids {
            self.transition(*id, Event::Retry, ("retry", "automatic retry"), |tx| {
                tx.execute("UPDATE drafts SET next_attempt_ms = NULL, send_after_ms = NULL WHERE id = ?1", [id]).map(|_| ())
            })?;
        }
        Ok(ids)
    }

    /// Sent messages whose archiving (or task completion) is due.
    pub fn archive_due(&self, now: i64) -> Result<Vec<i64>> {
        self.ids(
            "SELECT id FROM drafts WHERE state IN ('sent', 'archived') AND (next_attempt_ms IS NULL OR next_attempt_ms <= ?1) ORDER BY id",
            now,
        )
    }

    /// Postpones the next archive attempt of a sent message.
    pub fn defer_archive(&self, id: i64, until_ms: i64) -> Result<()> {
        self.conn()
            .execute("UPDATE drafts SET next_attempt_ms = ?2 WHERE id = ?1 AND state IN ('sent', 'archived')", params![id, until_ms])?;
        Ok(())
    }

    /// When the messages of the last 24 hours were sent (ms).
    pub fn sent_since(&self, since_ms: i64) -> Result<Vec<i64>> {
        self.ids("SELECT sent_ms FROM drafts WHERE sent_ms IS NOT NULL AND sent_ms > ?1", since_ms)
    }
}

impl Delivery {
    /// Runs what is due now: wakes snoozed drafts, schedules automatic retries, sends approved
    /// messages within the limits (one at a time), and archives sent ones.
    pub async fn tick(&self, limits: &Limits) -> Result<TickReport> {
        self.check_owner()?;
        let now = now_ms();
        let mut report = TickReport { woken: self.store.wake_due(now)?, retried: self.store.retry_due(now)?, ..TickReport::default() };
        report.settled = self.settle_mailbox_sends().await?;
        // Through the rep's mailbox, its provider's documented rate applies too.
        let limits = match self.mailbox() {
            Some(api) if self.channel().channel == crate::Channel::Mailbox => limits.within(api.provider().limits()),
            _ => *limits,
        };
        for id in self.store.due_for_sending(now)? {
            let sent = self.store.sent_since(now_ms() - DAY_MS)?;
            if let Some(wait) = limit_wait(&limits, &sent, now_ms()) {
                report.waiting = Some(wait);
                break;
            }
            report.attempted.push(id);
            if let Err(e) = self.deliver(id).await {
                tracing::warn!(draft = id, code = e.code().as_str(), "send attempt stopped: {e}");
            }
        }
        for id in self.store.archive_due(now_ms())? {
            if report.attempted.contains(&id) {
                continue;
            }
            match self.finish(id).await {
                Ok(State::Done) => report.archived.push(id),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(draft = id, code = e.code().as_str(), "archiving postponed");
                    self.store.defer_archive(id, now_ms() + ARCHIVE_RETRY_MS)?;
                }
            }
        }
        Ok(report)
    }
}

/// A pause long enough for the UI to show "sending in N s".
pub fn hold_default() -> Duration {
    Duration::from_secs(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticker_never_delivers_a_handoff() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("o.sqlite")).expect("open");
        for r in ["1", "2"] {
            store
                .insert_draft(&crate::NewDraft {
                    source: "t".into(),
                    source_ref: r.into(),
                    contact_id: 0,
                    person_id: 0,
                    sale_id: 0,
                    company: String::new(),
                    recipient_name: String::new(),
                    recipient_email: Some("a@b.example".into()),
                    subject: Some("s".into()),
                    body: "b".into(),
                    problem: None,
                })
                .expect("insert");
        }
        let ids: Vec<i64> = store.list().expect("list").iter().map(|d| d.id).collect();
        for (id, channel) in ids.iter().zip([crate::Channel::Smtp, crate::Channel::Handoff]) {
            store.approve(*id, "Anna", &format!("<{id}@x>"), "Anna", "anna@x.example", b"m", 0).expect("approve");
            store.set_channel(*id, &crate::ChannelChoice::new(channel, crate::channel::ChannelWhy::Initial)).expect("channel");
        }
        assert_eq!(store.due_for_sending(now_ms()).expect("due"), vec![ids[0]], "only the SMTP one");
    }

    #[test]
    fn limits_say_why_and_until_when() {
        let l = Limits { daily_cap: 2, min_spacing_ms: 30_000, per_minute: 0 };
        assert_eq!(limit_wait(&l, &[], 1_000_000), None);
        assert_eq!(limit_wait(&l, &[990_000], 1_000_000), Some((Pace::Spacing { seconds: 30 }, 1_020_000)));
        assert_eq!(limit_wait(&l, &[100_000, 200_000], 1_000_000), Some((Pace::DailyLimit { cap: 2 }, 100_000 + DAY_MS)));
    }

    #[test]
    fn a_per_minute_rate_waits_for_the_oldest_send_of_the_minute_to_age_out() {
        let l = Limits { daily_cap: 0, min_spacing_ms: 0, per_minute: 3 };
        let now = 1_000_000;
        assert_eq!(limit_wait(&l, &[now - 70_000, now - 50_000, now - 10_000], now), None, "one is older than a minute");
        let full = [now - 50_000, now - 20_000, now - 10_000];
        assert_eq!(limit_wait(&l, &full, now), Some((Pace::PerMinute { cap: 3 }, now - 50_000 + 60_000)));
        // A burst of 30 at once under Exchange Online's 30 a minute: the 31st waits a minute.
        let exo = Limits::default().within(mailbox::Provider::Microsoft.limits());
        assert_eq!(exo.per_minute, 30);
        let burst = vec![now; 30];
        assert_eq!(limit_wait(&exo, &burst, now), Some((Pace::PerMinute { cap: 30 }, now + 60_000)));
        assert_eq!(limit_wait(&exo, &burst[..29], now), None);
    }

    #[test]
    fn automatic_retries_back_off_and_stop() {
        let delays: Vec<Option<i64>> = (1..=5).map(retry_delay_ms).collect();
        assert_eq!(delays, vec![Some(60_000), Some(300_000), Some(900_000), None, None]);
    }
}
