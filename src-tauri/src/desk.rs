//! The rep's desktop: Tauri's clipboard, the system's mail program (behind the core's `Desk`,
//! for the handoff channel) and the system browser (sign-in).

use codes::ErrorCode;
use tauri::AppHandle;
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tauri_plugin_opener::OpenerExt as _;

/// The app's clipboard and opener.
pub struct AppDesk<'a>(pub &'a AppHandle);

impl AppDesk<'_> {
    /// Opens `url` in the system browser (never in the app's own window).
    pub fn browse(&self, url: &str) -> crate::error::CmdResult<()> {
        self.0
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| crate::error::CommandError::new(ErrorCode::BrowserUnavailable, format!("could not open the system browser: {e}")))
    }
}

impl outbox::handoff::Desk for AppDesk<'_> {
    fn copy(&self, text: &str) -> Result<(), String> {
        self.0.clipboard().write_text(text.to_owned()).map_err(|e| e.to_string())
    }

    fn compose(&self, mailto: &str) -> Result<(), String> {
        self.0.opener().open_url(mailto, None::<&str>).map_err(|e| e.to_string())
    }
}
