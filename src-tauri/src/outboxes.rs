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

use codes::ErrorCode;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use outbox::{Owner, Store};

use crate::config::Config;
use crate::error::{CmdResult, CommandError};

/// The demo tenant's context id (a prefix no SuperOffice Online tenant has).
pub(crate) const DEMO_CONTEXT: &str = "Demo26720";

/// The outboxes in a data directory, and the one open now.
pub(crate) struct Outboxes {
    data_dir: PathBuf,
    open: RwLock<Outbox>,
    /// Drafts of an earlier version's shared outbox that belong to no one signed in here.
    held: AtomicUsize,
}

/// The open outbox, whose it is, and its directory's lock.
#[derive(Default)]
struct Outbox {
    store: Option<Arc<Store>>,
    owner: Option<Owner>,
    /// Why no outbox can be opened at all (another instance, an unusable data directory).
    blocked: Option<CommandError>,
    /// The outbox directory's own instance lock, held while its outbox is open.
    _lock: Option<std::fs::File>,
}

impl Outboxes {
    /// None open yet; `blocked` when none can be (the data directory's instance lock).
    pub(crate) fn new(data_dir: PathBuf, blocked: Option<CommandError>) -> Self {
        Outboxes { data_dir, open: RwLock::new(Outbox { blocked, ..Outbox::default() }), held: AtomicUsize::new(0) }
    }

    /// The signed-in rep's outbox (none before sign-in).
    pub(crate) fn store(&self) -> CmdResult<Arc<Store>> {
        let open = self.open.read().unwrap_or_else(|p| p.into_inner());
        match (&open.store, &open.blocked) {
            (Some(s), _) => Ok(s.clone()),
            (None, Some(b)) => Err(b.clone()),
            (None, None) => {
                Err(CommandError::new(ErrorCode::NotSignedIn, "sign in to SuperOffice first: your outbox opens with your sign-in"))
            }
        }
    }

    /// Why no outbox can be opened at all.
    pub(crate) fn blocked(&self) -> Option<CommandError> {
        self.open.read().unwrap_or_else(|p| p.into_inner()).blocked.clone()
    }

    /// How many drafts of an earlier version's shared outbox are held.
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// The demo's own directory: its outbox database and its lock.
    pub(crate) fn demo_dir(&self) -> PathBuf {
        self.data_dir.join("demo")
    }

    /// The shared outbox of earlier versions, if any.
    fn legacy(&self) -> PathBuf {
        self.data_dir.join("outbox.sqlite")
    }

    /// The directory of a real tenant's rep's outbox.
    fn dir_for(&self, owner: &Owner) -> PathBuf {
        self.data_dir.join("outboxes").join(owner.dir_name())
    }

