//! The simulated mailbox: Drafts and Sent, the ids a message is known by (Graph's regular id,
//! which changes when the item moves, and its immutable id; Gmail's id and thread id), the
//! delayed move from Drafts to Sent after a send, and the per-mailbox send rate limits.
//!
//! Time-based changes are applied lazily: every read first settles the sends that are due.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::state::{lock, random_token};
use crate::{SentMessage, SimLimits, Via};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    Drafts,
    SentItems,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub immutable_id: String,
    pub folder: Folder,
    /// How often the item moved between folders (its regular id changes with each move).
    moves: u32,
    pub internet_message_id: String,
    pub mime: Vec<u8>,
    pub recipients: Vec<String>,
    pub created: time::OffsetDateTime,
    pub sent_at: Option<time::OffsetDateTime>,
    /// A send in flight: the time the copy lands in Sent, and by which path.
    due: Option<(Instant, Via)>,
    /// Never reaches Sent (a failed send).
    stuck: bool,
    /// Graph `saveToSentItems: false`: gone after the send instead of filed.
    keep_copy: bool,
    pub via: Option<Via>,
    pub thread_id: String,
    pub labels: Vec<String>,
    sent_seq: u64,
}

impl Message {
    /// A new item in Drafts.
    pub fn draft(internet_message_id: String, mime: Vec<u8>, recipients: Vec<String>) -> Message {
        Message {
            immutable_id: format!("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A{}", random_token(30)),
            folder: Folder::Drafts,
            moves: 0,
            internet_message_id,
            mime,
            recipients,
            created: time::OffsetDateTime::now_utc(),
            sent_at: None,
            due: None,
            stuck: false,
            keep_copy: true,
            via: None,
            thread_id: String::new(),
            labels: Vec::new(),
            sent_seq: 0,
        }
    }

    /// [MR]: without `Prefer: IdType="ImmutableId"` the `id` "may change if a message is moved";
    /// here it changes with every move.
    pub fn regular_id(&self) -> String {
        use sha2::Digest;
        let h = sha2::Sha256::digest(format!("{}#{}", self.immutable_id, self.moves).as_bytes());
        use base64::Engine as _;
        format!("AAMkAGI2{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&h[..27]))
    }

    pub fn is_draft(&self) -> bool {
        self.folder == Folder::Drafts
    }

    /// A send was accepted and has not landed in Sent yet.
    pub fn submitted(&self) -> bool {
        self.due.is_some() || self.stuck
    }
}

/// Why a send was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SendRefusal {
    NotFound,
    NotADraft,
}

struct Inner {
    messages: Vec<Message>,
    /// When each accepted send happened, for the rolling windows.
    sends: VecDeque<Instant>,
    seq: u64,
}

pub struct Store {
    inner: Mutex<Inner>,
    limits: SimLimits,
}

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);

impl Store {
    pub fn new(limits: SimLimits) -> Store {
        Store { inner: Mutex::new(Inner { messages: Vec::new(), sends: VecDeque::new(), seq: 0 }), limits }
    }

    /// Counts one send against the limits; `Err(wait)` when over one (nothing counted).
    pub fn admit_send(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut g = lock(&self.inner);
        while g.sends.front().is_some_and(|t| now.duration_since(*t) >= DAY) {
            g.sends.pop_front();
        }
        for (limit, window) in [(self.limits.per_minute, MINUTE), (self.limits.per_day, DAY)] {
            let Some(limit) = limit else { continue };
            let inside: Vec<Instant> = g.sends.iter().copied().filter(|t| now.duration_since(*t) < window).collect();
            if inside.len() >= limit as usize {
                let oldest = inside.first().copied().unwrap_or(now);
                return Err((oldest + window).saturating_duration_since(now).max(Duration::from_secs(1)));
            }
        }
        g.sends.push_back(now);
        Ok(())
    }

