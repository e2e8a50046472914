//! The tenant's outgoing mail server, played on loopback: SMTP submission with STARTTLS
//! required before AUTH (PLAIN, LOGIN, or XOAUTH2 with an access token), and every accepted message kept in a [`Mailbox`].
//!
//! This is what the demo tenant calls the "Demo mailbox": mail sent in the demo lands here and
//! nowhere else. Bytes after `DATA` are stored exactly as received, minus SMTP dot-stuffing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::lock;

/// Largest message accepted (advertised in `SIZE`).
const MAX_MESSAGE: usize = 25 * 1024 * 1024;
/// Longest command line accepted.
const MAX_LINE: usize = 4096;

/// One accepted message.
#[derive(Clone, Debug, Serialize)]
pub struct ReceivedMessage {
    pub id: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The login that submitted it.
    pub auth_user: String,
    pub tls: bool,
    /// The message bytes as received (dot-stuffing removed).
    #[serde(serialize_with = "as_base64")]
    pub data: Vec<u8>,
    pub received_at: String,
}

fn as_base64<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
}

/// The relay's store of accepted messages and its single login.
#[derive(Clone)]
pub struct Mailbox {
    inner: Arc<Mutex<MailboxInner>>,
}

/// A fault the relay plays on the next message(s), for tests and demos of the outcomes the
/// outbox must tell apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum RelayFault {
    /// `RCPT TO` answered with this reply (e.g. `550 5.1.1 No such user`): refused, not sent.
    RejectRcpt(String),
    /// The message is taken (kept in the mailbox) but the connection drops before the reply
    /// to the final dot: the sender cannot know whether it was delivered.
    DropAfterData,
}

struct MailboxInner {
    user: String,
    password: String,
    /// Faults still to play, each once, in order.
    faults: Vec<RelayFault>,
    /// The OAuth access token `AUTH XOAUTH2` accepts for the user.
    token: String,
    /// The refresh token the mail provider's token endpoint renews it with (rotated on use).
    refresh_token: String,
    messages: Vec<ReceivedMessage>,
}

impl Mailbox {
    pub fn new(user: String, password: String) -> Self {
        let token = format!("ya29.sim-{:032x}", rand::random::<u128>());
        let refresh_token = format!("1//sim-refresh-{:032x}", rand::random::<u128>());
        Mailbox {
            inner: Arc::new(Mutex::new(MailboxInner { user, password, token, refresh_token, faults: Vec::new(), messages: Vec::new() })),
        }
    }
    /// The refresh token the mail provider would have issued to the rep's app.
    pub fn refresh_token(&self) -> String {
        lock(&self.inner).refresh_token.clone()
    }
    /// The access token expires (a new one must be had from the token endpoint).
    pub fn expire_token(&self) {
        lock(&self.inner).token = format!("ya29.sim-{:032x}", rand::random::<u128>());
    }
    /// The refresh grant: a new access token and a rotated refresh token, when `refresh` is the
    /// current one.
    pub fn renew(&self, refresh: &str) -> Option<(String, String)> {
        let mut g = lock(&self.inner);
        if g.refresh_token != refresh {
            return None;
        }
        g.token = format!("ya29.sim-{:032x}", rand::random::<u128>());
        g.refresh_token = format!("1//sim-refresh-{:032x}", rand::random::<u128>());
        Some((g.token.clone(), g.refresh_token.clone()))
    }
    /// Plays `fault` on a coming message (each injected fault once, in order).
    pub fn inject(&self, fault: RelayFault) {
        lock(&self.inner).faults.push(fault);
    }
    pub fn faults(&self) -> Vec<RelayFault> {
        lock(&self.inner).faults.clone()
    }
    pub fn clear_faults(&self) {
        lock(&self.inner).faults.clear();
    }
    /// Takes the next fault if it is of the kind `matches` accepts.
    pub(crate) fn take_fault(&self, matches: impl Fn(&RelayFault) -> bool) -> Option<RelayFault> {
        let mut g = lock(&self.inner);
        let i = g.faults.iter().position(matches)?;
        Some(g.faults.remove(i))
    }
    /// The access token `AUTH XOAUTH2` accepts (as a mail provider would issue it).
    pub fn oauth_token(&self) -> String {
        lock(&self.inner).token.clone()
    }
    pub fn credentials(&self) -> (String, String) {
        let g = lock(&self.inner);
        (g.user.clone(), g.password.clone())
    }
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        lock(&self.inner).messages.clone()
    }
    fn check(&self, user: &str, password: &str) -> bool {
        let g = lock(&self.inner);
        g.user == user && g.password == password
    }
    fn check_token(&self, user: &str, token: &str) -> bool {
        let g = lock(&self.inner);
        g.user == user && g.token == token
    }
    /// A message handed over by another sender than an SMTP client of this relay (the
    /// SuperOffice EMail agent, which submits through the rep's outgoing server): kept like one
    /// received over SMTP, `auth_user` naming the submitter. Returns its id.
    pub(crate) fn deliver(&self, mail_from: &str, rcpt_to: Vec<String>, data: Vec<u8>, submitted_by: &str) -> String {
        self.push(ReceivedMessage {
            id: String::new(),
            mail_from: mail_from.to_owned(),
            rcpt_to,
            auth_user: submitted_by.to_owned(),
            tls: true,
            data,
            received_at: now_rfc3339(),
        })
    }
    fn push(&self, mut m: ReceivedMessage) -> String {
        let mut g = lock(&self.inner);
        m.id = format!("{:08X}", g.messages.len() + 1);
        let id = m.id.clone();
        g.messages.push(m);
        id
    }
}