    /// Opens the outbox of `owner` (the demo's when `demo`), unless it is the one open
    /// already; takes the rep's own rows from the shared outbox of an earlier version.
    pub(crate) fn open(&self, owner: &Owner, demo: bool, rep_email: &str) -> CmdResult<Arc<Store>> {
        let mut open = self.open.write().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = &open.blocked {
            return Err(b.clone());
        }
        if let (Some(store), Some(o)) = (&open.store, &open.owner) {
            if o == owner {
                return Ok(store.clone());
            }
        }
        *open = Outbox::default(); // the previous owner's lock goes first
        let dir = if demo { self.demo_dir() } else { self.dir_for(owner) };
        crate::data_dir::prepare(&dir)
            .map_err(|e| CommandError::new(ErrorCode::DataDirUnusable, format!("cannot create {}: {e}", dir.display())))?;
        let lock = crate::data_dir::single_instance(&dir)?;
        let path = dir.join("outbox.sqlite");
        let store = match Store::open_for(&path, owner) {
            // The demo's outbox of the version before owners (or of another demo rep): its
            // drafts came from a demo that no longer runs, so it is set aside under a name of
            // its own (kept, never written over) and the demo starts afresh.
            Err(outbox::Error::OtherOwner { .. }) if demo => {
                let aside = dir.join(format!("outbox.set-aside-{}.sqlite", outbox::now_ms()));
                tracing::info!(aside = %aside.display(), "the demo's outbox of an earlier version was set aside");
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}{suffix}", aside.display()))
                            .map_err(|e| CommandError::new(ErrorCode::DataDirUnusable, format!("cannot move {}: {e}", from.display())))?;
                    }
                }
                Store::open_for(&path, owner)?
            }
            other => other?,
        };
        match outbox::legacy::adopt(&self.legacy(), &store, rep_email) {
            Ok(a) => {
                if a.moved > 0 {
                    tracing::info!(moved = a.moved, held = a.held, "drafts of an earlier version taken into the rep's outbox");
                }
                self.held.store(a.held, Ordering::SeqCst);
            }
            Err(e) => tracing::error!(code = e.code().as_str(), "the outbox of an earlier version could not be read: {e}"),
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
    pub(crate) fn close(&self) {
        let mut open = self.open.write().unwrap_or_else(|p| p.into_inner());
        let blocked = open.blocked.take();
        *open = Outbox { blocked, ..Outbox::default() };
    }

    /// Tags the rows of an earlier version's shared outbox with the tenant configured now
    /// (once: rows tagged before keep theirs) and counts what it holds.
    pub(crate) fn tag_legacy(&self, config: &Config) {
        let path = self.legacy();
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
                Err(e) => tracing::error!(code = e.code().as_str(), "the outbox of an earlier version could not be tagged: {e}"),
            }
        }
        match outbox::legacy::held(&path) {
            Ok(n) => self.held.store(n, Ordering::SeqCst),
            Err(e) => tracing::error!(code = e.code().as_str(), "the outbox of an earlier version could not be read: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    fn draft(r: &str) -> outbox::NewDraft {
        outbox::NewDraft::task(r, "a@b.example", "s", "b")
    }

    fn real_owner(rep: i64) -> outbox::Owner {
        outbox::Owner::new("https://online.superoffice.com", "Cust26720", rep)
    }

    /// Two reps of one tenant on one computer: each has an outbox of their own; neither sees
    /// the other's drafts.
    #[test]
    fn each_rep_of_a_tenant_has_an_outbox_of_their_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = super::Outboxes::new(dir.path().to_owned(), None);
        let anna = state.open(&real_owner(7), false, "anna@corp.example").expect("Anna's outbox");
        anna.insert_draft(&draft("5001")).expect("insert");
        drop(anna);
        let ben = state.open(&real_owner(8), false, "ben@corp.example").expect("Ben's outbox");
        assert!(ben.list().expect("list").is_empty(), "none of Anna's drafts");
        assert!(ben.insert_draft(&draft("5001")).expect("insert"), "Ben's own task 5001 is his own draft");
        drop(ben);
        assert_eq!(state.open(&real_owner(7), false, "anna@corp.example").expect("Anna's").list().expect("list").len(), 1);
        let dirs = std::fs::read_dir(dir.path().join("outboxes")).expect("outboxes").count();
        assert_eq!(dirs, 2, "one directory per rep");
    }

    /// The shared `outbox.sqlite` of an earlier version: tagged at start with the configured
    /// tenant, the signed-in rep takes their own rows (never approved, or approved as them);
    /// another rep's approval stays held, and the status counts it.
    #[tokio::test]
    async fn an_earlier_versions_outbox_is_adopted_by_its_rep_and_the_rest_is_held() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let old = outbox::Store::open(&dir.path().join("outbox.sqlite")).expect("old outbox");
            old.insert_draft(&draft("5001")).expect("insert");
            old.insert_draft(&draft("5002")).expect("insert");
            let ben = old.list().expect("list")[1].id;
            old.approve(ben, "Ben", "<ben-1@corp.example>", "Ben", "ben@corp.example", b"mime", 0).expect("approve");
        }
        let config = r#"{"tenant":"superoffice","superoffice":{"environment":"online","context_id":"Cust26720","client_id":"c","task_type_id":7,"smtp":{"host":"smtp.corp.example","port":587,"security":"starttls","username":"u"}}}"#;
        let state = super::Outboxes::new(dir.path().to_owned(), None);
        state.tag_legacy(&serde_json::from_str(config).expect("config"));
        assert_eq!(state.held(), 2, "counted before anyone signs in");
        let anna = state.open(&real_owner(7), false, "anna@corp.example").expect("Anna's outbox");
        let rows = anna.list().expect("list");
        assert_eq!(rows.iter().map(|d| d.source_ref.as_str()).collect::<Vec<_>>(), ["5001"], "Anna takes the pending draft");
        assert_eq!(state.held(), 1, "Ben's approval is held");
        let other_tenant = outbox::Owner::new("https://online.superoffice.com", "Cust11111", 8);
        assert!(state.open(&other_tenant, false, "ben@corp.example").expect("other").list().expect("list").is_empty());
        let ben = state.open(&real_owner(8), false, "ben@corp.example").expect("Ben's outbox");
        assert_eq!(ben.list().expect("list")[0].state, outbox::State::Approved, "Ben gets his approval");
        assert_eq!(state.held(), 0);
    }

    /// The demo's outbox from before owners, and then one of another demo rep, are each set
    /// aside under a name of their own: neither is written over, the demo opens afresh.
    #[test]
    fn an_earlier_demo_outbox_is_set_aside_and_never_written_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = super::Outboxes::new(dir.path().to_owned(), None);
        std::fs::create_dir_all(state.demo_dir()).expect("demo dir");
        outbox::Store::open(&state.demo_dir().join("outbox.sqlite")).expect("old demo").insert_draft(&draft("1")).expect("insert");
        let demo = |rep| outbox::Owner::demo(super::DEMO_CONTEXT, rep);
        assert!(state.open(&demo(18), true, "anna@x.example").expect("demo").list().expect("list").is_empty());
        state.close();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(state.open(&demo(19), true, "ben@x.example").expect("another demo rep").list().expect("list").is_empty());
        let aside: Vec<_> = std::fs::read_dir(state.demo_dir())
            .expect("read")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("outbox.set-aside-") && n.ends_with(".sqlite"))
            .collect();
        assert_eq!(aside.len(), 2, "{aside:?}");
    }
}
