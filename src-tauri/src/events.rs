//! Events from the core to the UI. The outbox table is the truth; an event only says "read
//! it again" (and which rows changed, when known).

use serde::{Deserialize, Serialize};

use crate::contract::UiLang;

#[derive(Clone, Debug, Default, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct OutboxChanged {
    pub ids: Vec<i64>,
}

/// Tells the UI to read the outbox again: the rows `ids` changed (empty: any may have). The one
/// place the change event is sent; a window that is gone misses nothing it could show.
pub fn outbox_changed(app: &tauri::AppHandle, ids: Vec<i64>) {
    if let Err(e) = tauri_specta::Event::emit(&OutboxChanged { ids }, app) {
        tracing::debug!("the outbox change was not sent to the window: {e}");
    }
}

/// An OS notification for messages that need the rep (failed for good, or an unknown outcome
/// to decide) — only while the window is not focused; in the window the list shows them.
pub fn notify_attention(app: &tauri::AppHandle, state: &crate::app_state::AppState, attempted: &[i64]) {
    use tauri::Manager;
    use tauri_plugin_notification::NotificationExt;
    if attempted.is_empty() {
        return;
    }
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    let Ok(store) = state.store() else { return };
    let rows: Vec<outbox::DraftRow> = attempted.iter().filter_map(|id| store.get(*id).ok()).collect();
    let Some(body) = attention_text(&rows, state.lang()) else { return };
    if let Err(e) = app.notification().builder().title("SuperOffice Outbox").body(body).show() {
        tracing::debug!("notification not shown: {e}");
    }
}

/// The notification's text in the UI's language: the one message by subject, recipient and
/// reason (the server's words stay as they came), or how many. `None` when nothing needs the rep.
pub fn attention_text(rows: &[outbox::DraftRow], lang: UiLang) -> Option<String> {
    let decide: Vec<&outbox::DraftRow> = rows.iter().filter(|r| r.state == outbox::State::NeedsDecision).collect();
    let failed: Vec<&outbox::DraftRow> = rows.iter().filter(|r| r.state == outbox::State::Failed && !r.retryable).collect();
    let de = lang == UiLang::De;
    let emails = |n: usize| match (de, n) {
        (false, 1) => "1 email".to_owned(),
        (false, n) => format!("{n} emails"),
        (true, 1) => "1 E-Mail".to_owned(),
        (true, n) => format!("{n} E-Mails"),
    };
    let one = |r: &outbox::DraftRow| {
        let subject: String = r.subject.as_deref().unwrap_or(if de { "(ohne Betreff)" } else { "(no subject)" }).chars().take(80).collect();
        let to = r.recipient_email.as_deref().unwrap_or(&r.recipient_name);
        if de {
            format!("\u{201e}{subject}\u{201c} an {to}")
        } else {
            format!("\u{201c}{subject}\u{201d} to {to}")
        }
    };
    Some(match (decide.as_slice(), failed.as_slice()) {
        ([], []) => return None,
        ([r], []) if de => format!("Ob {} gesendet wurde, ist unklar: Bitte entscheiden Sie in SuperOffice Outbox.", one(r)),
        ([r], []) => format!("{} may or may not have been sent: please decide in SuperOffice Outbox.", one(r)),
        ([], [r]) => {
            // The server's own words, without the core's English prefix ("Refused: …").
            let words = match &r.reason_why {
                Some(outbox::Reason::Refused { detail } | outbox::Reason::NotSent { detail }) => Some(detail.as_str()),
                _ => r.reason.as_deref(),
            };
            let reason: String = words.unwrap_or("").chars().take(160).collect();
            match (de, reason.is_empty()) {
                (true, true) => format!("{} konnte nicht gesendet werden.", one(r)),
                (true, false) => format!("{} konnte nicht gesendet werden: {reason}", one(r)),
                (false, true) => format!("{} could not be sent.", one(r)),
                (false, false) => format!("{} could not be sent: {reason}", one(r)),
            }
        }
        (d, []) if de => {
            format!("Bei {} ist unklar, ob sie gesendet wurden: Bitte entscheiden Sie in SuperOffice Outbox.", emails(d.len()))
        }
        (d, []) => format!("{} may or may not have been sent: please decide in SuperOffice Outbox.", emails(d.len())),
        ([], f) if de => format!("{} konnten nicht gesendet werden. Die Gründe stehen in SuperOffice Outbox.", emails(f.len())),
        ([], f) => format!("{} could not be sent. Open SuperOffice Outbox for the reasons.", emails(f.len())),
        (d, f) if de => format!(
            "{} {} nicht gesendet werden, {} {} Ihre Entscheidung.",
            emails(f.len()),
            if f.len() == 1 { "konnte" } else { "konnten" },
            d.len(),
            if d.len() == 1 { "braucht" } else { "brauchen" }
        ),
        (d, f) => {
            format!("{} could not be sent and {} need{} your decision.", emails(f.len()), d.len(), if d.len() == 1 { "s" } else { "" })
        }
    })
}

