//! Where the sender-domain check asks DNS, and how its answers and failures read.
//!
//! The resolving is `hickory-resolver`'s (UDP, and TCP when an answer comes back truncated;
//! the system's configuration: `/etc/resolv.conf` on Unix, the adapters' servers on Windows,
//! the SystemConfiguration store on macOS); SPF and DMARC are `mail-auth`'s (see `spf.rs`),
//! which evaluates with the same hickory resolver. This thin wrapper stays because:
//! - one type says where DNS is asked: the system's servers, or one given server (the
//!   simulator's loopback zone in tests and the demo), with our timeout; callers (`sender.rs`,
//!   the suite's `Setup`, the app's tenant) name no hickory or mail-auth type;
//! - nothing is cached: a diagnosis is re-run right after an admin fixes a record, and a cached
//!   answer (hickory keeps one for the record's TTL) would hide the fix;
//! - the hosts file is not read: the check is about what receivers see in DNS;
//! - failures keep the distinction the check's verdict rests on: DNS "could not be asked"
//!   (timeout, unreachable, no server: the check is unknown) against an answer, where NXDOMAIN
//!   and "no record of that type" are an empty answer, not an error.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as Answer, NetError};
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use mail_auth::MessageAuthenticator;

/// Why a lookup did not answer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DnsError {
    /// No server answered in time (no network, firewall): the check is "unknown", not failed.
    #[error("no answer from the DNS server {server} within {timeout:?}")]
    Timeout { server: String, timeout: Duration },
    #[error("DNS server {server} could not be used: {detail}")]
    Unreachable { server: String, detail: String },
    #[error("no DNS server configured: {0}")]
    NoServer(String),
    /// SERVFAIL, REFUSED and the like (NXDOMAIN is an empty answer, not an error).
    #[error("DNS server {server} answered {rcode}")]
    Rcode { server: String, rcode: String },
    /// An answer or a name we could not use (malformed, truncated even over TCP).
    #[error("DNS lookup of {name} failed: {detail}")]
    Failed { name: String, detail: String },
}

impl DnsError {
    /// Whether the DNS could not be asked at all (versus an answer we understood).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DnsError::Timeout { .. } | DnsError::Unreachable { .. } | DnsError::NoServer(_))
    }
}

/// Which servers to ask, and how long to wait for each answer.
#[derive(Clone)]
pub struct Resolver {
    /// The servers, or why there are none (the system configuration could not be read).
    config: Result<ResolverConfig, String>,
    /// Tries after the first one that timed out or failed.
    retries: usize,
    timeout: Duration,
    /// hickory's resolver inside mail-auth's authenticator (the same one answers `txt` and
    /// evaluates SPF), or why it could not be built.
    auth: Result<MessageAuthenticator, String>,
}

const TIMEOUT: Duration = Duration::from_secs(3);

impl Resolver {
    /// The system's DNS servers (hickory's `read_system_conf`); lookups fail as unreachable when
    /// there are none. One retry per lookup: a UDP datagram may be lost on a real network.
    pub fn system() -> Resolver {
        let config = hickory_resolver::system_conf::read_system_conf()
            .map(|(config, _options)| config)
            .map_err(|e| format!("the system's DNS configuration could not be read: {e}"));
        Resolver::new(config, 1, TIMEOUT)
    }

    /// One server at `server` (UDP and TCP), asked once per lookup.
    pub fn at(server: SocketAddr) -> Resolver {
        let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
        for connection in &mut name_server.connections {
            connection.port = server.port();
        }
        Resolver::new(Ok(ResolverConfig::from_name_servers(vec![name_server])), 0, TIMEOUT)
    }

    /// The same servers, waiting `timeout` for each answer.
    pub fn with_timeout(self, timeout: Duration) -> Resolver {
        Resolver::new(self.config, self.retries, timeout)
    }

    fn new(config: Result<ResolverConfig, String>, retries: usize, timeout: Duration) -> Resolver {
        let auth = config.clone().and_then(|config| {
            if config.name_servers().is_empty() {
                return Err("the system configuration names no DNS server".to_owned());
            }
            let mut options = ResolverOpts::default();
            options.timeout = timeout;
            options.attempts = retries;
            // No cache: a re-run after a fix must see the fix (zero TTLs, and no room).
            options.cache_size = 0;
            options.positive_max_ttl = Some(Duration::ZERO);
            options.negative_max_ttl = Some(Duration::ZERO);
            options.use_hosts_file = ResolveHosts::Never;
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
                .with_options(options)
                .build()
                .map(MessageAuthenticator)
                .map_err(|e| format!("the DNS resolver could not be set up: {e}"))
        });
        Resolver { config, retries, timeout, auth }
    }

    /// mail-auth's authenticator over this resolver (for `spf.rs`).
    pub(crate) fn authenticator(&self) -> Result<&MessageAuthenticator, DnsError> {
        self.auth.as_ref().map_err(|why| DnsError::NoServer(why.clone()))
    }

