//! The rep's sending identity outside SuperOffice: whether the domain's SPF and DMARC let the
//! relay send as the rep, and (on request) a real test email to the rep's own address.

use std::net::IpAddr;
use std::time::Instant;

use outbox::SmtpSettings;

use crate::dns::Resolver;
use crate::spf::{self, Spf};
use crate::{Action, Cause, Check, CheckId, Owner, Status};

const DOCS_SPF: &str = "https://www.rfc-editor.org/rfc/rfc7208";

/// SPF of the rep's domain evaluated for the relay's address, and the DMARC policy.
/// "Unknown" when DNS cannot be asked (offline), never "failed".
pub async fn sender_domain(resolver: &Resolver, email: &str, relay_host: Option<&str>) -> Check {
    let t = Instant::now();
    let mut c = Check::new(CheckId::SenderDomain, Status::Pass);
    c.docs = Some(DOCS_SPF.into());
    let Some(domain) = email.rsplit_once('@').map(|(_, d)| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()) else {
        c.status = Status::Unknown;
        c.evidence.push(format!("{email:?} has no domain"));
        return c;
    };
    let server = resolver.to_string();
    c.tried.push(format!("DNS TXT {domain} (SPF) via {server}"));
    c.tried.push(format!("DNS TXT _dmarc.{domain} (DMARC) via {server}"));
    let relay_ips: Vec<IpAddr> = match relay_host {
        Some(host) => {
            c.tried.push(format!("resolve the relay {host}"));
            match tokio::net::lookup_host((host, 25)).await {
                Ok(addrs) => addrs.map(|a| a.ip()).collect(),
                Err(e) => {
                    c.evidence.push(format!("the relay {host} does not resolve: {e}"));
                    Vec::new()
                }
            }
        }
        None => Vec::new(),
    };
    let dmarc = spf::dmarc(resolver, &domain).await;
    let mut verdicts = Vec::new();
    for ip in relay_ips.iter().take(4) {
        verdicts.push((*ip, spf::check(resolver, *ip, &domain).await));
    }
    let record = spf::record(resolver, &domain).await;
    let ms = t.elapsed().as_millis();
    if let Err(e) = record.as_ref().map(|_| ()).and(dmarc.as_ref().map(|_| ())) {
        if e.is_unreachable() {
            c.status = Status::Unknown;
            c.evidence.push(format!("{e} ({ms} ms)"));
            c.cause = Some(Cause::DnsUnreachable);
            c.action = Some(Action::CheckDnsByHand { domain: domain.clone() });
            return c;
        }
    }
    match &record {
        Ok(Ok(Some(r))) => c.evidence.push(format!("SPF: {r}")),
        Ok(Ok(None)) => c.evidence.push(format!("SPF: {domain} publishes none")),
        Ok(Err(e)) => c.evidence.push(format!("SPF: {e}")),
        Err(e) => c.evidence.push(format!("SPF: {e}")),
    }
    let policy = match &dmarc {
        Ok(Some(p)) => {
            c.evidence.push(format!("DMARC: p={p}"));
            Some(p.to_ascii_lowercase())
        }
        Ok(None) => {
            c.evidence.push(format!("DMARC: _dmarc.{domain} publishes none"));
            None
        }
        Err(e) => {
            c.evidence.push(format!("DMARC: {e}"));
            None
        }
    };
    let strict = matches!(policy.as_deref(), Some("reject" | "quarantine"));
    let mut authorized = None;
    for (ip, v) in &verdicts {
        match v {
            Ok(Spf::Pass(by)) => {
                c.evidence.push(format!("SPF pass for the relay address {ip} ({by})"));
                authorized = Some(true);
            }
            Ok(other) => {
                c.evidence.push(format!("SPF for the relay address {ip}: {other:?}"));
                authorized.get_or_insert(false);
            }
            Err(e) => c.evidence.push(format!("SPF for {ip}: {e}")),
        }
    }
    c.evidence.push(format!("({ms} ms)"));
    let no_record = matches!(record, Ok(Ok(None)));
    if relay_host.is_none() {
        c.status = if no_record || policy.is_none() { Status::Warn } else { Status::Pass };
        c.evidence.push("no relay configured: only the records were read".into());
    } else if authorized == Some(false) {
        c.status = if strict { Status::Fail } else { Status::Warn };
        c.cause = Some(Cause::SpfDoesNotAuthorize { domain: domain.clone(), strict });
        c.owner = Some(Owner::DnsOwner);
        c.action = Some(Action::AddRelayToSpf { domain: domain.clone() });
    } else if no_record || policy.is_none() {
        c.status = Status::Warn;
        c.cause =
            Some(if no_record { Cause::NoSpfRecord { domain: domain.clone() } } else { Cause::NoDmarcRecord { domain: domain.clone() } });
        c.owner = Some(Owner::DnsOwner);
        c.action = Some(Action::PublishSpfAndDmarc { domain: domain.clone() });
    } else if authorized.is_none() {
        c.status = Status::Unknown;
        c.cause = Some(Cause::SpfNotEvaluated);
    }
    c
}

/// Write check, only on request: a real test email from the rep to the rep's own address,
/// over the relay.
pub async fn test_email(smtp: Option<&SmtpSettings>, email: &str) -> Check {
    let t = Instant::now();
    let mut c = Check::new(CheckId::TestEmail, Status::Pass);
    let Some(settings) = smtp else {
        c.status = Status::Unknown;
        c.evidence.push("no SMTP relay configured".into());
        return c;
    };
    c.tried.push(format!("SMTP to {}:{}: a test message from {email} to {email}", settings.host, settings.port));
    let message = outbox::mime::build(&outbox::mime::Outgoing {
        from_name: "SuperOffice Outbox",
        from_address: email,
        to_name: "",
        to_address: email,
        subject: "SuperOffice Outbox test message",
        body: "This message was sent by SuperOffice Outbox's diagnostics to check that the relay delivers mail sent as you.\nNo reply is needed.\n",
        message_id: &outbox::mime::new_message_id(email),
        date: time::OffsetDateTime::now_utc(),
    });
    let message = match message {
        Ok(m) => m,
        Err(e) => {
            c.status = Status::Fail;
            c.evidence.push(e.to_string());
            return c;
        }
    };
    let outcome = outbox::smtp::submit(settings, message.envelope(), &message.formatted(), || async { true }).await;
    let ms = t.elapsed().as_millis();
    match outcome {
        outbox::smtp::Outcome::Accepted(reply) => c.evidence.push(format!("accepted: {reply} ({ms} ms); check {email}'s inbox")),
        other => {
            c.status = Status::Fail;
            c.evidence.push(format!("{} ({ms} ms)", other.into_text()));
            c.cause = Some(Cause::TestEmailNotTaken);
            c.owner = Some(Owner::MailAdmin);
            c.action = Some(Action::SeeRelayCheck);
        }
    }
    c
}
