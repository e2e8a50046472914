// The diagnostics' causes, actions and recommendation reasons in German (see findings-en.ts).
import type { Action, Cause, RecommendationReason } from "../bindings";
import type { Words } from "./findings-en";

export const causeDe: Words<Cause> = {
  could_not_test: () => "Nicht prüfbar: SuperOffice hat nicht normal geantwortet (siehe Nachweis).",
  tenant_not_running: () => "Der Mandant läuft nicht (Wartung oder gesperrt).",
  tenant_unresolved: () => "Der Mandant wurde nicht gefunden; prüfen Sie Umgebung und Mandanten-ID.",
  session_not_renewable: () => "Die Sitzung lässt sich nicht verlängern; der Vertriebsmitarbeiter muss sich erneut anmelden, wenn das Zugriffstoken abläuft.",
  no_principal: () => "SuperOffice hat nicht mitgeteilt, wer angemeldet ist.",
  system_user_not_a_person: () =>
    "Der Systembenutzer ist keine Person: Er hat keine E-Mail-Adresse und kann in SuperOffice Online nicht im Namen anderer Benutzer handeln, also nie als Vertriebsmitarbeiter senden.",
  user_has_no_email: () => "Der Benutzer des Vertriebsmitarbeiters hat keine E-Mail-Adresse.",
  contact_card_unreadable: () =>
    "Die Kontaktkarte des Vertriebsmitarbeiters lässt sich nicht lesen, daher kann die App nicht bestätigen, dass die erste E-Mail darauf seine Adresse ist; sie sendet mit der Adresse, die SuperOffice für den Benutzer meldet.",
  first_email_invalid: (p) => `Die erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters („${p.first}“) ist keine gültige Adresse.`,
  contact_card_has_no_email: () => "Die Kontaktkarte des Vertriebsmitarbeiters hat keine E-Mail-Adresse; in seinem Namen kann nichts gesendet werden.",
  may_not_create_documents: () => "Der Benutzer darf keine Dokumente anlegen, daher können gesendete E-Mails nicht archiviert werden.",
  documents_not_archivable: () => "Gesendete E-Mails können für diesen Benutzer nicht als Dokumente archiviert werden.",
  document_not_created: () => "Ein Dokument konnte nicht angelegt werden: Gesendete E-Mails können nicht archiviert werden.",
  document_content_not_stored: () => "Dokumente lassen sich anlegen, ihr Inhalt aber nicht speichern (Dokumentarchiv oder Vorlage).",
  test_document_not_removed: () => "Das Archivieren funktioniert; das Testdokument konnte nicht entfernt werden.",
  no_email_template: () => "Archivierte E-Mails erhalten die Standard-Dokumentvorlage statt einer E-Mail-Vorlage.",
  task_type_missing: () => "Der eingestellte Aufgabentyp für Entwürfe existiert nicht, daher kommen keine Entwürfe an.",
  follow_ups_not_allowed: () => "Folgeaufgaben können für diesen Benutzer nicht gelesen oder angelegt werden.",
  intake_unavailable: () => "SuperOffice hat auf die Abfrage der Entwürfe nicht geantwortet.",
  intake_signed_out: () => "Die Anmeldung des Vertriebsmitarbeiters ist nicht mehr gültig, daher lassen sich keine Entwürfe lesen.",
  intake_forbidden: () => "Der Vertriebsmitarbeiter darf seine Folgeaufgaben nicht lesen, daher kommen keine Entwürfe an.",
  intake_unreadable: () =>
    "SuperOffice hat auf die Abfrage der Entwürfe in einer Form geantwortet, die die App nicht lesen kann, daher kommen keine Entwürfe an.",
  intake_refused: () => "SuperOffice hat die Abfrage der Entwürfe durch die App abgelehnt, daher kommen keine Entwürfe an.",
  email_agent_not_granted: () =>
    "Der E-Mail-Agent ist in SuperOffice Online eingeschränkt und für diese App-Registrierung nicht freigegeben. Die Art des Tokens ist nicht die Ursache: Die eigene Anmeldung eines Vertriebsmitarbeiters erhält dieselbe Antwort.",
  no_inbox_account: () => "Der Benutzer hat kein SuperOffice-Inbox-Konto, über das der E-Mail-Agent sendet.",
  inbox_address_not_first_email: () =>
    "Die Adresse des Inbox-Kontos ist nicht die erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters, was SuperOffice zum Senden verlangt.",
  contact_card_has_no_inbox_email: () => "Die Kontaktkarte des Vertriebsmitarbeiters hat keine E-Mail, die zum Inbox-Konto passt.",
  crmscript_not_granted: () =>
    "Der CRMScript-Agent ist in Online eingeschränkt und für diese App nicht freigegeben. Zum Senden wird er nicht gebraucht (und der E-Mail-Agent ist aus CRMScript ohnehin nicht erreichbar).",
  shipments_are_bulk: (p) =>
    `Shipments sind Massenmailings von Marketing (Marketing-Lizenz und -Rechte, versandt über den Mail-Dienst von SuperOffice); keine dokumentierte REST-Operation sendet damit eine einzelne persönliche E-Mail, daher sagen die ${p.caller === "system_user" ? "Lizenzen des Systembenutzers" : "Lizenzen des Vertriebsmitarbeiters"} nichts über den 1:1-Versand. Das \`POST /Shipment\` (500) der Erstanalyse rief eine nicht dokumentierte Operation auf; diese Prüfung ruft sie nicht auf.`,
  associate_me_undocumented: () =>
    "`/Associate/Me` ist kein dokumentierter Endpunkt; seine 500 ist kein Befund. `User/currentPrincipal` ist der dokumentierte Weg (siehe die Identitätsprüfung).",
  relay_tls: () => "Das Relay bietet keine gültige TLS-Verbindung; ohne sie sendet die App weder Zugangsdaten noch E-Mails.",
  relay_token_not_renewed: () =>
    "Der Mail-Anbieter hat das Zugriffstoken des Relays nicht erneuert: Das Aktualisierungstoken ist widerrufen oder abgelaufen, oder die Client-ID ist falsch.",
  relay_token_refused: () =>
    "Das Relay hat das XOAUTH2-Zugriffstoken abgelehnt: Es ist abgelaufen oder widerrufen, gehört zu einem anderen Postfach oder hat keine SMTP-Berechtigung.",
  relay_login_refused: () => "Das Relay hat die Anmeldung abgelehnt.",
  relay_sender_refused: () => "Das Relay akzeptiert die Adresse des Vertriebsmitarbeiters nicht als Absender (Senden-als-Recht).",
  relay_unreachable: () => "Das Relay war nicht erreichbar.",
  smtp_auth_disabled: () =>
    "Das Relay antwortete 5.7.139: SMTP AUTH ist für dieses Postfach oder den ganzen Mandanten ausgeschaltet (Exchange Online), daher wird keine Anmeldung angenommen, weder mit Passwort noch mit OAuth.",
  basic_auth_retired: () =>
    "Das Relay antwortete 5.7.30: Es nimmt kein Passwort mehr an (Basic-Authentifizierung ist für das Einliefern von Mails abgeschaltet).",
  mailbox_not_connected: () => "Es ist kein Postfach verbunden, daher steht der Weg über das Postfach nicht zur Verfügung.",
  mailbox_address_mismatch: (p) =>
    `Das verbundene Postfach ist ${p.mailbox}, aber die Adresse des Vertriebsmitarbeiters in SuperOffice ist ${p.superoffice}: Mails gingen von einer anderen Adresse aus als der, die SuperOffice archiviert.`,
  mailbox_sign_in_expired: () => "Die Verbindung zum Postfach ist abgelaufen oder wurde widerrufen (das Refresh-Token wird nicht mehr angenommen).",
  mailbox_access_denied: () => "Der Mail-Anbieter verweigert der App den Zugriff auf dieses Postfach (Zustimmung, eine Richtlinie oder keine Postfachlizenz).",
  mailbox_scope_missing: () => "Die Erlaubnis, Mails im Namen des Vertriebsmitarbeiters zu senden, wurde bei der Anmeldung nicht erteilt.",
  dns_unreachable: () => "Von diesem Computer aus war DNS nicht erreichbar, daher wurden SPF und DMARC nicht geprüft.",
  spf_does_not_authorize: (p) =>
    p.strict
      ? `Der SPF-Eintrag von ${p.domain} erlaubt die Adresse des Relays nicht, und DMARC weist Empfänger an, solche E-Mails abzuweisen oder in Quarantäne zu stellen.`
      : `Der SPF-Eintrag von ${p.domain} erlaubt die Adresse des Relays nicht.`,
  no_spf_record: (p) => `${p.domain} hat keinen SPF-Eintrag: Empfänger können die E-Mails des Vertriebsmitarbeiters als Spam einordnen.`,
  no_dmarc_record: (p) => `${p.domain} hat keinen DMARC-Eintrag: Empfänger können die E-Mails des Vertriebsmitarbeiters als Spam einordnen.`,
  spf_not_evaluated: () => "Die Adresse des Relays ließ sich nicht gegen SPF auswerten.",
  test_email_not_taken: () => "Das Relay hat keine im Namen des Vertriebsmitarbeiters gesendete Nachricht angenommen.",
  system_user_sign_in_failed: () => "Der Systembenutzer konnte sich nicht anmelden (System-Token, privater Schlüssel oder App-Registrierung).",
  keychain_loses: () => "Der Schlüsselbund behält Gespeichertes nicht; Geheimnisse gingen verloren.",
  keychain_unusable: () => "Der Schlüsselbund des Systems ist nicht nutzbar; die App bewahrt Geheimnisse nirgends sonst auf.",
};

