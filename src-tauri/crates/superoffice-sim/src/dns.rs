//! A loopback DNS server (UDP, RFC 1035) for the demo tenant's mail domain, so the
//! sender-domain check (SPF, DMARC) has real answers without the internet. Tests change the
//! zone to play misconfigured domains. Not a SuperOffice service: it plays the rep's DNS, as
//! the relay plays their mail server.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

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

/// Serves `zone` on 127.0.0.1 (random port); returns the address.
pub async fn serve(zone: Zone) -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind(("127.0.0.1", 0)).await?;
    let addr = socket.local_addr()?;
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else { continue };
            if let Some(reply) = answer(&zone, &buf[..n]) {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    Ok(addr)
}

/// The reply to one query; `None` for what is not a query.
fn answer(zone: &Zone, q: &[u8]) -> Option<Vec<u8>> {
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
    let question = &q[12..pos + 4];
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
    Some(r)
}
