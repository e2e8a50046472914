//! The SMTP submission port: STARTTLS, then `AUTH XOAUTH2` with an access token this simulator
//! issued (initial-response and `334` forms), then one or more messages, answered in the
//! provider's words — Exchange Online's (microsoft.md §4.2–4.3) or Gmail's (google.md S1–S4).
//! Accepted messages go to the same mailbox as the API sends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::mailstore::Message;
use crate::scopes::{GMAIL_FULL, OUTLOOK};
use crate::state::{lock, random_token, Controls};
use crate::{graph_json, mime, Provider, Sim, Via};

const MAX_LINE: usize = 4096;
/// Gmail's EHLO `SIZE 35882577` (S1, 3P). Exchange's value is not in the rule book (UNCONFIRMED):
/// 36 MiB is used.
const GOOGLE_SIZE: usize = 35_882_577;
const MICROSOFT_SIZE: usize = 37_748_736;
/// [SMTPIMP]: at most 3 concurrent connections per mailbox.
const MS_MAX_SESSIONS: usize = 3;

pub async fn serve(sim: Arc<Sim>, tls: Arc<rustls::ServerConfig>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let local = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let sessions = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (sim, acceptor, sessions) = (sim.clone(), acceptor.clone(), sessions.clone());
            tokio::spawn(async move {
                let mut s = Session { sim, sessions, tls: false, user: None, from: None, rcpt: Vec::new(), counted: false };
                match s.run(stream, false).await {
                    Ok(Some(plain)) => match acceptor.accept(plain).await {
                        Ok(tls_stream) => {
                            s.tls = true;
                            let _ = s.run(tls_stream, true).await;
                        }
                        Err(e) => tracing::debug!(error = %e, "SMTP TLS handshake failed"),
                    },
                    Ok(None) => {}
                    Err(e) => tracing::debug!(error = %e, "SMTP session ended"),
                }
                if s.counted {
                    s.sessions.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    Ok(local)
}

struct Session {
    sim: Arc<Sim>,
    sessions: Arc<AtomicUsize>,
    tls: bool,
    user: Option<String>,
    from: Option<String>,
    rcpt: Vec<String>,
    /// This session holds one of the mailbox's concurrent-connection slots.
    counted: bool,
}

fn google_id() -> String {
    random_token(9)
}

impl Session {
    fn ms(&self) -> bool {
        self.sim.config.provider == Provider::Microsoft
    }

    /// Gmail ends every reply with `<id> - gsmtp` (SMTPE).
    fn g(&self, text: &str) -> String {
        format!("{text} {} - gsmtp\r\n", google_id())
    }

    /// Runs until QUIT/EOF (`None`) or STARTTLS (`Some(stream)` to wrap).
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: S, greeted: bool) -> std::io::Result<Option<S>> {
        let mut io = BufReader::new(stream);
        if !greeted {
            let hello = if self.ms() {
                format!(
                    "220 AM0PR04CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at {}\r\n",
                    mime::date(time::OffsetDateTime::now_utc())
                )
            } else {
                format!("220 smtp.gmail.com ESMTP {} - gsmtp\r\n", google_id())
            };
            reply(&mut io, &hello).await?;
        }
        loop {
            let Some(line) = read_line(&mut io).await? else { return Ok(None) };
            let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" | "HELO" => reply(&mut io, &self.ehlo()).await?,
                "STARTTLS" if !self.tls => {
                    reply(&mut io, "220 2.0.0 Ready to start TLS\r\n").await?;
                    return Ok(Some(io.into_inner()));
                }
                // RFC 3207 §4: AUTH only after STARTTLS (S1, [SMTPAUTH] port 587 with STARTTLS).
                "AUTH" if !self.tls => reply(&mut io, "530 5.7.0 Must issue a STARTTLS command first\r\n").await?,
                "AUTH" => {
                    let answer = self.auth(&mut io, &line).await?;
                    reply(&mut io, &answer).await?;
                }
                "MAIL" | "RCPT" | "DATA" if self.user.is_none() => {
                    // Exchange's "5.7.57 Client not authenticated" is 3P (UNCONFIRMED); Gmail's
                    // `530-5.7.0 Authentication Required` likewise.
                    let r = if self.ms() {
                        "530 5.7.57 Client not authenticated to send mail.\r\n".to_owned()
                    } else {
                        self.g("530 5.7.0 Authentication Required.")
                    };
                    reply(&mut io, &r).await?;
                }
                "MAIL" => {
                    let from = angle(&line);
                    let own = from.eq_ignore_ascii_case(&self.sim.config.user.address);
                    if self.ms() && !own {
                        // Send-as denied (3P text, UNCONFIRMED).
                        reply(&mut io, "550 5.7.60 SMTP; Client does not have permissions to send as this sender\r\n").await?;
                    } else {
                        self.from = Some(from);
                        self.rcpt.clear();
                        reply(&mut io, if self.ms() { "250 2.1.0 Sender OK\r\n" } else { "250 2.1.0 OK - gsmtp\r\n" }).await?;
                    }
                }
                "RCPT" if self.from.is_none() => reply(&mut io, "503 5.5.1 Bad sequence of commands\r\n").await?,
                "RCPT" => {
                    // [MR] 500 recipients (Exchange); WSL 100 via SMTP, SMTPE `452 4.5.3`.
                    let max = if self.ms() { 500 } else { 100 };
                    if self.rcpt.len() >= max {
                        let r = if self.ms() {
                            "452 4.5.3 Too many recipients\r\n".to_owned()
                        } else {
                            self.g("452 4.5.3 Your message has too many recipients.")
                        };
                        reply(&mut io, &r).await?;
                    } else {
                        self.rcpt.push(angle(&line));
                        reply(&mut io, if self.ms() { "250 2.1.5 Recipient OK\r\n" } else { "250 2.1.5 OK - gsmtp\r\n" }).await?;
                    }
                }
                "DATA" if self.rcpt.is_empty() => reply(&mut io, "503 5.5.1 Need RCPT command first\r\n").await?,
                "DATA" => {
                    if self.sim.store.admit_send().is_err() {
                        if self.ms() {
                            // [SMTPIMP]/[QA261878]: over the rate via SMTP, messages "will be
                            // rejected and the client will need to retry"; 5.2.2 submission quota
                            // (reference NDR code; text UNCONFIRMED).
                            reply(
                                &mut io,
                                "554 5.2.2 Submission quota exceeded; STOREDRV.Submission.Exception:SubmissionQuotaExceededException\r\n",
                            )
                            .await?;
                        } else {
                            // SMTPE / S3: the daily limit, answered to DATA (3P live text).
                            let r = format!("550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 {} - gsmtp\r\n", google_id());
                            reply(&mut io, &r).await?;
                        }
                        self.from = None;
                        self.rcpt.clear();
                        continue;
                    }
                    let go = if self.ms() { "354 Start mail input; end with <CRLF>.<CRLF>\r\n".to_owned() } else { self.g("354 Go ahead") };
                    reply(&mut io, &go).await?;
                    let max = if self.ms() { MICROSOFT_SIZE } else { GOOGLE_SIZE };
                    let answer = match read_data(&mut io, max).await? {
                        Some(data) => self.accept(data),
                        None => "552 5.3.4 Message size exceeds fixed maximum message size\r\n".to_owned(),
                    };
                    self.from = None;
                    self.rcpt.clear();
                    reply(&mut io, &answer).await?;
                }
                "RSET" => {
                    self.from = None;
                    self.rcpt.clear();
                    reply(&mut io, "250 2.0.0 OK\r\n").await?;
                }
                "NOOP" => reply(&mut io, "250 2.0.0 OK\r\n").await?,
                "QUIT" => {
                    let bye = if self.ms() {
                        "221 2.0.0 Service closing transmission channel\r\n".to_owned()
                    } else {
                        self.g("221 2.0.0 closing connection")
                    };
                    reply(&mut io, &bye).await?;
                    return Ok(None);
                }
                _ => reply(&mut io, "500 5.3.3 Unrecognized command\r\n").await?,
            }
        }
    }

    fn ehlo(&self) -> String {
        let (name, size) = if self.ms() {
            ("AM0PR04CA0001.outlook.office365.com Hello [127.0.0.1]", MICROSOFT_SIZE)
        } else {
            ("smtp.gmail.com at your service, [127.0.0.1]", GOOGLE_SIZE)
        };
        let mut r = format!("250-{name}\r\n250-SIZE {size}\r\n250-8BITMIME\r\n");
        if !self.tls {
            r.push_str("250-STARTTLS\r\n");
        } else if self.ms() {
            r.push_str("250-AUTH LOGIN XOAUTH2\r\n");
        } else {
            // S1 advertises more mechanisms; only XOAUTH2 is simulated.
            r.push_str("250-AUTH XOAUTH2\r\n");
        }
        r.push_str("250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n");
        r
    }

    /// `AUTH …` → the final reply line(s).
    async fn auth<S: AsyncRead + AsyncWrite + Unpin>(&mut self, io: &mut BufReader<S>, line: &str) -> std::io::Result<String> {
        let mut parts = line.split_whitespace().skip(1);
        let mech = parts.next().unwrap_or("").to_ascii_uppercase();
        let initial = parts.next().map(str::to_owned);
        if self.ms() && self.sim.controls.smtp_auth_disabled.load(Ordering::SeqCst) {
            // [SMTPAUTH] (text 3P, UNCONFIRMED as Microsoft-documented), mailbox variant.
            return Ok("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.\r\n".into());
        }
        if mech != "XOAUTH2" {
            // [BA]: basic auth is retired for client submission.
            return Ok(if self.ms() {
                "550 5.7.30 Basic authentication is not supported for Client Submission.\r\n".into()
            } else {
                "504 5.7.4 Unrecognized authentication type.\r\n".into()
            });
        }
        let response = match initial {
            Some(r) => r,
            None => {
                // [OAUTHIMAP] sample: `auth xoauth2` / `334` / `<b64>`.
                reply(io, "334 \r\n").await?;
                read_line(io).await?.unwrap_or_default()
            }
        };
        // XO / [OAUTHIMAP]: base64("user=" U "^Aauth=Bearer " T "^A^A").
        let raw = base64::engine::general_purpose::STANDARD
            .decode(response.trim())
            .ok()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default();
        let field = |k: &str| raw.split('\x01').find_map(|f| f.strip_prefix(k)).map(str::to_owned);
        let ok = match (field("user="), field("auth=Bearer ")) {
            (Some(user), Some(token)) if user.eq_ignore_ascii_case(&self.sim.config.user.address) => {
                self.sim.oauth.access(&token).is_some_and(|a| {
                    if self.ms() {
                        // [OAUTHIMAP]: scope `https://outlook.office.com/SMTP.Send`.
                        a.resource == Some(OUTLOOK) && a.scopes.iter().any(|s| s == "https://outlook.office.com/SMTP.Send")
                    } else {
                        // S2: scope `https://mail.google.com/` only.
                        a.scopes.iter().any(|s| s == GMAIL_FULL)
                    }
                })
            }
            _ => false,
        };
        if !ok {
            if self.ms() {
                return Ok("535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]\r\n".into());
            }
            // S2 Sim: the JSON challenge, the client's empty response, then 535-5.7.8.
            let challenge = base64::engine::general_purpose::STANDARD
                .encode(r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#);
            reply(io, &format!("334 {challenge}\r\n")).await?;
            let _ = read_line(io).await?;
            return Ok(format!(
                "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials {} - gsmtp\r\n",
                google_id()
            ));
        }
        if self.ms() && !self.counted {
            if self.sessions.fetch_add(1, Ordering::SeqCst) >= MS_MAX_SESSIONS {
                self.sessions.fetch_sub(1, Ordering::SeqCst);
                return Ok("432 4.3.2 Concurrent connections limit exceeded.\r\n".into());
                // [SMTPIMP]
            }
            self.counted = true;
        }
        self.user = Some(self.sim.config.user.address.clone());
        Ok(if self.ms() { "235 2.7.0 Authentication successful\r\n".into() } else { "235 2.7.0 Accepted\r\n".into() })
    }

    /// Files an accepted message; returns the reply to the final dot.
    fn accept(&mut self, data: Vec<u8>) -> String {
        let recipients = std::mem::take(&mut self.rcpt);
        let fail = Controls::take(&self.sim.controls.fail_sends);
        if self.ms() {
            // [SMTPIMP]: submissions are stored in Sent Items (after the sent-copy delay).
            let (mime, id) = graph_json::apply_policy(&self.sim, data);
            let stored = self.sim.store.insert(Message::draft(id.clone(), mime, recipients));
            let delay = *lock(&self.sim.controls.sent_copy_delay);
            let _ = self.sim.store.submit(&stored, delay, fail, true, Via::Smtp);
            return format!("250 2.0.0 OK {id} [Hostname=AM0PR04MB0001.eurprd04.prod.outlook.com]\r\n");
        }
        // S4/G5 (3P): a valid Message-ID is kept; an invalid one becomes `<…@mx.google.com>`
        // with the original in `X-Google-Original-Message-ID`; a missing one is made (INF).
        let mut mime = data;
        let given = mime::header(&mime, "Message-ID");
        let id = match given {
            Some(g) if mime::valid_message_id(&g) => g,
            other => {
                let id = format!("<{}@mx.google.com>", random_token(12).replace(['-', '_'], "x"));
                mime = mime::set_header(&mime, "Message-ID", &id);
                if let Some(original) = other {
                    mime = mime::prepend_header(&mime, "X-Google-Original-Message-ID", &original);
                }
                id
            }
        };
        if !fail {
            let mut m = Message::draft(id, mime, recipients);
            m.immutable_id = format!("{:016x}", rand::random::<u64>() >> 4 | 0x1000_0000_0000_0000);
            m.thread_id = m.immutable_id.clone();
            m.labels = vec!["SENT".into()];
            self.sim.store.file_sent(m, Via::Smtp);
        }
        self.g("250 2.0.0 OK")
    }
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, text: &str) -> std::io::Result<()> {
    io.get_mut().write_all(text.as_bytes()).await?;
    io.get_mut().flush().await
}

/// One command line without its line ending; `None` at end of stream.
async fn read_line<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if (&mut *io).take(MAX_LINE as u64).read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// The message after `354` up to the lone dot, dot-stuffing removed (RFC 5321 §4.5.2);
/// `None` when larger than `max` (read to the end anyway).
async fn read_data<S: AsyncRead + Unpin>(io: &mut BufReader<S>, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let (mut data, mut too_big) = (Vec::new(), false);
    loop {
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed during DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_big).then_some(data));
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        too_big |= data.len() + content.len() > max;
        if !too_big {
            data.extend_from_slice(content);
        }
    }
}

fn angle(line: &str) -> String {
    match (line.find('<'), line.find('>')) {
        (Some(a), Some(b)) if b > a => line[a + 1..b].to_owned(),
        _ => line.split_once(':').map(|(_, v)| v.split_whitespace().next().unwrap_or("")).unwrap_or("").to_owned(),
    }
}