export const actionDe: Words<Action> = {
  rerun_when_tenant_answers: () => "Wiederholen Sie diese Prüfung, wenn der Mandant wieder antwortet (siehe tenant_state).",
  wait_for_tenant: () => "Warten Sie das Ende der Wartung ab oder fragen Sie SuperOffice nach dem Zustand des Mandanten.",
  check_client_secret: () => "Prüfen Sie das mit `so-outbox configure` gespeicherte Client-Secret und ob die Zustimmung für die App widerrufen wurde.",
  sign_in_in_app: () => "Melden Sie sich in der App bei SuperOffice an.",
  sign_in_first_for_relay: () => "Melden Sie sich zuerst an: Das Relay wird mit der Adresse des Vertriebsmitarbeiters geprüft.",
  sign_in_first: () => "Melden Sie sich zuerst an.",
  sign_in_again: () => "Melden Sie sich erneut an.",
  send_with_rep_sign_in: () =>
    "Senden Sie mit der eigenen Anmeldung jedes Vertriebsmitarbeiters (diese App); der Systembenutzer ist nur für Serveraufgaben da.",
  add_rep_email_to_card: () => "Tragen Sie die E-Mail-Adresse des Vertriebsmitarbeiters als erste E-Mail auf seiner Kontaktkarte ein.",
  correct_first_email: () => "Korrigieren Sie die erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters.",
  check_person_card: () => "Prüfen Sie, ob die Personenkarte des Vertriebsmitarbeiters existiert und ob er sie lesen darf.",
  grant_document_rights: () => "Geben Sie dem Benutzer eine Rolle mit dem Recht, Dokumente anzulegen (Einstellungen und Wartung → Rollen).",
  check_document_storage: () => "Prüfen Sie das Dokumentarchiv und die Speichereinstellungen der Vorlage.",
  delete_test_document: (p) => `Löschen Sie das Dokument ${p.id} „SuperOffice Outbox diagnostics test“ von Hand.`,
  add_email_template: () => "Legen Sie eine Dokumentvorlage „Email - Template“ vom Typ Normal mit Richtung Ausgehend an.",
  set_task_type: () => "Stellen Sie in der App den Aufgabentyp ein, den die GTM-Engine verwendet (`so-outbox configure --task-type N`).",
  grant_follow_ups: () => "Geben Sie dem Benutzer das Recht, Folgeaufgaben anzulegen.",
  nothing_intake_retries: () => "Nichts zu tun: Der Postausgang versucht es alle paar Minuten erneut.",
  grant_read_follow_ups: () => "Geben Sie dem Vertriebsmitarbeiter das Recht, seine eigenen Folgeaufgaben zu lesen (Rolle, Aktivitäten).",
  send_report_to_vendor: () => "Senden Sie diesen Bericht an den Hersteller der App.",
  send_report_check_task_type: () =>
    "Senden Sie diesen Bericht an den Hersteller der App; der SuperOffice-Administrator kann prüfen, ob der Aufgabentyp für Entwürfe existiert.",
  request_email_agent: () =>
    "Bitten Sie SuperOffice, „Access to (agents): Email“ für die App-Registrierung freizugeben (das kann nur deren App-Manager). Bis dahin gehen E-Mails über SMTP oder die Übergabe.",
  set_up_inbox: () => "Richten Sie SuperOffice Inbox (IMAP + SMTP) mit derselben Adresse ein wie die erste E-Mail auf der Kontaktkarte.",
  make_inbox_first_email: (p) => `Machen Sie ${p.address} zur ersten E-Mail auf der Kontaktkarte oder richten Sie Inbox mit ${p.first} ein.`,
  add_inbox_address_to_card: (p) => `Tragen Sie ${p.address} als erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters ein.`,
  nothing_for_sending: () => "Für das Senden nichts. Wenn ein Skript gewünscht ist, beantragen Sie „Access to (agents): CRMScript“ für die App.",
  use_rep_channel: () => "Keine für 1:1-E-Mails: Nutzen Sie den Versandweg des Vertriebsmitarbeiters (E-Mail-Agent, SMTP-Relay oder Übergabe).",
  renew_refresh_token: () =>
    "Hinterlegen Sie ein neues Aktualisierungstoken für das Postfach (Einstellungen → SMTP-Relay) und prüfen Sie Token-Endpunkt, Client-ID und Berechtigung.",
  store_fresh_access_token: () =>
    "Hinterlegen Sie ein neues Zugriffstoken für das Postfach (Einstellungen → SMTP-Relay; Tokens von Microsoft 365 und Google laufen nach etwa einer Stunde ab) oder verwenden Sie ein Passwort bzw. App-Passwort.",
  check_relay_settings: () =>
    "Prüfen Sie Host, Port, TLS-Modus, das Konto und sein Senden-als-Recht für die Adresse des Vertriebsmitarbeiters (`so-outbox configure`).",
  configure_relay: () => "Richten Sie das SMTP-Relay des Vertriebsmitarbeiters ein (`so-outbox configure --smtp-host …`) oder nutzen Sie den E-Mail-Agenten.",
  check_dns_by_hand: (p) =>
    `Prüfen Sie die SPF- und DMARC-Einträge von ${p.domain} mit Ihren DNS-Werkzeugen oder wiederholen Sie die Prüfung auf einem verbundenen Computer.`,
  add_relay_to_spf: (p) =>
    `Nehmen Sie das Relay in den SPF-Eintrag von ${p.domain} auf (das \`include:\` seines Anbieters oder \`ip4:\`) und signieren Sie auf dem Relay mit DKIM. (Wenn das Relay von anderen Adressen aus versendet, als es E-Mails annimmt, prüfen Sie das dokumentierte include des Anbieters.)`,
  publish_spf_and_dmarc: (p) => `Veröffentlichen Sie SPF- (\`v=spf1 include:<Relay-Anbieter> -all\`) und DMARC-Einträge (\`_dmarc.${p.domain}\`).`,
  see_relay_check: () => "Den fehlgeschlagenen Schritt zeigt die Prüfung des SMTP-Relays.",
  check_system_user_token: () => "Prüfen Sie Token und Schlüssel des Systembenutzers, die `so-outbox configure --system-user-token` erhalten hat.",
  unlock_keychain: () => "Entsperren oder starten Sie den Schlüsselbund (GNOME Keyring, KWallet, Anmeldeinformationsverwaltung, macOS-Schlüsselbund).",
  enable_smtp_auth: () =>
    "Schalten Sie in Exchange Online SMTP AUTH für das Postfach ein: `Set-CASMailbox -Identity <Postfach> -SmtpClientAuthenticationDisabled $false` (oder Microsoft 365 Admin Center → Benutzer → Aktive Benutzer → E-Mail → E-Mail-Apps verwalten → Authentifiziertes SMTP); oder verbinden Sie stattdessen das Postfach des Vertriebsmitarbeiters in der App, das braucht kein SMTP AUTH.",
  use_xoauth2_for_smtp: () =>
    "Verwenden Sie XOAUTH2 für das Relay (ein Token des Anbieters statt eines Passworts), oder verbinden Sie stattdessen das Postfach in der App.",
  connect_mailbox: () =>
    "Verbinden Sie das Postfach des Vertriebsmitarbeiters: Einstellungen → Ihr Postfach → Microsoft 365 oder Google (die App-Registrierung des Unternehmens muss eingerichtet sein: `so-outbox configure --mailbox …`).",
  reconnect_mailbox: () => "Verbinden Sie das Postfach erneut: Einstellungen → Ihr Postfach, und erlauben Sie das Senden, wenn der Anbieter fragt.",
  connect_mailbox_of: (p) => `Verbinden Sie das Postfach ${p.address}, oder korrigieren Sie die E-Mail-Adresse des Vertriebsmitarbeiters in SuperOffice.`,
  grant_mailbox_consent: () =>
    "Microsoft 365: Ein Administrator erteilt der App die Administratorzustimmung in Microsoft Entra (Unternehmensanwendungen → die App → Berechtigungen → Administratorzustimmung erteilen). Google Workspace: Ein Administrator vertraut der App in der Admin-Konsole (Sicherheit → API-Steuerung → App-Zugriffssteuerung).",
};

export const recommendationDe: Record<RecommendationReason, string> = {
  agent_granted: "der E-Mail-Agent ist für die App freigegeben, und der Vertriebsmitarbeiter hat ein SuperOffice-Inbox-Konto",
  agent_without_inbox: "der E-Mail-Agent ist freigegeben, aber der Vertriebsmitarbeiter hat kein nutzbares Inbox-Konto",
  agent_not_granted: "der E-Mail-Agent ist für die App-Registrierung nicht freigegeben",
  agent_untested: "der E-Mail-Agent konnte nicht geprüft werden",
  smtp_works: "das SMTP-Relay akzeptiert den Vertriebsmitarbeiter als Absender über TLS",
  no_smtp: "kein funktionierendes SMTP-Relay",
};
