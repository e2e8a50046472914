//! The TLS session with the relay, for both ways into it: implicit TLS (port 465, TLS from the
//! first byte) and the upgrade after our STARTTLS (`starttls`). One configuration (TLS 1.2+, the
//! platform's verifier plus the configured CA, as lettre would build it), built once per CA.
//!
//! The TCP connection is ours, not lettre's, for both: it sets `TCP_NODELAY`. Without it the
//! final `.` of DATA (a short segment after the body) waits for the ACK of the body under
//! Nagle's algorithm while the server delays that ACK (40 ms on Linux), and every message pays
//! that stall before the relay can answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::client::AsyncTokioStream;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::relay::{Outcome, SmtpSettings};

/// A TCP connection to the relay with `TCP_NODELAY` set.
pub(crate) async fn connect_tcp(s: &SmtpSettings, timeout: Duration) -> Result<TcpStream, Outcome> {
    let host = s.host.as_str();
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect((host, s.port))).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Err(Outcome::NotAccepted(format!("could not connect to {host}:{}: {e}", s.port))),
        Err(_) => return Err(Outcome::NotAccepted(format!("connecting to {host}:{} timed out", s.port))),
    };
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// Implicit TLS: connects and shakes hands before any SMTP; lettre reads the greeting inside TLS.
pub(crate) async fn connect_implicit(s: &SmtpSettings, timeout: Duration) -> Result<Box<dyn AsyncTokioStream>, Outcome> {
    let tcp = connect_tcp(s, timeout).await?;
    handshake(s, tcp, timeout, "TLS", b"").await
}

/// The TLS handshake on `tcp`, verified as lettre would; `greeting` is what lettre reads first
/// (after STARTTLS the server sends none inside TLS, so one is synthesized).
pub(crate) async fn handshake(
    s: &SmtpSettings,
    tcp: TcpStream,
    timeout: Duration,
    what: &str,
    greeting: &[u8],
) -> Result<Box<dyn AsyncTokioStream>, Outcome> {
    let host = s.host.as_str();
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
        Ok(Err(e)) => {
            return Err(Outcome::NotAccepted(format!("could not connect to {host}:{}: the {what} handshake broke off: {e}", s.port)))
        }
        Err(_) => return Err(Outcome::NotAccepted(format!("could not connect to {host}:{}: the {what} handshake timed out", s.port))),
    };
    Ok(Box::new(Greeted { greeting: greeting.to_vec(), pos: 0, inner: tls }))
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
