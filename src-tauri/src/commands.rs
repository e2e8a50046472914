//! The commands the UI may call. Each takes its state, calls the core, maps the error.

use codes::ErrorCode;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use crate::app_state::AppState;
use crate::desk::AppDesk;
use crate::error::{CmdResult, CommandError};
use crate::events::outbox_changed;
use crate::rep_mailbox::MailboxStatus;

use crate::contract::{BulkItem, Decision, DraftDetail, MailboxMessage, ReportFormat, Settings, TenantSetup};
use crate::status::AppStatus;

#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    Ok(state.status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn choose_demo_tenant(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    state.start_demo().await?;
    Ok(state.status().await)
}

/// Opens SuperOffice's sign-in in the system browser and waits for the rep to finish there.
#[tauri::command]
#[specta::specta]
pub async fn sign_in(app: AppHandle, state: State<'_, AppState>) -> CmdResult<AppStatus> {
    state.sign_in(|url| AppDesk(&app).browse(url)).await?;
    outbox_changed(&app, Vec::new());
    Ok(state.status().await)
}

/// Signs out: revokes and forgets the refresh token. Drafts stay in the outbox.
#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    state.sign_out().await?;
    Ok(state.status().await)
}

/// The mail providers reps can connect at, and the connected mailbox.
#[tauri::command]
#[specta::specta]
pub async fn mailbox_status(state: State<'_, AppState>) -> CmdResult<MailboxStatus> {
    Ok(state.mailbox_status().await)
}

/// Opens the provider's sign-in in the system browser and connects the rep's mailbox.
#[tauri::command]
#[specta::specta]
pub async fn connect_mailbox(app: AppHandle, state: State<'_, AppState>, provider: mailbox::Provider) -> CmdResult<MailboxStatus> {
    state.connect_mailbox(provider, |url| AppDesk(&app).browse(url)).await?;
    outbox_changed(&app, Vec::new());
    Ok(state.mailbox_status().await)
}

