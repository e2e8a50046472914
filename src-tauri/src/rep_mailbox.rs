//! The rep's own mailbox in the app: connecting it (the browser sign-in of the `mailbox`
//! crate, its address checked against the rep's SuperOffice address before anything can be
//! sent), restoring it at sign-in from the rep's outbox and the keychain, and disconnecting it.
//! Tauri-free: the commands call these.
//!
//! The connected mailbox belongs to one rep of one tenant (or the demo): its account is kept in
//! that rep's outbox and its refresh token under a keychain name that carries the outbox's
//! owner, so another rep, tenant or the demo never sends through it.

use std::sync::Arc;

use codes::ErrorCode;
use keychain::{Keychain, Secret, SecretStore};
use outbox::{Delivery, Owner};
use serde::Serialize;

use crate::app_state::AppState;
use crate::error::{CmdResult, CommandError};
use crate::tenant::{MailboxRegistration, Tenant};

/// A connected mailbox and what it reaches.
#[derive(Clone)]
pub struct Connected {
    pub api: Arc<mailbox::Mailbox>,
    pub account: mailbox::Account,
}

/// What the settings show about the rep's mailbox.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct MailboxStatus {
    /// The providers this tenant's reps can connect at (the company's registrations).
    pub available: Vec<mailbox::Provider>,
    /// The connected mailbox, if any.
    pub connected: Option<mailbox::Account>,
}

fn mailbox_error(e: mailbox::Error) -> CommandError {
    CommandError::new(e.code(), e.to_string())
}

fn internal(e: impl std::fmt::Display) -> CommandError {
    CommandError::new(ErrorCode::Internal, e.to_string())
}

/// The keychain entry of this rep's refresh token at `reg`.
fn refresh_key(owner: &Owner, reg: &MailboxRegistration) -> String {
    crate::secret_names::mailbox_refresh_key(owner, reg.provider, &reg.client_id)
}

fn owner_of(d: &Delivery) -> CmdResult<Owner> {
    d.store.owner().ok_or_else(|| CommandError::new(ErrorCode::Internal, "the outbox has no owner"))
}

/// The registration's client secret, off the async workers (the keychain blocks on D-Bus).
async fn client_secret(keychain: &Arc<Keychain>, reg: &MailboxRegistration) -> CmdResult<Option<Secret>> {
    let (k, r) = (keychain.clone(), reg.clone());
    Ok(tokio::task::spawn_blocking(move || r.client_secret(&k)).await.map_err(internal)??)
}

fn api_for(
    keychain: &Arc<Keychain>,
    reg: &MailboxRegistration,
    owner: &Owner,
    account: &mailbox::Account,
    secret: Option<Secret>,
) -> Connected {
    let store: Arc<dyn SecretStore> = keychain.clone();
    let api = mailbox::Mailbox::new(
        reg.provider,
        reg.endpoints.clone(),
        account.address.clone(),
        reg.client_id.clone(),
        secret,
        store,
        refresh_key(owner, reg),
    );
    Connected { api: Arc::new(api), account: account.clone() }
}

impl AppState {
    /// The providers reps can connect at, and the signed-in rep's connected mailbox.
    pub async fn mailbox_status(&self) -> MailboxStatus {
        let available = match self.tenant().await {
            Ok(Some(t)) => t.mailboxes.iter().map(|m| m.provider).collect(),
            _ => Vec::new(),
        };
        let connected = self.mailbox.lock().await.as_ref().map(|c| c.account.clone());
        MailboxStatus { available, connected }
    }

