// The diagnostics' causes, actions and recommendation reasons in English, one per code of the
// core (`diagnostics::Cause`, `Action`, `RecommendationReason`). The types make a missing code
// a compile error; the report the core exports words them the same way.
import type { Action, Cause, RecommendationReason } from "../bindings";

/** A wording for every variant of a coded union, given its parameters. */
export type Words<T extends { code: string }> = { [K in T["code"]]: (p: Extract<T, { code: K }>) => string };

export const causeEn: Words<Cause> = {
  could_not_test: () => "Could not test: SuperOffice did not answer normally (see the evidence).",
  tenant_not_running: () => "The tenant is not running (maintenance or suspended).",
  tenant_unresolved: () => "The tenant could not be resolved; check the environment and tenant id.",
  session_not_renewable: () => "The session cannot be renewed; the rep will have to sign in again when the access token expires.",
  no_principal: () => "SuperOffice did not say who is signed in.",
  system_user_not_a_person: () =>
    "The system user is not a person: it has no email address and cannot impersonate other users in SuperOffice Online, so it can never send as a rep.",
  user_has_no_email: () => "The rep's user has no email address.",
  contact_card_unreadable: () =>
    "The rep's contact card cannot be read, so the app cannot confirm that the first email on it is the rep's address; it sends as the address SuperOffice reports for the user.",
  first_email_invalid: (p) => `The first email on the rep's contact card ("${p.first}") is not a valid address.`,
  contact_card_has_no_email: () => "The rep's contact card has no email address; nothing can be sent as them.",
  may_not_create_documents: () => "The user may not create documents, so sent emails cannot be archived.",
  documents_not_archivable: () => "Sent emails cannot be archived as documents for this user.",
  document_not_created: () => "A document could not be created: sent emails cannot be archived.",
  document_content_not_stored: () => "Documents can be created but their content cannot be stored (document archive or template).",
  test_document_not_removed: () => "Archiving works; the test document could not be removed.",
  no_email_template: () => "Archived emails get the default document template instead of an email template.",
  task_type_missing: () => "The configured draft task type does not exist, so no drafts arrive.",
  follow_ups_not_allowed: () => "Follow-up tasks cannot be read or created for this user.",
  intake_unavailable: () => "SuperOffice did not answer the intake query.",
  intake_signed_out: () => "The rep's sign-in is no longer valid, so no drafts can be read.",
  intake_forbidden: () => "The rep may not read their follow-up tasks, so no drafts arrive.",
  intake_unreadable: () => "SuperOffice answered the intake query in a form the app cannot read, so no drafts arrive.",
  intake_refused: () => "SuperOffice refused the app's intake query, so no drafts arrive.",
  email_agent_not_granted: () =>
    "The Email agent is restricted in SuperOffice Online and not granted to this app registration. The token type is not the cause: a rep's own sign-in gets the same answer.",
  no_inbox_account: () => "The user has no SuperOffice Inbox account, which the Email agent sends with.",
  inbox_address_not_first_email: () => "The Inbox account's address is not the first email on the rep's contact card, which SuperOffice requires for sending.",
  contact_card_has_no_inbox_email: () => "The rep's contact card has no email to match the Inbox account.",
  crmscript_not_granted: () =>
    "The CRMScript agent is restricted in Online and not granted to this app. Sending does not need it (and the Email agent is not reachable from CRMScript anyway).",
  shipments_are_bulk: (p) =>
    `Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no documented REST operation sends one personal email with them, so ${p.caller === "system_user" ? "the system user's licences" : "the rep's licences"} says nothing about 1:1 sending. The seed's \`POST /Shipment\` (500) called an operation that is not documented; this check does not call it.`,
  associate_me_undocumented: () =>
    "`/Associate/Me` is not a documented endpoint; its 500 is not a finding. `User/currentPrincipal` is the documented way (see the identity check).",
  relay_tls: () => "The relay does not offer a valid TLS connection; the app never sends credentials or mail without it.",
  relay_token_not_renewed: () =>
    "The mail provider did not renew the relay's access token: the refresh token is revoked or expired, or the client id is wrong.",
  relay_token_refused: () => "The relay refused the XOAUTH2 access token: it is expired or revoked, belongs to another mailbox, or lacks the SMTP scope.",
  relay_login_refused: () => "The relay refused the login.",
  relay_sender_refused: () => "The relay does not accept the rep's address as sender (send-as permission).",
  relay_unreachable: () => "The relay could not be reached.",
  smtp_auth_disabled: () =>
    "The relay answered 5.7.139: SMTP AUTH is switched off for this mailbox or the whole tenant (Exchange Online), so no login, password or OAuth, is accepted.",
  basic_auth_retired: () => "The relay answered 5.7.30: it no longer accepts a password (Basic authentication is retired for client submission).",
  mailbox_not_connected: () => "No mailbox is connected, so the mailbox channel is not available.",
  mailbox_address_mismatch: (p) =>
    `The connected mailbox is ${p.mailbox}, but the rep's address in SuperOffice is ${p.superoffice}: mail would go out from another address than the one SuperOffice archives.`,
  mailbox_sign_in_expired: () => "The mailbox connection expired or was revoked (the refresh token is no longer honoured).",
  mailbox_access_denied: () => "The mail provider refuses the app access to this mailbox (consent, a policy, or no mailbox licence).",
  mailbox_scope_missing: () => "The permission to send mail as the rep was not granted at the sign-in.",
  dns_unreachable: () => "DNS could not be asked from this computer, so SPF and DMARC were not checked.",
  spf_does_not_authorize: (p) =>
    `${p.domain}'s SPF does not authorize the relay's address${p.strict ? ", and DMARC tells receivers to reject or quarantine such mail" : ""}.`,
  no_spf_record: (p) => `${p.domain} lacks an SPF record: receivers may file the rep's mail as spam.`,
  no_dmarc_record: (p) => `${p.domain} lacks a DMARC record: receivers may file the rep's mail as spam.`,
  spf_not_evaluated: () => "The relay's address could not be evaluated against SPF.",
  test_email_not_taken: () => "The relay did not take a message sent as the rep.",
  system_user_sign_in_failed: () => "The system user could not sign in (system token, private key or app registration).",
  keychain_loses: () => "The keychain does not keep what is stored; secrets would be lost.",
  keychain_unusable: () => "The OS keychain is not usable; the app keeps secrets nowhere else.",
};

