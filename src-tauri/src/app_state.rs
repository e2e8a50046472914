//! The app's managed state: the keychain, the outbox store, the tenant and the signed-in
//! rep's delivery pipeline. Locks are tokio mutexes only where a guard spans an `.await`.

use codes::ErrorCode;
use std::path::PathBuf;
use std::sync::Arc;

use keychain::Keychain;
use outbox::{Delivery, Owner, Rep, Store};
use superoffice::{AppointmentFilter, Client, PendingSignIn, SignInRequest};

use crate::cli::Options;
use crate::config::Config;
use crate::error::{CmdResult, CommandError};
use crate::outboxes::Outboxes;
use crate::status::{AppStatus, RepInfo, TenantInfo};
use crate::tenant::{self, Tenant};

pub struct AppState {
    pub options: Options,
    pub data_dir: PathBuf,
    pub(crate) keychain: Result<Arc<Keychain>, CommandError>,
    /// The signed-in rep's outbox of the signed-in tenant (see `outboxes`), so no draft,
    /// approval or sent message of one tenant, rep or the demo is ever shown, sent or archived
    /// for another.
    pub(crate) outboxes: Outboxes,
    pub(crate) tenant: tokio::sync::Mutex<Option<Arc<Tenant>>>,
    pub(crate) delivery: tokio::sync::Mutex<Option<Arc<Delivery>>>,
    /// Held for the app's lifetime: one running instance per data directory.
    _instance_lock: Option<std::fs::File>,
    /// Why approved messages wait for the sending limits, and until when (ms), if they do.
    waiting: std::sync::Mutex<Option<(outbox::Pace, i64)>>,
    last_intake: std::sync::Mutex<Option<std::time::Instant>>,
    /// Why the last intake failed, until one succeeds (the outbox shows it as a banner).
    intake_problem: std::sync::Mutex<Option<outbox::IntakeProblem>>,
    restore_tried: std::sync::atomic::AtomicBool,
    /// The last diagnosis (the screen opens on it; the channel policy follows it).
    pub(crate) diagnostics: tokio::sync::Mutex<Option<diagnostics::Report>>,
    /// The signed-in rep's connected mailbox (`rep_mailbox`).
    pub(crate) mailbox: tokio::sync::Mutex<Option<crate::rep_mailbox::Connected>>,
}

/// How often new drafts are fetched from SuperOffice without the rep asking.
const INTAKE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

impl AppState {
    pub fn new(options: Options, data_dir: PathBuf, keychain: Result<Keychain, keychain::Error>) -> Self {
        let (instance_lock, blocked) = match crate::data_dir::single_instance(&data_dir) {
            Ok(lock) => (Some(lock), None),
            Err(e) => (None, Some(e)),
        };
        let state = AppState {
            options,
            outboxes: Outboxes::new(data_dir.clone(), blocked),
            data_dir,
            keychain: keychain.map(Arc::new).map_err(CommandError::from),
            tenant: tokio::sync::Mutex::new(None),
            delivery: tokio::sync::Mutex::new(None),
            _instance_lock: instance_lock,
            waiting: std::sync::Mutex::new(None),
            last_intake: std::sync::Mutex::new(None),
            intake_problem: std::sync::Mutex::new(None),
            restore_tried: std::sync::atomic::AtomicBool::new(false),
            diagnostics: tokio::sync::Mutex::new(None),
            mailbox: tokio::sync::Mutex::new(None),
        };
        if state._instance_lock.is_some() {
            if let Ok(config) = Config::read(&state.data_dir) {
                state.outboxes.tag_legacy(&config);
            }
        }
        state
    }

    pub(crate) fn config(&self) -> Config {
        Config::load(&self.data_dir)
    }

    /// Changes the settings under the config lock; an unreadable `config.json` is never
    /// written over.
    pub(crate) fn update_config<T>(&self, change: impl FnOnce(&mut Config) -> Result<T, String>) -> CmdResult<T> {
        Config::update(&self.data_dir, change)
            .map_err(|e| CommandError::new(ErrorCode::ConfigFailed, format!("could not save settings: {e}")))
    }

    pub fn keychain(&self) -> CmdResult<Arc<Keychain>> {
        self.keychain.clone()
    }

