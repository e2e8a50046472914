//! The SuperOffice checks. Independent checks run concurrently; only the email-agent → Inbox
//! account chain is sequential.

use std::time::Instant;

use superoffice::{Client, Method};

use crate::{Check, Owner, Status};

const DOCS_AGENTS: &str = "https://docs.superoffice.com/en/developer-portal/create-app/config/app-config.html";
const DOCS_USERS: &str = "https://docs.superoffice.com/en/developer-portal/getting-started/user-contexts.html";
const DOCS_INBOX: &str = "https://docs.superoffice.com/en/email/inbox/learn/setup.html";
const DOCS_TEMPLATES: &str = "https://docs.superoffice.com/en/email/admin/add-email-template.html";
const DOCS_MAILINGS: &str = "https://docs.superoffice.com/en/email/mailgun/overview.html";

/// Whose context the checks run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Rep,
    SystemUser,
}

fn evidence(e: &superoffice::Error, ms: u128) -> String {
    format!("{e} ({ms} ms)")
}

fn ok_line(what: &str, ms: u128) -> String {
    format!("{what} ({ms} ms)")
}

/// Runs every SuperOffice check for one caller.
pub async fn run(client: &Client, caller: Caller, task_type_id: i64) -> Vec<Check> {
    let (identity, archive, template, tasks, agent, crm, marketing, me) = tokio::join!(
        identity(client, caller),
        archive_documents(client),
        email_template(client),
        task_handoff(client, task_type_id),
        email_agent_and_inbox(client),
        crmscript(client),
        marketing(client, caller),
        associate_me(client, caller),
    );
    let (agent, inbox) = agent;
    let mut all = vec![identity, archive, template, tasks, agent, inbox, crm, marketing];
    all.extend(me);
    all
}

async fn identity(client: &Client, caller: Caller) -> Check {
    let t = Instant::now();
    let r = client.current_principal().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("identity", Status::Pass);
    c.tried.push("GET User/currentPrincipal".into());
    c.docs = Some(DOCS_USERS.into());
    match r {
        Ok(p) => {
            c.evidence.push(ok_line(
                &format!("200: AssociateId {}, PersonId {}, EMailAddress {:?}", p.associate_id, p.person_id, p.email_address),
                ms,
            ));
            if caller == Caller::SystemUser || p.person_id == 0 {
                c.status = Status::Fail;
                c.cause = Some("The system user is not a person: it has no email address and cannot impersonate other users in SuperOffice Online, so it can never send as a rep.".into());
                c.action = Some("Send with each rep's own sign-in (this app); the system user is only for server tasks.".into());
            } else if p.email_address.trim().is_empty() {
                c.status = Status::Fail;
                c.cause = Some("The rep's user has no email address.".into());
                c.owner = Some(Owner::TenantAdmin);
                c.action = Some("Add the rep's email address as the first email on their contact card.".into());
            }
        }
        Err(e) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(evidence(&e, ms));
            c.cause = Some("SuperOffice did not say who is signed in.".into());
            c.owner = Some(Owner::Rep);
            c.action = Some("Sign in again.".into());
        }
    }
    c
}

async fn archive_documents(client: &Client) -> Check {
    let t = Instant::now();
    let r = client.document_default().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("archive_documents", Status::Pass);
    c.tried.push("GET Document/default".into());
    match r {
        Ok(_) => c.evidence.push(ok_line("200: document defaults returned", ms)),
        Err(e) => {
            c.evidence.push(evidence(&e, ms));
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.cause = Some("Sent emails cannot be archived as documents for this user.".into());
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some("Give the user a role with the right to create documents (Settings and maintenance → Roles).".into());
        }
    }
    c
}

async fn email_template(client: &Client) -> Check {
    let t = Instant::now();
    let r = client.outgoing_email_templates().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("email_template", Status::Pass);
    c.tried.push("GET List/DocumentTemplate/Items (RecordType 3 = email, Direction 2 = outgoing)".into());
    c.docs = Some(DOCS_TEMPLATES.into());
    match r {
        Ok(t) if !t.is_empty() => c.evidence.push(ok_line(&format!("{} outgoing email template(s), e.g. {:?}", t.len(), t[0].name), ms)),
        Ok(_) => {
            c.status = Status::Warn;
            c.evidence.push(ok_line("no outgoing email template", ms));
            c.cause = Some("Archived emails get the default document template instead of an email template.".into());
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some("Add an \"Email - Template\" document template of type Normal, direction Outgoing.".into());
        }
        Err(e) => {
            c.status = Status::Unknown;
            c.evidence.push(evidence(&e, ms));
        }
    }
    c
}

async fn task_handoff(client: &Client, task_type_id: i64) -> Check {
    let t = Instant::now();
    let (types, default) = tokio::join!(client.task_types(), client.appointment_default());
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("task_handoff", Status::Pass);
    c.tried.push("GET MDOList/task".into());
    c.tried.push("GET Appointment/default".into());
    match (types, default) {
        (Ok(types), Ok(_)) => match types.iter().find(|t| t.id == task_type_id) {
            Some(t) => c.evidence.push(ok_line(&format!("task type {} {:?} exists; follow-ups can be created", t.id, t.name), ms)),
            None => {
                c.status = Status::Fail;
                c.evidence.push(ok_line(&format!("no task type with id {task_type_id} among {} types", types.len()), ms));
                c.cause = Some("The configured draft task type does not exist, so no drafts arrive.".into());
                c.owner = Some(Owner::TenantAdmin);
                c.action = Some("Set the app's task type to the one the GTM engine uses (`so-outbox configure --task-type N`).".into());
            }
        },
        (Err(e), _) | (_, Err(e)) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(evidence(&e, ms));
            c.cause = Some("Follow-up tasks cannot be read or created for this user.".into());
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some("Give the user the right to create follow-ups.".into());
        }
    }
    c
}

