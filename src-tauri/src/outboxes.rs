//! Which outbox is open: the signed-in rep's of the signed-in tenant, and no other.
//!
//! Why it exists (issue 13): every tenant and rep has an outbox of their own, in a directory
//! of their own with its own lock: `outboxes/<tenant>-<hash>-rep<id>/outbox.sqlite` for a
//! real tenant, `demo/outbox.sqlite` for the demo. The outbox opens when the rep has signed in
//! (only then is it known whose it is) and closes at sign-out, at a change of tenant and when
//! the demo starts, so nothing of one tenant, rep or the demo is ever shown, sent or archived
//! for another. The shared `outbox.sqlite` of earlier versions is tagged with the tenant
//! configured when this version first starts; a rep signing in to that tenant takes their own
//! rows from it, and the rest stays held and counted in the status (see `outbox::legacy`).

use std::path::PathBuf;
use std::sync::Arc;

use outbox::{Owner, Store};

use crate::app_state::{single_instance, AppState};
use crate::commands::MailboxMessage;
use crate::config::Config;
use crate::error::{CmdResult, CommandError};

/// The open outbox, whose it is, and its directory's lock.
#[derive(Default)]
pub(crate) struct Outbox {
    pub(crate) store: Option<Arc<Store>>,
    pub(crate) owner: Option<Owner>,
    /// Why no outbox can be opened at all (another instance, an unusable data directory).
    pub(crate) blocked: Option<CommandError>,
    /// The outbox directory's own instance lock, held while its outbox is open.
    pub(crate) _lock: Option<std::fs::File>,
}

/// The demo tenant's context id (a prefix no SuperOffice Online tenant has).
pub(crate) const DEMO_CONTEXT: &str = "Demo26720";

impl AppState {
    /// The demo's own directory: its outbox database and its lock.
    pub fn demo_dir(&self) -> PathBuf {
        self.data_dir.join("demo")
    }

    /// The shared outbox of earlier versions, if any.
    pub(crate) fn legacy_outbox(&self) -> PathBuf {
        self.data_dir.join("outbox.sqlite")
    }

    /// The directory of a real tenant's rep's outbox.
    pub(crate) fn outbox_dir(&self, owner: &Owner) -> PathBuf {
        self.data_dir.join("outboxes").join(owner.dir_name())
    }

    /// Opens the outbox of `owner` (the demo's when `demo`), unless it is the one open
    /// already; takes the rep's own rows from the shared outbox of an earlier version.
    pub(crate) fn use_outbox(&self, owner: &Owner, demo: bool, rep_email: &str) -> CmdResult<Arc<Store>> {
        let mut open = self.store.write().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = &open.blocked {
            return Err(b.clone());
        }
        if let (Some(store), Some(o)) = (&open.store, &open.owner) {
            if o == owner {
                return Ok(store.clone());
            }
        }
        *open = Outbox::default(); // the previous owner's lock goes first
        let dir = if demo { self.demo_dir() } else { self.outbox_dir(owner) };
        crate::data_dir::prepare(&dir)
            .map_err(|e| CommandError::new("data_dir_unusable", format!("cannot create {}: {e}", dir.display())))?;
        let lock = single_instance(&dir)?;
        let path = dir.join("outbox.sqlite");
        let store = match Store::open_for(&path, owner) {
            // The demo's outbox of the version before owners: its drafts came from a demo
            // that no longer runs, so it is set aside (kept) and the demo starts afresh.
            Err(outbox::Error::OtherOwner { .. }) if demo => {
                let aside = dir.join("outbox.before-owners.sqlite");
                tracing::info!(aside = %aside.display(), "the demo's outbox of an earlier version was set aside");
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}{suffix}", aside.display()))
                            .map_err(|e| CommandError::new("data_dir_unusable", format!("cannot move {}: {e}", from.display())))?;
                    }
                }
                Store::open_for(&path, owner)?
            }
            other => other?,
        };
        match outbox::legacy::adopt(&self.legacy_outbox(), &store, rep_email) {
            Ok(a) => {
                if a.moved > 0 {
                    tracing::info!(moved = a.moved, held = a.held, "drafts of an earlier version taken into the rep's outbox");
                }
                self.set_held(a.held);
            }
            Err(e) => tracing::error!(code = e.code(), "the outbox of an earlier version could not be read: {e}"),
        }
        let recovered = store.recover_interrupted()?;
        if recovered > 0 {
            tracing::warn!(recovered, "interrupted sends need the rep's decision");
        }
        let store = Arc::new(store);
        *open = Outbox { store: Some(store.clone()), owner: Some(owner.clone()), blocked: None, _lock: Some(lock) };
        Ok(store)
    }

    /// Closes the open outbox (sign-out, another tenant, the demo): nothing of it is shown,
    /// sent or archived until its rep signs in again.
    pub(crate) fn close_outbox(&self) {
        let mut open = self.store.write().unwrap_or_else(|p| p.into_inner());
        let blocked = open.blocked.take();
        *open = Outbox { blocked, ..Outbox::default() };
    }

    /// Tags the rows of an earlier version's shared outbox with the tenant configured now
    /// (once: rows tagged before keep theirs) and counts what it holds.
    pub(crate) fn tag_legacy_outbox(&self, config: &Config) {
        let path = self.legacy_outbox();
        if !path.exists() {
            return;
        }
        let tenant = match (config.tenant.as_deref(), &config.superoffice) {
            (Some("demo"), _) => Some(Owner::demo(DEMO_CONTEXT, 0).tenant),
            (Some("superoffice"), Some(c)) => c.environment().ok().map(|e| Owner::new(&e.base(), &c.context_id, 0).tenant),
            _ => None,
        };
        if let Some(t) = tenant {
            match outbox::legacy::tag(&path, &t) {
                Ok(n) if n > 0 => tracing::info!(tagged = n, "drafts of an earlier version tagged with the configured tenant"),
                Ok(_) => {}
                Err(e) => tracing::error!(code = e.code(), "the outbox of an earlier version could not be tagged: {e}"),
            }
        }
        match outbox::legacy::held(&path) {
            Ok(n) => self.set_held(n),
            Err(e) => tracing::error!(code = e.code(), "the outbox of an earlier version could not be read: {e}"),
        }
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
