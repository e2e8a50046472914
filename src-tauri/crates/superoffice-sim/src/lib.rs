//! A faithful stand-in for SuperOffice CRM Online, for tests, benchmarks and the demo tenant.
//!
//! SuperOffice itself cannot be reached from the machines this project is built on, so this
//! crate implements the parts of it the app uses, from the documented shapes (see
//! `shared/reference/superoffice-api.md`): the OIDC provider of `{env}.superoffice.com/login`
//! (consent page, PKCE-checked token endpoint, JWKS, SuperOffice claims), the tenant state API,
//! the REST endpoints under `/{ctx}/api/v1/`, and a loopback mail relay (SMTP with STARTTLS and
//! AUTH) that plays the tenant's outgoing mail server in the demo ("Demo mailbox").
//!
//! The simulator never imports the client's types, and the client never imports these: a
//! misunderstanding of a shape on one side cannot hide behind the same misunderstanding on the
//! other. It is strict, built from SuperOffice's public documentation only (repository
//! SuperOfficeDocs/superoffice-docs, the page cited beside each rule): the OData listings know
//! only the archive providers' documented columns and operators (`rest/odata/`), the authorize
//! endpoint applies the registration's redirect rules (`redirect.rs`), the EMail agent refuses
//! what no mail server would take (`rest/email_agent.rs`), and undocumented routes answer 404.
//! Everything created, and every request received (`reqlog.rs`), is recorded and can be read by
//! tests at `GET /__sim/records` (not a SuperOffice endpoint).
//!
//! Tests steer it through [`SimHandle`] (or `/__sim/...` over HTTP): permission profiles
//! (`profiles/*.json`), injected faults, tampered id_tokens, expired tokens, counters, and the
//! partner's system-user registration.

mod answer;
pub mod browser;
mod conn;
mod control;
#[cfg(feature = "control")]
mod control_http;
mod data;
pub mod dns;
mod edge;
mod faults;
mod http;
mod oidc;
mod profiles;
mod redirect;
pub mod relay;
mod reqlog;
mod rest;
mod system_user;
mod tamper;
mod tls;
mod token;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

pub use data::Tenant;
pub use edge::Counters;
pub use faults::{Fault, FaultKind};
pub use profiles::{Override, Profile, RepProfile, SystemUserProfile};
pub use relay::{Mailbox, ReceivedMessage, RelayFault};
pub use reqlog::{ODataUse, RequestRecord};
pub use system_user::SystemUserRegistration;
pub use tamper::IdTokenTamper;
pub use tls::TestPki;