/// Binds the relay and serves it in the background. Returns the bound address.
pub async fn serve(addr: impl ToSocketAddrs, mailbox: Mailbox, tls: Arc<rustls::ServerConfig>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let mailbox = mailbox.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let mut session = Session::default();
                match session.run(stream, &mailbox, false).await {
                    Ok(Next::StartTls(plain)) => match acceptor.accept(plain).await {
                        Ok(tls_stream) => {
                            session = Session { tls: true, ..Session::default() };
                            let _ = session.run(tls_stream, &mailbox, true).await;
                        }
                        Err(e) => tracing::debug!(error = %e, "relay TLS handshake failed"),
                    },
                    Ok(Next::Closed) => {}
                    Err(e) => tracing::debug!(error = %e, "relay session ended"),
                }
            });
        }
    });
    Ok(local)
}

#[derive(Default)]
struct Session {
    tls: bool,
    user: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

enum Next<S> {
    Closed,
    StartTls(S),
}

impl Session {
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: S, mailbox: &Mailbox, greeted: bool) -> std::io::Result<Next<S>> {
        let mut io = BufReader::new(stream);
        if !greeted {
            reply(&mut io, "220 localhost ESMTP so-outbox demo relay\r\n").await?;
        }
        loop {
            let Some(line) = read_line(&mut io).await? else { return Ok(Next::Closed) };
            let upper = line.to_ascii_uppercase();
            let verb = upper.split_whitespace().next().unwrap_or("");
            match verb {
                "EHLO" | "HELO" => {
                    let mut r = String::from("250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n");
                    r.push_str(&format!("250-SIZE {MAX_MESSAGE}\r\n"));
                    if self.tls {
                        r.push_str("250-AUTH PLAIN LOGIN XOAUTH2\r\n");
                    } else {
                        r.push_str("250-STARTTLS\r\n");
                    }
                    r.push_str("250 ENHANCEDSTATUSCODES\r\n");
                    reply(&mut io, &r).await?;
                }
                "STARTTLS" if !self.tls => {
                    reply(&mut io, "220 2.0.0 Ready to start TLS\r\n").await?;
                    // Anything the client pipelined before the handshake is dropped here.
                    return Ok(Next::StartTls(io.into_inner()));
                }
                "AUTH" if !self.tls => reply(&mut io, "530 5.7.0 Must issue a STARTTLS command first\r\n").await?,
                "AUTH" => match self.auth(&mut io, &line, mailbox).await? {
                    Some(u) => {
                        self.user = Some(u);
                        reply(&mut io, "235 2.7.0 Authentication successful\r\n").await?;
                    }
                    None => reply(&mut io, "535 5.7.8 Authentication credentials invalid\r\n").await?,
                },
                "MAIL" if self.user.is_none() => reply(&mut io, "530 5.7.0 Authentication required\r\n").await?,
                "MAIL" => {
                    self.mail_from = Some(angle(&line));
                    self.rcpt_to.clear();
                    reply(&mut io, "250 2.1.0 Ok\r\n").await?;
                }
                "RCPT" if self.mail_from.is_none() => reply(&mut io, "503 5.5.1 Need MAIL first\r\n").await?,
                "RCPT" => match mailbox.take_fault(|f| matches!(f, RelayFault::RejectRcpt(_))) {
                    Some(RelayFault::RejectRcpt(r)) => reply(&mut io, &format!("{}\r\n", r.trim_end())).await?,
                    _ => {
                        self.rcpt_to.push(angle(&line));
                        reply(&mut io, "250 2.1.5 Ok\r\n").await?;
                    }
                },
                "DATA" if self.rcpt_to.is_empty() => reply(&mut io, "503 5.5.1 Need RCPT first\r\n").await?,
                "DATA" => {
                    reply(&mut io, "354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                    match read_data(&mut io).await? {
                        Some(data) => {
                            let id = mailbox.push(ReceivedMessage {
                                id: String::new(),
                                mail_from: self.mail_from.take().unwrap_or_default(),
                                rcpt_to: std::mem::take(&mut self.rcpt_to),
                                auth_user: self.user.clone().unwrap_or_default(),
                                tls: self.tls,
                                data,
                                received_at: now_rfc3339(),
                            });
                            if mailbox.take_fault(|f| *f == RelayFault::DropAfterData).is_some() {
                                return Ok(Next::Closed);
                            }
                            reply(&mut io, &format!("250 2.0.0 Ok: queued as {id}\r\n")).await?;
                        }
                        None => {
                            self.mail_from = None;
                            self.rcpt_to.clear();
                            reply(&mut io, "552 5.3.4 Message too big\r\n").await?;
                        }
                    }
                }
                "RSET" => {
                    self.mail_from = None;
                    self.rcpt_to.clear();
                    reply(&mut io, "250 2.0.0 Ok\r\n").await?;
                }
                "NOOP" => reply(&mut io, "250 2.0.0 Ok\r\n").await?,
                "QUIT" => {
                    reply(&mut io, "221 2.0.0 Bye\r\n").await?;
                    return Ok(Next::Closed);
                }
                _ => reply(&mut io, "502 5.5.2 Command not recognized\r\n").await?,
            }
        }
    }

