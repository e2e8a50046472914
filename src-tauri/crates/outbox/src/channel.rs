//! The four ways a message can leave, and how one is chosen.
//!
//! - **The rep's mailbox** (Microsoft 365 through Graph, Google through the Gmail API), once
//!   the rep connected it: sent as the rep, the copy in their Sent folder, a lost answer
//!   settled by looking the message up where the provider allows it (`by_mailbox`).
//! - **Email agent**: SuperOffice's own `Agents/EMail/Send`, with the rep's token and Inbox
//!   account. Online-restricted: only when the app registration was granted the Email agent and
//!   the rep has an Inbox account.
//! - **SMTP relay**: lettre over TLS, `From` the rep.
//! - **Handoff**: the seed's workaround made pleasant: subject and body to the clipboard, a
//!   `mailto:` for the rep's mail program, the task kept open until the rep confirms.
//!
//! The choice is made once per sign-in from what the tenant really allows (and an admin's
//! override), and each message records the channel it took and why.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "SendChannel")]
pub enum Channel {
    EmailAgent,
    Smtp,
    Handoff,
    Mailbox,
}

impl Channel {
    pub fn as_db(self) -> &'static str {
        match self {
            Channel::EmailAgent => "email_agent",
            Channel::Smtp => "smtp",
            Channel::Handoff => "handoff",
            Channel::Mailbox => "mailbox",
        }
    }
    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "email_agent" => Channel::EmailAgent,
            "smtp" => Channel::Smtp,
            "handoff" => Channel::Handoff,
            "mailbox" => Channel::Mailbox,
            _ => return None,
        })
    }
}

/// What the admin configured: automatic, or one channel forced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ChannelSetting {
    #[default]
    Auto,
    EmailAgent,
    Smtp,
    Handoff,
    Mailbox,
}

/// What the tenant allows, as probed after sign-in (the diagnostics refine this).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentAccess {
    /// The agent answered; `account` is the rep's Inbox address, if any.
    Granted { account: Option<String> },
    /// The agent refused (HTTP status): not granted to the app registration.
    NotGranted(u16),
    /// Could not be tested (network, server error).
    Unknown(String),
}

#[derive(Clone, Debug)]
pub struct Capabilities {
    pub email_agent: AgentAccess,
    /// An SMTP relay and its password are configured.
    pub smtp_configured: bool,
    /// The rep's connected mailbox: where, and its address.
    pub mailbox: Option<(mailbox::Provider, String)>,
}

/// What was found about the email agent, as a reason (the UI words it in the rep's language).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentWhy {
    Available { account: String },
    NoInbox,
    NotGranted { status: u16 },
    Untested { detail: String },
}

/// Why a channel was chosen: the record each message keeps, in a form the UI can translate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelWhy {
    /// Before the tenant was checked (the first moments after sign-in).
    Initial,
    AdminHandoff,
    AdminAgent {
        agent: AgentWhy,
    },
    AdminSmtp,
    /// Automatic: the email agent works.
    Agent {
        agent: AgentWhy,
    },
    /// Automatic: the relay, because of what the agent said.
    SmtpFallback {
        agent: AgentWhy,
    },
    /// Automatic: neither works.
    HandoffFallback {
        agent: AgentWhy,
    },
    /// The administrator chose the rep's own mailbox.
    AdminMailbox {
        provider: mailbox::Provider,
        address: String,
    },
    /// Automatic: the rep connected their mailbox.
    Mailbox {
        provider: mailbox::Provider,
        address: String,
    },
}

impl AgentWhy {
    fn english(&self) -> String {
        match self {
            AgentWhy::Available { account } => format!("SuperOffice's email agent is available with your Inbox account {account}"),
            AgentWhy::NoInbox => "the email agent is granted, but you have no SuperOffice Inbox account".into(),
            AgentWhy::NotGranted { status } => {
                format!("the email agent is not granted to this app (HTTP {status}); only SuperOffice's app manager can grant it")
            }
            AgentWhy::Untested { detail } => format!("the email agent could not be tested ({detail})"),
        }
    }
}

impl ChannelWhy {
    /// The reason in English (logs, the timeline, the archived document's description).
    pub fn english(&self) -> String {
        match self {
            ChannelWhy::Initial => "the SMTP relay".into(),
            ChannelWhy::AdminHandoff => "the administrator chose handoff to your own mail program".into(),
            ChannelWhy::AdminAgent { agent } => format!("the administrator chose the email agent; {}", agent.english()),
            ChannelWhy::AdminSmtp => "the administrator chose the SMTP relay".into(),
            ChannelWhy::Agent { agent } => agent.english(),
            ChannelWhy::SmtpFallback { agent } => format!("because {}", agent.english()),
            ChannelWhy::HandoffFallback { agent } => format!("because {} and no SMTP relay is configured", agent.english()),
            ChannelWhy::AdminMailbox { provider, address } => {
                format!("the administrator chose your own mailbox ({} {address})", provider.product())
            }
            ChannelWhy::Mailbox { provider, address } => format!("you connected your {} mailbox {address}", provider.product()),
        }
    }
}

/// The channel for new approvals, and why (as data; [`ChannelChoice::reason`] words it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct ChannelChoice {
    pub channel: Channel,
    pub why: ChannelWhy,
}

impl ChannelChoice {
    pub fn new(channel: Channel, why: ChannelWhy) -> Self {
        ChannelChoice { channel, why }
    }

    /// The reason in English (logs, the message's record, the timeline).
    pub fn reason(&self) -> String {
        self.why.english()
    }
}

