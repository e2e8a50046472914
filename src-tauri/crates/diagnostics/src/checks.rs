//! The SuperOffice checks. Independent checks run concurrently; only the email-agent → Inbox
//! account chain is sequential.

use std::time::Instant;

use superoffice::{Client, Method};

pub use crate::caller::Caller;
use crate::caller::{evidence, ok_line};
use crate::{Action, Cause, Check, CheckId, Owner, Status};

const DOCS_AGENTS: &str = "https://docs.superoffice.com/en/developer-portal/create-app/config/app-config.html";
const DOCS_USERS: &str = "https://docs.superoffice.com/en/developer-portal/getting-started/user-contexts.html";
const DOCS_INBOX: &str = "https://docs.superoffice.com/en/email/inbox/learn/setup.html";
const DOCS_TEMPLATES: &str = "https://docs.superoffice.com/en/email/admin/add-email-template.html";
const DOCS_MAILINGS: &str = "https://docs.superoffice.com/en/email/mailgun/overview.html";

/// Runs every SuperOffice check for one caller.
pub async fn run(client: &Client, caller: Caller, task_type_id: i64) -> Vec<Check> {
    run_for(client, caller, task_type_id).await.0
}

/// The checks, and the caller's email address when `identity` found a usable one (the relay
/// and sender-domain checks need it).
pub(crate) async fn run_for(client: &Client, caller: Caller, task_type_id: i64) -> (Vec<Check>, Option<String>) {
    let (identity, archive, template, tasks, intake, agent, crm, marketing, me) = tokio::join!(
        identity(client, caller),
        archive_documents(client),
        email_template(client),
        task_handoff(client, task_type_id),
        crate::intake::intake(client, caller, task_type_id),
        email_agent(client),
        crmscript(client),
        marketing(client, caller),
        associate_me(client, caller),
    );
    let (identity, card_email) = identity;
    let (agent, account) = agent;
    let inbox = inbox_account(&agent, account, card_email.as_ref());
    let email = usable_email(&identity, card_email);
    let mut all = vec![identity, archive, template, tasks];
    all.extend(intake);
    all.extend([agent, inbox, crm, marketing]);
    all.extend(me);
    (all.into_iter().map(could_not_test).collect(), email)
}

/// The rep's address when `identity` passed: the first email on the contact card.
fn usable_email(identity: &Check, card: Option<superoffice::Result<Option<String>>>) -> Option<String> {
    matches!(identity.status, Status::Pass | Status::Warn).then(|| card.and_then(|r| r.ok()).flatten()).flatten()
}

/// Only the caller's address (for re-running the relay, sender-domain and write checks).
pub(crate) async fn rep_email(client: &Client) -> Option<String> {
    let (check, card) = identity(client, Caller::Rep).await;
    usable_email(&check, card)
}

/// A check that could not be tested (SuperOffice down, network) names no cause or owner of
/// the feature: only that it has to be tried again.
fn could_not_test(mut c: Check) -> Check {
    if c.status == Status::Unknown && c.id != CheckId::InboxAccount {
        c.cause = Some(Cause::CouldNotTest);
        c.owner = None;
        c.action = Some(Action::RerunWhenTenantAnswers);
    }
    c
}

/// Runs one SuperOffice check again (the email agent and the Inbox account together).
pub(crate) async fn run_one(client: &Client, caller: Caller, task_type_id: i64, id: CheckId) -> Option<Vec<Check>> {
    let checks = match id {
        CheckId::Identity => vec![identity(client, caller).await.0],
        CheckId::ArchiveDocuments => vec![archive_documents(client).await],
        CheckId::EmailTemplate => vec![email_template(client).await],
        CheckId::TaskHandoff => vec![task_handoff(client, task_type_id).await],
        CheckId::Intake => crate::intake::intake(client, caller, task_type_id).await.into_iter().collect(),
        CheckId::EmailAgent | CheckId::InboxAccount => {
            let ((_, card), (agent, account)) = tokio::join!(identity(client, caller), email_agent(client));
            let inbox = inbox_account(&agent, account, card.as_ref());
            vec![agent, inbox]
        }
        CheckId::Crmscript => vec![crmscript(client).await],
        CheckId::Marketing => vec![marketing(client, caller).await],
        CheckId::AssociateMe => associate_me(client, caller).await.into_iter().collect(),
        _ => return None,
    };
    Some(checks.into_iter().map(could_not_test).collect())
}

