//! `so-outbox configure`: stores a real tenant's settings in `config.json` and its secrets in
//! the OS keychain, without opening a window (for admins and scripted roll-outs).
//!
//! Why the client secret is on the rep's machine at all: SuperOffice requires it to refresh an
//! access token (`grant_type=refresh_token`), and a desktop app that refreshes by itself must
//! hold it (RFC 8252 §8.5: such a secret is not confidential). It is provisioned by the admin,
//! kept only in the keychain, and sent only to the environment's token endpoint. The
//! alternative, a small refresh backend, is outside this app.

use std::io::BufRead;

use keychain::{Keychain, Secret, SecretStore};

use crate::cli::ConfigureArgs;
use crate::config::{Config, RelayConfig, TenantConfig};

/// Runs the subcommand; returns the exit code.
pub fn run(a: ConfigureArgs) -> i32 {
    match configure(a) {
        Ok(summary) => {
            println!("{summary}");
            0
        }
        Err(e) => {
            eprintln!("so-outbox configure: {e}");
            1
        }
    }
}

fn configure(a: ConfigureArgs) -> Result<String, String> {
    let mut lines = std::io::stdin().lock().lines();
    let read_secret = move |what: &str| -> Result<Secret, String> {
        let line = lines.next().ok_or_else(|| format!("expected the {what} on standard input"))?.map_err(|e| e.to_string())?;
        let value = line.trim_end_matches(['\r', '\n']).to_owned();
        if value.is_empty() {
            return Err(format!("the {what} on standard input is empty"));
        }
        Ok(Secret::new(value))
    };
    apply(a, &crate::default_data_dir(), read_secret)
}

/// Validates and stores a tenant: `config.json` without secrets, the secrets in the keychain.
/// `read_secret` yields each requested secret (stdin for the CLI, the first-run form's fields
/// for the app).
pub fn apply(
    a: ConfigureArgs,
    dir: &std::path::Path,
    mut read_secret: impl FnMut(&str) -> Result<Secret, String>,
) -> Result<String, String> {
    let tenant = TenantConfig {
        environment: a.environment.trim().to_owned(),
        context_id: a.tenant.trim().to_owned(),
        client_id: a.client_id.trim().to_owned(),
        task_type_id: a.task_type,
        smtp: RelayConfig {
            host: a.smtp_host.trim().to_owned(),
            port: a.smtp_port,
            security: a.smtp_security.into(),
            username: a.smtp_user.trim().to_owned(),
            auth: a.auth(),
            oauth: a.oauth(),
            ca_file: a.smtp_ca_file.as_ref().map(Into::into),
        },
        mailboxes: Vec::new(),
    };
    let env = tenant.environment()?;
    if let Some(ca) = &tenant.smtp.ca_file {
        let pem = std::fs::read_to_string(ca).map_err(|e| format!("cannot read {}: {e}", ca.display()))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!("{} is not a PEM certificate", ca.display()));
        }
    }
    for (name, v) in [("environment", &tenant.environment), ("tenant id", &tenant.context_id), ("client id", &tenant.client_id)] {
        if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(format!("the {name} is missing or contains spaces"));
        }
    }
    tenant.smtp.validate()?;
    let keychain = Keychain::open(crate::KEYCHAIN_SERVICE).map_err(|e| e.to_string())?;
    let mut stored = Vec::new();
    if a.client_secret_stdin {
        let secret = read_secret("client secret")?;
        keychain
            .set(&crate::secret_names::client_secret_key(&env, &tenant.context_id, &tenant.client_id), &secret)
            .map_err(|e| e.to_string())?;
        stored.push("client secret");
    }
    if a.smtp_password_stdin {
        let what = match (tenant.smtp.auth, tenant.smtp.oauth.is_some()) {
            (outbox::SmtpAuth::Password, _) => "SMTP password",
            (outbox::SmtpAuth::XOAuth2, false) => "SMTP access token",
            (outbox::SmtpAuth::XOAuth2, true) => "SMTP refresh token",
        };
        let password = read_secret(what)?;
        keychain.set(&tenant.smtp.keychain_key(), &password).map_err(|e| e.to_string())?;
        stored.push(what);
    }
    if a.system_user_token_stdin != a.system_user_key.is_some() {
        return Err("a system user needs both --system-user-token-stdin and --system-user-key".into());
    }
    if let Some(path) = &a.system_user_key {
        let token = read_secret("system user token")?;
        let pem = keychain::Secret::new(std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?);
        if !pem.expose().contains("PRIVATE KEY-----") {
            return Err(format!("{path} is not a PEM private key"));
        }
        let (token_key, pem_key) = crate::secret_names::system_user_keys(&env, &tenant.context_id);
        keychain.set(&token_key, &token).map_err(|e| e.to_string())?;
        keychain.set(&pem_key, &pem).map_err(|e| e.to_string())?;
        stored.push("system user token and key");
    }
    let mailbox = a.mailbox();
    if let Some(m) = &mailbox {
        if a.mailbox_client_secret_stdin {
            let secret = read_secret("mail provider's client secret")?;
            keychain.set(&crate::secret_names::mailbox_client_secret_key(m.provider, &m.client_id), &secret).map_err(|e| e.to_string())?;
            stored.push("mail provider's client secret");
        }
    }
    let mut tenant = tenant;
    Config::update(dir, |config| {
        let same_tenant = config.superoffice.as_ref().filter(|c| c.context_id == tenant.context_id);
        if same_tenant.is_none() {
            // Template ids belong to one tenant.
            config.email_template_id = None;
        }
        // The mail provider registrations stay with their tenant; one per provider.
        tenant.mailboxes = same_tenant.map(|c| c.mailboxes.clone()).unwrap_or_default();
        if let Some(m) = &mailbox {
            tenant.mailboxes.retain(|k| k.provider != m.provider);
            tenant.mailboxes.push(m.clone());
        }
        config.tenant = Some("superoffice".into());
        config.superoffice = Some(tenant.clone());
        Ok(())
    })?;
    let mailboxes: Vec<String> = tenant.mailboxes.iter().map(|m| format!("{} ({})", m.provider.product(), m.client_id)).collect();
    Ok(format!(
        "Configured tenant {} ({}) with client id {}; relay {}:{} ({}, {}) as {}; reps' mailboxes: {}.\nSaved {}; in the keychain: {}.",
        tenant.context_id,
        tenant.environment,
        tenant.client_id,
        tenant.smtp.host,
        tenant.smtp.port,
        tenant.smtp.security.as_str(),
        tenant.smtp.auth.as_str(),
        tenant.smtp.username,
        if mailboxes.is_empty() { "none".to_string() } else { mailboxes.join(", ") },
        Config::path(dir).display(),
        if stored.is_empty() { "nothing new".to_string() } else { stored.join(", ") }
    ))
}
