//! Events from the core to the UI. The outbox table is the truth; an event only says "read
//! it again" (and which rows changed, when known).

use serde::{Deserialize, Serialize};

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

/// Messages that need the rep (failed for good, or an unknown outcome to decide), sent while
/// the window is not focused: the UI words an OS notification in its language and shows it
/// through the `notify` command. In the focused window the list shows them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct NeedsAttention {
    pub items: Vec<AttentionItem>,
}

/// One message that needs the rep, as the notification names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AttentionItem {
    /// `true`: it may or may not have been sent (the rep decides); `false`: it failed for good.
    pub decide: bool,
    pub subject: Option<String>,
    /// The recipient's address, else their name.
    pub to: String,
    /// The server's own words, without the core's prefix ("Refused: …"), when known.
    pub words: Option<String>,
}

/// What needs the rep among the rows just attempted (empty: nothing does).
pub fn attention(rows: &[outbox::DraftRow]) -> Vec<AttentionItem> {
    rows.iter()
        .filter_map(|r| {
            let decide = match r.state {
                outbox::State::NeedsDecision => true,
                outbox::State::Failed if !r.retryable => false,
                _ => return None,
            };
            let words = match &r.reason_why {
                Some(outbox::Reason::Refused { detail } | outbox::Reason::NotSent { detail }) => Some(detail.clone()),
                _ => r.reason.clone(),
            };
            Some(AttentionItem {
                decide,
                subject: r.subject.clone(),
                to: r.recipient_email.clone().unwrap_or_else(|| r.recipient_name.clone()),
                words: words.filter(|w| !w.is_empty()),
            })
        })
        .collect()
}

/// Tells an unfocused window which of the rows just attempted need the rep.
pub fn notify_attention(app: &tauri::AppHandle, state: &crate::app_state::AppState, attempted: &[i64]) {
    use tauri::Manager;
    if attempted.is_empty() {
        return;
    }
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    let Ok(store) = state.store() else { return };
    let rows: Vec<outbox::DraftRow> = attempted.iter().filter_map(|id| store.get(*id).ok()).collect();
    let items = attention(&rows);
    if items.is_empty() {
        return;
    }
    if let Err(e) = tauri_specta::Event::emit(&NeedsAttention { items }, app) {
        tracing::debug!("the attention event was not sent to the window: {e}");
    }
}

#[cfg(test)]
mod tests {
    fn row(state: outbox::State, subject: &str, reason: &str, retryable: bool) -> outbox::DraftRow {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = outbox::Store::open(&dir.path().join("o.sqlite")).expect("store");
        store.insert_draft(&outbox::NewDraft::task(subject, "jonas@mueller.example", subject, "Hallo")).expect("insert");
        let mut r = store.list().expect("list").remove(0);
        r.state = state;
        r.reason = Some(reason.into()).filter(|s: &String| !s.is_empty());
        r.retryable = retryable;
        r
    }

    #[test]
    fn only_what_needs_the_rep_is_named_with_the_servers_words() {
        use outbox::State::{Failed, NeedsDecision, Sent};
        let mut refused = row(Failed, "Angebot Lager", "Refused: 554 5.7.1 Recipient address rejected", false);
        refused.reason_why = Some(outbox::Reason::Refused { detail: "554 5.7.1 Recipient address rejected".into() });
        let unknown = row(NeedsDecision, "Termin", "", false);
        let items = super::attention(&[refused, unknown, row(Failed, "Später", "421 try later", true), row(Sent, "Gesendet", "", false)]);
        assert_eq!(
            items,
            [
                super::AttentionItem {
                    decide: false,
                    subject: Some("Angebot Lager".into()),
                    to: "jonas@mueller.example".into(),
                    words: Some("554 5.7.1 Recipient address rejected".into())
                },
                super::AttentionItem { decide: true, subject: Some("Termin".into()), to: "jonas@mueller.example".into(), words: None },
            ]
        );
    }
}