/// Who the caller is; for a person, then the first email on their contact card
/// (`GET Person/{id}`), which the Inbox account and the sender address must match.
async fn identity(client: &Client, caller: Caller) -> (Check, Option<superoffice::Result<Option<String>>>) {
    let t = Instant::now();
    let r = client.current_principal().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::Identity, Status::Pass);
    c.tried.push("GET User/currentPrincipal".into());
    c.docs = Some(DOCS_USERS.into());
    let mut card = None;
    match r {
        Ok(p) => {
            c.evidence.push(ok_line(
                &format!("200: AssociateId {}, PersonId {}, EMailAddress {:?}", p.associate_id, p.person_id, p.email_address),
                ms,
            ));
            if caller == Caller::SystemUser || p.person_id == 0 {
                c.status = Status::Fail;
                c.cause = Some(Cause::SystemUserNotAPerson);
                c.action = Some(Action::SendWithRepSignIn);
            } else if p.email_address.trim().is_empty() {
                c.status = Status::Fail;
                c.cause = Some(Cause::UserHasNoEmail);
                c.owner = Some(Owner::TenantAdmin);
                c.action = Some(Action::AddRepEmailToCard);
            } else {
                let t = Instant::now();
                c.tried.push(format!("GET Person/{}", p.person_id));
                let person = client.person(p.person_id).await;
                let ms = t.elapsed().as_millis();
                match &person {
                    Ok(person) => c
                        .evidence
                        .push(ok_line(&format!("first email on the contact card: {:?}", person.primary_email().unwrap_or("")), ms)),
                    Err(e) => c.evidence.push(format!("contact card: {}", evidence(e, ms))),
                }
                let mut first = person.map(|p| p.primary_email().map(str::to_owned));
                // A card that cannot be read (deleted, no right to read it) does not make the
                // rep unknown: currentPrincipal's EMailAddress is what the app sends as, so the
                // diagnosis and the channel in use agree. It is a warning for the admin.
                if let Err(e) = &first {
                    if !e.is_transient() {
                        c.status = Status::Warn;
                        c.evidence
                            .push(format!("using currentPrincipal's EMailAddress {:?}, the address mail is sent from", p.email_address));
                        c.cause = Some(Cause::ContactCardUnreadable);
                        c.owner = Some(Owner::TenantAdmin);
                        c.action = Some(Action::CheckPersonCard);
                        first = Ok(Some(p.email_address.trim().to_owned()));
                    }
                }
                if let Ok(Some(first)) = &first {
                    if first.parse::<outbox::EmailAddress>().is_err() {
                        c.status = Status::Fail;
                        c.cause = Some(Cause::FirstEmailInvalid { first: first.clone() });
                        c.owner = Some(Owner::TenantAdmin);
                        c.action = Some(Action::CorrectFirstEmail);
                    }
                } else if let Ok(None) = &first {
                    c.status = Status::Fail;
                    c.cause = Some(Cause::ContactCardHasNoEmail);
                    c.owner = Some(Owner::TenantAdmin);
                    c.action = Some(Action::AddRepEmailToCard);
                }
                card = Some(first);
            }
        }
        Err(e) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(evidence(&e, ms));
            c.cause = Some(Cause::NoPrincipal);
            c.owner = Some(Owner::Rep);
            c.action = Some(Action::SignInAgain);
        }
    }
    (c, card)
}

async fn archive_documents(client: &Client) -> Check {
    let t = Instant::now();
    let r = client.document_default().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::ArchiveDocuments, Status::Pass);
    c.tried.push("GET Document/default".into());
    match r {
        Ok(entity) => match entity["TableRight"]["Mask"].as_str() {
            Some(mask) if mask.split(',').any(|m| m.trim().eq_ignore_ascii_case("Insert")) => {
                c.evidence.push(ok_line(&format!("200: document defaults; TableRight {mask:?}"), ms));
            }
            Some(mask) => {
                c.status = Status::Fail;
                c.evidence.push(ok_line(
                    &format!("200: TableRight {mask:?} without Insert {:?}", entity["TableRight"]["Reason"].as_str().unwrap_or("")),
                    ms,
                ));
                c.cause = Some(Cause::MayNotCreateDocuments);
                c.owner = Some(Owner::TenantAdmin);
                c.action = Some(Action::GrantDocumentRights);
            }
            None => c.evidence.push(ok_line("200: document defaults returned (no TableRight stated; the write check proves creation)", ms)),
        },
        Err(e) => {
            c.evidence.push(evidence(&e, ms));
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.cause = Some(Cause::DocumentsNotArchivable);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::GrantDocumentRights);
        }
    }
    c
}

