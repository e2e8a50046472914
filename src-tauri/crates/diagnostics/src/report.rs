//! The report an admin exports: the seed analysis's structure (executive summary, technical
//! findings, required actions as Option A and Option B with owners, immediate workaround),
//! built from live results. It holds check results only: no token, secret or URL with
//! credentials ever enters a [`Check`].

use serde::Serialize;

use crate::{Action, Cause, Check, CheckId, Owner, Status};

/// The channel to use, with the reasoning chain.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Recommendation {
    pub channel: outbox::Channel,
    pub reasons: Vec<RecommendationReason>,
}

/// One step of the recommendation's reasoning, as a code (the UI words it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationReason {
    AgentGranted,
    AgentWithoutInbox,
    AgentNotGranted,
    AgentUntested,
    SmtpWorks,
    NoSmtp,
}

impl RecommendationReason {
    /// In English (the report and the command line).
    pub fn english(self) -> &'static str {
        match self {
            Self::AgentGranted => "the Email agent is granted to the app and the rep has a SuperOffice Inbox account",
            Self::AgentWithoutInbox => "the Email agent is granted, but the rep has no usable Inbox account",
            Self::AgentNotGranted => "the Email agent is not granted to the app registration",
            Self::AgentUntested => "the Email agent could not be tested",
            Self::SmtpWorks => "the SMTP relay accepts the rep as sender over TLS",
            Self::NoSmtp => "no working SMTP relay",
        }
    }
}

impl Recommendation {
    /// The reasoning chain in English, joined by "; ".
    pub fn english(&self) -> String {
        self.reasons.iter().map(|r| r.english()).collect::<Vec<_>>().join("; ")
    }
}

fn status_of(checks: &[Check], id: CheckId) -> Option<Status> {
    checks.iter().find(|c| c.id == id).map(|c| c.status)
}

/// Email agent when it works with an Inbox account, else the SMTP relay when it works, else
/// the handoff. `smtp_ok` comes from the relay check.
pub fn recommend(rep: &[Check], smtp_ok: bool) -> Recommendation {
    let agent = status_of(rep, CheckId::EmailAgent);
    let inbox = status_of(rep, CheckId::InboxAccount);
    let mut reasons = Vec::new();
    use outbox::Channel;
    use RecommendationReason as Why;
    let channel = if agent == Some(Status::Pass) && inbox == Some(Status::Pass) {
        reasons.push(Why::AgentGranted);
        Channel::EmailAgent
    } else {
        reasons.push(match (agent, inbox) {
            (Some(Status::Pass), _) => Why::AgentWithoutInbox,
            (Some(Status::Fail), _) => Why::AgentNotGranted,
            _ => Why::AgentUntested,
        });
        if smtp_ok {
            reasons.push(Why::SmtpWorks);
            Channel::Smtp
        } else {
            reasons.push(Why::NoSmtp);
            Channel::Handoff
        }
    };
    Recommendation { channel, reasons }
}

fn owner_name(o: Owner) -> &'static str {
    match o {
        Owner::Rep => "the rep",
        Owner::TenantAdmin => "the tenant administrator",
        Owner::AppRegistration => "SuperOffice's app manager (app registration)",
        Owner::MailAdmin => "the mail administrator",
        Owner::DnsOwner => "the DNS owner",
        Owner::AppVendor => "the app's vendor",
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "Pass",
        Status::Warn => "Warn",
        Status::Fail => "Fail",
        Status::Unknown => "Could not test",
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report in the seed analysis's structure.
pub fn markdown(report: &crate::Report) -> String {
    let (tenant, rep, system, rec) = (&report.tenant, &report.rep[..], report.system_user.as_deref(), &report.recommendation);
    let mut md = format!(
        "# SuperOffice sending capability report ({tenant})\n\nGenerated {} by SuperOffice Outbox {}.\n\n## Executive summary\n\n",
        report.generated_at,
        env!("CARGO_PKG_VERSION")
    );
    md.push_str(&format!("Recommended channel: **{}**, because {}.\n\n", rec.channel.as_db().replace('_', " "), rec.english()));
    let failing: Vec<&str> = rep.iter().filter(|c| c.status == Status::Fail).map(|c| c.id.as_str()).collect();
    let unknown: Vec<&str> = rep.iter().filter(|c| c.status == Status::Unknown).map(|c| c.id.as_str()).collect();
    md.push_str(&format!(
        "{} of {} checks pass for the signed-in rep{}{}.\n\n",
        rep.iter().filter(|c| c.status == Status::Pass).count(),
        rep.len(),
        if failing.is_empty() { String::new() } else { format!("; failing: {}", failing.join(", ")) },
        if unknown.is_empty() { String::new() } else { format!("; could not test: {}", unknown.join(", ")) },
    ));
    if system.is_some() {
        md.push_str("The system user cannot send as a rep by design (it has no person and cannot impersonate anyone); each rep signs in as themselves.\n\n");
    }
    md.push_str("## Technical findings\n\n");
    let mut columns = vec![("Signed-in rep", rep)];
    if let Some(s) = system {
        columns.insert(0, ("System user", s));
    }
    for (title, checks) in columns {
        md.push_str(&format!("### {title}\n\n| Check | Status | Tried | Evidence | Cause | Owner |\n|---|---|---|---|---|---|\n"));
        for c in checks {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                c.id,
                status_word(c.status),
                cell(&c.tried.join("; ")),
                cell(&c.evidence.join("; ")),
                cell(&c.cause.as_ref().map(Cause::english).unwrap_or_default()),
                c.owner.map(owner_name).unwrap_or("")
            ));
        }
        md.push('\n');
    }
    md.push_str("## Required actions\n\n### Option A: Enable SuperOffice's own sending\n\n");
    let agent_actions: Vec<&Check> = rep
        .iter()
        .filter(|c| matches!(c.id, CheckId::EmailAgent | CheckId::InboxAccount) && c.status != Status::Pass && c.action.is_some())
        .collect();
    if agent_actions.is_empty() {
        md.push_str("Nothing to do: the Email agent works.\n\n");
    }
    for c in agent_actions {
        md.push_str(&format!(
            "- {} — owner: {}\n",
            c.action.as_ref().map(Action::english).unwrap_or_default(),
            c.owner.map(owner_name).unwrap_or("—")
        ));
    }
    md.push_str("\n### Option B: SMTP relay, then archive in SuperOffice\n\n");
    if status_of(rep, CheckId::SmtpRelay) == Some(Status::Pass) {
        md.push_str("- The SMTP relay already accepts the rep as sender over TLS; sent emails are archived as documents linked to contact, person and sale.\n");
    } else {
        md.push_str("- Configure the rep's SMTP relay (implicit TLS or STARTTLS; `so-outbox configure`) — owner: the mail administrator. Sent emails are archived as documents, which works for the rep.\n");
    }
    for c in rep.iter().filter(|c| {
        matches!(c.status, Status::Fail | Status::Warn)
            && !matches!(c.id, CheckId::EmailAgent | CheckId::InboxAccount | CheckId::Crmscript | CheckId::Marketing)
            && c.action.is_some()
    }) {
        md.push_str(&format!(
            "- {} — owner: {}\n",
            c.action.as_ref().map(Action::english).unwrap_or_default(),
            c.owner.map(owner_name).unwrap_or("—")
        ));
    }
    md.push_str("\n## Immediate workaround\n\nUntil a channel works, SuperOffice Outbox hands each approved email to the rep's own mail program: the text is copied, a new message opens, and the SuperOffice follow-up stays open until the rep confirms it was sent.\n");
    md
}
