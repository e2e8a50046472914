//! A small DNS stub resolver (RFC 1035 over UDP, TCP fallback not needed for SPF/DMARC-sized
//! answers with EDNS0): just enough for the sender-domain check (TXT, A, AAAA, MX). A full
//! resolver crate would be a large dependency for four record types; the server is the
//! system's (first `nameserver` in `/etc/resolv.conf`) or one given explicitly (tests, demo).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

/// Why a lookup did not answer.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// No server answered in time (no network, firewall): the check is "unknown", not failed.
    #[error("no answer from the DNS server {0} within {1:?}")]
    Timeout(SocketAddr, Duration),
    #[error("DNS server {0} could not be used: {1}")]
    Io(SocketAddr, std::io::Error),
    #[error("no DNS server configured")]
    NoServer,
    #[error("malformed DNS answer: {0}")]
    Malformed(&'static str),
    /// SERVFAIL, REFUSED and the like (NXDOMAIN is an empty answer, not an error).
    #[error("DNS server answered rcode {0}")]
    Rcode(u8),
}

impl DnsError {
    /// Whether the DNS could not be asked at all (versus an answer we understood).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DnsError::Timeout(..) | DnsError::Io(..) | DnsError::NoServer)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordType {
    A = 1,
    Mx = 15,
    Txt = 16,
    Aaaa = 28,
}

/// One answer record, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx(u16, String),
    /// The character-strings of one TXT record, joined (RFC 7208 §3.3).
    Txt(String),
}

/// Which server to ask, and how long to wait.
#[derive(Clone, Debug)]
pub struct Resolver {
    pub server: Option<SocketAddr>,
    pub timeout: Duration,
}

impl Resolver {
    /// The system's first nameserver from `/etc/resolv.conf` (Unix); none elsewhere.
    pub fn system() -> Resolver {
        let server = std::fs::read_to_string("/etc/resolv.conf").ok().and_then(|text| {
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("nameserver"))
                .find_map(|ip| ip.trim().parse::<IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, 53))
        });
        Resolver { server, timeout: Duration::from_secs(3) }
    }

    pub fn at(server: SocketAddr) -> Resolver {
        Resolver { server: Some(server), timeout: Duration::from_secs(3) }
    }

    /// Records of `rtype` at `name`; an empty list for NXDOMAIN or no data.
    pub async fn lookup(&self, name: &str, rtype: RecordType) -> Result<Vec<Record>, DnsError> {
        let server = self.server.ok_or(DnsError::NoServer)?;
        let id: u16 = rand_id();
        let query = encode_query(id, name, rtype).ok_or(DnsError::Malformed("name not encodable"))?;
        let bind: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
        let socket = UdpSocket::bind(bind).await.map_err(|e| DnsError::Io(server, e))?;
        socket.connect(server).await.map_err(|e| DnsError::Io(server, e))?;
        let exchange = async {
            socket.send(&query).await?;
            let mut buf = vec![0u8; 4096];
            loop {
                let n = socket.recv(&mut buf).await?;
                // Answers to other ids (late, spoofed) are ignored.
                if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                    buf.truncate(n);
                    return Ok::<_, std::io::Error>(buf);
                }
            }
        };
        let answer = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| DnsError::Timeout(server, self.timeout))?
            .map_err(|e| DnsError::Io(server, e))?;
        decode_answer(&answer, rtype)
    }

    /// The TXT strings at `name`.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        Ok(self
            .lookup(name, RecordType::Txt)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Txt(t) => Some(t),
                _ => None,
            })
            .collect())
    }

    /// The A and AAAA addresses of `name`.
    pub async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let (a, aaaa) = tokio::join!(self.lookup(name, RecordType::A), self.lookup(name, RecordType::Aaaa));
        let mut out = Vec::new();
        for r in a?.into_iter().chain(aaaa?) {
            match r {
                Record::A(ip) => out.push(IpAddr::V4(ip)),
                Record::Aaaa(ip) => out.push(IpAddr::V6(ip)),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The MX hosts of `name`.
    pub async fn mx(&self, name: &str) -> Result<Vec<String>, DnsError> {
        Ok(self
            .lookup(name, RecordType::Mx)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Mx(_, host) => Some(host),
                _ => None,
            })
            .collect())
    }
}

fn rand_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish() as u16
}

/// A standard recursive query with one question.
pub fn encode_query(id: u16, name: &str, rtype: RecordType) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT 1
    encode_name(&mut q, name)?;
    q.extend_from_slice(&(rtype as u16).to_be_bytes());
    q.extend_from_slice(&[0, 1]); // IN
    Some(q)
}