    /// The authenticated user, or `None` (the caller answers 535).
    async fn auth<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        io: &mut BufReader<S>,
        line: &str,
        mailbox: &Mailbox,
    ) -> std::io::Result<Option<String>> {
        Ok(match self.auth_exchange(io, line, mailbox).await? {
            Some(Login::Password(u, p)) if mailbox.check(&u, &p) => Some(u),
            Some(Login::Token(u)) => Some(u),
            _ => None,
        })
    }

    /// Reads the credentials of `AUTH PLAIN`/`LOGIN`; `AUTH XOAUTH2` is checked here (a bad
    /// token gets the provider's error challenge first, as Google and Microsoft do).
    async fn auth_exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        io: &mut BufReader<S>,
        line: &str,
        mailbox: &Mailbox,
    ) -> std::io::Result<Option<Login>> {
        let mut parts = line.split_whitespace().skip(1);
        let mech = parts.next().unwrap_or("").to_ascii_uppercase();
        let initial = parts.next().map(str::to_owned);
        let b64 = base64::engine::general_purpose::STANDARD;
        match mech.as_str() {
            "PLAIN" => {
                let resp = match initial {
                    Some(r) => r,
                    None => {
                        reply(io, "334 \r\n").await?;
                        read_line(io).await?.unwrap_or_default()
                    }
                };
                let Ok(raw) = b64.decode(resp.trim()) else { return Ok(None) };
                let mut fields = raw.split(|b| *b == 0).map(|f| String::from_utf8_lossy(f).into_owned());
                let _authz = fields.next();
                Ok(fields.next().zip(fields.next()).map(|(u, p)| Login::Password(u, p)))
            }
            "LOGIN" => {
                reply(io, "334 VXNlcm5hbWU6\r\n").await?;
                let u = read_line(io).await?.unwrap_or_default();
                reply(io, "334 UGFzc3dvcmQ6\r\n").await?;
                let p = read_line(io).await?.unwrap_or_default();
                let dec = |s: &str| b64.decode(s.trim()).ok().map(|v| String::from_utf8_lossy(&v).into_owned());
                Ok(dec(&u).zip(dec(&p)).map(|(u, p)| Login::Password(u, p)))
            }
            "XOAUTH2" => {
                let resp = match initial {
                    Some(r) => r,
                    None => {
                        reply(io, "334 \r\n").await?;
                        read_line(io).await?.unwrap_or_default()
                    }
                };
                // user={user}\x01auth=Bearer {token}\x01\x01
                let raw = b64.decode(resp.trim()).map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
                let field = |k: &str| raw.split('\x01').find_map(|f| f.strip_prefix(k)).map(str::to_owned);
                let (user, token) = (field("user="), field("auth=Bearer "));
                if let (Some(u), Some(t)) = (&user, &token) {
                    if mailbox.check_token(u, t) {
                        return Ok(Some(Login::Token(u.clone())));
                    }
                }
                let error = b64.encode(r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#);
                reply(io, &format!("334 {error}\r\n")).await?;
                let _ = read_line(io).await?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

/// What the client presented.
enum Login {
    /// User and password, to be checked.
    Password(String, String),
    /// A user whose XOAUTH2 token was accepted.
    Token(String),
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, text: &str) -> std::io::Result<()> {
    io.get_mut().write_all(text.as_bytes()).await?;
    io.get_mut().flush().await
}

/// One CRLF-terminated command line, without the terminator; `None` at end of stream.
async fn read_line<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = (&mut *io).take(MAX_LINE as u64).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// The message after `354`, up to the lone dot; `None` when it is too big (the rest is read
/// and discarded so the session can go on).
async fn read_data<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut too_big = false;
    loop {
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed during DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            // RFC 5321 §4.1.1.4: the first CRLF of <CRLF>.<CRLF> ends the last line, so it
            // stays part of the message.
            return Ok(if too_big { None } else { Some(data) });
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        if data.len() + content.len() > MAX_MESSAGE {
            too_big = true;
            data.clear();
        } else if !too_big {
            data.extend_from_slice(content);
        }
    }
}

use tokio::io::AsyncReadExt as _;

fn angle(line: &str) -> String {
    match (line.find('<'), line.rfind('>')) {
        (Some(a), Some(b)) if b > a => line[a + 1..b].to_owned(),
        _ => line.split(':').nth(1).unwrap_or("").trim().to_owned(),
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