/// The email agent, then (only when it answers) the rep's Inbox account.
async fn email_agent_and_inbox(client: &Client) -> (Check, Check) {
    let t = Instant::now();
    let r = client.email_current_account().await;
    let ms = t.elapsed().as_millis();
    let mut agent = Check::new("email_agent", Status::Pass);
    agent.tried.push("POST Agents/EMail/GetCurrentAccount".into());
    agent.docs = Some(DOCS_AGENTS.into());
    let mut inbox = Check::new("inbox_account", Status::Unknown);
    inbox.tried.push("POST Agents/EMail/GetCurrentAccount → EMailAddress".into());
    inbox.docs = Some(DOCS_INBOX.into());
    match r {
        Ok(account) => {
            agent.evidence.push(ok_line("200: the Email agent answers for this app", ms));
            match account.filter(|a| !a.email_address.trim().is_empty()) {
                Some(a) => {
                    inbox.status = Status::Pass;
                    inbox.evidence.push(format!("Inbox account {}", a.email_address));
                }
                None => {
                    inbox.status = Status::Fail;
                    inbox.evidence.push("200 without an account".into());
                    inbox.cause = Some("The user has no SuperOffice Inbox account, which the Email agent sends with.".into());
                    inbox.owner = Some(Owner::Rep);
                    inbox.action =
                        Some("Set up SuperOffice Inbox (IMAP + SMTP) with the same address as the first email on the contact card.".into());
                }
            }
        }
        Err(e) => {
            agent.evidence.push(evidence(&e, ms));
            match e.status() {
                Some(401 | 403) => {
                    agent.status = Status::Fail;
                    agent.cause = Some("The Email agent is restricted in SuperOffice Online and not granted to this app registration. The token type is not the cause: a rep's own sign-in gets the same answer.".into());
                    agent.owner = Some(Owner::AppRegistration);
                    agent.action = Some("Ask SuperOffice to enable \"Access to (agents): Email\" for the app registration (only their app manager can). Until then mail goes by SMTP or handoff.".into());
                }
                _ => agent.status = Status::Unknown,
            }
            inbox.evidence.push("not testable: the Email agent did not answer".into());
        }
    }
    (agent, inbox)
}

async fn crmscript(client: &Client) -> Check {
    let t = Instant::now();
    let r = client.crmscript_execute("print(\"so-outbox\");").await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("crmscript", Status::Pass);
    c.tried.push("POST Agents/CRMScript/ExecuteScriptByString (print only)".into());
    c.docs = Some(DOCS_AGENTS.into());
    match r {
        Ok(out) => c.evidence.push(ok_line(&format!("200: output {:?}", out.output), ms)),
        Err(e) => {
            c.evidence.push(evidence(&e, ms));
            c.status = if matches!(e.status(), Some(401 | 403)) { Status::Warn } else { Status::Unknown };
            c.cause = Some("The CRMScript agent is restricted in Online and not granted to this app. Sending does not need it (and the Email agent is not reachable from CRMScript anyway).".into());
            c.owner = Some(Owner::AppRegistration);
            c.action = Some("Nothing for sending. If a script is wanted, request \"Access to (agents): CRMScript\" for the app.".into());
        }
    }
    c
}

async fn marketing(client: &Client, caller: Caller) -> Check {
    let t = Instant::now();
    let r = client.probe(Method::POST, "Shipment").await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("marketing", Status::Warn);
    c.tried.push("POST Shipment".into());
    c.docs = Some(DOCS_MAILINGS.into());
    c.evidence.push(match &r {
        Ok(_) => ok_line("2xx", ms),
        Err(e) => evidence(e, ms),
    });
    c.cause = Some(format!(
        "Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no REST operation sends one personal email with them, so {} says nothing about 1:1 sending.",
        if caller == Caller::SystemUser { "this answer for the system user" } else { "this answer" }
    ));
    c.action = Some("None for 1:1 email: use the rep's channel (Email agent, SMTP relay or handoff).".into());
    c
}

/// The seed tried `/Associate/Me`; it is not a documented endpoint.
async fn associate_me(client: &Client, caller: Caller) -> Option<Check> {
    if caller != Caller::SystemUser {
        return None;
    }
    let t = Instant::now();
    let r = client.probe(Method::GET, "Associate/Me").await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new("associate_me", Status::Warn);
    c.tried.push("GET Associate/Me".into());
    c.evidence.push(match &r {
        Ok(_) => ok_line("2xx", ms),
        Err(e) => evidence(e, ms),
    });
    c.cause = Some("`/Associate/Me` is not a documented endpoint; its 500 is not a finding. `User/currentPrincipal` is the documented way (see the identity check).".into());
    Some(c)
}
