//! SPF (RFC 7208) evaluation of the relay's address against the rep's domain, and the DMARC
//! record (RFC 7489): whether mail the relay sends as the rep is likely to be accepted.
//!
//! The subset that decides real records: `all`, `include`, `a`, `mx`, `ip4`, `ip6` with
//! qualifiers and CIDR lengths, `redirect=`, the 10-lookup limit. `exists` and `ptr` (rare,
//! `ptr` deprecated) never match here, which the evidence says when they appear.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use crate::dns::{DnsError, Resolver};

/// The SPF verdict for one IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spf {
    /// Authorized, by this mechanism.
    Pass(String),
    Fail(String),
    SoftFail(String),
    Neutral(String),
    /// The domain publishes no SPF record.
    None,
    PermError(String),
}

const LOOKUP_LIMIT: u32 = 10;

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

/// Evaluates `ip` against `domain`'s SPF policy.
pub async fn check(resolver: &Resolver, ip: IpAddr, domain: &str) -> Result<Spf, DnsError> {
    let mut lookups = 0;
    eval(resolver, ip, domain.to_owned(), &mut lookups, true).await
}

fn eval<'a>(
    resolver: &'a Resolver,
    ip: IpAddr,
    domain: String,
    lookups: &'a mut u32,
    top: bool,
) -> Pin<Box<dyn Future<Output = Result<Spf, DnsError>> + Send + 'a>> {
    Box::pin(async move {
        let text = match record(resolver, &domain).await? {
            Ok(Some(t)) => t,
            Ok(None) if top => return Ok(Spf::None),
            Ok(None) => return Ok(Spf::PermError(format!("{domain} (included) has no SPF record"))),
            Err(e) => return Ok(Spf::PermError(e)),
        };
        let mut redirect = None;
        for term in text.split_ascii_whitespace().skip(1) {
            if let Some(target) = term.strip_prefix("redirect=") {
                redirect = Some(target.to_owned());
                continue;
            }
            if term.contains('=') {
                continue; // other modifiers (exp=)
            }
            let (qualifier, mech) = match term.as_bytes()[0] {
                b'+' | b'-' | b'~' | b'?' => (term.as_bytes()[0], &term[1..]),
                _ => (b'+', term),
            };
            let (name, arg) = mech.split_once([':', '/']).map(|(n, _)| (n, &mech[n.len()..])).unwrap_or((mech, ""));
            let matched = match name.to_ascii_lowercase().as_str() {
                "all" => true,
                "ip4" | "ip6" => in_cidr(ip, arg.trim_start_matches(':')),
                "a" | "mx" => {
                    *lookups += 1;
                    if *lookups > LOOKUP_LIMIT {
                        return Ok(Spf::PermError("more than 10 DNS lookups".into()));
                    }
                    let (target, cidr) = split_target(arg, &domain);
                    let hosts = if name.eq_ignore_ascii_case("mx") { resolver.mx(&target).await? } else { vec![target] };
                    let mut hit = false;
                    for h in hosts.iter().take(10) {
                        hit |= resolver.addresses(h).await?.into_iter().any(|a| in_prefix(ip, a, cidr));
                    }
                    hit
                }
                "include" => {
                    *lookups += 1;
                    if *lookups > LOOKUP_LIMIT {
                        return Ok(Spf::PermError("more than 10 DNS lookups".into()));
                    }
                    match eval(resolver, ip, arg.trim_start_matches(':').to_owned(), lookups, false).await? {
                        Spf::Pass(_) => true,
                        Spf::PermError(e) => return Ok(Spf::PermError(e)),
                        _ => false,
                    }
                }
                "exists" | "ptr" => false,
                other => return Ok(Spf::PermError(format!("unknown mechanism {other:?} in {domain}'s SPF record"))),
            };
            if matched {
                let by = format!("{term} in {domain}");
                return Ok(match qualifier {
                    b'+' => Spf::Pass(by),
                    b'-' => Spf::Fail(by),
                    b'~' => Spf::SoftFail(by),
                    _ => Spf::Neutral(by),
                });
            }
        }
        if let Some(target) = redirect {
            *lookups += 1;
            return eval(resolver, ip, target, lookups, false).await;
        }
        Ok(Spf::Neutral(format!("no mechanism in {domain} matched")))
    })
}

/// `:domain/cidr` or `/cidr` or `` → (domain, cidr length).
fn split_target(arg: &str, current: &str) -> (String, Option<u8>) {
    let arg = arg.strip_prefix(':').unwrap_or(arg);
    let (host, cidr) = match arg.split_once('/') {
        Some((h, c)) => (h, c.split('/').next().and_then(|c| c.parse().ok())),
        None => (arg, None),
    };
    (if host.is_empty() { current.to_owned() } else { host.to_owned() }, cidr)
}

fn in_cidr(ip: IpAddr, spec: &str) -> bool {
    let (addr, len) = match spec.split_once('/') {
        Some((a, l)) => (a, l.parse().ok()),
        None => (spec, None),
    };
    addr.parse::<IpAddr>().is_ok_and(|net| in_prefix(ip, net, len))
}

fn in_prefix(ip: IpAddr, net: IpAddr, len: Option<u8>) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let len = u32::from(len.unwrap_or(32).min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let len = u32::from(len.unwrap_or(128).min(128));
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The DMARC policy (`p=`) of `domain`, if it publishes one.
pub async fn dmarc(resolver: &Resolver, domain: &str) -> Result<Option<String>, DnsError> {
    let records = resolver.txt(&format!("_dmarc.{domain}")).await?;
    Ok(records
        .into_iter()
        .find(|t| t.to_ascii_lowercase().starts_with("v=dmarc1"))
        .map(|t| t.split(';').map(str::trim).find_map(|kv| kv.strip_prefix("p=")).unwrap_or("none").to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let ip: IpAddr = "192.0.2.77".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert!(in_cidr(ip, "192.0.2.0/24"));
        assert!(!in_cidr(ip, "192.0.3.0/24"));
        assert!(in_cidr(ip, "192.0.2.77"));
        assert!(in_cidr(ip, "0.0.0.0/0"));
        assert!(!in_cidr(ip, "2001:db8::/32"));
        assert_eq!(split_target(":mail.example.com/24", "x.example"), ("mail.example.com".into(), Some(24)));
        assert_eq!(split_target("", "x.example"), ("x.example".into(), None));
    }
}
