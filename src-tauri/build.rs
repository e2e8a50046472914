//! Build script: tauri-build with an app manifest, so every app command needs an explicit
//! permission in a capability (without a manifest, Tauri skips the ACL for app commands).

/// Every command the UI may call. Keep in sync with `commands::handlers()`; a test checks it.
const COMMANDS: &[&str] = &[
    "app_status",
    "choose_demo_tenant",
    "sign_in",
    "sign_out",
    "mailbox_status",
    "connect_mailbox",
    "disconnect_mailbox",
    "refresh_outbox",
    "list_drafts",
    "get_draft",
    "approve_draft",
    "approve_many",
    "cancel_approvals",
    "import_drafts",
    "undo_approval",
    "reject_draft",
    "snooze_draft",
    "edit_draft",
    "resolve_draft",
    "demo_mailbox",
    "ui_ready",
    "run_diagnostics",
    "rerun_check",
    "last_diagnostics",
    "export_diagnostics",
    "copy_diagnostics",
    "save_diagnostics",
    "list_page",
    "preview_draft",
    "get_settings",
    "save_settings",
    "set_relay_password",
    "configure_tenant",
    "open_document",
    "notify",
];

fn main() {
    println!("cargo:rerun-if-changed=ui/dist");
    let attrs = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri-build failed: {e:#}");
    }
}
