//! STARTTLS done here instead of by lettre. lettre reads the plaintext phase through a buffer
//! and keeps whatever arrived after the server's `220 Ready`; those bytes are then read as the
//! first replies *inside* TLS. A man in the middle can so forge the EHLO capabilities or shift
//! every later reply by one, until a refused message looks accepted (the STARTTLS command
//! injection of CVE-2011-0411; "NO STARTTLS", USENIX Security 2021). A test against our
//! scripted SMTP server showed exactly that.
//!
//! Here the plaintext phase reads replies one byte at a time (nothing past the `220` is
//! consumed), refuses the connection when anything follows the `220`, does the TLS handshake
//! with the same certificate verification lettre uses (the platform verifier plus the
//! configured CA), and hands lettre the encrypted stream behind a synthesized greeting; lettre
//! then sends EHLO again inside TLS, as RFC 3207 §4.2 requires.
//!
//! Upstream: the report for lettre, with the reproduction and the fix it needs, is
//! `docs/upstream/lettre-starttls.md` (to file; this machine has no network). The same defect
//! was fixed in nodemailer (PR #1835) and libetpan (issue #386). When lettre refuses bytes after
//! the `220` itself, this module can go.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::client::AsyncTokioStream;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::relay::{Outcome, SmtpSettings};

/// The longest reply we read in the plaintext phase.
const MAX_REPLY: usize = 16 * 1024;

/// One SMTP reply: its code and text lines.
struct Reply {
    code: u16,
    text: Vec<String>,
}

impl Reply {
    fn line(&self) -> String {
        format!("{} {}", self.code, self.text.join(" "))
    }
}

/// One line, consumed exactly up to its LF: `peek` shows what has arrived, and only the
/// bytes up to the line end are read, so nothing after a reply is taken from the socket.
async fn read_line(tcp: &mut TcpStream, total: &mut usize) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    loop {
        let mut buf = [0u8; 512];
        let n = tcp.peek(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed"));
        }
        let take = buf[..n].iter().position(|&b| b == b'\n').map_or(n, |i| i + 1);
        let mut exact = vec![0u8; take];
        tcp.read_exact(&mut exact).await?;
        *total += take;
        if *total > MAX_REPLY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "reply too long"));
        }
        line.extend_from_slice(&exact);
        if line.ends_with(b"\n") {
            if !line.ends_with(b"\r\n") {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "a reply line without CRLF"));
            }
            return Ok(line);
        }
    }
}

async fn read_reply(tcp: &mut TcpStream) -> io::Result<Reply> {
    let mut text = Vec::new();
    let mut total = 0;
    loop {
        let line = read_line(tcp, &mut total).await?;
        let line = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an SMTP reply"))?;
        let more = line.as_bytes().get(3) == Some(&b'-');
        text.push(line.get(4..).unwrap_or("").to_owned());
        if !more {
            return Ok(Reply { code, text });
        }
    }
}

fn refuse_or_retry(what: &str, r: &Reply) -> Outcome {
    let msg = format!("{what}: {}", r.line());
    if (400..500).contains(&r.code) {
        Outcome::NotAccepted(msg)
    } else {
        Outcome::Refused(msg)
    }
}

