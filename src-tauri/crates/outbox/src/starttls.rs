//! STARTTLS done here instead of by lettre. lettre reads the plaintext phase through a buffer
//! and keeps whatever arrived after the server's `220 Ready`; those bytes are then read as the
//! first replies *inside* TLS. A man in the middle can so forge the EHLO capabilities or shift
//! every later reply by one, until a refused message looks accepted (the STARTTLS command
//! injection of CVE-2011-0411; "NO STARTTLS", USENIX Security 2021). A test against our
//! scripted SMTP server showed exactly that.
//!
//! Here the plaintext phase reads replies one byte at a time (nothing past the `220` is
//! consumed), refuses the connection when anything follows the `220`, does the TLS handshake
//! (`tls`: the same certificate verification lettre uses, the platform verifier plus the
//! configured CA), and hands lettre the encrypted stream behind a synthesized greeting; lettre
//! then sends EHLO again inside TLS, as RFC 3207 §4.2 requires.
//!
//! Upstream: the report for lettre, with the reproduction and the fix it needs, is
//! `docs/upstream/lettre-starttls.md` (to file; this machine has no network). The same defect
//! was fixed in nodemailer (PR #1835) and libetpan (issue #386). When lettre refuses bytes after
//! the `220` itself, this module can go.

use std::io;
use std::time::Duration;

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    let mut tcp = crate::tls::connect_tcp(s, timeout).await?;
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
    crate::tls::handshake(s, tcp, timeout, "STARTTLS", b"220 TLS established by SuperOffice Outbox\r\n").await
}
