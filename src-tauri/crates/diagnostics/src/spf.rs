//! SPF (RFC 7208) evaluation of the relay's address against the rep's domain, and the DMARC
//! record (RFC 7489): whether mail the relay sends as the rep is likely to be accepted.
//!
//! The evaluation (every mechanism, macros, `redirect=`, the 10-lookup limit) and the DMARC
//! record's parsing are `mail-auth`'s, over the resolver of `dns.rs`. What stays here: the
//! domain's own record read first, so that DNS that cannot be asked stays an error the check
//! can tell apart, and two records are a permerror (RFC 7208 §4.5), as mail-auth takes the first.

use std::net::IpAddr;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::Dmarc;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::SpfResult;

use crate::dns::{DnsError, Resolver};

/// The SPF verdict for one IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spf {
    /// Authorized, by this record.
    Pass(String),
    Fail(String),
    SoftFail(String),
    Neutral(String),
    /// The domain publishes no SPF record.
    None,
    PermError(String),
}

/// The `v=spf1` record of `domain`, if exactly one.
pub async fn record(resolver: &Resolver, domain: &str) -> Result<Result<Option<String>, String>, DnsError> {
    let spf: Vec<String> = resolver
        .txt(domain)
        .await?
        .into_iter()
        .filter(|t| t.eq_ignore_ascii_case("v=spf1") || t.to_ascii_lowercase().starts_with("v=spf1 "))
        .collect();
    Ok(match spf.len() {
        0 => Ok(None),
        1 => Ok(spf.into_iter().next()),
        n => Err(format!("{domain} publishes {n} SPF records (must be one)")),
    })
}

/// Evaluates `ip` against `domain`'s SPF policy (as a receiver does for `MAIL FROM` at
/// `domain`). An error when DNS fails, at the domain's record or on the way (temperror).
pub async fn check(resolver: &Resolver, ip: IpAddr, domain: &str) -> Result<Spf, DnsError> {
    let text = match record(resolver, domain).await? {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(Spf::None),
        Err(e) => return Ok(Spf::PermError(e)),
    };
    let sender = format!("postmaster@{domain}");
    let params = SpfParameters::verify_mail_from(ip, domain, domain, &sender);
    let output = resolver.authenticator()?.verify_spf(params).await;
    let by = format!("{text} in {domain}");
    Ok(match output.result() {
        SpfResult::Pass => Spf::Pass(by),
        SpfResult::Fail => Spf::Fail(by),
        SpfResult::SoftFail => Spf::SoftFail(by),
        SpfResult::Neutral => Spf::Neutral(by),
        SpfResult::None => Spf::None,
        SpfResult::PermError => {
            Spf::PermError(format!("{by}: a term that does not parse, an include without a record, or more than 10 DNS lookups"))
        }
        SpfResult::TempError => {
            return Err(DnsError::Failed { name: domain.to_owned(), detail: "a DNS lookup failed while evaluating SPF".into() })
        }
    })
}

/// The DMARC policy (`p=`) of `domain`, if it publishes a valid record (receivers ignore an
/// invalid one).
pub async fn dmarc(resolver: &Resolver, domain: &str) -> Result<Option<String>, DnsError> {
    let records = resolver.txt(&format!("_dmarc.{domain}")).await?;
    Ok(records.iter().find_map(|t| Dmarc::parse(t.as_bytes()).ok()).map(|d| d.p.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use superoffice_sim::dns::{Zone, ZoneRecord};

    async fn zone(records: &[(&str, &str)]) -> Resolver {
        let zone = Zone::default();
        for (name, txt) in records {
            zone.set(name, vec![ZoneRecord::Txt((*txt).into())]);
        }
        zone.set("mail.example.com", vec![ZoneRecord::A([192, 0, 2, 25].into())]);
        Resolver::at(superoffice_sim::dns::serve(zone).await.unwrap())
    }

    #[tokio::test]
    async fn verdicts() {
        let r = zone(&[
            ("example.com", "v=spf1 include:_spf.provider.example a:mail.example.com ~all"),
            ("_spf.provider.example", "v=spf1 ip4:198.51.100.0/24 -all"),
            ("broken.example", "v=spf1 include:nowhere.example -all"),
            ("_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:d@example.com"),
            ("_dmarc.broken.example", "v=DMARC1; rua=mailto:d@example.com"),
        ])
        .await;
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(matches!(check(&r, ip("198.51.100.7"), "example.com").await.unwrap(), Spf::Pass(_)), "through the include");
        assert!(matches!(check(&r, ip("192.0.2.25"), "example.com").await.unwrap(), Spf::Pass(_)), "by `a:`");
        assert!(matches!(check(&r, ip("203.0.113.1"), "example.com").await.unwrap(), Spf::SoftFail(_)));
        assert!(matches!(check(&r, ip("203.0.113.1"), "broken.example").await.unwrap(), Spf::PermError(_)));
        assert_eq!(check(&r, ip("203.0.113.1"), "none.example").await.unwrap(), Spf::None);
        assert_eq!(dmarc(&r, "example.com").await.unwrap().as_deref(), Some("reject"));
        assert_eq!(dmarc(&r, "broken.example").await.unwrap().as_deref(), Some("none"), "no p=: none, as before");
        assert_eq!(dmarc(&r, "none.example").await.unwrap(), None);
    }
}
