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
    let decide = rows.iter().filter(|r| r.state == outbox::State::NeedsDecision).count();
    let failed = rows.iter().filter(|r| r.state == outbox::State::Failed && !r.retryable).count();
    let body = match (decide, failed) {
        (0, 0) => return,
        (d, 0) => format!("{d} email(s) may or may not have been sent: please decide in SuperOffice Outbox."),
        (0, f) => format!("{f} email(s) could not be sent. Open SuperOffice Outbox for the reason."),
        (d, f) => format!("{f} email(s) could not be sent and {d} need your decision."),
    };
    if let Err(e) = app.notification().builder().title("SuperOffice Outbox").body(body).show() {
        tracing::debug!("notification not shown: {e}");
    }
}