async fn email_template(client: &Client) -> Check {
    let t = Instant::now();
    let r = client.outgoing_email_templates().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::EmailTemplate, Status::Pass);
    c.tried.push("GET List/DocumentTemplate/Items (RecordType 3 = email, Direction 2 = outgoing)".into());
    c.docs = Some(DOCS_TEMPLATES.into());
    match r {
        Ok(t) if !t.is_empty() => {
            c.evidence.push(ok_line(&format!("{} outgoing email template(s), e.g. {:?}", t.len(), t[0].name), ms));
            c.found = Some(t[0].document_template_id.to_string());
        }
        Ok(_) => {
            c.status = Status::Warn;
            c.evidence.push(ok_line("no outgoing email template", ms));
            c.cause = Some(Cause::NoEmailTemplate);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::AddEmailTemplate);
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
    let mut c = Check::new(CheckId::TaskHandoff, Status::Pass);
    c.tried.push("GET MDOList/task".into());
    c.tried.push("GET Appointment/default".into());
    match (types, default) {
        (Ok(types), Ok(_)) => match types.iter().find(|t| t.id == task_type_id) {
            Some(t) => c.evidence.push(ok_line(&format!("task type {} {:?} exists; follow-ups can be created", t.id, t.name), ms)),
            None => {
                c.status = Status::Fail;
                c.evidence.push(ok_line(&format!("no task type with id {task_type_id} among {} types", types.len()), ms));
                c.cause = Some(Cause::TaskTypeMissing);
                c.owner = Some(Owner::TenantAdmin);
                c.action = Some(Action::SetTaskType);
            }
        },
        (Err(e), _) | (_, Err(e)) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(evidence(&e, ms));
            c.cause = Some(Cause::FollowUpsNotAllowed);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::GrantFollowUps);
        }
    }
    c
}

/// The email agent; its answer also carries the rep's Inbox account.
async fn email_agent(client: &Client) -> (Check, Option<Option<superoffice::models::EMailAccount>>) {
    let t = Instant::now();
    let r = client.email_current_account().await;
    let ms = t.elapsed().as_millis();
    let mut agent = Check::new(CheckId::EmailAgent, Status::Pass);
    agent.tried.push("POST Agents/EMail/GetCurrentAccount".into());
    agent.docs = Some(DOCS_AGENTS.into());
    match r {
        Ok(account) => {
            agent.evidence.push(ok_line("200: the Email agent answers for this app", ms));
            (agent, Some(account))
        }
        Err(e) => {
            agent.evidence.push(evidence(&e, ms));
            agent.http_status = e.status();
            match e.status() {
                Some(401 | 403) => {
                    agent.status = Status::Fail;
                    agent.cause = Some(Cause::EmailAgentNotGranted);
                    agent.owner = Some(Owner::AppRegistration);
                    agent.action = Some(Action::RequestEmailAgent);
                }
                _ => agent.status = Status::Unknown,
            }
            (agent, None)
        }
    }
}

/// The rep's Inbox account (from the agent's answer), whose address must be the first email
/// on their contact card.
fn inbox_account(
    agent: &Check,
    account: Option<Option<superoffice::models::EMailAccount>>,
    card: Option<&superoffice::Result<Option<String>>>,
) -> Check {
    let mut inbox = Check::new(CheckId::InboxAccount, Status::Unknown);
    inbox.tried.push("POST Agents/EMail/GetCurrentAccount → EMailAddress, compared with the contact card".into());
    inbox.docs = Some(DOCS_INBOX.into());
    let Some(account) = account else {
        inbox.evidence.push(format!("not testable: the Email agent did not answer ({})", agent.evidence.join("; ")));
        return inbox;
    };
    let Some(a) = account.filter(|a| !a.email_address.trim().is_empty()) else {
        inbox.status = Status::Fail;
        inbox.evidence.push("200 without an account".into());
        inbox.cause = Some(Cause::NoInboxAccount);
        inbox.owner = Some(Owner::Rep);
        inbox.action = Some(Action::SetUpInbox);
        return inbox;
    };
    inbox.evidence.push(format!("Inbox account {}", a.email_address));
    inbox.found = Some(a.email_address.trim().to_owned());
    if let Some(reason) = a.error_reason.as_deref().filter(|r| !r.trim().is_empty()) {
        inbox.evidence.push(format!("account error: {reason}"));
    }
    match card {
        Some(Ok(Some(first))) if first.eq_ignore_ascii_case(a.email_address.trim()) => inbox.status = Status::Pass,
        Some(Ok(Some(first))) => {
            inbox.status = Status::Fail;
            inbox.evidence.push(format!("first email on the contact card: {first}"));
            inbox.cause = Some(Cause::InboxAddressNotFirstEmail);
            inbox.owner = Some(Owner::Rep);
            inbox.action = Some(Action::MakeInboxFirstEmail { address: a.email_address.clone(), first: first.clone() });
        }
        Some(Ok(None)) => {
            inbox.status = Status::Fail;
            inbox.cause = Some(Cause::ContactCardHasNoInboxEmail);
            inbox.owner = Some(Owner::TenantAdmin);
            inbox.action = Some(Action::AddInboxAddressToCard { address: a.email_address.clone() });
        }
        _ => inbox.evidence.push("the contact card could not be read to compare".into()),
    }
    inbox
}

