//! Why a message is where it is (not sent, refused, waiting for the rep's decision, handed
//! off, archiving postponed), kept twice: in English words (the record, the timeline, logs)
//! and as data the UI words in the rep's language. What a server said stays in its words.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The server did not take it; tried again later.
    NotSent { detail: String },
    /// Refused for good.
    Refused { detail: String },
    /// SuperOffice's email agent answered without confirming the send.
    AgentUnconfirmed,
    /// SuperOffice's answer to the send is unknown (it may have sent).
    AgentUnknown { detail: String },
    /// The connection was lost after the message was handed over.
    ConnectionLost { detail: String },
    /// Handed to the rep's own mail program.
    HandedOff,
    /// Sent; archiving in SuperOffice waits for another try.
    ArchivePending { detail: String },
    /// The app stopped while the message was being transmitted.
    StoppedDuringData,
    /// The app stopped during an attempt, before the body went out.
    StoppedBeforeData,
    /// The mail provider asked to wait before it took the message; it is sent later.
    Throttled { detail: String },
    /// The answer to the send was lost and the mailbox does not show the message as sent
    /// (yet): the app keeps looking for a while, then the rep decides.
    MailboxUnconfirmed { detail: String },
    /// The answer to the send was lost and the mailbox cannot be searched (Gmail's send-only
    /// permission): the rep checks the Sent folder.
    MailboxUnknown { detail: String },
}

impl Reason {
    /// The reason in English (stored in `reason`, the timeline and the logs).
    pub fn english(&self) -> String {
        const DECIDE: &str = "then choose \"it was sent\" or \"send again\".";
        match self {
            Reason::NotSent { detail } => format!("Not sent: {detail}"),
            Reason::Refused { detail } => format!("Refused: {detail}"),
            Reason::AgentUnconfirmed => format!(
                "SuperOffice's email agent answered without confirming the send. Check your Sent folder in SuperOffice Inbox, {DECIDE}"
            ),
            Reason::AgentUnknown { detail } => format!(
                "SuperOffice did not confirm the send ({detail}). It may have been sent. Check your Sent folder in SuperOffice Inbox, {DECIDE}"
            ),
            Reason::ConnectionLost { detail } => format!(
                "The connection to the mail server was lost after the message was handed over ({detail}). It may have been delivered. Check the recipient's inbox or your Sent folder, {DECIDE}"
            ),
            Reason::HandedOff => "Handed off to your mail program: the text is on the clipboard and a new message was opened. Send it there, then choose \"it was sent\" here (the task stays open until then).".into(),
            Reason::ArchivePending { detail } => format!("Sent, but not yet archived in SuperOffice: {detail}"),
            Reason::StoppedDuringData => "The app stopped while the message was being transmitted. It may have been delivered.".into(),
            Reason::StoppedBeforeData => {
                "The app stopped during a send attempt, before the message body was transmitted. It was most likely not delivered.".into()
            }
            Reason::Throttled { detail } => format!("Waiting: the mail provider asked to slow down ({detail}); it is sent automatically later."),
            Reason::MailboxUnconfirmed { detail } => format!(
                "The answer to the send was lost ({detail}) and your mailbox does not show it as sent yet. The app keeps looking in your Sent Items for 15 minutes; if it is not there, {DECIDE}"
            ),
            Reason::MailboxUnknown { detail } => format!(
                "The answer to the send was lost ({detail}). It may have been sent. Check your Sent folder, {DECIDE}"
            ),
        }
    }

    pub(crate) fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;
    use crate::{NewDraft, Store};

    #[test]
    fn the_data_follows_the_words_and_never_outlives_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("o.sqlite")).unwrap();
        store
            .insert_draft(&NewDraft {
                source: "test".into(),
                source_ref: "1".into(),
                contact_id: 1,
                person_id: 1,
                sale_id: 0,
                company: "Müller".into(),
                recipient_name: "Jonas".into(),
                recipient_email: Some("j@x.example".into()),
                subject: Some("Hallo".into()),
                body: "b".into(),
                problem: None,
            })
            .unwrap();
        let id = store.list().unwrap()[0].id;
        let sending = || store.conn().execute("UPDATE drafts SET state = 'sending' WHERE id = ?1", [id]).unwrap();
        let refused = Reason::Refused { detail: "550 5.1.1 no such user".into() };

        sending();
        store.failed(id, false, &refused).unwrap();
        let row = store.get(id).unwrap();
        assert_eq!(row.reason.as_deref(), Some("Refused: 550 5.1.1 no such user"));
        assert_eq!(row.reason_why, Some(refused.clone()));

        // Every operation that clears the words clears the data with them (no trigger does it).
        store.retry(id, "rep").unwrap();
        let row = store.get(id).unwrap();
        assert_eq!((row.reason, row.reason_why), (None, None));
        // Other updates leave both alone.
        sending();
        store.failed(id, true, &Reason::NotSent { detail: "421 later".into() }).unwrap();
        store.conn().execute("UPDATE drafts SET attempts = attempts + 1 WHERE id = ?1", [id]).unwrap();
        assert_eq!(store.get(id).unwrap().reason_why, Some(Reason::NotSent { detail: "421 later".into() }));
    }
}
