//! One SMTP submission, driven step by step so that every failure is classified by how far it
//! got (reliability-security.md §3.1):
//!
//! | where it failed                                   | outcome                         |
//! |---------------------------------------------------|---------------------------------|
//! | connect, TLS, EHLO, AUTH, MAIL, RCPT, `DATA` cmd  | not sent: 4xx/network retry, 5xx final |
//! | 4xx / 5xx after the final dot                     | not accepted: retry / final     |
//! | 250 after the final dot                           | sent (reply kept)               |
//! | connection lost or timeout after `354`            | **unknown**: the rep decides    |
//!
//! TLS is always required: implicit TLS (465) or STARTTLS that must succeed (587). There is
//! no plaintext and no opportunistic mode. Credentials are sent only after TLS. The wait for
//! the reply to the final dot is 10 minutes (RFC 5321 §4.5.3.2), not lettre's 60 s.

use std::time::Duration;

use keychain::Secret;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

pub use crate::relay::{Outcome, SmtpAuth, SmtpSecurity, SmtpSettings, DATA_TERMINATION_TIMEOUT};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Sends `bytes` (a message formatted by lettre) to `envelope`. `on_data_started` runs after
/// the server's `354` and before the first body byte; it must make that fact durable.
pub async fn submit<F, Fut>(settings: &SmtpSettings, envelope: &Envelope, bytes: &[u8], on_data_started: F) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut conn = match open(settings).await {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut options = vec![];
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Outcome::Refused("the relay does not accept 8-bit messages (no 8BITMIME)".into());
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if envelope.from().into_iter().chain(envelope.to()).any(|a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii()) {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Outcome::Refused("the relay does not accept international addresses (no SMTPUTF8)".into());
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if let Err(o) = step(conn.command(Mail::new(envelope.from().cloned(), options)), "MAIL FROM").await {
        quit_briefly(&mut conn).await;
        return o;
    }
    for rcpt in envelope.to() {
        if let Err(o) = step(conn.command(Rcpt::new(rcpt.clone(), vec![])), "RCPT TO").await {
            quit_briefly(&mut conn).await;
            return o;
        }
    }
    match step(conn.command(Data), "DATA").await {
        Err(o) => {
            quit_briefly(&mut conn).await;
            return o;
        }
        // Only 354 lets the body go: any other positive reply means the dialogue is out of step.
        Ok(r) if r.code().to_string() != "354" => {
            quit_briefly(&mut conn).await;
            return Outcome::NotAccepted(format!("DATA: unexpected reply {}; nothing was sent", reply_text(&r)));
        }
        Ok(_) => {}
    }
    if !on_data_started().await {
        // Could not record that DATA began: stop before any body byte leaves. After 354 a QUIT
        // would be read as message text, so the connection is just dropped (the server
        // discards an unterminated message).
        drop(conn);
        return Outcome::NotAccepted("the outbox could not record the attempt; nothing was sent".into());
    }
    let outcome = match tokio::time::timeout(settings.data_timeout, conn.message(bytes)).await {
        Ok(Ok(reply)) if reply.code().to_string().starts_with('2') => Outcome::Accepted(reply_text(&reply)),
        // A positive but not final reply after the dot: out of step, so we cannot know.
        Ok(Ok(reply)) => Outcome::Unknown(format!("unexpected reply after the message: {}", reply_text(&reply))),
        Ok(Err(e)) if e.is_permanent() => Outcome::Refused(error_text(&e)),
        Ok(Err(e)) if e.is_transient() => Outcome::NotAccepted(error_text(&e)),
        Ok(Err(e)) => Outcome::Unknown(format!("the connection failed after the message was sent: {}", error_text(&e))),
        Err(_) => {
            Outcome::Unknown(format!("no reply from the relay within {} s after the message was sent", settings.data_timeout.as_secs()))
        }
    };
    if matches!(outcome, Outcome::Accepted(_)) {
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.quit()).await;
    }
    outcome
}

