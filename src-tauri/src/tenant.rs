//! The tenant the app works with, and the built-in demo tenant.
//!
//! The demo starts the SuperOffice simulator and its mail relay in-process on 127.0.0.1
//! (random ports), with the seed company's permissions (the Email agent is not granted to the
//! app, so mail goes by SMTP). Its client secret and relay password are random per start and,
//! like any tenant's secrets, go to the keychain and nowhere else.

use std::sync::Arc;
use std::time::Duration;

use keychain::{Keychain, Secret, SecretStore};
use outbox::{SmtpAuth, SmtpSecurity, SmtpSettings};
use superoffice::Environment;

use crate::secret_names::{client_secret_key, get_moved, relay_key, system_user_keys};

/// Where mail goes, minus the password (which is in the keychain).
#[derive(Clone, Debug)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub auth: SmtpAuth,
    /// With XOAUTH2: the mail provider's client for renewing the access token.
    pub oauth: Option<outbox::mail_oauth::MailOAuth>,
    pub extra_ca_pem: Option<String>,
    /// One renewer per relay, shared by sending and diagnostics (a rotated refresh token is
    /// used by one renewal at a time).
    pub renewer: std::sync::OnceLock<Arc<outbox::mail_oauth::TokenRenewer>>,
}

impl Relay {
    pub fn keychain_key(&self) -> String {
        relay_key(self.auth, self.renews(), &self.username, &self.host, self.port)
    }

    fn renews(&self) -> bool {
        self.auth == SmtpAuth::XOAuth2 && self.oauth.is_some()
    }

    /// Settings for a relay that has no password: used only when SMTP is not the channel, so
    /// any attempt over it fails at AUTH with the server's words.
    pub fn without_password(&self) -> SmtpSettings {
        SmtpSettings::new(self.host.clone(), self.port, self.security, self.username.clone(), Secret::new(""))
            .with_auth(self.auth)
            .with_ca(self.extra_ca_pem.clone())
    }

    /// The relay settings with the password from the keychain; `None` when no password is
    /// stored (the rep or admin has to provide one before anything can be sent).
    pub fn settings(&self, keychain: &Arc<Keychain>) -> Result<Option<SmtpSettings>, keychain::Error> {
        let Some(password) = keychain.get(&self.keychain_key())?.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        // A renewed token: the stored secret is the refresh token, which only the renewer sees.
        let (password, renewer) = match (&self.oauth, self.renews()) {
            (Some(oauth), true) => {
                let store: Arc<dyn SecretStore> = keychain.clone();
                let renewer = self
                    .renewer
                    .get_or_init(|| Arc::new(outbox::mail_oauth::TokenRenewer::new(oauth.clone(), store, self.keychain_key())))
                    .clone();
                (Secret::new(""), Some(renewer))
            }
            _ => (password, None),
        };
        let mut settings = SmtpSettings::new(self.host.clone(), self.port, self.security, self.username.clone(), password)
            .with_auth(self.auth)
            .with_ca(self.extra_ca_pem.clone());
        settings.renewer = renewer;
        Ok(Some(settings))
    }
}

/// A mail provider the tenant's reps can connect their mailbox at.
#[derive(Clone, Debug)]
pub struct MailboxRegistration {
    pub provider: mailbox::Provider,
    pub client_id: String,
    pub endpoints: mailbox::Endpoints,
}

impl MailboxRegistration {
    /// The desktop client's secret (Google's), from the keychain; `None` for Microsoft.
    pub fn client_secret(&self, keychain: &Keychain) -> Result<Option<Secret>, keychain::Error> {
        match self.provider {
            mailbox::Provider::Microsoft => Ok(None),
            mailbox::Provider::Google => keychain.get(&crate::secret_names::mailbox_client_secret_key(self.provider, &self.client_id)),
        }
    }
}

/// A configured tenant.
pub struct Tenant {
    pub environment: Environment,
    pub client_id: String,
    pub context_id: String,
    pub task_type_id: i64,
    pub relay: Relay,
    /// Present for the demo tenant: the running simulator.
    pub demo: Option<superoffice_sim::SimHandle>,
    /// The DNS server for the sender-domain check: the demo's own zone, else the system's.
    pub dns: Option<std::net::SocketAddr>,
    /// Where reps may connect their own mailbox (the company's app registrations).
    pub mailboxes: Vec<MailboxRegistration>,
    /// Present for the demo tenant: its simulated Microsoft 365 mailbox.
    pub demo_mailbox_sim: Option<mailbox_sim::MailboxSim>,
}