/// Disconnects the rep's mailbox (revoked where the provider allows, deleted from the keychain).
#[tauri::command]
#[specta::specta]
pub async fn disconnect_mailbox(app: AppHandle, state: State<'_, AppState>) -> CmdResult<MailboxStatus> {
    state.disconnect_mailbox().await?;
    outbox_changed(&app, Vec::new());
    Ok(state.mailbox_status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn refresh_outbox(app: AppHandle, state: State<'_, AppState>) -> CmdResult<outbox::IntakeReport> {
    let report = state.intake().await;
    // Also on failure: the status (and its intake banner) changed either way.
    outbox_changed(&app, Vec::new());
    report
}

#[tauri::command]
#[specta::specta]
pub async fn list_drafts(state: State<'_, AppState>) -> CmdResult<Vec<outbox::DraftRow>> {
    Ok(state.store()?.list()?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_draft(state: State<'_, AppState>, id: i64) -> CmdResult<DraftDetail> {
    let store = state.store()?;
    Ok(DraftDetail { draft: store.get(id)?, timeline: store.timeline(id)?, versions: store.versions(id)? })
}

/// Records the approval durably (Message-ID, exact bytes and hash). The outbox sends it when
/// the hold window has passed; until then it can be undone.
#[tauri::command]
#[specta::specta]
pub async fn approve_draft(app: AppHandle, state: State<'_, AppState>, id: i64) -> CmdResult<outbox::DraftRow> {
    let delivery = state.delivery().await?;
    delivery.approve_at(id, &AppDesk(&app)).await?;
    outbox_changed(&app, vec![id]);
    Ok(delivery.store.get(id)?)
}

/// Approves a selection; each draft is approved (or refused with its reason) on its own. The
/// outbox then sends them within the sending limits; `cancel_approvals` takes back the ones not
/// yet sent.
#[tauri::command]
#[specta::specta]
pub async fn approve_many(app: AppHandle, state: State<'_, AppState>, ids: Vec<i64>) -> CmdResult<Vec<BulkItem>> {
    let approved = state.delivery().await?.approve_many(&ids)?;
    let out: Vec<BulkItem> = approved.into_iter().map(|(id, e)| BulkItem { id, error: e.map(CommandError::from) }).collect();
    outbox_changed(&app, out.iter().map(|i| i.id).collect());
    Ok(out)
}

/// Takes back the approvals of `ids` that have not started sending; returns those taken back.
#[tauri::command]
#[specta::specta]
pub async fn cancel_approvals(app: AppHandle, state: State<'_, AppState>, ids: Vec<i64>) -> CmdResult<Vec<i64>> {
    let d = state.delivery().await?;
    let mut undone = Vec::new();
    for id in &ids {
        if d.store.get(*id)?.state == outbox::State::Approved && d.store.undo_approval(*id, &d.rep.name).is_ok() {
            undone.push(*id);
        }
    }
    outbox_changed(&app, ids);
    Ok(undone)
}

/// Imports drafts from a `.json` or `.eml` file: its exact bytes, base64-encoded (an 8-bit
/// `.eml` is not text in any one charset; the UI refuses files over the limit before reading).
#[tauri::command]
#[specta::specta]
pub async fn import_drafts(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    content_base64: String,
) -> CmdResult<outbox::ImportReport> {
    let report = outbox::import::import_base64(&*state.store()?, &name, &content_base64)?;
    outbox_changed(&app, Vec::new());
    Ok(report)
}

/// Takes an approval back during its hold window.
#[tauri::command]
#[specta::specta]
pub async fn undo_approval(app: AppHandle, state: State<'_, AppState>, id: i64) -> CmdResult<outbox::DraftRow> {
    let d = state.delivery().await?;
    d.store.undo_approval(id, &d.rep.name)?;
    outbox_changed(&app, vec![id]);
    Ok(d.store.get(id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn reject_draft(app: AppHandle, state: State<'_, AppState>, id: i64, reason: String) -> CmdResult<outbox::DraftRow> {
    let d = state.delivery().await?;
    d.store.reject(id, &reason, &d.rep.name)?;
    outbox_changed(&app, vec![id]);
    Ok(d.store.get(id)?)
}

/// Puts a draft aside for `minutes` (1 minute to 30 days).
#[tauri::command]
#[specta::specta]
pub async fn snooze_draft(app: AppHandle, state: State<'_, AppState>, id: i64, minutes: u32) -> CmdResult<outbox::DraftRow> {
    let d = state.delivery().await?;
    d.store.snooze(id, outbox::review::in_ms(i64::from(minutes.clamp(1, 30 * 24 * 60))), &d.rep.name)?;
    outbox_changed(&app, vec![id]);
    Ok(d.store.get(id)?)
}

/// Saves the rep's edit as a new version; returns the draft with its (re-checked) problem.
#[tauri::command]
#[specta::specta]
pub async fn edit_draft(app: AppHandle, state: State<'_, AppState>, id: i64, edit: outbox::Edit) -> CmdResult<outbox::DraftRow> {
    let d = state.delivery().await?;
    d.store.edit(id, &edit, &d.rep.name)?;
    outbox_changed(&app, vec![id]);
    Ok(d.store.get(id)?)
}

/// Records the rep's decision; the outbox then archives ("it was sent") or sends again (same
/// Message-ID, same bytes).
#[tauri::command]
#[specta::specta]
pub async fn resolve_draft(app: AppHandle, state: State<'_, AppState>, id: i64, decision: Decision) -> CmdResult<outbox::DraftRow> {
    let delivery = state.resolve(id, decision).await?;
    let row = delivery.store.get(id)?;
    if matches!(decision, Decision::SendAgain | Decision::TryAgain) && row.channel == Some(outbox::Channel::Handoff) {
        delivery.hand_off(id, &AppDesk(&app)).await?;
    }
    outbox_changed(&app, vec![id]);
    Ok(delivery.store.get(id)?)
}

/// What the demo tenant's mail relay received (empty outside the demo).
#[tauri::command]
#[specta::specta]
pub async fn demo_mailbox(state: State<'_, AppState>) -> CmdResult<Vec<MailboxMessage>> {
    Ok(state.demo_mailbox().await)
}

/// The UI has loaded and talked to the core. In `--smoke-test` mode the app then exits 0.
#[tauri::command]
#[specta::specta]
pub async fn ui_ready(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    if state.options.smoke_test {
        let ok = state.status().await.tenant.is_some_and(|t| t.demo);
        tracing::info!(ok, "smoke test: UI ready");
        app.exit(if ok { 0 } else { 2 });
    }
    Ok(())
}

/// Shows an OS notification the UI worded (for [`crate::events::NeedsAttention`]): the app's
/// name as the title, the text cut to 300 characters.
#[tauri::command]
#[specta::specta]
pub fn notify(app: AppHandle, text: String) {
    use tauri_plugin_notification::NotificationExt;
    let body: String = text.chars().take(300).collect();
    if let Err(e) = app.notification().builder().title("SuperOffice Outbox").body(body).show() {
        tracing::debug!("notification not shown: {e}");
    }
}

/// Runs every check; `write` adds the test document and the test email to the rep.
#[tauri::command]
#[specta::specta]
pub async fn run_diagnostics(state: State<'_, AppState>, write: bool) -> CmdResult<diagnostics::Report> {
    state.diagnose(write).await
}

/// Runs one check again.
#[tauri::command]
#[specta::specta]
pub async fn rerun_check(state: State<'_, AppState>, id: diagnostics::CheckId) -> CmdResult<diagnostics::Report> {
    state.rerun_check(id).await
}

/// The last diagnosis, if any (made at sign-in).
#[tauri::command]
#[specta::specta]
pub async fn last_diagnostics(state: State<'_, AppState>) -> CmdResult<Option<diagnostics::Report>> {
    Ok(state.last_diagnostics().await)
}

/// The last diagnosis as Markdown (the seed analysis's structure) or JSON.
#[tauri::command]
#[specta::specta]
pub async fn export_diagnostics(state: State<'_, AppState>, format: ReportFormat) -> CmdResult<String> {
    let report = state.last_diagnostics().await.ok_or_else(|| CommandError::new(ErrorCode::NoDiagnostics, "run the diagnostics first"))?;
    state.render_report(&report, format)
}

/// Copies the report to the clipboard.
#[tauri::command]
#[specta::specta]
pub async fn copy_diagnostics(app: AppHandle, state: State<'_, AppState>, format: ReportFormat) -> CmdResult<()> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let report = state.last_diagnostics().await.ok_or_else(|| CommandError::new(ErrorCode::NoDiagnostics, "run the diagnostics first"))?;
    app.clipboard()
        .write_text(state.render_report(&report, format)?)
        .map_err(|e| CommandError::new(ErrorCode::ClipboardUnavailable, format!("could not copy to the clipboard: {e}")))
}

/// Saves the report in the rep's Downloads folder (else the data directory); returns the path.
#[tauri::command]
#[specta::specta]
pub async fn save_diagnostics(app: AppHandle, state: State<'_, AppState>, format: ReportFormat) -> CmdResult<String> {
    use tauri::Manager;
    let downloads = app.path().download_dir().ok().filter(|d| d.is_dir());
    state.save_report(downloads, format).await
}

/// One page of the outbox list (filtered, searched, sorted in SQLite).
#[tauri::command]
#[specta::specta]
pub async fn list_page(state: State<'_, AppState>, query: outbox::page::PageQuery) -> CmdResult<outbox::page::Page> {
    Ok(state.store()?.page(&query)?)
}

/// The sanitized HTML preview of a draft's current text; remote images only when asked.
#[tauri::command]
#[specta::specta]
pub async fn preview_draft(state: State<'_, AppState>, id: i64, show_images: bool) -> CmdResult<outbox::preview::Preview> {
    let draft = state.store()?.get(id)?;
    Ok(outbox::preview::render(&draft.body, show_images))
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> CmdResult<Settings> {
    state.settings().await
}

/// Validates and saves; the channel for new approvals follows at once.
#[tauri::command]
#[specta::specta]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> CmdResult<Settings> {
    state.save_settings(settings).await
}

/// Stores the relay password in the keychain (it goes nowhere else and never comes back).
#[tauri::command]
#[specta::specta]
pub async fn set_relay_password(state: State<'_, AppState>, password: String) -> CmdResult<Settings> {
    state.set_relay_password(keychain::Secret::new(password)).await
}

#[tauri::command]
#[specta::specta]
pub async fn configure_tenant(
    state: State<'_, AppState>,
    setup: TenantSetup,
    client_secret: String,
    smtp_password: Option<String>,
) -> CmdResult<AppStatus> {
    state
        .configure_tenant(setup, keychain::Secret::new(client_secret), smtp_password.filter(|p| !p.is_empty()).map(keychain::Secret::new))
        .await?;
    Ok(state.status().await)
}

/// Opens the archived document of a sent message in SuperOffice (the system browser).
#[tauri::command]
#[specta::specta]
pub async fn open_document(app: AppHandle, state: State<'_, AppState>, id: i64) -> CmdResult<String> {
    let url = state.document_url(id).await?;
    app.opener()
        .open_url(&url, None::<&str>)
        .map_err(|e| CommandError::new(ErrorCode::OpenFailed, format!("could not open the browser: {e}")))?;
    Ok(url)
}