    /// The signed-in rep's outbox (none before sign-in).
    pub fn store(&self) -> CmdResult<Arc<Store>> {
        self.outboxes.store()
    }

    pub(crate) fn blocker(&self) -> Option<CommandError> {
        let blocked = self.outboxes.blocked();
        self.keychain
            .as_ref()
            .err()
            .cloned()
            .or(blocked)
            .or_else(|| Config::read(&self.data_dir).err().map(|e| CommandError::new(ErrorCode::ConfigUnreadable, e.to_string())))
    }

    /// Starts the demo tenant (once). The choice is remembered in `config.json` only when the
    /// rep made it on the first-run screen and no real tenant is configured: `--demo` and
    /// `--smoke-test` never write the configuration, and the demo never replaces a tenant.
    pub async fn start_demo(&self) -> CmdResult<Arc<Tenant>> {
        if let Some(b) = self.blocker() {
            return Err(b);
        }
        let mut slot = self.tenant.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| t.demo.is_some()) {
            return Ok(t.clone());
        }
        let t = Arc::new(tenant::start_demo(&self.keychain()?).await.map_err(|e| CommandError::new(ErrorCode::DemoFailed, e))?);
        if slot.is_some() {
            // A real tenant's session and diagnosis never carry over to the demo.
            *self.delivery.lock().await = None;
            *self.diagnostics.lock().await = None;
        }
        // Nor does its outbox: the demo's opens when the demo's rep signs in.
        self.outboxes.close();
        *slot = Some(t.clone());
        drop(slot);
        if !self.options.demo && !self.options.smoke_test && self.config().superoffice.is_none() {
            self.update_config(|c| {
                if c.superoffice.is_none() {
                    c.tenant = Some("demo".into());
                }
                Ok(())
            })?;
        }
        Ok(t)
    }

    /// The configured tenant, starting the demo when it was chosen before (or `--demo`).
    pub(crate) async fn tenant(&self) -> CmdResult<Option<Arc<Tenant>>> {
        if let Some(t) = self.tenant.lock().await.clone() {
            return Ok(Some(t));
        }
        let config = self.config();
        if self.options.demo || config.tenant.as_deref() == Some("demo") {
            return self.start_demo().await.map(Some);
        }
        match (config.tenant.as_deref(), &config.superoffice) {
            (Some("superoffice"), Some(c)) => {
                let t = Arc::new(tenant::from_config(c).map_err(|e| CommandError::new(ErrorCode::ConfigInvalid, e))?);
                *self.tenant.lock().await = Some(t.clone());
                Ok(Some(t))
            }
            _ => Ok(None),
        }
    }

    pub async fn status(&self) -> AppStatus {
        let version = env!("CARGO_PKG_VERSION").to_owned();
        if let Some(b) = self.blocker() {
            return AppStatus {
                version,
                blocker: Some(b),
                tenant: None,
                rep: None,
                channel: None,
                waiting: None,
                intake_problem: None,
                held: 0,
            };
        }
        let (tenant, blocker) = match self.tenant().await {
            Ok(t) => (t, None),
            Err(e) => (None, Some(e)),
        };
        if let Some(t) = &tenant {
            if self.delivery.lock().await.is_none() {
                self.try_restore(t).await;
            }
        }
        let delivery = self.delivery.lock().await.clone();
        let rep = delivery.as_ref().map(|d| RepInfo { name: d.rep.name.clone(), email: d.rep.email.clone() });
        let channel = delivery.as_ref().map(|d| d.channel());
        let waiting =
            self.waiting.lock().unwrap_or_else(|p| p.into_inner()).map(|(reason, until_ms)| crate::status::Waiting { reason, until_ms });
        AppStatus {
            version,
            blocker,
            tenant: tenant.map(|t| TenantInfo { context_id: t.context_id.clone(), demo: t.demo.is_some() }),
            rep,
            channel,
            waiting,
            intake_problem: if delivery.is_some() { self.intake_problem.lock().unwrap_or_else(|p| p.into_inner()).clone() } else { None },
            held: self.outboxes.held() as u32,
        }
    }

    /// The rep's sign-in: `open` shows the URL in the system browser.
    pub async fn sign_in(&self, open: impl FnOnce(&str) -> CmdResult<()>) -> CmdResult<()> {
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        let keychain = self.keychain()?;
        let secret = {
            let (k, t) = (keychain.clone(), tenant.clone());
            tokio::task::spawn_blocking(move || t.client_secret(&k))
                .await
                .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??
        };
        let pending = PendingSignIn::start(SignInRequest {
            environment: tenant.environment.clone(),
            client_id: tenant.client_id.clone(),
            tenant: Some(tenant.context_id.clone()),
            login_hint: None,
        })
        .await?;
        open(pending.authorize_url())?;
        let session = pending.finish(secret, keychain.clone(), tenant::SIGN_IN_TIMEOUT).await?;
        self.activate(&tenant, session).await
    }

    /// Resumes the last sign-in from the keychain, once per start, without the browser. Any
    /// failure just leaves the rep at the sign-in screen.
    async fn try_restore(&self, tenant: &Arc<Tenant>) {
        if self.restore_tried.swap(true, std::sync::atomic::Ordering::SeqCst) || tenant.demo.is_some() {
            return;
        }
        let Ok(keychain) = self.keychain() else { return };
        let secret = {
            let (k, t) = (keychain.clone(), tenant.clone());
            match tokio::task::spawn_blocking(move || t.client_secret(&k)).await {
                Ok(Ok(s)) => s,
                _ => return,
            }
        };
        match superoffice::Session::restore(tenant.environment.clone(), tenant.client_id.clone(), &tenant.context_id, secret, keychain)
            .await
        {
            Ok(Some(session)) => {
                if let Err(e) = self.activate(tenant, session).await {
                    tracing::warn!(code = %e.code, "resuming the sign-in failed: {}", e.message);
                }
            }
            Ok(None) => {}
            Err(e) => tracing::info!(code = e.code().as_str(), "the stored sign-in could not be resumed"),
        }
    }

    /// Sets up sending for a signed-in rep: who they are, the channel, the delivery pipeline.
    async fn activate(&self, tenant: &Arc<Tenant>, session: superoffice::Session) -> CmdResult<()> {
        let keychain = self.keychain()?;
        let client = Client::new(session);
        let me = client.current_principal().await?;
        let email = me.email_address.trim().to_owned();
        if email.parse::<outbox::EmailAddress>().is_err() {
            return Err(CommandError::new(
                ErrorCode::RepWithoutEmail,
                "your SuperOffice user has no valid email address; ask your administrator to add one to your contact card",
            ));
        }
        // The outbox is this rep's of this tenant, opened now that it is known whose it is.
        let owner = match tenant.demo {
            Some(_) => Owner::demo(&tenant.context_id, me.associate_id),
            None => Owner::new(&tenant.environment.base(), &tenant.context_id, me.associate_id),
        };
        let store = self.outboxes.open(&owner, tenant.demo.is_some(), &email)?;
        // The rep's connected mailbox, if any, so the diagnosis tests it and the channel can be it.
        let mailbox = self.restore_mailbox(tenant, &store).await;
        *self.mailbox.lock().await = mailbox.clone();
        // The channel follows from the diagnosis (read-only checks, concurrent).
        let mut setup = crate::diagnose::setup(tenant, &keychain, Some(client.clone()), false).await?;
        setup.mailbox = self.mailbox_under_test(None).await;
        let report = diagnostics::run_all(&setup).await;
        let channel = report.channel_for(self.config().channel.unwrap_or_default());
        tracing::info!(channel = channel.channel.as_db(), "channel chosen: {}", channel.reason());
        let smtp = setup.smtp.unwrap_or_else(|| tenant.relay.without_password());
        let template = self.effective_template(Some(&report));
        let delivery = Arc::new(
            Delivery::new(store, client, smtp, Rep { associate_id: me.associate_id, name: me.full_name.trim().to_owned(), email })
                .with_hold(self.config().hold())
                .with_channel(channel)
                .with_template(template),
        );
        delivery.set_mailbox(mailbox.map(|m| m.api as Arc<dyn outbox::MailApi>));
        *self.diagnostics.lock().await = Some(report);
        *self.delivery.lock().await = Some(delivery.clone());
        tracing::info!(associate = delivery.rep.associate_id, "signed in");
        if let Err(e) = self.intake().await {
            tracing::warn!(code = %e.code, "intake after sign-in failed: {}", e.message);
        }
        Ok(())
    }

    /// The mail the demo's relay received (empty for a real tenant).
    pub async fn demo_mailbox(&self) -> Vec<crate::contract::MailboxMessage> {
        self.tenant.lock().await.as_ref().map(|t| t.demo_mailbox()).unwrap_or_default()
    }

    /// The SuperOffice web client's address of a sent message's archived document.
    pub async fn document_url(&self, draft_id: i64) -> CmdResult<String> {
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        let row = self.store()?.get(draft_id)?;
        let doc = row.document_id.ok_or_else(|| CommandError::new(ErrorCode::NotArchived, "this message has no archived document yet"))?;
        Ok(format!("{}/{}/default.aspx?document_id={doc}", tenant.environment.base(), tenant.context_id))
    }

    /// Sends what is due, retries what may be retried, archives what was sent. Called every
    /// second by the app; what happens is decided by the database alone (approved messages
    /// after their hold window, within the sending limits), so interrupted work resumes after
    /// a restart and nothing whose outcome is unknown is ever resent.
    pub async fn tick(&self) -> Option<(outbox::TickReport, u32, bool)> {
        let d = self.delivery.lock().await.clone()?;
        let limits = self.config().limits.unwrap_or_default();
        let report = match d.tick(&limits).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(code = e.code().as_str(), "outbox tick failed: {e}");
                return None;
            }
        };
        *self.waiting.lock().unwrap_or_else(|p| p.into_inner()) = report.waiting;
        // New drafts from SuperOffice every few minutes, besides the rep's Refresh.
        let due = self.last_intake.lock().unwrap_or_else(|p| p.into_inner()).is_none_or(|t| t.elapsed() >= INTAKE_INTERVAL);
        let mut new_drafts = 0;
        let problem = || self.intake_problem.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|p| (p.failure, p.detail.clone()));
        let before = problem();
        if due {
            match self.intake().await {
                Ok(r) => new_drafts = r.added,
                Err(e) => tracing::warn!(code = %e.code, "periodic intake failed: {}", e.message),
            }
        }
        let intake_changed = problem() != before;
        Some((report, new_drafts, intake_changed))
    }

    /// The rep's answer for a message that is failed or needs a decision.
    pub async fn resolve(&self, id: i64, decision: crate::contract::Decision) -> CmdResult<Arc<Delivery>> {
        use crate::contract::Decision;
        let d = self.delivery().await?;
        let by = d.rep.name.clone();
        match decision {
            Decision::ItWasSent => d.store.confirm_sent(id, &by)?,
            Decision::SendAgain => d.store.send_again(id, &by)?,
            Decision::TryAgain => d.store.retry(id, &by)?,
        };
        Ok(d)
    }

    /// Signs the rep out: the refresh token is revoked (where the server offers it) and
    /// deleted from the keychain; the outbox keeps every draft and its state.
    pub async fn sign_out(&self) -> CmdResult<()> {
        let Some(d) = self.delivery.lock().await.take() else { return Ok(()) };
        *self.mailbox.lock().await = None;
        self.outboxes.close();
        if let Some(session) = d.client.session() {
            if let Err(e) = session.sign_out().await {
                tracing::warn!(code = e.code().as_str(), "sign-out: the refresh token could not be revoked; it was deleted locally");
            }
        }
        tracing::info!("signed out");
        Ok(())
    }

    pub async fn delivery(&self) -> CmdResult<Arc<Delivery>> {
        self.delivery.lock().await.clone().ok_or_else(|| CommandError::new(ErrorCode::NotSignedIn, "sign in to SuperOffice first"))
    }

    pub async fn intake(&self) -> CmdResult<outbox::IntakeReport> {
        let d = self.delivery().await?;
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        let filter = AppointmentFilter { associate_id: d.rep.associate_id, task_type_id: tenant.task_type_id };
        *self.last_intake.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
        let result = outbox::intake_tasks(&d.client, &d.store, &filter).await;
        // Kept until an intake succeeds: the rep sees why no drafts arrive, not an empty list.
        *self.intake_problem.lock().unwrap_or_else(|p| p.into_inner()) = result.as_ref().err().map(outbox::IntakeProblem::from_error);
        let report = result?;
        tracing::info!(found = report.found, added = report.added, "intake");
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    fn draft(r: &str) -> outbox::NewDraft {
        outbox::NewDraft::task(r, "a@b.example", "s", "b")
    }

    fn dbus() -> bool {
        crate::tests::keychain_session()
    }

    fn real_owner(rep: i64) -> outbox::Owner {
        outbox::Owner::new("https://online.superoffice.com", "Cust26720", rep)
    }

    /// Signs the demo's rep in, playing the browser on the demo's consent page.
    async fn demo_sign_in(state: &super::AppState) {
        state
            .sign_in(|url| {
                let url = url.to_owned();
                tokio::spawn(async move { superoffice_sim::browser::consent(&url, true).await });
                Ok(())
            })
            .await
            .expect("the demo rep signs in");
    }

    /// The demo has its own directory, database and lock, and a real rep's outbox is opened
    /// only for that rep: the real tenant's drafts never show on the demo and the demo's never
    /// on the tenant (the same appointment id 5001 is two drafts, one in each). A demo run
    /// between a real approval and its send (the package's smoke test) leaves the approval
    /// untouched: the demo's scheduler sends only the demo's rows, into the demo's mail server.
    /// `--demo` never writes `config.json`.
    #[tokio::test]
    async fn the_demo_has_an_outbox_of_its_own_and_never_sends_a_real_approval() {
        if !dbus() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let keychain = keychain::Keychain::open(&format!("so-outbox-test-outbox-{}", std::process::id()));
        let state = super::AppState::new(crate::cli::Options { demo: true, smoke_test: false }, dir.path().to_owned(), keychain);
        assert_eq!(state.store().err().map(|e| e.code), Some(codes::ErrorCode::NotSignedIn), "no outbox before a sign-in");
        assert!(state.blocker().is_none(), "which is not a blocker");
        let real = state.outboxes.open(&real_owner(7), false, "anna@corp.example").expect("the real rep's outbox");
        real.insert_draft(&draft("5001")).expect("insert");
        let id = real.list().expect("list")[0].id;
        real.approve(id, "Anna", "<real-1@corp.example>", "Anna", "anna@corp.example", b"mime", 0).expect("approve");
        drop(real);

        let demo_tenant = state.start_demo().await.expect("demo");
        assert_eq!(demo_tenant.context_id, crate::outboxes::DEMO_CONTEXT);
        assert_eq!(state.store().err().map(|e| e.code), Some(codes::ErrorCode::NotSignedIn), "the demo closed the real outbox");
        demo_sign_in(&state).await;
        let demo = state.store().expect("the demo's outbox");
        assert!(demo.list().expect("list").iter().all(|d| d.source_ref != "5001" || d.from_address.is_none()), "no real draft on the demo");
        assert!(demo.list().expect("list").iter().all(|d| d.state != outbox::State::Approved));
        for _ in 0..3 {
            state.tick().await;
        }
        assert!(dir.path().join("demo/outbox.sqlite").exists());
        assert_eq!(
            crate::data_dir::single_instance(&state.outboxes.demo_dir()).err().map(|e| e.code),
            Some(codes::ErrorCode::AlreadyRunning),
            "the demo's own lock is held"
        );
        let sim = demo_tenant.demo.as_ref().expect("the demo's simulator");
        assert!(sim.mailbox().messages().is_empty(), "the demo sent nothing it was not asked to");
        state.sign_out().await.expect("sign out");

        let real = state.outboxes.open(&real_owner(7), false, "anna@corp.example").expect("back to the tenant");
        let rows = real.list().expect("list");
        assert_eq!(rows.len(), 1, "only the tenant's draft");
        assert_eq!((rows[0].state, rows[0].attempts), (outbox::State::Approved, 0), "the real approval is untouched");
        assert!(!dir.path().join("config.json").exists(), "--demo wrote no configuration");
    }
}
