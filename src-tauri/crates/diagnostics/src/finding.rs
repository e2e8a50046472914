//! What a check found and what to do about it, as codes: the contract with the UI, which words
//! each one in the rep's language (`ui/src/messages/findings-*.ts`, checked for completeness
//! by the TypeScript compiler), and with machines reading `diagnose --json`. The English here
//! is for the exported report, the command line and the logs; nothing parses it.

use serde::Serialize;

use crate::Caller;

/// Which check a result is of: the stable id the UI titles, the report names and a re-run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    TenantState,
    SignIn,
    Identity,
    ArchiveDocuments,
    EmailTemplate,
    TaskHandoff,
    Intake,
    EmailAgent,
    InboxAccount,
    Crmscript,
    Marketing,
    SmtpRelay,
    SenderDomain,
    Keychain,
    /// The rep's own Microsoft 365 or Google mailbox.
    Mailbox,
    SystemSignIn,
    AssociateMe,
    ArchiveWrite,
    TestEmail,
}

impl CheckId {
    /// The id as written in the report and on the wire, e.g. `email_agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::TenantState => "tenant_state",
            CheckId::SignIn => "sign_in",
            CheckId::Identity => "identity",
            CheckId::ArchiveDocuments => "archive_documents",
            CheckId::EmailTemplate => "email_template",
            CheckId::TaskHandoff => "task_handoff",
            CheckId::Intake => "intake",
            CheckId::EmailAgent => "email_agent",
            CheckId::InboxAccount => "inbox_account",
            CheckId::Crmscript => "crmscript",
            CheckId::Marketing => "marketing",
            CheckId::SmtpRelay => "smtp_relay",
            CheckId::Mailbox => "mailbox",
            CheckId::SenderDomain => "sender_domain",
            CheckId::Keychain => "keychain",
            CheckId::SystemSignIn => "system_sign_in",
            CheckId::AssociateMe => "associate_me",
            CheckId::ArchiveWrite => "archive_write",
            CheckId::TestEmail => "test_email",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Lets a test pick a check by its wire name: `c.id == "email_agent"`.
impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a check did not pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Cause {
    /// SuperOffice did not answer normally, so the feature could not be tested.
    CouldNotTest,
    TenantNotRunning,
    TenantUnresolved,
    SessionNotRenewable,
    NoPrincipal,
    SystemUserNotAPerson,
    UserHasNoEmail,
    ContactCardUnreadable,
    FirstEmailInvalid {
        first: String,
    },
    ContactCardHasNoEmail,
    MayNotCreateDocuments,
    DocumentsNotArchivable,
    DocumentNotCreated,
    DocumentContentNotStored,
    TestDocumentNotRemoved,
    NoEmailTemplate,
    TaskTypeMissing,
    FollowUpsNotAllowed,
    IntakeUnavailable,
    IntakeSignedOut,
    IntakeForbidden,
    IntakeUnreadable,
    IntakeRefused,
    EmailAgentNotGranted,
    NoInboxAccount,
    InboxAddressNotFirstEmail,
    ContactCardHasNoInboxEmail,
    CrmscriptNotGranted,
    /// Whose licences were read: the rep's or the system user's.
    ShipmentsAreBulk {
        caller: Caller,
    },
    AssociateMeUndocumented,
    RelayTls,
    RelayTokenNotRenewed,
    RelayTokenRefused,
    RelayLoginRefused,
    RelaySenderRefused,
    RelayUnreachable,
    /// The relay answered 5.7.139: SMTP AUTH is switched off for the tenant or the mailbox
    /// (Exchange Online's `SmtpClientAuthenticationDisabled`).
    SmtpAuthDisabled,
    /// The relay answered 5.7.30: it no longer takes a password (Basic authentication).
    BasicAuthRetired,
    /// No mailbox is connected (the mailbox channel is not available).
    MailboxNotConnected,
    /// The provider names another address than the rep's in SuperOffice.
    MailboxAddressMismatch {
        mailbox: String,
        superoffice: String,
    },
    /// The connection expired or was revoked (the refresh token is no longer honoured).
    MailboxSignInExpired,
    /// The provider refuses the app access to the mailbox (consent, policy, licence).
    MailboxAccessDenied,
    /// Sending permission was not granted at the sign-in.
    MailboxScopeMissing,
    DnsUnreachable,
    /// `strict`: DMARC tells receivers to reject or quarantine such mail.
    SpfDoesNotAuthorize {
        domain: String,
        strict: bool,
    },
    NoSpfRecord {
        domain: String,
    },
    NoDmarcRecord {
        domain: String,
    },
    SpfNotEvaluated,
    TestEmailNotTaken,
    SystemUserSignInFailed,
    KeychainLoses,
    KeychainUnusable,
}

/// What to change, exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Action {
    RerunWhenTenantAnswers,
    WaitForTenant,
    CheckClientSecret,
    SignInInApp,
    SignInFirstForRelay,
    SignInFirst,
    SignInAgain,
    SendWithRepSignIn,
    AddRepEmailToCard,
    CorrectFirstEmail,
    CheckPersonCard,
    GrantDocumentRights,
    CheckDocumentStorage,
    DeleteTestDocument {
        id: i64,
    },
    AddEmailTemplate,
    SetTaskType,
    GrantFollowUps,
    NothingIntakeRetries,
    GrantReadFollowUps,
    SendReportToVendor,
    SendReportCheckTaskType,
    RequestEmailAgent,
    SetUpInbox,
    MakeInboxFirstEmail {
        address: String,
        first: String,
    },
    AddInboxAddressToCard {
        address: String,
    },
    NothingForSending,
    UseRepChannel,
    RenewRefreshToken,
    StoreFreshAccessToken,
    CheckRelaySettings,
    ConfigureRelay,
    CheckDnsByHand {
        domain: String,
    },
    AddRelayToSpf {
        domain: String,
    },
    PublishSpfAndDmarc {
        domain: String,
    },
    SeeRelayCheck,
    CheckSystemUserToken,
    UnlockKeychain,
    /// Exchange Online: switch SMTP AUTH on for the mailbox (or the tenant).
    EnableSmtpAuth,
    /// The relay takes no password any more: OAuth (XOAUTH2) or the mailbox channel.
    UseXoauth2ForSmtp,
    /// Connect the rep's mailbox (Settings → Your mailbox), if the company registered the app.
    ConnectMailbox,
    /// Connect again (the connection expired, was revoked, or lacks sending permission).
    ReconnectMailbox,
    /// Connect the mailbox whose address is the rep's in SuperOffice, or correct that address.
    ConnectMailboxOf {
        address: String,
    },
    /// The mail admin grants the app (admin consent in Microsoft Entra; in Google Workspace,
    /// trusts the app in the Admin console's API controls).
    GrantMailboxConsent,
}

