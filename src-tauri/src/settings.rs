//! The settings screen and the first-run tenant form: what is stored where (config.json for
//! settings, the keychain for secrets), validation, and which settings apply at once (hold
//! window, channel policy, email template) or with the next sign-in (relay, task type).

use codes::ErrorCode;
use keychain::SecretStore;

use crate::app_state::AppState;
use crate::config::Config;
use crate::error::{CmdResult, CommandError};

impl AppState {
    /// The settings screen's values.
    pub async fn settings(&self) -> CmdResult<crate::contract::Settings> {
        let email_templates = self.email_templates().await.unwrap_or_default();
        self.settings_with(email_templates).await
    }

    /// The settings screen's values, with the templates already read from SuperOffice.
    async fn settings_with(&self, email_templates: Vec<crate::contract::EmailTemplate>) -> CmdResult<crate::contract::Settings> {
        let config = self.config();
        let tenant = self.tenant().await?;
        let relay = match (&config.superoffice, &tenant) {
            (Some(c), Some(t)) if t.demo.is_none() => {
                let key = c.smtp.keychain_key();
                let k = self.keychain()?;
                let has_password = tokio::task::spawn_blocking(move || k.get(&key).map(|p| p.is_some_and(|p| !p.is_empty())))
                    .await
                    .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
                Some(crate::contract::RelaySettings {
                    host: c.smtp.host.clone(),
                    port: c.smtp.port,
                    security: c.smtp.security,
                    username: c.smtp.username.clone(),
                    auth: c.smtp.auth,
                    oauth: c.smtp.oauth.as_ref().map(|o| crate::contract::MailOAuthSettings {
                        token_url: o.token_url.clone(),
                        client_id: o.client_id.clone(),
                        scope: o.scope.clone().unwrap_or_default(),
                    }),
                    has_password,
                })
            }
            _ => None,
        };
        Ok(crate::contract::Settings {
            hold_secs: config.hold().as_secs() as u32,
            limits: config.limits.unwrap_or_default(),
            channel: config.channel.unwrap_or_default(),
            relay,
            task_type_id: tenant.as_ref().map(|t| t.task_type_id).unwrap_or(7),
            demo: tenant.as_ref().is_some_and(|t| t.demo.is_some()),
            email_template_id: config.email_template_id,
            email_templates,
        })
    }

    /// The tenant's outgoing email templates (for archived emails), when the rep is signed in
    /// and SuperOffice answers; `None` otherwise.
    async fn email_templates(&self) -> Option<Vec<crate::contract::EmailTemplate>> {
        let d = self.delivery.lock().await.clone()?;
        match tokio::time::timeout(std::time::Duration::from_secs(10), d.client.outgoing_email_templates()).await {
            Ok(Ok(list)) => {
                Some(list.into_iter().map(|t| crate::contract::EmailTemplate { id: t.document_template_id, name: t.name }).collect())
            }
            Ok(Err(e)) => {
                tracing::info!(code = e.code().as_str(), "the email templates could not be read");
                None
            }
            Err(_) => None,
        }
    }

    /// The template archived emails get: the chosen one, else the tenant's first outgoing
    /// email template (as the diagnosis found it), else SuperOffice's default for new documents.
    pub(crate) fn effective_template(&self, report: Option<&diagnostics::Report>) -> Option<i64> {
        self.config().email_template_id.or_else(|| report.and_then(diagnostics::Report::first_email_template))
    }