    /// The TXT records at `name`, each record's character-strings joined (RFC 7208 §3.3); an
    /// empty list for NXDOMAIN or no TXT record.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let auth = self.authenticator()?;
        // Fully qualified: no search domains appended.
        let fqdn = if name.ends_with('.') { name.to_owned() } else { format!("{name}.") };
        match auth.0.txt_lookup(fqdn.as_str()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(txt.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect()),
                    _ => None,
                })
                .collect()),
            Err(e) => self.classify(name, e).map(|()| Vec::new()),
        }
    }

    /// `Ok(())` for an empty answer (NXDOMAIN, no data); the error otherwise.
    fn classify(&self, name: &str, e: NetError) -> Result<(), DnsError> {
        let server = self.to_string();
        Err(match e {
            NetError::Dns(Answer::NoRecordsFound(_)) => return Ok(()),
            NetError::Dns(Answer::ResponseCode(code)) => DnsError::Rcode { server, rcode: code.to_string() },
            NetError::Timeout => DnsError::Timeout { server, timeout: self.timeout },
            NetError::Io(e) => DnsError::Unreachable { server, detail: e.to_string() },
            NetError::NoConnections | NetError::Busy => DnsError::Unreachable { server, detail: e.to_string() },
            other => DnsError::Failed { name: name.to_owned(), detail: other.to_string() },
        })
    }
}

/// The servers asked, for the check's evidence: `127.0.0.1:5353`, or the system's list.
impl fmt::Display for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = match &self.config {
            Ok(config) => config,
            Err(_) => return f.write_str("none"),
        };
        let mut servers: Vec<String> = Vec::new();
        for ns in config.name_servers() {
            let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
            let server = SocketAddr::new(ns.ip, port).to_string();
            if !servers.contains(&server) {
                servers.push(server);
            }
        }
        if servers.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&servers.join(", "))
        }
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").field("servers", &self.to_string()).field("timeout", &self.timeout).finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use superoffice_sim::dns::{Zone, ZoneRecord};

    async fn zone() -> (Zone, Resolver) {
        let zone = Zone::default();
        zone.set("example.com", vec![ZoneRecord::Txt("v=spf1 -all".into()), ZoneRecord::Mx(10, "mail.example.com".into())]);
        let addr = superoffice_sim::dns::serve(zone.clone()).await.unwrap();
        (zone, Resolver::at(addr))
    }

    #[tokio::test]
    async fn answers_nxdomain_and_no_data_are_told_apart_from_errors() {
        let (_zone, r) = zone().await;
        assert_eq!(r.txt("example.com").await.unwrap(), vec!["v=spf1 -all".to_owned()]);
        assert_eq!(r.txt("EXAMPLE.com.").await.unwrap(), vec!["v=spf1 -all".to_owned()], "case and the root dot");
        assert!(r.txt("nowhere.example.com").await.unwrap().is_empty(), "NXDOMAIN is an empty answer");
        assert!(r.txt("_dmarc.example.com").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_truncated_answer_is_asked_again_over_tcp() {
        let (zone, r) = zone().await;
        // Longer than a 512-byte UDP message: the simulator truncates it, TCP brings it whole.
        let long = format!("v=spf1 {} -all", (0..60).map(|i| format!("ip4:192.0.2.{i}")).collect::<Vec<_>>().join(" "));
        assert!(long.len() > 512);
        zone.set("example.com", vec![ZoneRecord::Txt(long.clone())]);
        assert_eq!(r.txt("example.com").await.unwrap(), vec![long]);
    }

    #[tokio::test]
    async fn nothing_is_cached_between_lookups() {
        let (zone, r) = zone().await;
        assert_eq!(r.txt("example.com").await.unwrap().len(), 1);
        assert!(r.txt("fixed.example.com").await.unwrap().is_empty());
        zone.set("example.com", vec![ZoneRecord::Txt("v=spf1 ip4:192.0.2.1 -all".into())]);
        zone.set("fixed.example.com", vec![ZoneRecord::Txt("v=spf1 -all".into())]);
        assert_eq!(r.txt("example.com").await.unwrap(), vec!["v=spf1 ip4:192.0.2.1 -all".to_owned()]);
        assert_eq!(r.txt("fixed.example.com").await.unwrap().len(), 1, "a negative answer is not kept either");
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_unreachable() {
        // A bound UDP socket that never reads (and no TCP listener).
        let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let r = Resolver::at(dead.local_addr().unwrap()).with_timeout(Duration::from_millis(200));
        let t = std::time::Instant::now();
        let e = r.txt("example.com").await.unwrap_err();
        assert!(e.is_unreachable(), "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(2), "one try within the timeout: {:?}", t.elapsed());
        assert_eq!(r.to_string(), dead.local_addr().unwrap().to_string());
    }
}