/// Appends `name` as labels; `None` for empty or over-long labels, or non-ASCII names (the
/// caller converts IDNs to their ASCII form first).
pub fn encode_name(out: &mut Vec<u8>, name: &str) -> Option<()> {
    let name = name.trim_end_matches('.');
    if name.len() > 253 || !name.is_ascii() {
        return None;
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Some(())
}

/// Reads a (possibly compressed) name at `pos`; returns it and the position after it.
pub fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(pos).ok_or(DnsError::Malformed("name runs past the end"))? as usize;
        if len == 0 {
            return Ok((labels.join("."), end.unwrap_or(pos + 1)));
        }
        if len & 0xC0 == 0xC0 {
            let lo = *msg.get(pos + 1).ok_or(DnsError::Malformed("truncated pointer"))? as usize;
            end.get_or_insert(pos + 2);
            pos = ((len & 0x3F) << 8) | lo;
            continue;
        }
        let label = msg.get(pos + 1..pos + 1 + len).ok_or(DnsError::Malformed("label runs past the end"))?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        pos += 1 + len;
    }
    Err(DnsError::Malformed("name pointer loop"))
}

fn u16_at(msg: &[u8], pos: usize) -> Result<u16, DnsError> {
    msg.get(pos..pos + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or(DnsError::Malformed("truncated"))
}

/// The answer section's records of `rtype`.
pub fn decode_answer(msg: &[u8], rtype: RecordType) -> Result<Vec<Record>, DnsError> {
    if msg.len() < 12 {
        return Err(DnsError::Malformed("shorter than a header"));
    }
    if msg[2] & 0x80 == 0 {
        return Err(DnsError::Malformed("not a response"));
    }
    match msg[3] & 0x0F {
        0 => {}
        3 => return Ok(Vec::new()), // NXDOMAIN
        rcode => return Err(DnsError::Rcode(rcode)),
    }
    let (qd, an) = (u16_at(msg, 4)?, u16_at(msg, 6)?);
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(msg, pos)?.1 + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        pos = read_name(msg, pos)?.1;
        let (t, len) = (u16_at(msg, pos)?, u16_at(msg, pos + 8)? as usize);
        let start = pos + 10;
        let data = msg.get(start..start + len).ok_or(DnsError::Malformed("record runs past the end"))?;
        pos = start + len;
        if t != rtype as u16 {
            continue; // CNAME chains: the resolver already followed them
        }
        out.push(match rtype {
            RecordType::A if len == 4 => Record::A(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
            RecordType::Aaaa if len == 16 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(data);
                Record::Aaaa(Ipv6Addr::from(b))
            }
            RecordType::Mx if len >= 3 => Record::Mx(u16::from_be_bytes([data[0], data[1]]), read_name(msg, start + 2)?.0),
            RecordType::Txt => {
                let mut text = String::new();
                let mut i = 0;
                while i < data.len() {
                    let n = data[i] as usize;
                    let s = data.get(i + 1..i + 1 + n).ok_or(DnsError::Malformed("TXT string runs past the end"))?;
                    text.push_str(&String::from_utf8_lossy(s));
                    i += 1 + n;
                }
                Record::Txt(text)
            }
            _ => return Err(DnsError::Malformed("record of the wrong size")),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn queries_and_compressed_answers_round_trip() {
        let q = encode_query(0x1234, "_dmarc.example.com", RecordType::Txt).unwrap();
        assert_eq!(read_name(&q, 12).unwrap().0, "_dmarc.example.com");
        // Response: the question, then a TXT answer whose name is a pointer to offset 12.
        let mut r = q.clone();
        r[2] |= 0x80;
        r[7] = 1;
        r.extend_from_slice(&[0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60]);
        let txt = b"v=DMARC1; p=reject";
        r.extend_from_slice(&((txt.len() + 1) as u16).to_be_bytes());
        r.push(txt.len() as u8);
        r.extend_from_slice(txt);
        assert_eq!(decode_answer(&r, RecordType::Txt).unwrap(), vec![Record::Txt("v=DMARC1; p=reject".into())]);
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        let q = encode_query(1, "a.b", RecordType::A).unwrap();
        let mut r = q.clone();
        r[2] |= 0x80;
        r[7] = 1;
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 200]); // rdlength past the end
        assert!(decode_answer(&r, RecordType::A).is_err());
        let mut looped = q;
        looped[2] |= 0x80;
        looped[5] = 1;
        looped.truncate(12);
        looped.extend_from_slice(&[0xC0, 12]); // a name pointing at itself
        assert!(read_name(&looped, 12).is_err());
        assert!(decode_answer(&[0; 5], RecordType::A).is_err());
    }
}