impl Tenant {
    /// The mail the demo's relay received and its simulated Microsoft 365 mailbox sent
    /// (empty for a real tenant).
    pub fn demo_mailbox(&self) -> Vec<crate::contract::MailboxMessage> {
        let Some(sim) = &self.demo else { return Vec::new() };
        let subject_of = |data: &[u8]| {
            mail_parser::MessageParser::default().parse(data).and_then(|p| p.subject().map(str::to_owned)).unwrap_or_default()
        };
        let from_mailbox = self.demo_mailbox_sim.iter().flat_map(|m| m.sent()).map(|m| crate::contract::MailboxMessage {
            id: m.id.clone(),
            received_at: time::OffsetDateTime::from(m.sent_at).format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            mail_from: DEMO_REP_ADDRESS.into(),
            rcpt_to: m.recipients.clone(),
            subject: subject_of(&m.mime),
            size: m.mime.len() as u32,
        });
        let mut all: Vec<crate::contract::MailboxMessage> = sim
            .mailbox()
            .messages()
            .into_iter()
            .map(|m| {
                let subject = subject_of(&m.data);
                crate::contract::MailboxMessage {
                    id: m.id,
                    received_at: m.received_at,
                    mail_from: m.mail_from,
                    rcpt_to: m.rcpt_to,
                    subject,
                    size: m.data.len() as u32,
                }
            })
            .collect();
        all.extend(from_mailbox);
        all
    }

    pub fn client_secret_key(&self) -> String {
        client_secret_key(&self.environment, &self.context_id, &self.client_id)
    }

    pub fn client_secret(&self, keychain: &Keychain) -> Result<Option<Secret>, keychain::Error> {
        get_moved(keychain, &self.client_secret_key(), &format!("superoffice-client-secret:{}:{}", self.context_id, self.client_id))
    }

    /// The system user, when its token and key are in the keychain (`so-outbox configure
    /// --system-user-token-stdin --system-user-key FILE`); its app token is the client secret.
    pub fn system_user(&self, keychain: &Keychain) -> Result<Option<superoffice::SystemUserConfig>, keychain::Error> {
        let (token_key, pem_key) = system_user_keys(&self.environment, &self.context_id);
        let token = get_moved(keychain, &token_key, &format!("superoffice-system-token:{}", self.context_id))?;
        let pem = get_moved(keychain, &pem_key, &format!("superoffice-system-key:{}", self.context_id))?;
        let (Some(token), Some(pem), Some(app_token)) = (token, pem, self.client_secret(keychain)?) else {
            return Ok(None);
        };
        Ok(Some(superoffice::SystemUserConfig {
            environment: self.environment.clone(),
            context_id: self.context_id.clone(),
            system_token: token.expose().to_owned(),
            private_key_pem: pem,
            app_token,
            serial: None,
        }))
    }

    pub fn resolver(&self) -> diagnostics::dns::Resolver {
        match self.dns {
            Some(addr) => diagnostics::dns::Resolver::at(addr),
            None => diagnostics::dns::Resolver::system(),
        }
    }
}

/// Starts the demo tenant. `SO_OUTBOX_DEMO_HTTP_PORT` fixes the simulator's port (tests read
/// the simulator's records over loopback); otherwise the port is random.
/// `SO_OUTBOX_DEMO_EXTRA_TASKS` seeds more drafts.
pub async fn start_demo(keychain: &Arc<Keychain>) -> Result<Tenant, String> {
    let mut config = superoffice_sim::SimConfig::demo();
    if let Some(p) = std::env::var("SO_OUTBOX_DEMO_HTTP_PORT").ok().and_then(|p| p.parse().ok()) {
        config.http_port = p;
    }
    let sim = superoffice_sim::start(config).await.map_err(|e| format!("the demo tenant could not start: {e}"))?;
    // `SO_OUTBOX_DEMO_EXTRA_TASKS=N` adds N drafted tasks (performance measurements, 10,000+).
    if let Some(n) = std::env::var("SO_OUTBOX_DEMO_EXTRA_TASKS").ok().and_then(|n| n.parse::<usize>().ok()) {
        sim.seed_tasks(n.min(100_000));
    }
    let (user, password) = sim.relay_credentials();
    let tenant = Tenant {
        environment: Environment::Custom(sim.base_url().to_owned()),
        client_id: sim.client().client_id.clone(),
        context_id: sim.context_id(),
        task_type_id: 7,
        relay: Relay {
            host: "localhost".into(),
            port: sim.smtp_addr().port(),
            security: SmtpSecurity::StartTls,
            username: user,
            auth: SmtpAuth::Password,
            oauth: None,
            extra_ca_pem: Some(sim.relay_ca_pem().to_owned()),
            renewer: Default::default(),
        },
        demo: None,
        dns: Some(sim.dns_addr()),
        mailboxes: Vec::new(),
        demo_mailbox_sim: None,
    };
    let store = keychain.clone();
    let secret = Secret::new(sim.client().client_secret.clone());
    let relay_password = Secret::new(password);
    let (secret_key, relay_key) = (tenant.client_secret_key(), tenant.relay.keychain_key());
    // The partner's system user, so the diagnostics show the seed's two columns.
    let reg = sim.system_user();
    let (system_token, system_key) = (Secret::new(reg.system_token), Secret::new(reg.private_key_pem));
    let (token_key, pem_key) = system_user_keys(&tenant.environment, &tenant.context_id);
    // Keychain calls block on D-Bus; keep them off the async workers.
    tokio::task::spawn_blocking(move || {
        store.set(&secret_key, &secret)?;
        store.set(&token_key, &system_token)?;
        store.set(&pem_key, &system_key)?;
        store.set(&relay_key, &relay_password)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    // "Connect a demo mailbox": a simulated Microsoft 365 mailbox of the demo's rep, on loopback.
    let mut mail_config = mailbox_sim::MailboxSimConfig::microsoft_demo();
    mail_config.user.address = DEMO_REP_ADDRESS.into();
    mail_config.user.display_name = "Anna Berger".into();
    let mail_sim = mailbox_sim::start(mail_config.clone()).await.map_err(|e| format!("the demo mailbox could not start: {e:?}"))?;
    let registration = MailboxRegistration {
        provider: mailbox::Provider::Microsoft,
        client_id: mail_config.client_id,
        endpoints: mailbox::Provider::Microsoft.endpoints_at(mail_sim.base_url(), mailbox::provider::MICROSOFT_ORGANIZATIONS),
    };
    tracing::info!(base = sim.base_url(), smtp = %sim.smtp_addr(), mailbox = mail_sim.base_url(), "demo tenant started");
    Ok(Tenant { demo: Some(sim), mailboxes: vec![registration], demo_mailbox_sim: Some(mail_sim), ..tenant })
}

/// The demo rep's address (the simulator's Anna Berger), which the demo mailbox shares.
pub(crate) const DEMO_REP_ADDRESS: &str = "anna.berger@roboplanet.example";

/// How long the rep has to finish signing in in the browser.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// A configured SuperOffice tenant (see `so-outbox configure`).
pub fn from_config(c: &crate::config::TenantConfig) -> Result<Tenant, String> {
    let extra_ca_pem = match &c.smtp.ca_file {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| format!("cannot read the relay CA {}: {e}", p.display()))?),
        None => None,
    };
    Ok(Tenant {
        environment: c.environment()?,
        client_id: c.client_id.clone(),
        context_id: c.context_id.clone(),
        task_type_id: c.task_type_id,
        relay: Relay {
            host: c.smtp.host.clone(),
            port: c.smtp.port,
            security: c.smtp.security,
            username: c.smtp.username.clone(),
            auth: c.smtp.auth,
            oauth: c.smtp.oauth.as_ref().map(crate::config::MailOAuthConfig::core),
            extra_ca_pem,
            renewer: Default::default(),
        },
        demo: None,
        dns: None,
        mailboxes: c
            .mailboxes
            .iter()
            .map(|m| MailboxRegistration { provider: m.provider, client_id: m.client_id.clone(), endpoints: m.endpoints() })
            .collect(),
        demo_mailbox_sim: None,
    })
}

