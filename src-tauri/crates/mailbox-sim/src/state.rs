//! The simulator's shared state: configuration, the OAuth store, the mailbox, the request log
//! and the test controls, in one place so every route and the SMTP server see the same thing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::{idtoken, mailstore, oauth, ConsentRefusal, LoggedRequest, MailboxSimConfig};

/// At most this many requests are kept in the log (the oldest are dropped).
const MAX_LOGGED: usize = 20_000;

/// Switches the tests flip through [`crate::MailboxSim`].
#[derive(Default)]
pub struct Controls {
    pub refusal: Mutex<Option<ConsentRefusal>>,
    pub grant_only: Mutex<Option<Vec<String>>>,
    pub smtp_auth_disabled: AtomicBool,
    pub lose_answers: AtomicUsize,
    pub fail_sends: AtomicUsize,
    pub sent_copy_delay: Mutex<Duration>,
    pub code_ttl: Mutex<Duration>,
    pub latency: Mutex<Duration>,
}

impl Controls {
    /// Takes one unit of a countdown switch; true when one was left.
    pub fn take(counter: &AtomicUsize) -> bool {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }
}

pub struct Sim {
    pub config: MailboxSimConfig,
    pub base_url: String,
    pub keys: idtoken::Keys,
    pub oauth: oauth::Store,
    pub store: mailstore::Store,
    pub controls: Controls,
    pub requests: Mutex<Vec<LoggedRequest>>,
    /// Graph requests being served right now (the per-mailbox concurrency limit).
    pub graph_in_flight: AtomicUsize,
}

impl Sim {
    pub fn new(config: MailboxSimConfig, base_url: String, keys: idtoken::Keys) -> Self {
        let controls = Controls::default();
        *lock(&controls.code_ttl) = oauth::CODE_TTL;
        let store = mailstore::Store::new(config.limits);
        Sim {
            config,
            base_url,
            keys,
            oauth: oauth::Store::default(),
            store,
            controls,
            requests: Mutex::default(),
            graph_in_flight: AtomicUsize::new(0),
        }
    }

    pub fn log(&self, entry: LoggedRequest) {
        let mut log = lock(&self.requests);
        if log.len() >= MAX_LOGGED {
            log.remove(0);
        }
        log.push(entry);
    }

    /// The mailbox's domain (after the `@`).
    pub fn domain(&self) -> &str {
        self.config.user.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("example.com")
    }
}

/// A poisoned lock still holds usable data (a test panicked while holding it).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A random GUID in its usual text form (trace ids, correlation ids, request ids).
pub fn guid() -> String {
    let v = rand::random::<u128>().to_be_bytes();
    let h: String = v.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `bytes` random bytes, base64url without padding (codes, tokens, ids).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// RFC 3339 UTC with seconds, e.g. `2026-05-01T10:00:00Z`.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
