// The diagnostics' causes and actions in German. The core writes them in English (the report
// export, the CLI and the logs keep that); the screen shows them in the UI's language. Each
// entry is the core's English with `{name}` where the core puts a value (a domain, an address,
// an id); a text no entry matches is shown as the core wrote it. `findings.test.ts` reads the
// core's sources and checks that every cause and action it can write has an entry here.
import type { Lang } from "./i18n";

const german: [string, string][] = [
  // Could not test / sign-in
  ["Could not test: SuperOffice did not answer normally (see the evidence).", "Nicht prüfbar: SuperOffice hat nicht normal geantwortet (siehe Nachweis)."],
  ["Re-run this check when the tenant answers again (see tenant_state).", "Wiederholen Sie diese Prüfung, wenn der Mandant wieder antwortet (siehe tenant_state)."],
  ["Sign in to SuperOffice in the app.", "Melden Sie sich in der App bei SuperOffice an."],
  ["Sign in first: the relay is tested with the rep's address.", "Melden Sie sich zuerst an: Das Relay wird mit der Adresse des Vertriebsmitarbeiters geprüft."],
  ["Sign in first.", "Melden Sie sich zuerst an."],
  ["Sign in again.", "Melden Sie sich erneut an."],
  ["SuperOffice did not say who is signed in.", "SuperOffice hat nicht mitgeteilt, wer angemeldet ist."],
  ["The session cannot be renewed; the rep will have to sign in again when the access token expires.", "Die Sitzung lässt sich nicht verlängern; der Vertriebsmitarbeiter muss sich erneut anmelden, wenn das Zugriffstoken abläuft."],
  ["Check the client secret stored with `so-outbox configure` and that the app's consent was not revoked.", "Prüfen Sie das mit `so-outbox configure` gespeicherte Client-Secret und ob die Zustimmung für die App widerrufen wurde."],
  // Tenant
  ["The tenant is not running (maintenance or suspended).", "Der Mandant läuft nicht (Wartung oder gesperrt)."],
  ["Wait for the maintenance window to end, or ask SuperOffice about the tenant's state.", "Warten Sie das Ende der Wartung ab oder fragen Sie SuperOffice nach dem Zustand des Mandanten."],
  ["The tenant could not be resolved; check the environment and tenant id.", "Der Mandant wurde nicht gefunden; prüfen Sie Umgebung und Mandanten-ID."],
  // Identity
  ["The system user is not a person: it has no email address and cannot impersonate other users in SuperOffice Online, so it can never send as a rep.", "Der Systembenutzer ist keine Person: Er hat keine E-Mail-Adresse und kann in SuperOffice Online nicht im Namen anderer Benutzer handeln, also nie als Vertriebsmitarbeiter senden."],
  ["Send with each rep's own sign-in (this app); the system user is only for server tasks.", "Senden Sie mit der eigenen Anmeldung jedes Vertriebsmitarbeiters (diese App); der Systembenutzer ist nur für Serveraufgaben da."],
  ["The rep's user has no email address.", "Der Benutzer des Vertriebsmitarbeiters hat keine E-Mail-Adresse."],
  ["Add the rep's email address as the first email on their contact card.", "Tragen Sie die E-Mail-Adresse des Vertriebsmitarbeiters als erste E-Mail auf seiner Kontaktkarte ein."],
  ["The first email on the rep's contact card ({first}) is not a valid address.", "Die erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters ({first}) ist keine gültige Adresse."],
  ["Correct the first email on the rep's contact card.", "Korrigieren Sie die erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters."],
  ["The rep's contact card has no email address; nothing can be sent as them.", "Die Kontaktkarte des Vertriebsmitarbeiters hat keine E-Mail-Adresse; in seinem Namen kann nichts gesendet werden."],
  ["The rep's contact card cannot be read, so the app cannot confirm that the first email on it is the rep's address; it sends as the address SuperOffice reports for the user.", "Die Kontaktkarte des Vertriebsmitarbeiters lässt sich nicht lesen, daher kann die App nicht bestätigen, dass die erste E-Mail darauf seine Adresse ist; sie sendet mit der Adresse, die SuperOffice für den Benutzer meldet."],
  ["Check that the rep's person card exists and that the rep may read it.", "Prüfen Sie, ob die Personenkarte des Vertriebsmitarbeiters existiert und ob er sie lesen darf."],
  // Archive, template, tasks
  ["The user may not create documents, so sent emails cannot be archived.", "Der Benutzer darf keine Dokumente anlegen, daher können gesendete E-Mails nicht archiviert werden."],
  ["Give the user a role with the right to create documents (Settings and maintenance → Roles).", "Geben Sie dem Benutzer eine Rolle mit dem Recht, Dokumente anzulegen (Einstellungen und Wartung → Rollen)."],
  ["Sent emails cannot be archived as documents for this user.", "Gesendete E-Mails können für diesen Benutzer nicht als Dokumente archiviert werden."],
  ["A document could not be created: sent emails cannot be archived.", "Ein Dokument konnte nicht angelegt werden: Gesendete E-Mails können nicht archiviert werden."],
  ["Documents can be created but their content cannot be stored (document archive or template).", "Dokumente lassen sich anlegen, ihr Inhalt aber nicht speichern (Dokumentarchiv oder Vorlage)."],
  ["Check the document archive and the template's storage settings.", "Prüfen Sie das Dokumentarchiv und die Speichereinstellungen der Vorlage."],
  ["Archiving works; the test document could not be removed.", "Das Archivieren funktioniert; das Testdokument konnte nicht entfernt werden."],
  ['Delete the document {id} "SuperOffice Outbox diagnostics test" by hand.', "Löschen Sie das Dokument {id} „SuperOffice Outbox diagnostics test“ von Hand."],
  ["Archived emails get the default document template instead of an email template.", "Archivierte E-Mails erhalten die Standard-Dokumentvorlage statt einer E-Mail-Vorlage."],
  ['Add an "Email - Template" document template of type Normal, direction Outgoing.', "Legen Sie eine Dokumentvorlage „Email - Template“ vom Typ Normal mit Richtung Ausgehend an."],
  ["The configured draft task type does not exist, so no drafts arrive.", "Der eingestellte Aufgabentyp für Entwürfe existiert nicht, daher kommen keine Entwürfe an."],
  ["Set the app's task type to the one the GTM engine uses (`so-outbox configure --task-type N`).", "Stellen Sie in der App den Aufgabentyp ein, den die GTM-Engine verwendet (`so-outbox configure --task-type N`)."],
  ["Follow-up tasks cannot be read or created for this user.", "Folgeaufgaben können für diesen Benutzer nicht gelesen oder angelegt werden."],
  ["Give the user the right to create follow-ups.", "Geben Sie dem Benutzer das Recht, Folgeaufgaben anzulegen."],
  // Intake (the query that fetches the drafts)
  ["SuperOffice did not answer the intake query.", "SuperOffice hat auf die Abfrage der Entwürfe nicht geantwortet."],
  ["Nothing to do: the outbox tries again every few minutes.", "Nichts zu tun: Der Postausgang versucht es alle paar Minuten erneut."],
  ["The rep's sign-in is no longer valid, so no drafts can be read.", "Die Anmeldung des Vertriebsmitarbeiters ist nicht mehr gültig, daher lassen sich keine Entwürfe lesen."],
  ["The rep may not read their follow-up tasks, so no drafts arrive.", "Der Vertriebsmitarbeiter darf seine Folgeaufgaben nicht lesen, daher kommen keine Entwürfe an."],
  ["Give the rep the right to read their own follow-ups (role, Activities).", "Geben Sie dem Vertriebsmitarbeiter das Recht, seine eigenen Folgeaufgaben zu lesen (Rolle, Aktivitäten)."],
  ["SuperOffice answered the intake query in a form the app cannot read, so no drafts arrive.", "SuperOffice hat auf die Abfrage der Entwürfe in einer Form geantwortet, die die App nicht lesen kann, daher kommen keine Entwürfe an."],
  ["Send this report to the app's vendor.", "Senden Sie diesen Bericht an den Hersteller der App."],
  ["SuperOffice refused the app's intake query, so no drafts arrive.", "SuperOffice hat die Abfrage der Entwürfe durch die App abgelehnt, daher kommen keine Entwürfe an."],
  ["Send this report to the app's vendor; the SuperOffice administrator can check that the draft task type exists.", "Senden Sie diesen Bericht an den Hersteller der App; der SuperOffice-Administrator kann prüfen, ob der Aufgabentyp für Entwürfe existiert."],
  // Agents, Inbox, Marketing
  ["The Email agent is restricted in SuperOffice Online and not granted to this app registration. The token type is not the cause: a rep's own sign-in gets the same answer.", "Der E-Mail-Agent ist in SuperOffice Online eingeschränkt und für diese App-Registrierung nicht freigegeben. Die Art des Tokens ist nicht die Ursache: Die eigene Anmeldung eines Vertriebsmitarbeiters erhält dieselbe Antwort."],
  ['Ask SuperOffice to enable "Access to (agents): Email" for the app registration (only their app manager can). Until then mail goes by SMTP or handoff.', "Bitten Sie SuperOffice, „Access to (agents): Email“ für die App-Registrierung freizugeben (das kann nur deren App-Manager). Bis dahin gehen E-Mails über SMTP oder die Übergabe."],
  ["The user has no SuperOffice Inbox account, which the Email agent sends with.", "Der Benutzer hat kein SuperOffice-Inbox-Konto, über das der E-Mail-Agent sendet."],
  ["Set up SuperOffice Inbox (IMAP + SMTP) with the same address as the first email on the contact card.", "Richten Sie SuperOffice Inbox (IMAP + SMTP) mit derselben Adresse ein wie die erste E-Mail auf der Kontaktkarte."],
  ["The Inbox account's address is not the first email on the rep's contact card, which SuperOffice requires for sending.", "Die Adresse des Inbox-Kontos ist nicht die erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters, was SuperOffice zum Senden verlangt."],
  ["Make {address} the first email on the contact card, or set up Inbox with {first}.", "Machen Sie {address} zur ersten E-Mail auf der Kontaktkarte oder richten Sie Inbox mit {first} ein."],
  ["The rep's contact card has no email to match the Inbox account.", "Die Kontaktkarte des Vertriebsmitarbeiters hat keine E-Mail, die zum Inbox-Konto passt."],
  ["Add {address} as the first email on the rep's contact card.", "Tragen Sie {address} als erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters ein."],
  ["The CRMScript agent is restricted in Online and not granted to this app. Sending does not need it (and the Email agent is not reachable from CRMScript anyway).", "Der CRMScript-Agent ist in Online eingeschränkt und für diese App nicht freigegeben. Zum Senden wird er nicht gebraucht (und der E-Mail-Agent ist aus CRMScript ohnehin nicht erreichbar)."],
  ['Nothing for sending. If a script is wanted, request "Access to (agents): CRMScript" for the app.', "Für das Senden nichts. Wenn ein Skript gewünscht ist, beantragen Sie „Access to (agents): CRMScript“ für die App."],
  ["Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no REST operation sends one personal email with them, so this answer for the system user says nothing about 1:1 sending.", "Shipments sind Massenmailings von Marketing (Marketing-Lizenz und -Rechte, versandt über den Mail-Dienst von SuperOffice); keine REST-Operation sendet damit eine einzelne persönliche E-Mail, daher sagt diese Antwort für den Systembenutzer nichts über den 1:1-Versand."],
  ["Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no REST operation sends one personal email with them, so this answer says nothing about 1:1 sending.", "Shipments sind Massenmailings von Marketing (Marketing-Lizenz und -Rechte, versandt über den Mail-Dienst von SuperOffice); keine REST-Operation sendet damit eine einzelne persönliche E-Mail, daher sagt diese Antwort nichts über den 1:1-Versand."],
  // The marketing check's cause names whose licences were read ("{}" in the core): one entry each.
  ["Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no documented REST operation sends one personal email with them, so the system user's licences says nothing about 1:1 sending. The seed's `POST /Shipment` (500) called an operation that is not documented; this check does not call it.", "Shipments sind Massenmailings von Marketing (Marketing-Lizenz und -Rechte, versandt über den Mail-Dienst von SuperOffice); keine dokumentierte REST-Operation sendet damit eine einzelne persönliche E-Mail, daher sagen die Lizenzen des Systembenutzers nichts über den 1:1-Versand. Das `POST /Shipment` (500) der Erstanalyse rief eine nicht dokumentierte Operation auf; diese Prüfung ruft sie nicht auf."],
  ["Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no documented REST operation sends one personal email with them, so the rep's licences says nothing about 1:1 sending. The seed's `POST /Shipment` (500) called an operation that is not documented; this check does not call it.", "Shipments sind Massenmailings von Marketing (Marketing-Lizenz und -Rechte, versandt über den Mail-Dienst von SuperOffice); keine dokumentierte REST-Operation sendet damit eine einzelne persönliche E-Mail, daher sagen die Lizenzen des Vertriebsmitarbeiters nichts über den 1:1-Versand. Das `POST /Shipment` (500) der Erstanalyse rief eine nicht dokumentierte Operation auf; diese Prüfung ruft sie nicht auf."],
  ["None for 1:1 email: use the rep's channel (Email agent, SMTP relay or handoff).", "Keine für 1:1-E-Mails: Nutzen Sie den Versandweg des Vertriebsmitarbeiters (E-Mail-Agent, SMTP-Relay oder Übergabe)."],
  ["`/Associate/Me` is not a documented endpoint; its 500 is not a finding. `User/currentPrincipal` is the documented way (see the identity check).", "`/Associate/Me` ist kein dokumentierter Endpunkt; seine 500 ist kein Befund. `User/currentPrincipal` ist der dokumentierte Weg (siehe die Identitätsprüfung)."],
  // Relay, sender domain, test email
  ["The relay does not offer a valid TLS connection; the app never sends credentials or mail without it.", "Das Relay bietet keine gültige TLS-Verbindung; ohne sie sendet die App weder Zugangsdaten noch E-Mails."],
  ["The relay refused the XOAUTH2 access token: it is expired or revoked, belongs to another mailbox, or lacks the SMTP scope.", "Das Relay hat das XOAUTH2-Zugriffstoken abgelehnt: Es ist abgelaufen oder widerrufen, gehört zu einem anderen Postfach oder hat keine SMTP-Berechtigung."],
  ["The relay refused the login.", "Das Relay hat die Anmeldung abgelehnt."],
  ["The mail provider did not renew the relay's access token: the refresh token is revoked or expired, or the client id is wrong.", "Der Mail-Anbieter hat das Zugriffstoken des Relays nicht erneuert: Das Aktualisierungstoken ist widerrufen oder abgelaufen, oder die Client-ID ist falsch."],
  ["Store a new refresh token for the mailbox (Settings → SMTP relay), and check the token endpoint, client id and scope.", "Hinterlegen Sie ein neues Aktualisierungstoken für das Postfach (Einstellungen → SMTP-Relay) und prüfen Sie Token-Endpunkt, Client-ID und Berechtigung."],
  ["The relay does not accept the rep's address as sender (send-as permission).", "Das Relay akzeptiert die Adresse des Vertriebsmitarbeiters nicht als Absender (Senden-als-Recht)."],
  ["The relay could not be reached.", "Das Relay war nicht erreichbar."],
  ["Store a fresh access token for the mailbox (Settings → SMTP relay; Microsoft 365 and Google tokens expire after about an hour), or use a password / app password.", "Hinterlegen Sie ein neues Zugriffstoken für das Postfach (Einstellungen → SMTP-Relay; Tokens von Microsoft 365 und Google laufen nach etwa einer Stunde ab) oder verwenden Sie ein Passwort bzw. App-Passwort."],
  ["Check host, port, TLS mode, the account and its send-as right for the rep's address (`so-outbox configure`).", "Prüfen Sie Host, Port, TLS-Modus, das Konto und sein Senden-als-Recht für die Adresse des Vertriebsmitarbeiters (`so-outbox configure`)."],
  ["Configure the rep's SMTP relay (`so-outbox configure --smtp-host …`) or use the Email agent.", "Richten Sie das SMTP-Relay des Vertriebsmitarbeiters ein (`so-outbox configure --smtp-host …`) oder nutzen Sie den E-Mail-Agenten."],
  ["DNS could not be asked from this computer, so SPF and DMARC were not checked.", "Von diesem Computer aus war DNS nicht erreichbar, daher wurden SPF und DMARC nicht geprüft."],
  ["Check {domain}'s SPF and DMARC records with your DNS tools, or re-run on a connected computer.", "Prüfen Sie die SPF- und DMARC-Einträge von {domain} mit Ihren DNS-Werkzeugen oder wiederholen Sie die Prüfung auf einem verbundenen Computer."],
  ["{domain}'s SPF does not authorize the relay's address, and DMARC tells receivers to reject or quarantine such mail.", "Der SPF-Eintrag von {domain} erlaubt die Adresse des Relays nicht, und DMARC weist Empfänger an, solche E-Mails abzuweisen oder in Quarantäne zu stellen."],
  ["{domain}'s SPF does not authorize the relay's address.", "Der SPF-Eintrag von {domain} erlaubt die Adresse des Relays nicht."],
  ["Add the relay to {domain}'s SPF record (its provider's `include:` or `ip4:`), and sign with DKIM on the relay. (If the relay sends out from other addresses than it accepts mail on, check the provider's documented include.)", "Nehmen Sie das Relay in den SPF-Eintrag von {domain} auf (das `include:` seines Anbieters oder `ip4:`) und signieren Sie auf dem Relay mit DKIM. (Wenn das Relay von anderen Adressen aus versendet, als es E-Mails annimmt, prüfen Sie das dokumentierte include des Anbieters.)"],
  ["{domain} lacks an SPF record: receivers may file the rep's mail as spam.", "{domain} hat keinen SPF-Eintrag: Empfänger können die E-Mails des Vertriebsmitarbeiters als Spam einordnen."],
  ["{domain} lacks a DMARC record: receivers may file the rep's mail as spam.", "{domain} hat keinen DMARC-Eintrag: Empfänger können die E-Mails des Vertriebsmitarbeiters als Spam einordnen."],
  ["Publish SPF (`v=spf1 include:<relay provider> -all`) and DMARC (`_dmarc.{domain}`) records.", "Veröffentlichen Sie SPF- (`v=spf1 include:<Relay-Anbieter> -all`) und DMARC-Einträge (`_dmarc.{domain}`)."],
  ["The relay's address could not be evaluated against SPF.", "Die Adresse des Relays ließ sich nicht gegen SPF auswerten."],
  ["The relay did not take a message sent as the rep.", "Das Relay hat keine im Namen des Vertriebsmitarbeiters gesendete Nachricht angenommen."],
  ["See the SMTP relay check for the failing step.", "Den fehlgeschlagenen Schritt zeigt die Prüfung des SMTP-Relays."],
  // System user, keychain
  ["The system user could not sign in (system token, private key or app registration).", "Der Systembenutzer konnte sich nicht anmelden (System-Token, privater Schlüssel oder App-Registrierung)."],
  ["Check the system user token and key given to `so-outbox configure --system-user-token`.", "Prüfen Sie Token und Schlüssel des Systembenutzers, die `so-outbox configure --system-user-token` erhalten hat."],
  ["The keychain does not keep what is stored; secrets would be lost.", "Der Schlüsselbund behält Gespeichertes nicht; Geheimnisse gingen verloren."],
  ["The OS keychain is not usable; the app keeps secrets nowhere else.", "Der Schlüsselbund des Systems ist nicht nutzbar; die App bewahrt Geheimnisse nirgends sonst auf."],
  ["Unlock or start the keychain (GNOME Keyring, KWallet, Credential Manager, macOS Keychain).", "Entsperren oder starten Sie den Schlüsselbund (GNOME Keyring, KWallet, Anmeldeinformationsverwaltung, macOS-Schlüsselbund)."],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const patterns: { re: RegExp; names: string[]; de: string }[] = german.map(([en, de]) => {
  const names: string[] = [];
  const source = en
    .split(/(\{[a-z]+\})/)
    .map((part) => {
      const m = /^\{([a-z]+)\}$/.exec(part);
      if (!m) return escape(part);
      names.push(m[1]);
      return "(.+?)";
    })
    .join("");
  return { re: new RegExp(`^${source}$`), names, de };
});

/** A cause or action in the UI's language (the core's words when no entry matches). */
export function findingText(text: string | null | undefined, lang: Lang): string | null {
  if (text == null) return null;
  if (lang !== "de") return text;
  for (const p of patterns) {
    const m = p.re.exec(text);
    if (m) return p.names.reduce((out, name, i) => out.replaceAll(`{${name}}`, m[i + 1]), p.de);
  }
  return text;
}