#[cfg(test)]
mod tests {
    use keychain::{Keychain, Secret, SecretStore};

    /// The demo writes its own keychain entries (client secret, relay password, the partner's
    /// system user) and never one of a real tenant: the seed's tenant `Cust26720`, provisioned
    /// in the same keychain, keeps every entry byte for byte.
    #[tokio::test]
    async fn the_demo_leaves_a_real_tenants_keychain_entries_alone() {
        if !crate::tests::keychain_session() {
            return;
        }
        let service = format!("so-outbox-test-demo-{}", std::process::id());
        let keychain = std::sync::Arc::new(Keychain::open(&service).unwrap_or_else(|e| panic!("keychain: {e}")));
        // The seed's tenant, under the names of this version and of the version before (which
        // carried no environment, and whose demo used the context id Cust26720).
        let online = superoffice::Environment::Online;
        let (token_key, pem_key) = crate::secret_names::system_user_keys(&online, "Cust26720");
        let secret_key = crate::secret_names::client_secret_key(&online, "Cust26720", "so-outbox-demo");
        let real = [
            (token_key, Secret::new("RealApp-SystemToken-1234")),
            (pem_key, Secret::new("-----BEGIN PRIVATE KEY-----\nreal\n-----END PRIVATE KEY-----")),
            (secret_key, Secret::new("real-client-secret")),
            ("superoffice-system-token:Cust26720".to_owned(), Secret::new("OldName-SystemToken")),
            ("superoffice-client-secret:Cust26720:so-outbox-demo".to_owned(), Secret::new("old-name-secret")),
        ];
        for (k, v) in &real {
            keychain.set(k, v).unwrap_or_else(|e| panic!("{e}"));
        }
        let demo = super::start_demo(&keychain).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(!demo.context_id.starts_with("Cust"), "a context id no real tenant has: {}", demo.context_id);
        for (k, v) in &real {
            assert_eq!(keychain.get(k).unwrap_or_else(|e| panic!("{e}")).as_ref(), Some(v), "{k} changed");
        }
        let (demo_token, _) = crate::secret_names::system_user_keys(&demo.environment, &demo.context_id);
        assert!(keychain.get(&demo_token).unwrap_or_else(|e| panic!("{e}")).is_some(), "the demo's own entry");
        for (k, _) in &real {
            let _ = keychain.delete(k);
        }
        for k in [
            demo_token,
            crate::secret_names::system_user_keys(&demo.environment, &demo.context_id).1,
            demo.client_secret_key(),
            demo.relay.keychain_key(),
        ] {
            let _ = keychain.delete(&k);
        }
    }
}
