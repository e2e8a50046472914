//! Which outbox is open: the real tenant's (`outbox.sqlite` in the data directory) or the
//! demo's (`demo/outbox.sqlite`, a directory, database and lock of its own), so nothing of the
//! demo is ever shown, sent or archived for a real tenant, or the other way round; and the
//! demo's own mailbox, which only the demo has.

use std::path::PathBuf;
use std::sync::Arc;

use outbox::Store;

use crate::app_state::{single_instance, AppState};
use crate::commands::MailboxMessage;
use crate::error::{CmdResult, CommandError};

/// The open outbox and which one it is.
pub(crate) struct Outbox {
    pub(crate) store: Result<Arc<Store>, CommandError>,
    pub(crate) demo: bool,
    /// The demo directory's own instance lock, held while its outbox is open.
    pub(crate) _lock: Option<std::fs::File>,
}

/// Opens (and recovers) the outbox database in `dir`.
fn open_outbox(dir: &std::path::Path) -> CmdResult<Arc<Store>> {
    let s = Store::open(&dir.join("outbox.sqlite"))?;
    let recovered = s.recover_interrupted()?;
    if recovered > 0 {
        tracing::warn!(recovered, "interrupted sends need the rep's decision");
    }
    Ok(Arc::new(s))
}

impl AppState {
    /// The demo's own directory: its outbox database and its lock.
    pub fn demo_dir(&self) -> PathBuf {
        self.data_dir.join("demo")
    }

    /// Opens the real tenant's outbox or the demo's, unless it is the one open already.
    pub(crate) fn use_outbox(&self, demo: bool) -> CmdResult<()> {
        let mut open = self.store.write().unwrap_or_else(|p| p.into_inner());
        if open.demo == demo && open.store.is_ok() {
            return Ok(());
        }
        let (store, lock) = if demo {
            let dir = self.demo_dir();
            crate::data_dir::prepare(&dir)
                .map_err(|e| CommandError::new("data_dir_unusable", format!("cannot create {}: {e}", dir.display())))?;
            let lock = single_instance(&dir)?;
            (open_outbox(&dir), Some(lock))
        } else {
            (open_outbox(&self.data_dir), None)
        };
        *open = Outbox { store, demo, _lock: lock };
        open.store.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    /// The mail the demo's relay received (empty for a real tenant).
    pub async fn demo_mailbox(&self) -> Vec<MailboxMessage> {
        let Some(t) = self.tenant.lock().await.clone() else { return Vec::new() };
        let Some(sim) = &t.demo else { return Vec::new() };
        sim.mailbox()
            .messages()
            .into_iter()
            .map(|m| {
                let subject =
                    mail_parser::MessageParser::default().parse(&m.data).and_then(|p| p.subject().map(str::to_owned)).unwrap_or_default();
                MailboxMessage {
                    id: m.id,
                    received_at: m.received_at,
                    mail_from: m.mail_from,
                    rcpt_to: m.rcpt_to,
                    subject,
                    size: m.data.len() as u32,
                }
            })
            .collect()
    }
}