impl Cause {
    /// The cause in English (the report, the command line, the logs).
    pub fn english(&self) -> String {
        use Cause::*;
        match self {
            CouldNotTest => "Could not test: SuperOffice did not answer normally (see the evidence).".into(),
            TenantNotRunning => "The tenant is not running (maintenance or suspended).".into(),
            TenantUnresolved => "The tenant could not be resolved; check the environment and tenant id.".into(),
            SessionNotRenewable => "The session cannot be renewed; the rep will have to sign in again when the access token expires.".into(),
            NoPrincipal => "SuperOffice did not say who is signed in.".into(),
            SystemUserNotAPerson => "The system user is not a person: it has no email address and cannot impersonate other users in SuperOffice Online, so it can never send as a rep.".into(),
            UserHasNoEmail => "The rep's user has no email address.".into(),
            ContactCardUnreadable => "The rep's contact card cannot be read, so the app cannot confirm that the first email on it is the rep's address; it sends as the address SuperOffice reports for the user.".into(),
            FirstEmailInvalid { first } => format!("The first email on the rep's contact card ({first:?}) is not a valid address."),
            ContactCardHasNoEmail => "The rep's contact card has no email address; nothing can be sent as them.".into(),
            MayNotCreateDocuments => "The user may not create documents, so sent emails cannot be archived.".into(),
            DocumentsNotArchivable => "Sent emails cannot be archived as documents for this user.".into(),
            DocumentNotCreated => "A document could not be created: sent emails cannot be archived.".into(),
            DocumentContentNotStored => "Documents can be created but their content cannot be stored (document archive or template).".into(),
            TestDocumentNotRemoved => "Archiving works; the test document could not be removed.".into(),
            NoEmailTemplate => "Archived emails get the default document template instead of an email template.".into(),
            TaskTypeMissing => "The configured draft task type does not exist, so no drafts arrive.".into(),
            FollowUpsNotAllowed => "Follow-up tasks cannot be read or created for this user.".into(),
            IntakeUnavailable => "SuperOffice did not answer the intake query.".into(),
            IntakeSignedOut => "The rep's sign-in is no longer valid, so no drafts can be read.".into(),
            IntakeForbidden => "The rep may not read their follow-up tasks, so no drafts arrive.".into(),
            IntakeUnreadable => "SuperOffice answered the intake query in a form the app cannot read, so no drafts arrive.".into(),
            IntakeRefused => "SuperOffice refused the app's intake query, so no drafts arrive.".into(),
            EmailAgentNotGranted => "The Email agent is restricted in SuperOffice Online and not granted to this app registration. The token type is not the cause: a rep's own sign-in gets the same answer.".into(),
            NoInboxAccount => "The user has no SuperOffice Inbox account, which the Email agent sends with.".into(),
            InboxAddressNotFirstEmail => "The Inbox account's address is not the first email on the rep's contact card, which SuperOffice requires for sending.".into(),
            ContactCardHasNoInboxEmail => "The rep's contact card has no email to match the Inbox account.".into(),
            CrmscriptNotGranted => "The CRMScript agent is restricted in Online and not granted to this app. Sending does not need it (and the Email agent is not reachable from CRMScript anyway).".into(),
            ShipmentsAreBulk { caller } => format!(
                "Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no documented REST operation sends one personal email with them, so {} says nothing about 1:1 sending. The seed's `POST /Shipment` (500) called an operation that is not documented; this check does not call it.",
                if *caller == Caller::SystemUser { "the system user's licences" } else { "the rep's licences" }
            ),
            AssociateMeUndocumented => "`/Associate/Me` is not a documented endpoint; its 500 is not a finding. `User/currentPrincipal` is the documented way (see the identity check).".into(),
            RelayTls => "The relay does not offer a valid TLS connection; the app never sends credentials or mail without it.".into(),
            RelayTokenNotRenewed => "The mail provider did not renew the relay's access token: the refresh token is revoked or expired, or the client id is wrong.".into(),
            RelayTokenRefused => "The relay refused the XOAUTH2 access token: it is expired or revoked, belongs to another mailbox, or lacks the SMTP scope.".into(),
            RelayLoginRefused => "The relay refused the login.".into(),
            RelaySenderRefused => "The relay does not accept the rep's address as sender (send-as permission).".into(),
            RelayUnreachable => "The relay could not be reached.".into(),
            SmtpAuthDisabled => "The relay answered 5.7.139: SMTP AUTH is switched off for this mailbox or the whole tenant (Exchange Online), so no login, password or OAuth, is accepted.".into(),
            BasicAuthRetired => "The relay answered 5.7.30: it no longer accepts a password (Basic authentication is retired for client submission).".into(),
            MailboxNotConnected => "No mailbox is connected, so the mailbox channel is not available.".into(),
            MailboxAddressMismatch { mailbox, superoffice } => format!("The connected mailbox is {mailbox}, but the rep's address in SuperOffice is {superoffice}: mail would go out from another address than the one SuperOffice archives."),
            MailboxSignInExpired => "The mailbox connection expired or was revoked (the refresh token is no longer honoured).".into(),
            MailboxAccessDenied => "The mail provider refuses the app access to this mailbox (consent, a policy, or no mailbox licence).".into(),
            MailboxScopeMissing => "The permission to send mail as the rep was not granted at the sign-in.".into(),
            DnsUnreachable => "DNS could not be asked from this computer, so SPF and DMARC were not checked.".into(),
            SpfDoesNotAuthorize { domain, strict } => format!(
                "{domain}'s SPF does not authorize the relay's address{}.",
                if *strict { ", and DMARC tells receivers to reject or quarantine such mail" } else { "" }
            ),
            NoSpfRecord { domain } => format!("{domain} lacks an SPF record: receivers may file the rep's mail as spam."),
            NoDmarcRecord { domain } => format!("{domain} lacks a DMARC record: receivers may file the rep's mail as spam."),
            SpfNotEvaluated => "The relay's address could not be evaluated against SPF.".into(),
            TestEmailNotTaken => "The relay did not take a message sent as the rep.".into(),
            SystemUserSignInFailed => "The system user could not sign in (system token, private key or app registration).".into(),
            KeychainLoses => "The keychain does not keep what is stored; secrets would be lost.".into(),
            KeychainUnusable => "The OS keychain is not usable; the app keeps secrets nowhere else.".into(),
        }
    }
}

