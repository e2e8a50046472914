//! A loopback DNS server (RFC 1035, over UDP and TCP on one port) for the demo tenant's mail
//! domain, so the sender-domain check (SPF, DMARC) has real answers without the internet.
//! Tests change the zone to play misconfigured domains. Not a SuperOffice service: it plays
//! the rep's DNS, as the relay plays their mail server.
//!
//! Like a real server it truncates over UDP: an answer longer than 512 bytes goes out with TC
//! set and no records, and the resolver asks again over TCP (a long SPF record does this).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::lock;

/// One record the zone answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneRecord {
    A(Ipv4Addr),
    Mx(u16, String),
    Txt(String),
}

impl ZoneRecord {
    fn rtype(&self) -> u16 {
        match self {
            ZoneRecord::A(_) => 1,
            ZoneRecord::Mx(..) => 15,
            ZoneRecord::Txt(_) => 16,
        }
    }
}

/// Name (lower case, no trailing dot) → records.
#[derive(Clone, Default)]
pub struct Zone(Arc<Mutex<HashMap<String, Vec<ZoneRecord>>>>);

impl Zone {
    /// The demo rep's domain: the relay (127.0.0.1) is authorized by SPF, DMARC quarantines.
    pub fn demo(domain: &str) -> Zone {
        let z = Zone::default();
        z.set(domain, vec![ZoneRecord::Txt("v=spf1 mx ip4:127.0.0.1 -all".into()), ZoneRecord::Mx(10, format!("mail.{domain}"))]);
        z.set(&format!("_dmarc.{domain}"), vec![ZoneRecord::Txt(format!("v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"))]);
        z.set(&format!("mail.{domain}"), vec![ZoneRecord::A(Ipv4Addr::LOCALHOST)]);
        z.set("localhost", vec![ZoneRecord::A(Ipv4Addr::LOCALHOST)]);
        z
    }

    /// Replaces the records at `name` (an empty list removes it: NXDOMAIN).
    pub fn set(&self, name: &str, records: Vec<ZoneRecord>) {
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        let mut map = lock(&self.0);
        if records.is_empty() {
            map.remove(&key);
        } else {
            map.insert(key, records);
        }
    }

    fn get(&self, name: &str) -> Option<Vec<ZoneRecord>> {
        lock(&self.0).get(&name.to_ascii_lowercase()).cloned()
    }
}

/// RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes (not counting the IP
/// or UDP headers). Longer messages are truncated and the TC bit is set in the header." This
/// server does not do EDNS (RFC 6891), so 512 holds whatever payload size a query offers.
const UDP_LIMIT: usize = 512;

/// RFC 7766 §6.2.3: a server may close a TCP connection that has been idle; this long.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Serves `zone` on 127.0.0.1 (random port, the same for UDP and TCP); returns the address.
pub async fn serve(zone: Zone) -> io::Result<SocketAddr> {
    let (socket, listener) = bind_udp_and_tcp().await?;
    let addr = socket.local_addr()?;
    let udp_zone = zone.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else { continue };
            if let Some(reply) = answer(&udp_zone, &buf[..n], Some(UDP_LIMIT)) {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let zone = zone.clone();
                    tokio::spawn(async move { serve_tcp(stream, &zone).await });
                }
                // Out of descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    Ok(addr)
}