/// Connects, negotiates STARTTLS safely and returns the encrypted stream for lettre.
pub(crate) async fn connect(s: &SmtpSettings, hello: &str, timeout: Duration) -> Result<Box<dyn AsyncTokioStream>, Outcome> {
    let host = s.host.as_str();
    let io_fail = |what: &str, e: io::Error| Outcome::NotAccepted(format!("could not connect to {host}:{} ({what}): {e}", s.port));
    let mut tcp = match tokio::time::timeout(timeout, TcpStream::connect((host, s.port))).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Err(io_fail("could not connect", e)),
        Err(_) => return Err(Outcome::NotAccepted(format!("connecting to {host}:{} timed out", s.port))),
    };
    let _ = tcp.set_nodelay(true);
    let plaintext = async {
        let greeting = read_reply(&mut tcp).await.map_err(|e| io_fail("greeting", e))?;
        if greeting.code != 220 {
            return Err(refuse_or_retry("greeting", &greeting));
        }
        tcp.write_all(format!("EHLO {hello}\r\n").as_bytes()).await.map_err(|e| io_fail("EHLO", e))?;
        let ehlo = read_reply(&mut tcp).await.map_err(|e| io_fail("EHLO", e))?;
        if ehlo.code != 250 {
            return Err(refuse_or_retry("EHLO", &ehlo));
        }
        if !ehlo.text.iter().any(|l| l.trim().eq_ignore_ascii_case("STARTTLS")) {
            let _ = tcp.write_all(b"QUIT\r\n").await;
            return Err(Outcome::Refused(format!("{host} does not offer STARTTLS; refusing to send without TLS")));
        }
        let starttls_fail = |e: io::Error| Outcome::NotAccepted(format!("STARTTLS with {host} failed: {e}"));
        tcp.write_all(b"STARTTLS\r\n").await.map_err(starttls_fail)?;
        let ready = read_reply(&mut tcp).await.map_err(starttls_fail)?;
        if ready.code != 220 {
            return Err(refuse_or_retry("STARTTLS", &ready));
        }
        Ok(())
    };
    tokio::time::timeout(timeout, plaintext)
        .await
        .map_err(|_| Outcome::NotAccepted(format!("{host} did not answer in time before TLS")))??;
    // Nothing may follow the 220 before our TLS handshake: anything that did was injected.
    let mut extra = [0u8; 1];
    match tcp.try_read(&mut extra) {
        Ok(0) => return Err(Outcome::NotAccepted(format!("{host} closed the connection after STARTTLS"))),
        Ok(_) => {
            return Err(Outcome::Refused(format!(
                "{host} sent data after agreeing to STARTTLS and before TLS began (command injection); refusing the connection"
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(Outcome::NotAccepted(format!("STARTTLS with {host} failed: {e}"))),
    }
    let config = cached_config(s).map_err(Outcome::Refused)?;
    let name =
        ServerName::try_from(host.to_owned()).map_err(|e| Outcome::Refused(format!("{host} is not a valid TLS server name: {e}")))?;
    let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
    let tls = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(t)) => t,
        // A certificate that cannot be verified is a configuration fault, not a hiccup: no retry.
        Ok(Err(e)) if e.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) => {
            return Err(Outcome::Refused(format!("TLS with {host} failed: {e}")))
        }
        // The connection broke during the handshake: try again later.
        Ok(Err(e)) => return Err(Outcome::NotAccepted(format!("STARTTLS with {host} failed during the TLS handshake: {e}"))),
        Err(_) => return Err(Outcome::NotAccepted(format!("STARTTLS with {host}: the TLS handshake timed out"))),
    };
    Ok(Box::new(Greeted { greeting: b"220 TLS established by SuperOffice Outbox\r\n".to_vec(), pos: 0, inner: tls }))
}

/// The configuration for the relay's CA, built once: loading the platform's roots takes
/// milliseconds, which every message would otherwise pay.
fn cached_config(s: &SmtpSettings) -> Result<Arc<rustls::ClientConfig>, String> {
    static CACHE: std::sync::Mutex<Vec<(Option<String>, Arc<rustls::ClientConfig>)>> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = cache.iter().find(|(pem, _)| *pem == s.extra_ca_pem) {
        return Ok(c.clone());
    }
    let config = Arc::new(client_config(s)?);
    cache.truncate(7);
    cache.insert(0, (s.extra_ca_pem.clone(), config.clone()));
    Ok(config)
}

/// The rustls configuration lettre would build: TLS 1.2+, the platform's verifier, plus the
/// configured CA for onsite relays.
fn client_config(s: &SmtpSettings) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut extra: Vec<CertificateDer<'static>> = Vec::new();
    if let Some(pem) = &s.extra_ca_pem {
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(pem.as_bytes()) {
            extra.push(cert.map_err(|e| format!("the configured CA is not valid PEM: {e}"))?);
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone()).map_err(|e| format!("TLS setup failed: {e}"))?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The TLS stream, preceded by a greeting for lettre (which expects one on a new connection).
#[derive(Debug)]
struct Greeted {
    greeting: Vec<u8>,
    pos: usize,
    inner: tokio_rustls::client::TlsStream<TcpStream>,
}

impl AsyncRead for Greeted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.pos < self.greeting.len() {
            let n = buf.remaining().min(self.greeting.len() - self.pos);
            let pos = self.pos;
            buf.put_slice(&self.greeting[pos..pos + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Greeted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Greeted {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().0.peer_addr()
    }
}