    /// Connects the signed-in rep's mailbox at `provider`: `open` shows the provider's sign-in
    /// in the system browser. The address the provider reports must be the rep's SuperOffice
    /// address; otherwise nothing is kept and the rep is told both addresses.
    pub async fn connect_mailbox(
        &self,
        provider: mailbox::Provider,
        open: impl FnOnce(&str) -> CmdResult<()>,
    ) -> CmdResult<mailbox::Account> {
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        let delivery = self.delivery().await?;
        let reg = tenant.mailboxes.iter().find(|m| m.provider == provider).cloned().ok_or_else(|| {
            CommandError::new(
                ErrorCode::MailboxNotConfigured,
                format!(
                    "no app registration at {} is configured for this tenant; an administrator adds it with `so-outbox configure --mailbox {} --mailbox-client-id …`",
                    provider.product(),
                    provider.as_str()
                ),
            )
        })?;
        let keychain = self.keychain()?;
        let secret = client_secret(&keychain, &reg).await?;
        if provider == mailbox::Provider::Google && secret.is_none() {
            return Err(CommandError::new(
                ErrorCode::MailboxNotConfigured,
                "the Google Desktop client's secret is not in the keychain; an administrator stores it with `so-outbox configure --mailbox google --mailbox-client-secret-stdin`",
            ));
        }
        let owner = owner_of(&delivery)?;
        let key = refresh_key(&owner, &reg);
        let pending = mailbox::PendingConnect::start(mailbox::ConnectRequest {
            provider,
            client_id: reg.client_id.clone(),
            client_secret: secret.clone(),
            endpoints: reg.endpoints.clone(),
            login_hint: Some(delivery.rep.email.clone()),
        })
        .await
        .map_err(mailbox_error)?;
        open(pending.authorize_url())?;
        let store: Arc<dyn SecretStore> = keychain.clone();
        let account = pending.finish(store, &key, crate::tenant::SIGN_IN_TIMEOUT).await.map_err(mailbox_error)?;
        if !account.address.eq_ignore_ascii_case(&delivery.rep.email) {
            let k = keychain.clone();
            let _ = tokio::task::spawn_blocking(move || k.delete(&key)).await;
            return Err(CommandError::new(
                ErrorCode::MailboxAddressMismatch,
                format!(
                    "you signed in to {} as {}, but your address in SuperOffice is {}; connect the mailbox {}, or ask your administrator to correct your address in SuperOffice",
                    provider.product(),
                    account.address,
                    delivery.rep.email,
                    delivery.rep.email
                ),
            ));
        }
        delivery.store.set_mailbox_account(Some(&account))?;
        let connected = api_for(&keychain, &reg, &owner, &account, secret);
        self.attach_mailbox(&delivery, Some(connected)).await;
        tracing::info!(provider = provider.as_str(), "mailbox connected");
        Ok(account)
    }

    /// Disconnects the rep's mailbox: the refresh token is revoked where the provider offers it
    /// (Google) and deleted from the keychain, the account forgotten, and the channel chosen
    /// again.
    pub async fn disconnect_mailbox(&self) -> CmdResult<()> {
        let delivery = self.delivery().await?;
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        if let Some(account) = delivery.store.mailbox_account()? {
            if let Some(reg) = tenant.mailboxes.iter().find(|m| m.provider == account.provider) {
                let keychain = self.keychain()?;
                let key = refresh_key(&owner_of(&delivery)?, reg);
                let k = keychain.clone();
                let stored =
                    tokio::task::spawn_blocking(move || k.get(&key).and_then(|t| k.delete(&key).map(|()| t))).await.map_err(internal)??;
                if let (Some(token), Some(revoke)) = (stored, reg.endpoints.revoke.clone()) {
                    if let Err(e) = mailbox::connect::revoke(&revoke, &token).await {
                        tracing::warn!(
                            code = e.code().as_str(),
                            "the mailbox's refresh token could not be revoked; it was deleted locally"
                        );
                    }
                }
            }
            delivery.store.set_mailbox_account(None)?;
        }
        self.attach_mailbox(&delivery, None).await;
        tracing::info!("mailbox disconnected");
        Ok(())
    }

    /// At sign-in: the rep's connected mailbox, from their outbox and the keychain.
    pub(crate) async fn restore_mailbox(&self, tenant: &Arc<Tenant>, store: &outbox::Store) -> Option<Connected> {
        let account = store.mailbox_account().ok().flatten()?;
        let reg = tenant.mailboxes.iter().find(|m| m.provider == account.provider)?;
        let keychain = self.keychain().ok()?;
        let secret = client_secret(&keychain, reg).await.ok()?;
        let owner = store.owner()?;
        Some(api_for(&keychain, reg, &owner, &account, secret))
    }

    /// Makes `connected` the rep's mailbox (or none) for sending, diagnostics and the channel.
    pub(crate) async fn attach_mailbox(&self, delivery: &Delivery, connected: Option<Connected>) {
        let api = connected.as_ref().map(|c| c.api.clone() as Arc<dyn outbox::MailApi>);
        delivery.set_mailbox(api);
        let found = connected.as_ref().map(|c| (c.account.provider, c.account.address.clone()));
        *self.mailbox.lock().await = connected;
        if let Some(report) = self.last_diagnostics().await {
            let mut caps = report.capabilities();
            caps.mailbox = found;
            let choice = outbox::channel::choose(self.config().channel.unwrap_or_default(), &caps);
            tracing::info!(channel = choice.channel.as_db(), "channel after the mailbox changed: {}", choice.reason());
            delivery.set_channel(choice);
        }
    }