/// The rep's connected mailbox → email agent → SMTP → handoff, unless the admin forces one (a
/// forced channel that cannot work falls back, and says so). The mailbox comes first: the rep
/// connected it to send from it, and it is the one channel that puts the mail in their own
/// Sent folder and can settle a lost answer by itself.
pub fn choose(setting: ChannelSetting, caps: &Capabilities) -> ChannelChoice {
    let agent_ok = matches!(&caps.email_agent, AgentAccess::Granted { account: Some(_) });
    let agent = match &caps.email_agent {
        AgentAccess::Granted { account: Some(a) } => AgentWhy::Available { account: a.clone() },
        AgentAccess::Granted { account: None } => AgentWhy::NoInbox,
        AgentAccess::NotGranted(s) => AgentWhy::NotGranted { status: *s },
        AgentAccess::Unknown(e) => AgentWhy::Untested { detail: e.clone() },
    };
    let pick = ChannelChoice::new;
    let mailbox = caps.mailbox.clone();
    match setting {
        ChannelSetting::Handoff => pick(Channel::Handoff, ChannelWhy::AdminHandoff),
        ChannelSetting::Mailbox if mailbox.is_some() => {
            let (provider, address) = mailbox.unwrap_or((mailbox::Provider::Microsoft, String::new()));
            pick(Channel::Mailbox, ChannelWhy::AdminMailbox { provider, address })
        }
        ChannelSetting::EmailAgent if agent_ok => pick(Channel::EmailAgent, ChannelWhy::AdminAgent { agent }),
        ChannelSetting::Smtp if caps.smtp_configured => pick(Channel::Smtp, ChannelWhy::AdminSmtp),
        ChannelSetting::Auto | ChannelSetting::Mailbox if mailbox.is_some() => {
            let (provider, address) = mailbox.unwrap_or((mailbox::Provider::Microsoft, String::new()));
            pick(Channel::Mailbox, ChannelWhy::Mailbox { provider, address })
        }
        _ if agent_ok => pick(Channel::EmailAgent, ChannelWhy::Agent { agent }),
        _ if caps.smtp_configured => pick(Channel::Smtp, ChannelWhy::SmtpFallback { agent }),
        _ => pick(Channel::Handoff, ChannelWhy::HandoffFallback { agent }),
    }
}

/// A `mailto:` link for the handoff (RFC 6068; every part percent-encoded, so nothing in the
/// draft can add a recipient or a header).
pub fn mailto(to: &str, subject: &str, body: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let body = body.replace("\r\n", "\n").replace('\n', "\r\n");
    let local_at_domain: String = to.split('@').map(enc).collect::<Vec<_>>().join("@");
    format!("mailto:{local_at_domain}?subject={}&body={}", enc(subject), enc(&body))
}

/// What goes to the clipboard for the handoff.
pub fn handoff_text(to: &str, subject: &str, body: &str) -> String {
    format!("To: {to}\nSubject: {subject}\n\n{body}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(agent: AgentAccess, smtp: bool) -> Capabilities {
        Capabilities { email_agent: agent, smtp_configured: smtp, mailbox: None }
    }

    #[test]
    fn a_connected_mailbox_comes_first_unless_the_admin_chose_another() {
        let granted = AgentAccess::Granted { account: Some("anna@x.example".into()) };
        let with = Capabilities { mailbox: Some((mailbox::Provider::Microsoft, "anna@x.example".into())), ..caps(granted.clone(), true) };
        let c = choose(ChannelSetting::Auto, &with);
        assert_eq!(c.channel, Channel::Mailbox);
        assert!(c.reason().contains("Microsoft 365") && c.reason().contains("anna@x.example"), "{}", c.reason());
        assert_eq!(choose(ChannelSetting::Mailbox, &with).channel, Channel::Mailbox);
        assert!(matches!(choose(ChannelSetting::Mailbox, &with).why, ChannelWhy::AdminMailbox { .. }));
        assert_eq!(choose(ChannelSetting::Smtp, &with).channel, Channel::Smtp);
        assert_eq!(choose(ChannelSetting::EmailAgent, &with).channel, Channel::EmailAgent);
        // Forced but not connected: falls back as any forced channel does.
        assert_eq!(choose(ChannelSetting::Mailbox, &caps(granted, true)).channel, Channel::EmailAgent);
    }

    #[test]
    fn agent_then_smtp_then_handoff() {
        let granted = AgentAccess::Granted { account: Some("anna@x.example".into()) };
        assert_eq!(choose(ChannelSetting::Auto, &caps(granted.clone(), true)).channel, Channel::EmailAgent);
        let c = choose(ChannelSetting::Auto, &caps(AgentAccess::NotGranted(401), true));
        assert_eq!(c.channel, Channel::Smtp);
        assert!(c.reason().contains("not granted") && c.reason().contains("401"), "{}", c.reason());
        assert_eq!(choose(ChannelSetting::Auto, &caps(AgentAccess::Granted { account: None }, false)).channel, Channel::Handoff);
        assert_eq!(choose(ChannelSetting::Smtp, &caps(granted.clone(), true)).channel, Channel::Smtp);
        assert_eq!(choose(ChannelSetting::Handoff, &caps(granted, true)).channel, Channel::Handoff);
        assert_eq!(choose(ChannelSetting::EmailAgent, &caps(AgentAccess::NotGranted(403), true)).channel, Channel::Smtp, "falls back");
    }

    #[test]
    fn mailto_cannot_smuggle_recipients_or_headers() {
        let m = mailto("jonas@mueller.example", "Angebot & mehr?cc=x@evil.example", "Hallo\n\nbcc=evil@x.example&to=y");
        assert!(m.starts_with("mailto:jonas@mueller.example?subject="), "{m}");
        assert_eq!(m.matches('&').count(), 1, "only the subject/body separator: {m}");
        assert_eq!(m.matches('?').count(), 1);
        assert!(m.contains("%0D%0A%0D%0A"), "line breaks are CRLF-encoded: {m}");
    }
}