export const actionEn: Words<Action> = {
  rerun_when_tenant_answers: () => "Re-run this check when the tenant answers again (see tenant_state).",
  wait_for_tenant: () => "Wait for the maintenance window to end, or ask SuperOffice about the tenant's state.",
  check_client_secret: () => "Check the client secret stored with `so-outbox configure` and that the app's consent was not revoked.",
  sign_in_in_app: () => "Sign in to SuperOffice in the app.",
  sign_in_first_for_relay: () => "Sign in first: the relay is tested with the rep's address.",
  sign_in_first: () => "Sign in first.",
  sign_in_again: () => "Sign in again.",
  send_with_rep_sign_in: () => "Send with each rep's own sign-in (this app); the system user is only for server tasks.",
  add_rep_email_to_card: () => "Add the rep's email address as the first email on their contact card.",
  correct_first_email: () => "Correct the first email on the rep's contact card.",
  check_person_card: () => "Check that the rep's person card exists and that the rep may read it.",
  grant_document_rights: () => "Give the user a role with the right to create documents (Settings and maintenance → Roles).",
  check_document_storage: () => "Check the document archive and the template's storage settings.",
  delete_test_document: (p) => `Delete the document ${p.id} "SuperOffice Outbox diagnostics test" by hand.`,
  add_email_template: () => 'Add an "Email - Template" document template of type Normal, direction Outgoing.',
  set_task_type: () => "Set the app's task type to the one the GTM engine uses (`so-outbox configure --task-type N`).",
  grant_follow_ups: () => "Give the user the right to create follow-ups.",
  nothing_intake_retries: () => "Nothing to do: the outbox tries again every few minutes.",
  grant_read_follow_ups: () => "Give the rep the right to read their own follow-ups (role, Activities).",
  send_report_to_vendor: () => "Send this report to the app's vendor.",
  send_report_check_task_type: () => "Send this report to the app's vendor; the SuperOffice administrator can check that the draft task type exists.",
  request_email_agent: () =>
    'Ask SuperOffice to enable "Access to (agents): Email" for the app registration (only their app manager can). Until then mail goes by SMTP or handoff.',
  set_up_inbox: () => "Set up SuperOffice Inbox (IMAP + SMTP) with the same address as the first email on the contact card.",
  make_inbox_first_email: (p) => `Make ${p.address} the first email on the contact card, or set up Inbox with ${p.first}.`,
  add_inbox_address_to_card: (p) => `Add ${p.address} as the first email on the rep's contact card.`,
  nothing_for_sending: () => 'Nothing for sending. If a script is wanted, request "Access to (agents): CRMScript" for the app.',
  use_rep_channel: () => "None for 1:1 email: use the rep's channel (Email agent, SMTP relay or handoff).",
  renew_refresh_token: () => "Store a new refresh token for the mailbox (Settings → SMTP relay), and check the token endpoint, client id and scope.",
  store_fresh_access_token: () =>
    "Store a fresh access token for the mailbox (Settings → SMTP relay; Microsoft 365 and Google tokens expire after about an hour), or use a password / app password.",
  check_relay_settings: () => "Check host, port, TLS mode, the account and its send-as right for the rep's address (`so-outbox configure`).",
  configure_relay: () => "Configure the rep's SMTP relay (`so-outbox configure --smtp-host …`) or use the Email agent.",
  check_dns_by_hand: (p) => `Check ${p.domain}'s SPF and DMARC records with your DNS tools, or re-run on a connected computer.`,
  add_relay_to_spf: (p) =>
    `Add the relay to ${p.domain}'s SPF record (its provider's \`include:\` or \`ip4:\`), and sign with DKIM on the relay. (If the relay sends out from other addresses than it accepts mail on, check the provider's documented include.)`,
  publish_spf_and_dmarc: (p) => `Publish SPF (\`v=spf1 include:<relay provider> -all\`) and DMARC (\`_dmarc.${p.domain}\`) records.`,
  see_relay_check: () => "See the SMTP relay check for the failing step.",
  check_system_user_token: () => "Check the system user token and key given to `so-outbox configure --system-user-token`.",
  unlock_keychain: () => "Unlock or start the keychain (GNOME Keyring, KWallet, Credential Manager, macOS Keychain).",
  enable_smtp_auth: () =>
    "In Exchange Online, switch SMTP AUTH on for the mailbox: `Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false` (or Microsoft 365 admin center → Users → Active users → Mail → Manage email apps → Authenticated SMTP); or connect the rep's mailbox in the app instead, which needs no SMTP AUTH.",
  use_xoauth2_for_smtp: () => "Use XOAUTH2 for the relay (a token from the provider instead of a password), or connect the rep's mailbox in the app instead.",
  connect_mailbox: () =>
    "Connect the rep's mailbox: Settings → Your mailbox → Microsoft 365 or Google (the company's app registration must be configured: `so-outbox configure --mailbox …`).",
  reconnect_mailbox: () => "Connect the mailbox again: Settings → Your mailbox, and allow sending when the provider asks.",
  connect_mailbox_of: (p) => `Connect the mailbox ${p.address}, or correct the rep's email address in SuperOffice.`,
  grant_mailbox_consent: () =>
    "Microsoft 365: an administrator grants the app admin consent in Microsoft Entra (Enterprise applications → the app → Permissions → Grant admin consent). Google Workspace: an administrator trusts the app in the Admin console (Security → API controls → App access control).",
};

export const recommendationEn: Record<RecommendationReason, string> = {
  agent_granted: "the Email agent is granted to the app and the rep has a SuperOffice Inbox account",
  agent_without_inbox: "the Email agent is granted, but the rep has no usable Inbox account",
  agent_not_granted: "the Email agent is not granted to the app registration",
  agent_untested: "the Email agent could not be tested",
  smtp_works: "the SMTP relay accepts the rep as sender over TLS",
  no_smtp: "no working SMTP relay",
};