async fn crmscript(client: &Client) -> Check {
    let t = Instant::now();
    let r = client.crmscript_execute("print(\"so-outbox\");").await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::Crmscript, Status::Pass);
    c.tried.push("POST Agents/CRMScript/ExecuteScriptByString (print only)".into());
    c.docs = Some(DOCS_AGENTS.into());
    match r {
        Ok(out) => c.evidence.push(ok_line(&format!("200: output {:?}", out.output), ms)),
        Err(e) => {
            c.evidence.push(evidence(&e, ms));
            c.status = if matches!(e.status(), Some(401 | 403)) { Status::Warn } else { Status::Unknown };
            c.cause = Some(Cause::CrmscriptNotGranted);
            c.owner = Some(Owner::AppRegistration);
            c.action = Some(Action::NothingForSending);
        }
    }
    c
}

/// Whether the caller holds the Marketing licence, read from `currentPrincipal`'s `Licenses`
/// (`docs/en/api/reference/restful/rest/User/v1User_GetCurrentPrincipal.md`). Read-only: no
/// REST operation that creates or sends a shipment is documented, so none is called.
async fn marketing(client: &Client, caller: Caller) -> Check {
    let t = Instant::now();
    let r = client.current_principal().await;
    let ms = t.elapsed().as_millis();
    let mut c = Check::new(CheckId::Marketing, Status::Warn);
    c.tried.push("GET User/currentPrincipal (Licenses)".into());
    c.docs = Some(DOCS_MAILINGS.into());
    c.evidence.push(match &r {
        Ok(p) => {
            let marketing = p.licenses.iter().any(|l| l.name.to_lowercase().contains("marketing"));
            ok_line(&format!("200: {} licence(s), Marketing licence {}", p.licenses.len(), if marketing { "held" } else { "not held" }), ms)
        }
        Err(e) => evidence(e, ms),
    });
    c.cause = Some(Cause::ShipmentsAreBulk { caller });
    c.action = Some(Action::UseRepChannel);
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
    let mut c = Check::new(CheckId::AssociateMe, Status::Warn);
    c.tried.push("GET Associate/Me".into());
    c.evidence.push(match &r {
        Ok(_) => ok_line("2xx", ms),
        Err(e) => evidence(e, ms),
    });
    c.cause = Some(Cause::AssociateMeUndocumented);
    Some(c)
}

/// Write check, only on the admin's request: creates a test document (with content) and
/// deletes it again.
pub(crate) async fn archive_write(client: &Client) -> Check {
    let t = Instant::now();
    let mut c = Check::new(CheckId::ArchiveWrite, Status::Pass);
    c.tried =
        vec!["GET Document/default".into(), "POST Document".into(), "PUT Document/{id}/Content".into(), "DELETE Document/{id}".into()];
    let created = async {
        let mut entity = client.document_default().await?;
        entity["Header"] = serde_json::json!("SuperOffice Outbox diagnostics test (safe to delete)");
        entity["Name"] = serde_json::json!("so-outbox-diagnostics-test.txt");
        entity["Description"] = serde_json::json!("Created and deleted by SuperOffice Outbox's write check.");
        let doc = client.create_document(&entity).await?;
        Ok::<_, superoffice::Error>(doc.document_id)
    }
    .await;
    let id = match created {
        Ok(id) => id,
        Err(e) => {
            c.status = if e.is_transient() { Status::Unknown } else { Status::Fail };
            c.evidence.push(evidence(&e, t.elapsed().as_millis()));
            c.cause = Some(Cause::DocumentNotCreated);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::GrantDocumentRights);
            return c;
        }
    };
    let content = client.put_document_content(id, b"SuperOffice Outbox diagnostics test\r\n".to_vec()).await;
    let deleted = client.delete_document(id).await;
    let ms = t.elapsed().as_millis();
    match (content, deleted) {
        (Ok(()), Ok(())) => c.evidence.push(ok_line(&format!("document {id} created with content and deleted"), ms)),
        (Err(e), _) => {
            c.status = Status::Fail;
            c.evidence.push(format!("document {id}: content refused: {}", evidence(&e, ms)));
            c.cause = Some(Cause::DocumentContentNotStored);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::CheckDocumentStorage);
        }
        (Ok(()), Err(e)) => {
            c.status = Status::Warn;
            c.evidence.push(format!("document {id} created, not deleted: {}", evidence(&e, ms)));
            c.cause = Some(Cause::TestDocumentNotRemoved);
            c.owner = Some(Owner::TenantAdmin);
            c.action = Some(Action::DeleteTestDocument { id });
        }
    }
    c
}