    /// The connected mailbox as the diagnosis tests it.
    pub(crate) async fn mailbox_under_test(&self, delivery: Option<&Delivery>) -> Option<diagnostics::MailboxUnderTest> {
        let c = self.mailbox.lock().await.clone()?;
        let sent_last_day =
            delivery.and_then(|d| d.store.sent_since(outbox::now_ms() - 24 * 3600 * 1000).ok()).map(|s| s.len() as u32).unwrap_or(0);
        Some(diagnostics::MailboxUnderTest { api: c.api, account: c.account, sent_last_day })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use keychain::SecretStore as _;

    /// The demo's rep connects the demo's Microsoft 365 mailbox: the channel becomes the
    /// mailbox, an approved draft goes out through Graph into the mailbox's Sent Items with
    /// exactly the bytes archived in SuperOffice, and disconnecting deletes the refresh token
    /// and goes back to the relay.
    #[tokio::test]
    async fn the_demo_rep_connects_the_demo_mailbox_and_sends_through_it() {
        if !crate::tests::keychain_session() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let service = format!("so-outbox-test-mailbox-{}", std::process::id());
        let state = crate::app_state::AppState::new(
            crate::cli::Options { demo: true, smoke_test: false },
            dir.path().to_owned(),
            keychain::Keychain::open(&service),
        );
        let tenant = state.start_demo().await.expect("demo");
        state
            .sign_in(|url| {
                let url = url.to_owned();
                tokio::spawn(async move { superoffice_sim::browser::consent(&url, true).await });
                Ok(())
            })
            .await
            .expect("the demo rep signs in");
        let before = state.mailbox_status().await;
        assert_eq!((before.available.as_slice(), before.connected.is_none()), (&[mailbox::Provider::Microsoft][..], true));
        let delivery = state.delivery().await.expect("signed in");
        // The demo's relay, or the handoff where its TLS cannot be checked (Wine's crypt32).
        let before_channel = delivery.channel().channel;
        assert_ne!(before_channel, outbox::Channel::Mailbox, "no mailbox channel before a mailbox is connected");

        let account = state
            .connect_mailbox(mailbox::Provider::Microsoft, |url| {
                let url = url.to_owned();
                tokio::spawn(async move { mailbox_sim::browser::consent(&url, true).await });
                Ok(())
            })
            .await
            .expect("connected");
        assert_eq!(account.address, crate::tenant::DEMO_REP_ADDRESS);
        assert_eq!(delivery.channel().channel, outbox::Channel::Mailbox);
        let key = super::refresh_key(&delivery.store.owner().expect("owner"), &tenant.mailboxes[0]);
        let keychain = state.keychain().expect("keychain");
        assert!(keychain.get(&key).expect("keychain").is_some(), "the refresh token is in the keychain");

        let id = delivery.store.list().expect("list").into_iter().find(|d| d.problem.is_none()).expect("a sendable draft").id;
        delivery.approve(id).expect("approve");
        assert_eq!(delivery.deliver(id).await.expect("deliver"), outbox::State::Done);
        let sent = tenant.demo_mailbox_sim.as_ref().expect("the demo mailbox").sent();
        assert_eq!(sent.len(), 1, "one message in the mailbox's Sent Items");
        let row = delivery.store.get(id).expect("row");
        let docs = tenant.demo.as_ref().expect("simulator").tenant().documents;
        let doc = docs.iter().find(|d| Some(d.id) == row.document_id).expect("archived");
        let archived = base64::engine::general_purpose::STANDARD.decode(doc.content_base64.clone().expect("content")).expect("b64");
        assert_eq!(archived, sent[0].mime, "the Sent copy's bytes equal the archived document's");
        assert!(state.demo_mailbox().await.iter().any(|m| m.id == sent[0].id), "the demo mailbox view lists it");

        state.disconnect_mailbox().await.expect("disconnect");
        assert!(keychain.get(&key).expect("keychain").is_none(), "the refresh token is deleted");
        assert!(state.mailbox_status().await.connected.is_none());
        assert_eq!(delivery.channel().channel, before_channel, "the channel of before the mailbox");
        state.sign_out().await.expect("sign out");
        for k in [tenant.client_secret_key(), tenant.relay.keychain_key()] {
            let _ = keychain.delete(&k);
        }
    }
}