#[cfg(test)]
mod tests {
    fn row(state: outbox::State, subject: &str, reason: &str, retryable: bool) -> outbox::DraftRow {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = outbox::Store::open(&dir.path().join("o.sqlite")).expect("store");
        store
            .insert_draft(&outbox::NewDraft {
                source: "test".into(),
                source_ref: subject.into(),
                contact_id: 1,
                person_id: 1,
                sale_id: 0,
                company: "Müller Logistik GmbH".into(),
                recipient_name: "Jonas Müller".into(),
                recipient_email: Some("jonas@mueller.example".into()),
                subject: Some(subject.into()),
                body: "Hallo".into(),
                problem: None,
            })
            .expect("insert");
        let mut r = store.list().expect("list").remove(0);
        r.state = state;
        r.reason = Some(reason.into()).filter(|s: &String| !s.is_empty());
        r.retryable = retryable;
        r
    }

    #[test]
    fn one_message_is_named_with_its_reason_and_many_are_counted() {
        use crate::contract::UiLang::{De, En};
        use outbox::State::{Failed, NeedsDecision, Sent};
        let refused = row(Failed, "Angebot Lager", "554 5.7.1 Recipient address rejected", false);
        assert_eq!(
            super::attention_text(std::slice::from_ref(&refused), En).as_deref(),
            Some("\u{201c}Angebot Lager\u{201d} to jonas@mueller.example could not be sent: 554 5.7.1 Recipient address rejected")
        );
        let unknown = row(NeedsDecision, "Termin", "", false);
        assert!(super::attention_text(std::slice::from_ref(&unknown), En).is_some_and(|t| t.contains("Termin") && t.contains("decide")));
        let two = [refused.clone(), row(Failed, "Zweite", "550", false)];
        assert_eq!(
            super::attention_text(&two, En).as_deref(),
            Some("2 emails could not be sent. Open SuperOffice Outbox for the reasons.")
        );
        assert_eq!(
            super::attention_text(&[refused.clone(), unknown.clone()], En).as_deref(),
            Some("1 email could not be sent and 1 needs your decision.")
        );
        // In German, as the UI speaks; the server's words stay as they came.
        assert_eq!(
            super::attention_text(std::slice::from_ref(&refused), De).as_deref(),
            Some(
                "\u{201e}Angebot Lager\u{201c} an jonas@mueller.example konnte nicht gesendet werden: 554 5.7.1 Recipient address rejected"
            )
        );
        assert_eq!(
            super::attention_text(&two, De).as_deref(),
            Some("2 E-Mails konnten nicht gesendet werden. Die Gründe stehen in SuperOffice Outbox.")
        );
        assert_eq!(
            super::attention_text(&[refused.clone(), unknown.clone()], De).as_deref(),
            Some("1 E-Mail konnte nicht gesendet werden, 1 braucht Ihre Entscheidung.")
        );
        // A failure that will be retried, or a sent message, needs nobody.
        assert_eq!(super::attention_text(&[row(Failed, "Später", "421 try later", true), row(Sent, "Gesendet", "", false)], En), None);
    }
}