/// A UDP socket and a TCP listener on the same loopback port. RFC 7766 §5: authoritative
/// servers "MUST support TCP so that they do not limit the size of responses to what fits in a
/// single UDP packet"; a resolver asks again over TCP at the same address.
async fn bind_udp_and_tcp() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..16 {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await?;
        match TcpListener::bind(socket.local_addr()?).await {
            Ok(listener) => return Ok((socket, listener)),
            Err(e) => last = Some(e), // the port is taken for TCP: another one
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no loopback port free for both UDP and TCP")))
}

/// One TCP connection. RFC 1035 §4.2.2: every message is preceded by a two-byte length field;
/// RFC 7766 §6.2.1: a client may send several queries on one connection (answered here in
/// order) and the server closes it when the client does or after an idle time (§6.2.3).
async fn serve_tcp(mut stream: TcpStream, zone: &Zone) {
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return, // closed, failed or idle
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(reply) = answer(zone, &query, None) else { return };
        let Ok(reply_len) = u16::try_from(reply.len()) else { return };
        let mut framed = Vec::with_capacity(2 + reply.len());
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

/// The reply to one query, at most `limit` bytes (UDP); `None` for what is not a query.
fn answer(zone: &Zone, q: &[u8], limit: Option<usize>) -> Option<Vec<u8>> {
    if q.len() < 12 || q[2] & 0x80 != 0 {
        return None;
    }
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(pos..pos + len)?).into_owned());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*q.get(pos)?, *q.get(pos + 1)?]);
    let question = q.get(12..pos + 4)?; // a short query must not end the server
    let records = zone.get(&labels.join("."));
    let matching: Vec<ZoneRecord> = records.iter().flatten().filter(|r| r.rtype() == qtype).cloned().collect();
    let mut r = Vec::with_capacity(512);
    r.extend_from_slice(&q[0..2]);
    r.push(0x84 | (q[2] & 0x01)); // QR, AA, RD copied
    r.push(if records.is_none() { 3 } else { 0 }); // NXDOMAIN when the name is unknown
    r.extend_from_slice(&[0, 1]);
    r.extend_from_slice(&(matching.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(question);
    for rec in matching {
        r.extend_from_slice(&[0xC0, 12]);
        r.extend_from_slice(&rec.rtype().to_be_bytes());
        r.extend_from_slice(&[0, 1, 0, 0, 0x0E, 0x10]); // IN, TTL 3600
        let data = match rec {
            ZoneRecord::A(ip) => ip.octets().to_vec(),
            ZoneRecord::Mx(pref, host) => {
                let mut d = pref.to_be_bytes().to_vec();
                for l in host.split('.') {
                    d.push(l.len() as u8);
                    d.extend_from_slice(l.as_bytes());
                }
                d.push(0);
                d
            }
            ZoneRecord::Txt(text) => {
                text.as_bytes().chunks(255).flat_map(|c| std::iter::once(c.len() as u8).chain(c.iter().copied())).collect()
            }
        };
        r.extend_from_slice(&(data.len() as u16).to_be_bytes());
        r.extend_from_slice(&data);
    }
    if limit.is_some_and(|limit| r.len() > limit) {
        // RFC 1035 §4.1.1: TC, "this message was truncated due to length greater than that
        // permitted on the transmission channel"; RFC 2181 §9: an RRset that does not fit whole
        // is left out, so the answer section is dropped and only the question stays.
        r.truncate(12 + question.len());
        r[2] |= 0x02;
        r[6..8].copy_from_slice(&[0, 0]);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, qtype as u8, 0, 1]);
        q
    }

    #[tokio::test]
    async fn long_answers_are_truncated_over_udp_and_whole_over_tcp() {
        let zone = Zone::default();
        let long = format!("v=spf1 {} -all", (0..60).map(|i| format!("ip4:192.0.2.{i}")).collect::<Vec<_>>().join(" "));
        zone.set("example.com", vec![ZoneRecord::Txt(long.clone())]);
        zone.set("short.example.com", vec![ZoneRecord::Txt("v=spf1 -all".into())]);
        let addr = serve(zone).await.unwrap();

        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 1500];
        let cut = query("short.example.com", 16);
        udp.send_to(&cut[..cut.len() - 2], addr).await.unwrap(); // no class: dropped, not fatal
        udp.send_to(&query("short.example.com", 16), addr).await.unwrap();
        udp.recv(&mut buf).await.unwrap();
        assert_eq!((buf[2] & 0x02, u16::from_be_bytes([buf[6], buf[7]])), (0, 1), "a short answer fits");
        udp.send_to(&query("example.com", 16), addr).await.unwrap();
        assert!(udp.recv(&mut buf).await.unwrap() <= UDP_LIMIT);
        assert_eq!((buf[2] & 0x02, u16::from_be_bytes([buf[6], buf[7]])), (0x02, 0), "TC set, no records");

        // Over TCP, twice on one connection (RFC 7766 §6.2.1), the whole record.
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        for _ in 0..2 {
            let q = query("example.com", 16);
            tcp.write_all(&(q.len() as u16).to_be_bytes()).await.unwrap();
            tcp.write_all(&q).await.unwrap();
            let mut len = [0u8; 2];
            tcp.read_exact(&mut len).await.unwrap();
            let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
            tcp.read_exact(&mut reply).await.unwrap();
            assert!(reply.len() > UDP_LIMIT);
            assert_eq!((reply[2] & 0x02, u16::from_be_bytes([reply[6], reply[7]])), (0, 1));
            assert!(reply.windows(long.len().min(200)).any(|w| w == &long.as_bytes()[..long.len().min(200)]));
        }
    }
}