impl Action {
    /// The action in English (the report, the command line, the logs).
    pub fn english(&self) -> String {
        use Action::*;
        match self {
            RerunWhenTenantAnswers => "Re-run this check when the tenant answers again (see tenant_state).".into(),
            WaitForTenant => "Wait for the maintenance window to end, or ask SuperOffice about the tenant's state.".into(),
            CheckClientSecret => "Check the client secret stored with `so-outbox configure` and that the app's consent was not revoked.".into(),
            SignInInApp => "Sign in to SuperOffice in the app.".into(),
            SignInFirstForRelay => "Sign in first: the relay is tested with the rep's address.".into(),
            SignInFirst => "Sign in first.".into(),
            SignInAgain => "Sign in again.".into(),
            SendWithRepSignIn => "Send with each rep's own sign-in (this app); the system user is only for server tasks.".into(),
            AddRepEmailToCard => "Add the rep's email address as the first email on their contact card.".into(),
            CorrectFirstEmail => "Correct the first email on the rep's contact card.".into(),
            CheckPersonCard => "Check that the rep's person card exists and that the rep may read it.".into(),
            GrantDocumentRights => "Give the user a role with the right to create documents (Settings and maintenance → Roles).".into(),
            CheckDocumentStorage => "Check the document archive and the template's storage settings.".into(),
            DeleteTestDocument { id } => format!("Delete the document {id} \"SuperOffice Outbox diagnostics test\" by hand."),
            AddEmailTemplate => "Add an \"Email - Template\" document template of type Normal, direction Outgoing.".into(),
            SetTaskType => "Set the app's task type to the one the GTM engine uses (`so-outbox configure --task-type N`).".into(),
            GrantFollowUps => "Give the user the right to create follow-ups.".into(),
            NothingIntakeRetries => "Nothing to do: the outbox tries again every few minutes.".into(),
            GrantReadFollowUps => "Give the rep the right to read their own follow-ups (role, Activities).".into(),
            SendReportToVendor => "Send this report to the app's vendor.".into(),
            SendReportCheckTaskType => "Send this report to the app's vendor; the SuperOffice administrator can check that the draft task type exists.".into(),
            RequestEmailAgent => "Ask SuperOffice to enable \"Access to (agents): Email\" for the app registration (only their app manager can). Until then mail goes by SMTP or handoff.".into(),
            SetUpInbox => "Set up SuperOffice Inbox (IMAP + SMTP) with the same address as the first email on the contact card.".into(),
            MakeInboxFirstEmail { address, first } => format!("Make {address} the first email on the contact card, or set up Inbox with {first}."),
            AddInboxAddressToCard { address } => format!("Add {address} as the first email on the rep's contact card."),
            NothingForSending => "Nothing for sending. If a script is wanted, request \"Access to (agents): CRMScript\" for the app.".into(),
            UseRepChannel => "None for 1:1 email: use the rep's channel (Email agent, SMTP relay or handoff).".into(),
            RenewRefreshToken => "Store a new refresh token for the mailbox (Settings → SMTP relay), and check the token endpoint, client id and scope.".into(),
            StoreFreshAccessToken => "Store a fresh access token for the mailbox (Settings → SMTP relay; Microsoft 365 and Google tokens expire after about an hour), or use a password / app password.".into(),
            CheckRelaySettings => "Check host, port, TLS mode, the account and its send-as right for the rep's address (`so-outbox configure`).".into(),
            ConfigureRelay => "Configure the rep's SMTP relay (`so-outbox configure --smtp-host …`) or use the Email agent.".into(),
            CheckDnsByHand { domain } => format!("Check {domain}'s SPF and DMARC records with your DNS tools, or re-run on a connected computer."),
            AddRelayToSpf { domain } => format!("Add the relay to {domain}'s SPF record (its provider's `include:` or `ip4:`), and sign with DKIM on the relay. (If the relay sends out from other addresses than it accepts mail on, check the provider's documented include.)"),
            PublishSpfAndDmarc { domain } => format!("Publish SPF (`v=spf1 include:<relay provider> -all`) and DMARC (`_dmarc.{domain}`) records."),
            SeeRelayCheck => "See the SMTP relay check for the failing step.".into(),
            CheckSystemUserToken => "Check the system user token and key given to `so-outbox configure --system-user-token`.".into(),
            UnlockKeychain => "Unlock or start the keychain (GNOME Keyring, KWallet, Credential Manager, macOS Keychain).".into(),
            EnableSmtpAuth => "In Exchange Online, switch SMTP AUTH on for the mailbox: `Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false` (or Microsoft 365 admin center → Users → Active users → Mail → Manage email apps → Authenticated SMTP); or connect the rep's mailbox in the app instead, which needs no SMTP AUTH.".into(),
            UseXoauth2ForSmtp => "Use XOAUTH2 for the relay (a token from the provider instead of a password), or connect the rep's mailbox in the app instead.".into(),
            ConnectMailbox => "Connect the rep's mailbox: Settings → Your mailbox → Microsoft 365 or Google (the company's app registration must be configured: `so-outbox configure --mailbox …`).".into(),
            ReconnectMailbox => "Connect the mailbox again: Settings → Your mailbox, and allow sending when the provider asks.".into(),
            ConnectMailboxOf { address } => format!("Connect the mailbox {address}, or correct the rep's email address in SuperOffice."),
            GrantMailboxConsent => "Microsoft 365: an administrator grants the app admin consent in Microsoft Entra (Enterprise applications → the app → Permissions → Grant admin consent). Google Workspace: an administrator trusts the app in the Admin console (Security → API controls → App access control).".into(),
        }
    }
}
