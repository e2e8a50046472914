//! The simulated tenant: its people, companies, sales, follow-up tasks and archive, and the
//! permission profile that decides what the app registration and the rep may do.
//!
//! These are the simulator's own records, shaped after SuperOffice's entities but never shared
//! with the client crate.

use serde::Serialize;

use crate::profiles::{Profile, DEMO_PROFILE};

#[derive(Clone, Debug, Serialize)]
pub struct Associate {
    pub id: i64,
    pub person_id: i64,
    pub contact_id: i64,
    pub name: String,
    pub full_name: String,
    pub email: String,
    /// SuperID login (the `sub` claim).
    pub username: String,
    /// Associate `Type`: `InternalAssociate` (1) or `SystemAssociate` (5).
    pub kind: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub city: String,
    pub country: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Person {
    pub id: i64,
    pub contact_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub title: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sale {
    pub id: i64,
    pub contact_id: i64,
    pub heading: String,
    pub amount: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Appointment {
    pub id: i64,
    pub associate_id: i64,
    pub contact_id: i64,
    pub person_id: i64,
    pub sale_id: i64,
    pub task_id: i64,
    /// `inChecklist` for follow-up tasks.
    pub kind: String,
    /// `NotStarted`, `Started` or `Completed`.
    pub completed: String,
    pub description: String,
    pub start_date: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Document {
    pub id: i64,
    pub header: String,
    pub name: String,
    pub description: String,
    pub external_ref: String,
    pub our_ref: String,
    pub your_ref: String,
    pub attention: String,
    pub contact_id: i64,
    pub person_id: i64,
    pub sale_id: i64,
    pub associate_id: i64,
    pub template_id: i64,
    pub date: String,
    /// The uploaded content; `None` until `PUT Document/{id}/Content`.
    #[serde(skip)]
    pub content: Option<Vec<u8>>,
    pub content_base64: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DocTemplate {
    pub id: i64,
    pub name: String,
    /// 1 app, 2 doc, 3 email, 4 fax, 5 phone, 6 todo.
    pub record_type: i64,
    /// 1 incoming, 2 outgoing.
    pub direction: i64,
    pub mime_type: String,
}

/// An email sent through `Agents/EMail/Send`.
#[derive(Clone, Debug, Serialize)]
pub struct AgentEmail {
    pub associate_id: i64,
    pub account_id: i64,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub plain_body: String,
    pub html_body: String,
    pub message_id: String,
    pub sent: String,
    /// The request carried `"HTMLBody": ""` beside a plain body (accepted; noted here).
    pub empty_html_body: bool,
    /// The id of the message the agent handed to the mail server, in the [`crate::Mailbox`].
    pub mailbox_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TaskType {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub context_id: String,
    pub company_name: String,
    pub serial: String,
    pub profile: Profile,
    pub rep_associate_id: i64,
    pub associates: Vec<Associate>,
    pub contacts: Vec<Contact>,
    pub persons: Vec<Person>,
    pub sales: Vec<Sale>,
    pub appointments: Vec<Appointment>,
    pub documents: Vec<Document>,
    /// Emails sent through the EMail agent.
    pub agent_emails: Vec<AgentEmail>,
    pub templates: Vec<DocTemplate>,
    pub task_types: Vec<TaskType>,
}

impl Tenant {
    pub fn rep(&self) -> &Associate {
        self.associates.iter().find(|a| a.id == self.rep_associate_id).unwrap_or(&self.associates[0])
    }
    pub fn associate(&self, id: i64) -> Option<&Associate> {
        self.associates.iter().find(|a| a.id == id)
    }
    pub fn person(&self, id: i64) -> Option<&Person> {
        self.persons.iter().find(|p| p.id == id)
    }
    pub fn contact(&self, id: i64) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id == id)
    }
    pub fn sale(&self, id: i64) -> Option<&Sale> {
        self.sales.iter().find(|s| s.id == id)
    }
    /// The tenant's system associate (Type 5), the identity of the system user.
    pub fn system_associate(&self) -> Option<&Associate> {
        self.associates.iter().find(|a| a.kind == SYSTEM_ASSOCIATE)
    }

    /// Adds `n` open drafted follow-ups for the rep, linked to persons with an email address.
    pub fn seed_tasks(&mut self, n: usize) {
        let people: Vec<(i64, i64, String)> = self
            .persons
            .iter()
            .filter(|p| p.email.is_some() && p.contact_id != 1)
            .map(|p| (p.id, p.contact_id, format!("{} {}", p.first_name, p.last_name)))
            .collect();
        if people.is_empty() {
            return;
        }
        let first = self.appointments.iter().map(|a| a.id).max().unwrap_or(4999) + 1;
        let rep = self.rep_associate_id;
        for (i, next) in (0..n).zip(first..) {
            let (person_id, contact_id, name) = &people[i % people.len()];
            let sale_id = self.sales.iter().find(|s| s.contact_id == *contact_id).map(|s| s.id).unwrap_or(0);
            self.appointments.push(Appointment {
                id: next,
                associate_id: rep,
                contact_id: *contact_id,
                person_id: *person_id,
                sale_id,
                task_id: DRAFT_TASK_TYPE,
                kind: "inChecklist".into(),
                completed: "NotStarted".into(),
                description: format!(
                    "Subject: Follow-up {next} for {name}\n\nHello {name},\n\nthis is seeded follow-up {}.\n\nKind regards\nAnna Berger",
                    i + 1
                ),
                start_date: format!("2026-12-{:02}T09:00:00", 1 + (i % 28)),
            });
        }
    }
}

/// Associate `Type` of ordinary users (1 = internal user).
pub const INTERNAL_ASSOCIATE: &str = "InternalAssociate";
/// Associate `Type` of the system user (5 = system).
pub const SYSTEM_ASSOCIATE: &str = "SystemAssociate";

/// The follow-up task type the GTM engine uses for drafted emails.
pub const DRAFT_TASK_TYPE: i64 = 7;

/// The demo tenant: RoboPlanet GmbH (the seed company), its rep Anna Berger and 25 drafted
/// follow-ups for German and English customers. The Email agent is not granted to the app
/// registration, as in the seed, so mail goes through the SMTP relay.
pub fn demo_tenant() -> Tenant {
    let mut contacts = vec![Contact { id: 1, name: "RoboPlanet GmbH".into(), city: "Stuttgart".into(), country: "DE".into() }];
    let mut persons = vec![Person {
        id: 1,
        contact_id: 1,
        first_name: "Anna".into(),
        last_name: "Berger".into(),
        email: Some("anna.berger@roboplanet.example".into()),
        title: "Key Account Manager".into(),
    }];
    for (i, (name, city, country, first, last, email, title)) in CUSTOMERS.iter().enumerate() {
        let cid = i as i64 + 2;
        contacts.push(Contact { id: cid, name: (*name).into(), city: (*city).into(), country: (*country).into() });
        persons.push(Person {
            id: cid,
            contact_id: cid,
            first_name: (*first).into(),
            last_name: (*last).into(),
            email: email.map(Into::into),
            title: (*title).into(),
        });
    }
    let sales: Vec<Sale> = SALES
        .iter()
        .enumerate()
        .map(|(i, (contact, heading, amount))| Sale {
            id: 100 + i as i64,
            contact_id: *contact,
            heading: (*heading).into(),
            amount: *amount,
        })
        .collect();
    let appointments = DRAFTS
        .iter()
        .enumerate()
        .map(|(i, (contact, subject, body))| {
            let sale_id = sales.iter().find(|s| s.contact_id == *contact).map(|s| s.id).unwrap_or(0);
            Appointment {
                id: 5000 + i as i64,
                associate_id: 18,
                contact_id: *contact,
                person_id: *contact,
                sale_id,
                task_id: DRAFT_TASK_TYPE,
                kind: "inChecklist".into(),
                completed: "NotStarted".into(),
                description: format!("Subject: {subject}\n\n{body}"),
                start_date: format!("2026-11-{:02}T09:00:00", 2 + (i % 26)),
            }
        })
        .collect();
    contacts.sort_by_key(|c| c.id);
    Tenant {
        context_id: "Demo26720".into(),
        company_name: "RoboPlanet GmbH".into(),
        serial: "2617438901".into(),
        // The seed's situation: Email agent not granted to the app, archiving allowed.
        profile: Profile::builtin(DEMO_PROFILE).unwrap_or_else(|| unreachable!("built-in profile {DEMO_PROFILE}")),
        rep_associate_id: 18,
        associates: vec![
            Associate {
                id: 18,
                person_id: 1,
                contact_id: 1,
                name: "ABE".into(),
                full_name: "Anna Berger".into(),
                email: "anna.berger@roboplanet.example".into(),
                username: "anna.berger@roboplanet.example".into(),
                kind: INTERNAL_ASSOCIATE.into(),
            },
            Associate {
                id: 2,
                person_id: 0,
                contact_id: 0,
                name: "SYSTEM".into(),
                full_name: "System user".into(),
                email: String::new(),
                username: "system".into(),
                kind: SYSTEM_ASSOCIATE.into(),
            },
        ],
        contacts,
        persons,
        sales,
        appointments,
        documents: Vec::new(),
        agent_emails: Vec::new(),
        templates: vec![
            DocTemplate {
                id: 1,
                name: "Letter".into(),
                record_type: 2,
                direction: 2,
                mime_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
            },
            DocTemplate { id: 3, name: "Email - outgoing".into(), record_type: 3, direction: 2, mime_type: "message/rfc822".into() },
            DocTemplate { id: 4, name: "Email - sales outreach".into(), record_type: 3, direction: 2, mime_type: "message/rfc822".into() },
            DocTemplate { id: 5, name: "Email - incoming".into(), record_type: 3, direction: 1, mime_type: "message/rfc822".into() },
        ],
        task_types: vec![
            TaskType { id: 3, name: "Phone-Out".into() },
            TaskType { id: 5, name: "Follow-up".into() },
            TaskType { id: DRAFT_TASK_TYPE, name: "GTM email draft".into() },
        ],
    }
}

type Customer = (&'static str, &'static str, &'static str, &'static str, &'static str, Option<&'static str>, &'static str);

/// Customers; contact id = index + 2, and each has one person with the same id.
const CUSTOMERS: &[Customer] = &[
    ("Müller Logistik GmbH", "Hamburg", "DE", "Jonas", "Weber", Some("jonas.weber@mueller-logistik.example"), "Leiter Lager"),
    ("Hansen Maschinenbau AG", "Kiel", "DE", "Katrin", "Hansen", Some("k.hansen@hansen-maschinenbau.example"), "Geschäftsführerin"),
    ("Kessler Pharma GmbH", "Mannheim", "DE", "Stefan", "Kessler", Some("stefan.kessler@kessler-pharma.example"), "Head of Operations"),
    ("Alpenblick Hotels GmbH", "Garmisch-Partenkirchen", "DE", "Sabine", "Huber", Some("s.huber@alpenblick-hotels.example"), "Hausdame"),
    ("Bäckerei Schmidt & Söhne KG", "Köln", "DE", "Gerda", "Schmidt", None, "Inhaberin"),
    ("Nordlicht Energie GmbH", "Bremen", "DE", "Lena", "Fischer", Some("lena.fischer@nordlicht-energie.example"), "Facility Managerin"),
    ("Rheinwerk Automotive GmbH", "Düsseldorf", "DE", "Markus", "Becker", Some("markus.becker@rheinwerk-auto.example"), "Werksleiter"),
    ("Brightwater Analytics Ltd", "London", "GB", "Olivia", "Carter", Some("olivia.carter@brightwater.example"), "Office Manager"),
    ("Northfield Robotics Inc.", "Boston", "US", "Daniel", "Brooks", Some("dbrooks@northfield-robotics.example"), "VP Operations"),
    ("Thames Valley Foods plc", "Reading", "GB", "Priya", "Sharma", Some("priya.sharma@tvfoods.example"), "Plant Manager"),
    ("Harbourline Shipping Ltd", "Southampton", "GB", "James", "O'Neill", Some("j.oneill@harbourline.example"), "Terminal Director"),
    ("Cedar & Pine Facilities Ltd", "Manchester", "GB", "Emma", "Wilson", Some("emma.wilson@cedarpine.example"), "Procurement Lead"),
];

const SALES: &[(i64, &str, f64)] = &[
    (2, "Reinigungsroboter Lager Nord", 48_000.0),
    (3, "Serviceroboter Montagehalle", 126_500.0),
    (5, "Housekeeping-Roboter Saison 2027", 36_900.0),
    (8, "Autonomous floor care, Rheinwerk plant 2", 92_000.0),
    (10, "Fleet of 4 delivery robots, Boston HQ", 74_000.0),
    (12, "Terminal inspection pilot", 58_750.0),
];

/// (contact id, subject, body) of each drafted follow-up.
const DRAFTS: &[(i64, &str, &str)] = &[
    (2, "Ihr Lager Nord: Angebot für zwei Reinigungsroboter", "Hallo Herr Weber,\n\nvielen Dank für das Gespräch am Dienstag. Wie besprochen schicke ich Ihnen die Eckdaten für zwei Reinigungsroboter im Lager Nord: Nachtbetrieb, 4.800 m² pro Schicht, Übergabe der Reinigungsprotokolle an Ihr WMS.\n\nPasst Ihnen ein kurzer Termin nächste Woche, um die Laufwege gemeinsam durchzugehen?\n\nViele Grüße\nAnna Berger\nRoboPlanet GmbH"),
    (2, "Kurze Rückfrage zu den Schichtzeiten", "Hallo Herr Weber,\n\nfür die Planung der Ladezeiten bräuchte ich noch Ihre genauen Schichtzeiten im Lager Nord. Reicht eine kurze Antwort per Mail?\n\nBeste Grüße\nAnna Berger"),
    (3, "Serviceroboter für die Montagehalle: nächste Schritte", "Sehr geehrte Frau Hansen,\n\nanbei wie versprochen die Zusammenfassung unseres Workshops. Der Pilot in Halle 3 ließe sich ab Januar mit drei Robotern starten; die Integration in Ihre Fertigungssteuerung übernimmt unser Team.\n\nDarf ich Ihnen dazu am Donnerstag einen Terminvorschlag machen?\n\nMit freundlichen Grüßen\nAnna Berger"),
    (3, "Referenzbesuch bei einem Kunden in Kiel", "Sehr geehrte Frau Hansen,\n\neiner unserer Kunden in Kiel hat angeboten, Ihnen seine Anlage zu zeigen. Hätten Sie in der KW 50 Zeit für einen Besuch von etwa einer Stunde?\n\nMit freundlichen Grüßen\nAnna Berger"),
    (4, "Reinraum-taugliche Transportroboter", "Sehr geehrter Herr Dr. Kessler,\n\nSie hatten nach Transportrobotern für Ihre Reinraumbereiche gefragt. Unser Modell TR-5 ist für ISO-Klasse 7 zertifiziert; das Datenblatt und die Validierungsunterlagen sende ich Ihnen gern zu.\n\nMit freundlichen Grüßen\nAnna Berger"),
    (5, "Housekeeping-Roboter für die Wintersaison", "Liebe Frau Huber,\n\nschön, dass Sie sich die Vorführung angesehen haben! Für die Wintersaison könnten wir zwei Roboter für die Flure und die Lobby bereitstellen, zunächst als Miete für vier Monate.\n\nSoll ich Ihnen ein Angebot auf dieser Basis schicken?\n\nHerzliche Grüße\nAnna Berger"),
    (5, "Fotos und Maße der Lobby", "Liebe Frau Huber,\n\nkönnten Sie mir ein paar Fotos und die ungefähren Maße der Lobby schicken? Dann kann ich die Laufwege schon vorab planen.\n\nHerzliche Grüße\nAnna Berger"),
    (6, "Unser Gespräch auf der Messe", "Liebe Frau Schmidt,\n\nes hat mich gefreut, Sie auf der Messe kennenzulernen. Ich melde mich wie versprochen mit den Informationen zu unserem kleinen Reinigungsroboter für Backstuben.\n\nViele Grüße\nAnna Berger"),
    (7, "Roboter für die Wartung Ihrer Umspannwerke", "Hallo Frau Fischer,\n\nwie am Telefon besprochen: Unsere Inspektionsroboter prüfen Schaltanlagen mit Wärmebildkamera und melden Auffälligkeiten direkt an Ihr Störungsmanagement.\n\nHätten Sie Interesse an einer Vorführung in Bremen?\n\nViele Grüße\nAnna Berger"),
    (7, "Einladung zum Anwendertreffen", "Hallo Frau Fischer,\n\nam 22. Januar findet unser Anwendertreffen in Stuttgart statt. Es wäre schön, Sie dort begrüßen zu dürfen – die Teilnahme ist kostenlos.\n\nViele Grüße\nAnna Berger"),
    (8, "Bodenpflege im Werk 2: Angebot", "Sehr geehrter Herr Becker,\n\nanbei das Angebot für die autonome Bodenpflege im Werk 2. Es enthält vier Roboter, die Einbindung in Ihre Schichtplanung und einen Wartungsvertrag über drei Jahre.\n\nIch rufe Sie am Freitag an, um offene Fragen zu klären.\n\nMit freundlichen Grüßen\nAnna Berger"),
    (8, "Rückfrage Betriebsrat", "Sehr geehrter Herr Becker,\n\nsoll ich für die Vorstellung beim Betriebsrat noch eine Präsentation zum Datenschutz vorbereiten? Gern stimme ich die Inhalte vorher mit Ihnen ab.\n\nMit freundlichen Grüßen\nAnna Berger"),
    (9, "Cleaning robots for your London office", "Dear Ms Carter,\n\nThank you for your time on the phone today. As promised, here is a short summary: one compact cleaning robot would cover your two open-plan floors overnight, with no changes to your current cleaning contract.\n\nWould a 30-minute demo next week suit you?\n\nKind regards,\nAnna Berger\nRoboPlanet GmbH"),
    (9, "Following up on the pricing question", "Dear Ms Carter,\n\nYou asked whether we offer monthly pricing. We do: the robot is available from GBP 690 per month, including maintenance.\n\nKind regards,\nAnna Berger"),
    (10, "Delivery robots for the Boston HQ", "Hi Daniel,\n\nGreat to meet you at the trade show. Based on your floor plan, a fleet of four delivery robots would cover the mail room and the three labs.\n\nI have attached nothing yet on purpose - would you prefer a call first, or a written proposal?\n\nBest,\nAnna"),
    (10, "Integration with your badge system", "Hi Daniel,\n\nOur robots can use your existing badge readers to open the lab doors. I can put you in touch with our integration team if that helps your security review.\n\nBest,\nAnna"),
    (11, "Automating inspections at the Reading plant", "Dear Ms Sharma,\n\nFollowing our conversation about hygiene inspections, I have put together a proposal for one inspection robot on the night shift. It logs every round for your audit trail.\n\nCould we schedule a site visit in December?\n\nKind regards,\nAnna Berger"),
    (11, "Audit trail sample report", "Dear Ms Sharma,\n\nAs requested, I can share a sample audit report from a comparable food plant (anonymised). Shall I send it to you directly?\n\nKind regards,\nAnna Berger"),
    (12, "Terminal inspection pilot: proposal", "Dear Mr O'Neill,\n\nThank you for showing me around the terminal. Our proposal for the inspection pilot covers two robots on berths 4 and 5 for three months, with weekly reports to your operations team.\n\nI would be glad to walk you through it on a short call.\n\nKind regards,\nAnna Berger"),
    (12, "Safety assessment documents", "Dear Mr O'Neill,\n\nYour safety team asked for our risk assessment and the CE documentation. I can send both today; please let me know who should receive them.\n\nKind regards,\nAnna Berger"),
    (13, "Robotic floor care for your client sites", "Dear Ms Wilson,\n\nThank you for your interest in robotic floor care for your client sites. Many facilities companies start with one robot per large site and scale from there.\n\nWould a short call on Wednesday work for you?\n\nKind regards,\nAnna Berger"),
    (13, "Framework agreement", "Dear Ms Wilson,\n\nFor multi-site customers we offer a framework agreement with fixed monthly rates. I have outlined the terms in two pages and would be happy to send them over.\n\nKind regards,\nAnna Berger"),
    (4, "Termin für die Validierung", "Sehr geehrter Herr Dr. Kessler,\n\nfür die Validierung des TR-5 in Ihrem Reinraum schlage ich den 14. oder 15. Januar vor. Welcher Tag passt Ihnen besser?\n\nMit freundlichen Grüßen\nAnna Berger"),
    (6, "Angebot Backstubenroboter", "Liebe Frau Schmidt,\n\nwie besprochen sende ich Ihnen unser Angebot für den kleinen Reinigungsroboter für Ihre Backstube.\n\nViele Grüße\nAnna Berger"),
    (9, "Thank you for the site visit", "Dear Ms Carter,\n\nThank you for showing me your office space yesterday. I will send the floor plan with the proposed cleaning routes by Friday.\n\nKind regards,\nAnna Berger"),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn demo_tenant_has_25_drafts_for_existing_people() {
        let t = demo_tenant();
        assert_eq!(t.appointments.len(), 25);
        for a in &t.appointments {
            assert!(t.person(a.person_id).is_some(), "task {} has no person", a.id);
            assert!(t.contact(a.contact_id).is_some());
            assert!(a.description.starts_with("Subject: "));
        }
        let without_email = t.appointments.iter().filter(|a| t.person(a.person_id).and_then(|p| p.email.as_ref()).is_none()).count();
        assert_eq!(without_email, 2, "the demo keeps two drafts whose person has no email");
        let german = t.contacts.iter().filter(|c| c.country == "DE").count();
        let english = t.contacts.iter().filter(|c| c.country != "DE").count();
        assert!(german >= 6 && english >= 5);
        assert_eq!(t.rep().kind, INTERNAL_ASSOCIATE);
        assert_eq!(t.system_associate().map(|a| a.id), Some(2));
    }

    #[test]
    fn seeded_tasks_are_open_drafts_for_people_with_email() {
        let mut t = demo_tenant();
        t.seed_tasks(40);
        assert_eq!(t.appointments.len(), 65);
        let ids: std::collections::HashSet<i64> = t.appointments.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), 65, "ids are unique");
        for a in &t.appointments[25..] {
            assert_eq!(
                (a.kind.as_str(), a.completed.as_str(), a.task_id, a.associate_id),
                ("inChecklist", "NotStarted", DRAFT_TASK_TYPE, 18)
            );
            assert!(t.person(a.person_id).and_then(|p| p.email.as_ref()).is_some());
            assert!(a.description.starts_with("Subject: ") && a.description.contains("\n\n"));
        }
    }
}