    /// Stores a new item; returns its immutable id.
    pub fn insert(&self, m: Message) -> String {
        let id = m.immutable_id.clone();
        lock(&self.inner).messages.push(m);
        id
    }

    /// Files a message straight into Sent (Gmail, which has no draft step here).
    pub fn file_sent(&self, mut m: Message, via: Via) -> String {
        let mut g = lock(&self.inner);
        g.seq += 1;
        m.folder = Folder::SentItems;
        m.sent_at = Some(time::OffsetDateTime::now_utc());
        m.via = Some(via);
        m.sent_seq = g.seq;
        let id = m.immutable_id.clone();
        g.messages.push(m);
        id
    }

    /// Submits a draft: it lands in Sent after `delay`, or never when `fail`.
    pub fn submit(&self, id: &str, delay: Duration, fail: bool, keep_copy: bool, via: Via) -> Result<(), SendRefusal> {
        let mut g = lock(&self.inner);
        let m = g.messages.iter_mut().find(|m| m.immutable_id == id || m.regular_id() == id).ok_or(SendRefusal::NotFound)?;
        if !m.is_draft() {
            return Err(SendRefusal::NotADraft);
        }
        m.keep_copy = keep_copy;
        if fail {
            m.stuck = true;
        } else {
            m.due = Some((Instant::now() + delay, via));
        }
        drop(g);
        self.settle();
        Ok(())
    }

    /// A second submission of an item already submitted and still in Drafts: one more copy
    /// goes out (microsoft.md §3.4: UNCONFIRMED; SIM: a resend inside the window sends twice,
    /// so a client that does it is caught).
    pub fn resubmit_copy(&self, id: &str, delay: Duration, via: Via) -> bool {
        let mut g = lock(&self.inner);
        let Some(original) = g.messages.iter().find(|m| m.immutable_id == id || m.regular_id() == id).cloned() else { return false };
        let mut copy = Message::draft(original.internet_message_id, original.mime, original.recipients);
        copy.due = Some((Instant::now() + delay, via));
        g.messages.push(copy);
        true
    }

    /// Moves every due send into Sent.
    fn settle(&self) {
        let now = Instant::now();
        let mut g = lock(&self.inner);
        let mut seq = g.seq;
        for m in g.messages.iter_mut() {
            if let Some((_, via)) = m.due.filter(|(at, _)| *at <= now) {
                m.due = None;
                m.folder = Folder::SentItems;
                m.moves += 1;
                m.sent_at = Some(time::OffsetDateTime::now_utc());
                m.via = Some(via);
                seq += 1;
                m.sent_seq = seq;
            }
        }
        g.seq = seq;
        // [SM] `saveToSentItems: false`: no copy is kept once sent.
        g.messages.retain(|m| m.folder == Folder::Drafts || m.keep_copy);
    }

    /// A message by its immutable id, or by its current regular id.
    pub fn get(&self, id: &str) -> Option<Message> {
        self.settle();
        lock(&self.inner).messages.iter().find(|m| m.immutable_id == id || m.regular_id() == id).cloned()
    }

    /// The messages in `folder`, in the order they arrived there.
    pub fn folder(&self, folder: Folder) -> Vec<Message> {
        self.settle();
        let mut v: Vec<Message> = lock(&self.inner).messages.iter().filter(|m| m.folder == folder).cloned().collect();
        v.sort_by_key(|m| m.sent_seq);
        v
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.folder(Folder::SentItems)
            .into_iter()
            .map(|m| SentMessage {
                id: m.immutable_id,
                internet_message_id: m.internet_message_id,
                mime: m.mime,
                recipients: m.recipients,
                sent_at: m.sent_at.map(SystemTime::from).unwrap_or(SystemTime::UNIX_EPOCH),
                via: m.via.unwrap_or(Via::Smtp),
            })
            .collect()
    }

    /// How many messages are stored (Gmail profile `messagesTotal`).
    pub fn count(&self) -> usize {
        self.settle();
        lock(&self.inner).messages.len()
    }
}