/// What went wrong starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not bind a loopback port: {0}")]
    Bind(#[from] std::io::Error),
    #[error("could not create keys or certificates: {0}")]
    Crypto(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The OAuth client the simulator knows (the app registration).
#[derive(Clone, Debug)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: String,
    /// The registration's allowed redirect URLs: each an exact URL or a regular expression
    /// the whole `redirect_uri` must match ("consider submitting a URL that incorporates a
    /// regular expression", `docs/en/developer-portal/create-app/config/redirects.md`). The
    /// Native app template adds [`NATIVE_APP_REDIRECT_RULE`]. This is the list at start;
    /// [`SimHandle::set_redirect_rules`] changes it and [`SimHandle::redirect_rules`] reads it.
    pub redirect_rules: Vec<String>,
    /// The code exchange demands the client secret even with PKCE. SuperOffice's code-exchange
    /// table marks `client_secret` required (`docs/en/authentication/online/auth-code-flow.md`)
    /// while the native-apps page lets the PKCE verifier replace it; the demo takes the strict
    /// reading, so its provider hands tokens only to the process holding this start's random
    /// secret (the app, which keeps it in the keychain), never to another local process that
    /// walks the consent page with a verifier of its own.
    pub secret_required: bool,
}

/// What the Native app template registers: "Adds `^http://127.0.0.1\:\d{4,10}$` as an allowed
/// redirect URL. You may add more." (`docs/en/developer-portal/create-app/native-app.md`).
/// A port, no path, no trailing slash.
pub const NATIVE_APP_REDIRECT_RULE: &str = r"^http://127.0.0.1\:\d{4,10}$";

/// How to start a simulator.
pub struct SimConfig {
    /// Port for the HTTP side on 127.0.0.1; 0 picks a free one.
    pub http_port: u16,
    /// Port for the mail relay on 127.0.0.1; 0 picks a free one.
    pub smtp_port: u16,
    pub tenant: Tenant,
    pub client: ClientRegistration,
}

impl SimConfig {
    /// The built-in demo tenant: the seed company's situation (profile `seed-feb-2026`: Email
    /// agent not granted to the app, archiving allowed), 25 drafted follow-ups, random client
    /// secret.
    pub fn demo() -> Self {
        SimConfig {
            http_port: 0,
            smtp_port: 0,
            tenant: data::demo_tenant(),
            client: ClientRegistration {
                client_id: "so-outbox-demo".into(),
                client_secret: format!("demo-secret-{:032x}", rand::random::<u128>()),
                redirect_rules: vec![NATIVE_APP_REDIRECT_RULE.to_owned()],
                secret_required: true,
            },
        }
    }
}

/// Shared simulator state.
pub(crate) struct Sim {
    pub tenant: Mutex<Tenant>,
    pub oidc: oidc::Provider,
    pub client: ClientRegistration,
    pub base_url: String,
    pub mailbox: Mailbox,
    /// The known profiles (built in, plus any loaded).
    pub profiles: Mutex<Vec<Profile>>,
    pub faults: faults::Faults,
    /// The node the tenant lives on: 1 = `n1`.
    pub node: AtomicU32,
    pub tamper: Mutex<Option<IdTokenTamper>>,
    pub counters: Mutex<Counters>,
    pub partner: system_user::Partner,
    /// Every request received (see `reqlog.rs`).
    pub requests: reqlog::RequestLog,
    /// `odata.nextLink` as an absolute URL instead of relative to the request.
    pub absolute_links: AtomicBool,
    /// The app registration's redirect rules, as changed at run time.
    pub redirect_rules: Mutex<Vec<String>>,
}

impl Sim {
    pub(crate) fn node_name(&self) -> String {
        edge::node_name(self.node.load(Ordering::SeqCst))
    }
    pub(crate) fn absolute_next_links(&self) -> bool {
        self.absolute_links.load(Ordering::SeqCst)
    }
}

/// A running simulator. Dropping it does not stop the servers; they live as long as the
/// tokio runtime that started them.
pub struct SimHandle {
    sim: Arc<Sim>,
    http_addr: SocketAddr,
    smtp_addr: SocketAddr,
    dns_addr: SocketAddr,
    zone: dns::Zone,
    pki: TestPki,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, which plays `https://{env}.superoffice.com`.
    pub fn base_url(&self) -> &str {
        &self.sim.base_url
    }
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }
    pub fn smtp_addr(&self) -> SocketAddr {
        self.smtp_addr
    }
    /// The loopback DNS server that answers for the rep's mail domain (SPF, DMARC, MX).
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns_addr
    }
    /// The DNS zone it serves; tests change it.
    pub fn dns_zone(&self) -> &dns::Zone {
        &self.zone
    }
    /// The tenant's context identifier, e.g. `Demo26720`.
    pub fn context_id(&self) -> String {
        lock(&self.sim.tenant).context_id.clone()
    }
    pub fn client(&self) -> &ClientRegistration {
        &self.sim.client
    }
    /// PEM of the CA that signed the relay's certificate (the client must trust it).
    pub fn relay_ca_pem(&self) -> &str {
        &self.pki.ca_pem
    }
    /// The relay's login (the rep's address) and password.
    pub fn relay_credentials(&self) -> (String, String) {
        self.sim.mailbox.credentials()
    }
    /// The mail provider's token endpoint, its client id for the app and the current refresh
    /// token, for renewing the relay's XOAUTH2 access token.
    pub fn mail_oauth(&self) -> (String, String, String) {
        (format!("{}/mail/oauth2/token", self.base_url()), http::MAIL_CLIENT_ID.to_owned(), self.sim.mailbox.refresh_token())
    }
    /// The OAuth access token the relay accepts for its login with `AUTH XOAUTH2`.
    pub fn relay_oauth_token(&self) -> String {
        self.sim.mailbox.oauth_token()
    }
    pub fn mailbox(&self) -> &Mailbox {
        &self.sim.mailbox
    }
    /// A copy of the tenant's records (documents, appointments...).
    pub fn tenant(&self) -> Tenant {
        lock(&self.sim.tenant).clone()
    }
}

/// Starts the HTTP side and the mail relay on loopback.
pub async fn start(config: SimConfig) -> Result<SimHandle> {
    let listener = conn::CuttableListener(tokio::net::TcpListener::bind(("127.0.0.1", config.http_port)).await?);
    let http_addr = listener.0.local_addr()?;
    let base_url = format!("http://127.0.0.1:{}", http_addr.port());
    let pki = TestPki::generate().map_err(|e| Error::Crypto(e.to_string()))?;
    let rep_email = config.tenant.rep().email.clone();
    let zone = dns::Zone::demo(rep_email.rsplit_once('@').map(|(_, d)| d).unwrap_or("example.com"));
    let dns_addr = dns::serve(zone.clone()).await?;
    let mailbox = Mailbox::new(rep_email, format!("relay-{:024x}", rand::random::<u128>()));
    let smtp_addr = relay::serve(("127.0.0.1", config.smtp_port), mailbox.clone(), pki.server_config()?).await?;
    let mut profiles = Profile::builtins();
    match profiles.iter_mut().find(|p| p.name == config.tenant.profile.name) {
        Some(p) => *p = config.tenant.profile.clone(),
        None => profiles.push(config.tenant.profile.clone()),
    }
    let rules = config.client.redirect_rules.clone();
    let sim = Arc::new(Sim {
        tenant: Mutex::new(config.tenant),
        oidc: oidc::Provider::new().map_err(Error::Crypto)?,
        client: config.client,
        base_url,
        mailbox,
        profiles: Mutex::new(profiles),
        faults: faults::Faults::default(),
        node: AtomicU32::new(1),
        tamper: Mutex::new(None),
        counters: Mutex::new(Counters::default()),
        partner: system_user::Partner::new().map_err(Error::Crypto)?,
        requests: reqlog::RequestLog::default(),
        absolute_links: AtomicBool::new(false),
        redirect_rules: Mutex::new(rules),
    });
    let app = http::router(sim.clone()).into_make_service_with_connect_info::<conn::ConnectionCutter>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "simulator HTTP server stopped");
        }
    });
    tracing::info!(%http_addr, %smtp_addr, "SuperOffice simulator listening");
    Ok(SimHandle { sim, http_addr, smtp_addr, dns_addr, zone, pki })
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