    /// Validates and saves the settings; hold window and channel apply at once, a changed
    /// relay or task type with the next sign-in.
    pub async fn save_settings(&self, s: crate::contract::Settings) -> CmdResult<crate::contract::Settings> {
        let bad = |m: &str| Err(CommandError::new(ErrorCode::SettingsInvalid, m));
        if s.hold_secs > 60 {
            return bad("the undo window is 0 to 60 seconds");
        }
        if s.limits.daily_cap == 0 || s.limits.daily_cap > 10_000 {
            return bad("the daily limit is 1 to 10,000 messages");
        }
        if s.limits.min_spacing_ms > 3_600_000 {
            return bad("the spacing between messages is at most one hour");
        }
        // Read once: for the check here and for the answer.
        let templates = self.email_templates().await;
        if let (Some(id), Some(list)) = (s.email_template_id, &templates) {
            if !list.iter().any(|t| t.id == id) {
                return bad("that template is not one of this tenant's outgoing email templates");
            }
        }
        let before = Config::read(&self.data_dir).map_err(|e| CommandError::new(ErrorCode::ConfigUnreadable, e.to_string()))?;
        let mut config = before.clone();
        config.email_template_id = s.email_template_id;
        config.hold_secs = Some(u64::from(s.hold_secs));
        config.limits = Some(s.limits);
        config.channel = Some(s.channel);
        if let (Some(tc), Some(r)) = (config.superoffice.as_mut(), &s.relay) {
            tc.smtp.host = r.host.trim().to_owned();
            tc.smtp.port = r.port;
            tc.smtp.security = r.security;
            tc.smtp.username = r.username.trim().to_owned();
            tc.smtp.auth = r.auth;
            tc.smtp.oauth = match (&r.oauth, r.auth) {
                (Some(o), outbox::SmtpAuth::XOAuth2) if !o.token_url.trim().is_empty() => {
                    let o = crate::config::MailOAuthConfig {
                        token_url: o.token_url.trim().to_owned(),
                        client_id: o.client_id.trim().to_owned(),
                        scope: Some(o.scope.trim().to_owned()).filter(|s| !s.is_empty()),
                    };
                    Some(o)
                }
                _ => None,
            };
            if let Err(e) = tc.smtp.validate() {
                return bad(&e);
            }
            if s.task_type_id <= 0 {
                return bad("the task type is a positive id");
            }
            tc.task_type_id = s.task_type_id;
        }
        // Written under the config lock, and only over the settings it was made from: a
        // `so-outbox configure` that ran meanwhile is not undone.
        self.update_config(|c| {
            if serde_json::to_value(&*c).ok() != serde_json::to_value(&before).ok() {
                return Err("the settings were changed elsewhere meanwhile; open Settings again".into());
            }
            *c = config.clone();
            Ok(())
        })?;
        // A configured tenant is read again: its relay (and the keychain entry of its secret)
        // and task type are the saved ones from now on; the signed-in pipeline keeps its relay
        // connection settings until the next sign-in.
        if let Some(tc) = &config.superoffice {
            let mut cached = self.tenant.lock().await;
            if cached.as_ref().is_some_and(|t| t.demo.is_none()) {
                *cached =
                    Some(std::sync::Arc::new(crate::tenant::from_config(tc).map_err(|e| CommandError::new(ErrorCode::ConfigInvalid, e))?));
            }
        }
        if let Some(d) = self.delivery.lock().await.clone() {
            let report = self.diagnostics.lock().await.clone();
            if let Some(report) = &report {
                d.set_channel(report.channel_for(s.channel));
            }
            d.set_template(self.effective_template(report.as_ref()));
        }
        self.settings_with(templates.unwrap_or_default()).await
    }

    /// Stores the relay password (or XOAUTH2 access token) of the configured tenant in the
    /// keychain.
    pub async fn set_relay_password(&self, password: keychain::Secret) -> CmdResult<crate::contract::Settings> {
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        if tenant.demo.is_some() {
            return Err(CommandError::new(ErrorCode::SettingsInvalid, "the demo tenant's relay password is set by the demo"));
        }
        if password.is_empty() {
            return Err(CommandError::new(ErrorCode::SettingsInvalid, "the password is empty"));
        }
        let (k, key) = (self.keychain()?, tenant.relay.keychain_key());
        tokio::task::spawn_blocking(move || k.set(&key, &password))
            .await
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
        self.settings().await
    }

    /// Stores a real tenant from the first-run form and switches to it (the rep signs in next).
    pub async fn configure_tenant(
        &self,
        s: crate::contract::TenantSetup,
        client_secret: keychain::Secret,
        smtp_password: Option<keychain::Secret>,
    ) -> CmdResult<()> {
        if let Some(b) = self.blocker() {
            return Err(b);
        }
        if client_secret.is_empty() {
            return Err(CommandError::new(ErrorCode::ConfigInvalid, "the client secret is empty"));
        }
        let args = crate::cli::ConfigureArgs {
            environment: s.environment,
            tenant: s.context_id,
            client_id: s.client_id,
            task_type: s.task_type_id,
            smtp_host: s.smtp_host,
            smtp_port: s.smtp_port,
            smtp_security: s.smtp_security.into(),
            smtp_user: s.smtp_user,
            smtp_auth: match s.smtp_auth {
                outbox::SmtpAuth::Password => crate::cli::AuthArg::Password,
                outbox::SmtpAuth::XOAuth2 => crate::cli::AuthArg::Xoauth2,
            },
            smtp_oauth_token_url: None,
            smtp_oauth_client_id: None,
            smtp_oauth_scope: None,
            smtp_ca_file: None,
            client_secret_stdin: true,
            smtp_password_stdin: smtp_password.is_some(),
            system_user_token_stdin: false,
            system_user_key: None,
            mailbox: None,
            mailbox_client_id: None,
            mailbox_tenant: None,
            mailbox_client_secret_stdin: false,
        };
        let data_dir = self.data_dir.clone();
        let mut secrets = vec![Some(client_secret), smtp_password].into_iter().flatten();
        tokio::task::spawn_blocking(move || {
            crate::configure::apply(args, &data_dir, |what| secrets.next().ok_or_else(|| format!("the {what} is missing")))
        })
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| CommandError::new(ErrorCode::ConfigInvalid, e))?;
        *self.delivery.lock().await = None;
        self.outboxes.close();
        *self.tenant.lock().await = None;
        *self.diagnostics.lock().await = None;
        Ok(())
    }
}
