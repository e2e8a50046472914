//! Shared helpers for the simulator's integration tests: a client as the app would be (no
//! automatic redirects), PKCE pairs, a loopback listener that records what the browser brought
//! back, sign-in through the consent page for each provider, and a small SMTP client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use mailbox_sim::{browser, MailboxSim, MailboxSimConfig};
use serde_json::Value;
use sha2::Digest;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub async fn microsoft() -> MailboxSim {
    mailbox_sim::start(MailboxSimConfig::microsoft_demo()).await.expect("simulator")
}

pub async fn google() -> MailboxSim {
    mailbox_sim::start(MailboxSimConfig::google_demo()).await.expect("simulator")
}

/// A fresh verifier (43 characters) and its S256 challenge.
pub fn pkce() -> (String, String) {
    let raw: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A loopback HTTP listener that records the request lines it gets (the app's redirect
/// listener).
pub struct Listener {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<String>>>,
}

pub async fn listener(host: &str) -> Listener {
    let l = tokio::net::TcpListener::bind((host, 0)).await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = l.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let first = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_owned();
            s.lock().unwrap().push(first);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").await;
        }
    });
    Listener { port, seen }
}

pub fn query_of(url: &str) -> Vec<(String, String)> {
    let u = url::Url::parse(url).expect("url");
    u.query_pairs().into_owned().collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

pub fn authorize_url(base: &str, path: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{base}{path}")).expect("url");
    u.query_pairs_mut().extend_pairs(pairs);
    u.to_string()
}

pub const MS_SCOPES: &str = "openid profile email offline_access User.Read Mail.Send Mail.ReadWrite https://outlook.office.com/SMTP.Send";

/// Microsoft: authorize (through the consent page) and redeem; returns the token response.
pub async fn ms_sign_in(sim: &MailboxSim, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let redirect = "http://localhost:53682";
    let url = authorize_url(
        sim.base_url(),
        "/organizations/oauth2/v2.0/authorize",
        &[
            ("client_id", &MailboxSimConfig::microsoft_demo().client_id),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "s1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let landed = browser::consent(&url, true).await.expect("consent");
    let code = param(&landed, "code").expect("code");
    ms_token(sim, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect), ("code_verifier", &verifier)])
        .await
        .1
}

pub async fn ms_token(sim: &MailboxSim, form: &[(&str, &str)]) -> (u16, Value) {
    let id = MailboxSimConfig::microsoft_demo().client_id;
    let mut all = vec![("client_id", id.as_str())];
    all.extend_from_slice(form);
    let r = http().post(format!("{}/organizations/oauth2/v2.0/token", sim.base_url())).form(&all).send().await.expect("token");
    (r.status().as_u16(), r.json().await.expect("json"))
}

/// A Graph access token for the demo user (the first resource of [`MS_SCOPES`] is Graph).
pub async fn graph_token(sim: &MailboxSim) -> String {
    ms_sign_in(sim, MS_SCOPES).await["access_token"].as_str().expect("access").to_owned()
}

pub const GOOGLE_SEND: &str = "https://www.googleapis.com/auth/gmail.send";
pub const GOOGLE_READ: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const GOOGLE_FULL: &str = "https://mail.google.com/";

/// Google: authorize (through the consent page) and redeem; returns the token response.
pub async fn google_sign_in(sim: &MailboxSim, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let redirect = "http://127.0.0.1:53682";
    let cfg = MailboxSimConfig::google_demo();
    let url = authorize_url(
        sim.base_url(),
        "/o/oauth2/v2/auth",
        &[
            ("client_id", cfg.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "g1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let landed = browser::consent(&url, true).await.expect("consent");
    let code = param(&landed, "code").expect("code");
    google_token(sim, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect), ("code_verifier", &verifier)])
        .await
        .1
}

pub async fn google_token(sim: &MailboxSim, form: &[(&str, &str)]) -> (u16, Value) {
    let cfg = MailboxSimConfig::google_demo();
    let secret = cfg.client_secret.clone().expect("secret");
    let mut all = vec![("client_id", cfg.client_id.as_str()), ("client_secret", secret.as_str())];
    all.extend_from_slice(form);
    let r = http().post(format!("{}/token", sim.base_url())).form(&all).send().await.expect("token");
    (r.status().as_u16(), r.json().await.expect("json"))
}

/// The claims of a JWT, unverified.
pub fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

/// An SMTP conversation over STARTTLS (trusting the simulator's CA).
pub struct Smtp {
    io: BufReader<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
}

impl Smtp {
    pub async fn connect(sim: &MailboxSim) -> Smtp {
        use rustls::pki_types::pem::PemObject;
        let tcp = tokio::net::TcpStream::connect(sim.smtp_addr()).await.expect("connect");
        let mut plain = BufReader::new(tcp);
        read_reply(&mut plain).await;
        plain.get_mut().write_all(b"EHLO test\r\n").await.expect("ehlo");
        let ehlo = read_reply(&mut plain).await;
        assert!(ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"), "{ehlo}");
        plain.get_mut().write_all(b"AUTH XOAUTH2\r\n").await.expect("auth");
        assert!(read_reply(&mut plain).await.starts_with("530"), "AUTH before STARTTLS is refused");
        plain.get_mut().write_all(b"STARTTLS\r\n").await.expect("starttls");
        assert!(read_reply(&mut plain).await.starts_with("220"));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(sim.smtp_ca_pem().as_bytes()).expect("pem")).expect("root");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let tls = connector.connect(name, plain.into_inner()).await.expect("tls");
        let mut s = Smtp { io: BufReader::new(tls) };
        let ehlo = s.cmd("EHLO test").await;
        assert!(ehlo.contains("XOAUTH2"), "{ehlo}");
        s
    }

    /// Sends a line; returns the whole reply (all lines).
    pub async fn cmd(&mut self, line: &str) -> String {
        self.io.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.expect("write");
        read_reply(&mut self.io).await
    }

    pub async fn data(&mut self, message: &str) -> String {
        let r = self.cmd("DATA").await;
        if !r.starts_with("354") {
            return r;
        }
        let mut body = message.replace("\r\n.", "\r\n..");
        body.push_str(".\r\n");
        self.io.get_mut().write_all(body.as_bytes()).await.expect("data");
        read_reply(&mut self.io).await
    }
}

pub fn xoauth2(user: &str, token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

async fn read_reply<S: tokio::io::AsyncRead + Unpin>(io: &mut BufReader<S>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await.expect("read") == 0 {
            return all;
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return all;
        }
    }
}
