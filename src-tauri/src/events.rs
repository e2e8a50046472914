//! Events from the core to the UI. The outbox table is the truth; an event only says "read
//! it again" (and which rows changed, when known).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct OutboxChanged {
    pub ids: Vec<i64>,
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
    let Some(body) = attention_text(&rows) else { return };
    if let Err(e) = app.notification().builder().title("SuperOffice Outbox").body(body).show() {
        tracing::debug!("notification not shown: {e}");
    }
}

/// The notification's text: the one message by subject, recipient and reason, or how many.
/// `None` when nothing needs the rep.
pub fn attention_text(rows: &[outbox::DraftRow]) -> Option<String> {
    let decide: Vec<&outbox::DraftRow> = rows.iter().filter(|r| r.state == outbox::State::NeedsDecision).collect();
    let failed: Vec<&outbox::DraftRow> = rows.iter().filter(|r| r.state == outbox::State::Failed && !r.retryable).collect();
    let plural = |n: usize| if n == 1 { "email" } else { "emails" };
    let one = |r: &outbox::DraftRow| {
        let subject: String = r.subject.as_deref().unwrap_or("(no subject)").chars().take(80).collect();
        format!("\u{201c}{subject}\u{201d} to {}", r.recipient_email.as_deref().unwrap_or(&r.recipient_name))
    };
    Some(match (decide.as_slice(), failed.as_slice()) {
        ([], []) => return None,
        ([r], []) => format!("{} may or may not have been sent: please decide in SuperOffice Outbox.", one(r)),
        ([], [r]) => {
            let reason: String = r.reason.as_deref().unwrap_or("").chars().take(160).collect();
            if reason.is_empty() {
                format!("{} could not be sent.", one(r))
            } else {
                format!("{} could not be sent: {reason}", one(r))
            }
        }
        (d, []) => format!("{} {} may or may not have been sent: please decide in SuperOffice Outbox.", d.len(), plural(d.len())),
        ([], f) => format!("{} {} could not be sent. Open SuperOffice Outbox for the reasons.", f.len(), plural(f.len())),
        (d, f) => format!(
            "{} {} could not be sent and {} need{} your decision.",
            f.len(),
            plural(f.len()),
            d.len(),
            if d.len() == 1 { "s" } else { "" }
        ),
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
        use outbox::State::{Failed, NeedsDecision, Sent};
        let refused = row(Failed, "Angebot Lager", "554 5.7.1 Recipient address rejected", false);
        assert_eq!(
            super::attention_text(std::slice::from_ref(&refused)).as_deref(),
            Some("\u{201c}Angebot Lager\u{201d} to jonas@mueller.example could not be sent: 554 5.7.1 Recipient address rejected")
        );
        let unknown = row(NeedsDecision, "Termin", "", false);
        assert!(super::attention_text(std::slice::from_ref(&unknown)).is_some_and(|t| t.contains("Termin") && t.contains("decide")));
        let two = [refused.clone(), row(Failed, "Zweite", "550", false)];
        assert_eq!(super::attention_text(&two).as_deref(), Some("2 emails could not be sent. Open SuperOffice Outbox for the reasons."));
        assert_eq!(
            super::attention_text(&[refused.clone(), unknown.clone()]).as_deref(),
            Some("1 email could not be sent and 1 needs your decision.")
        );
        // A failure that will be retried, or a sent message, needs nobody.
        assert_eq!(super::attention_text(&[row(Failed, "Später", "421 try later", true), row(Sent, "Gesendet", "", false)]), None);
    }
}