/// Connects, secures and authenticates. Every failure here is before DATA.
async fn open(s: &SmtpSettings) -> Result<AsyncSmtpConnection, Outcome> {
    let hello = ClientId::Domain(s.username.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_else(|| "localhost".into()));
    // The connection and TLS are ours (`tls`: TCP_NODELAY, the same verification lettre does);
    // STARTTLS is negotiated by `starttls` (lettre would act on bytes injected before the
    // upgrade). lettre speaks SMTP on the encrypted stream.
    let stream = match s.security {
        SmtpSecurity::StartTls => crate::starttls::connect(s, &hello.to_string(), CONNECT_TIMEOUT).await?,
        SmtpSecurity::ImplicitTls => crate::tls::connect_implicit(s, CONNECT_TIMEOUT).await?,
    };
    let connect = AsyncSmtpConnection::connect_with_transport(stream, &hello);
    let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(5), connect).await {
        Ok(Ok(c)) => c,
        // The stream is encrypted already: lettre reads the greeting and sends EHLO inside TLS.
        Ok(Err(e)) if !e.is_permanent() && !is_tls_failure(&e) => {
            let way = match s.security {
                SmtpSecurity::StartTls => "STARTTLS",
                SmtpSecurity::ImplicitTls => "implicit TLS",
            };
            return Err(Outcome::NotAccepted(format!("{way} with {}: the greeting or EHLO inside TLS failed: {}", s.host, error_text(&e))));
        }
        Ok(Err(e)) if e.is_tls() || is_tls_failure(&e) => {
            return Err(Outcome::Refused(format!("TLS with {} failed: {}", s.host, error_text(&e))))
        }
        Ok(Err(e)) if e.is_permanent() => return Err(Outcome::Refused(error_text(&e))),
        Ok(Err(e)) => return Err(Outcome::NotAccepted(format!("could not connect to {}:{}: {}", s.host, s.port, error_text(&e)))),
        Err(_) => return Err(Outcome::NotAccepted(format!("connecting to {}:{} timed out", s.host, s.port))),
    };
    let authenticated = match s.auth {
        SmtpAuth::Password => {
            let creds = Credentials::new(s.username.clone(), s.password.expose().to_owned());
            step(conn.auth(s.auth.mechanisms(), &creds), "AUTH").await.map(drop)
        }
        SmtpAuth::XOAuth2 => match &s.renewer {
            None => xoauth2(&mut conn, &s.username, &s.password).await,
            Some(renewer) => renewed_xoauth2(&mut conn, &s.username, renewer).await,
        },
    };
    if let Err(o) = authenticated {
        quit_briefly(&mut conn).await;
        return Err(o);
    }
    Ok(conn)
}

/// `AUTH XOAUTH2` (Google's and Microsoft's documented SASL exchange). Not lettre's: a token
/// the server does not accept is answered with a `334` error challenge by Google (JSON with the
/// status), which lettre reports as an internal client error that looks transient; here the
/// exchange is finished (an empty line) and the refusal is final, with the server's words.
async fn xoauth2(conn: &mut AsyncSmtpConnection, user: &str, token: &Secret) -> Result<(), Outcome> {
    use base64::Engine as _;
    /// A command line as is (lettre writes `Display` of a command, CRLF included).
    struct Line(String);
    impl std::fmt::Display for Line {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    if !conn.server_info().supports_auth_mechanism(Mechanism::Xoauth2) {
        return Err(Outcome::Refused("AUTH: the relay does not offer XOAUTH2; use a password (or app password) instead".into()));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let initial = b64.encode(format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()));
    let r = step(conn.command(Line(format!("AUTH XOAUTH2 {initial}\r\n"))), "AUTH XOAUTH2").await?;
    if r.code().severity != lettre::transport::smtp::response::Severity::PositiveIntermediate {
        return Ok(());
    }
    // An error challenge: base64 JSON such as {"status":"401","schemes":"bearer",...}.
    let detail =
        r.first_line().and_then(|l| b64.decode(l.trim()).ok()).map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
    let end = step(conn.command(Line("\r\n".into())), "AUTH XOAUTH2").await;
    let words = match end {
        Err(Outcome::Refused(w) | Outcome::NotAccepted(w)) => w,
        _ => "AUTH XOAUTH2: refused".into(),
    };
    let status = serde_json::from_str::<serde_json::Value>(&detail).ok().and_then(|j| j["status"].as_str().map(str::to_owned));
    Err(Outcome::Refused(match status {
        Some(s) => format!("{words} (the mail provider answered status {s}: the access token is expired or lacks the mail scope)"),
        None => words,
    }))
}

/// XOAUTH2 with a renewed token; a token the relay refuses (revoked early, or the clock is
/// off) is renewed once more and tried again on the same connection (SMTP allows another AUTH
/// after a 535; nothing has been sent yet).
async fn renewed_xoauth2(conn: &mut AsyncSmtpConnection, user: &str, renewer: &crate::mail_oauth::TokenRenewer) -> Result<(), Outcome> {
    use crate::mail_oauth::RenewError;
    let outcome = |e: RenewError| match e {
        RenewError::Refused(w) => Outcome::Refused(format!("AUTH XOAUTH2: {w}")),
        RenewError::Unavailable(w) => Outcome::NotAccepted(format!("AUTH XOAUTH2: {w}")),
    };
    let token = renewer.access_token(false).await.map_err(outcome)?;
    match xoauth2(conn, user, &token).await {
        Err(Outcome::Refused(_)) => {
            let token = renewer.access_token(true).await.map_err(outcome)?;
            xoauth2(conn, user, &token).await
        }
        other => other,
    }
}

/// Whether a rustls error (a certificate that cannot be verified, a failed handshake) is in
/// the error's chain: lettre reports those as connection errors, but they are configuration
/// faults that retrying cannot fix.
fn is_tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// Ends a session before DATA: QUIT, but never wait long for the reply.
async fn quit_briefly(conn: &mut AsyncSmtpConnection) {
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.abort()).await;
}

/// A command before DATA: any failure means the message was not sent.
async fn step<T>(fut: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>, what: &str) -> Result<T, Outcome> {
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) if e.is_permanent() => Err(Outcome::Refused(format!("{what}: {}", error_text(&e)))),
        Ok(Err(e)) => Err(Outcome::NotAccepted(format!("{what}: {}", error_text(&e)))),
        Err(_) => Err(Outcome::NotAccepted(format!("{what}: the relay did not answer in time"))),
    }
}

fn reply_text(r: &lettre::transport::smtp::response::Response) -> String {
    format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" "))
}

/// lettre's error text (status and server words). It never contains credentials: AUTH
/// failures carry only the server's reply.
fn error_text(e: &lettre::transport::smtp::Error) -> String {
    e.to_string()
}

/// What a relay check found, without sending anything: connect, TLS (and its certificate),
/// EHLO capabilities, AUTH, and whether `MAIL FROM` with the rep's address is accepted (then
/// `RSET` and `QUIT`). Credentials are only ever sent after TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Each step as it happened, e.g. "TLS: ok", "AUTH: 535 ...".
    pub steps: Vec<String>,
    /// `None` when every step passed; otherwise why it stopped.
    pub failure: Option<String>,
}

/// Checks the relay for `from` without sending a message.
pub async fn probe(settings: &SmtpSettings, from: &str) -> Probe {
    let mut steps = vec![format!(
        "connect {}:{} with {}",
        settings.host,
        settings.port,
        match settings.security {
            SmtpSecurity::ImplicitTls => "implicit TLS",
            SmtpSecurity::StartTls => "STARTTLS (required)",
        }
    )];
    let mut conn = match open(settings).await {
        Ok(c) => c,
        Err(o) => {
            return Probe { steps, failure: Some(o.into_text()) };
        }
    };
    steps.push("TLS: certificate valid, encrypted".into());
    steps.push(format!("EHLO: {}", conn.server_info()));
    steps.push(match settings.auth {
        SmtpAuth::Password => "AUTH: accepted".into(),
        SmtpAuth::XOAuth2 => "AUTH XOAUTH2: accepted".into(),
    });
    let sender = match from.parse::<lettre::Address>() {
        Ok(a) => a,
        Err(e) => return Probe { steps, failure: Some(format!("the sender address {from:?} is not valid: {e}")) },
    };
    let failure = match step(conn.command(Mail::new(Some(sender), vec![])), "MAIL FROM").await {
        Ok(r) => {
            steps.push(format!("MAIL FROM:<{from}>: {}", reply_text(&r)));
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.command(lettre::transport::smtp::commands::Rset)).await;
            None
        }
        Err(o) => Some(o.into_text()),
    };
    quit_briefly(&mut conn).await;
    Probe { steps, failure }
}
