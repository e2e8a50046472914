//! SuperOffice Outbox, the desktop app: a thin Tauri adapter over the core crates
//! (`superoffice`, `outbox`, `keychain`, `superoffice-sim`). Commands are a few lines each;
//! the logic lives in the core crates, which are tested without a window.

mod app_state;
pub mod cli;
mod commands;
mod config;
mod configure;
mod contract;
mod data_dir;
mod desk;
mod diagnose;
mod diagnosis;
mod error;
mod events;
mod logging;
mod outboxes;
mod rep_mailbox;
mod secret_names;
mod settings;
mod status;
mod tenant;

use std::path::PathBuf;
use std::time::Duration;

use tauri::Manager;

pub use cli::Options;

/// The keychain service name all secrets are stored under.
pub const KEYCHAIN_SERVICE: &str = "so-outbox";

/// The command and event registry; also the source of `ui/src/bindings.ts`.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::app_status,
            commands::choose_demo_tenant,
            commands::sign_in,
            commands::sign_out,
            commands::mailbox_status,
            commands::connect_mailbox,
            commands::disconnect_mailbox,
            commands::refresh_outbox,
            commands::list_drafts,
            commands::get_draft,
            commands::approve_draft,
            commands::approve_many,
            commands::cancel_approvals,
            commands::import_drafts,
            commands::undo_approval,
            commands::reject_draft,
            commands::snooze_draft,
            commands::edit_draft,
            commands::resolve_draft,
            commands::demo_mailbox,
            commands::ui_ready,
            commands::run_diagnostics,
            commands::rerun_check,
            commands::last_diagnostics,
            commands::export_diagnostics,
            commands::copy_diagnostics,
            commands::save_diagnostics,
            commands::list_page,
            commands::preview_draft,
            commands::get_settings,
            commands::save_settings,
            commands::set_relay_password,
            commands::configure_tenant,
            commands::open_document,
            commands::notify,
        ])
        .events(tauri_specta::collect_events![events::OutboxChanged, events::NeedsAttention])
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        .dangerously_cast_bigints_to_number()
}

/// The app's identifier (tauri.conf.json), which names its data directory.
pub const IDENTIFIER: &str = "com.sooutbox.desktop";

/// The data directory: `$SO_OUTBOX_DATA_DIR`, else the platform's *local* app data (never the
/// roaming one: the SQLite outbox must not be synced between machines).
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SO_OUTBOX_DATA_DIR") {
        return PathBuf::from(d);
    }
    let home = || std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let base = if cfg!(target_os = "windows") {
        std::env::var_os("LOCALAPPDATA").map(PathBuf::from).unwrap_or_else(home)
    } else if cfg!(target_os = "macos") {
        home().join("Library/Application Support")
    } else {
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).filter(|p| p.is_absolute()).unwrap_or_else(|| home().join(".local/share"))
    };
    base.join(IDENTIFIER)
}

/// `so-outbox configure`: see [`configure`].
pub fn configure(args: cli::ConfigureArgs) -> i32 {
    configure::run(args)
}

/// `so-outbox diagnose`: see [`diagnose`].
pub fn diagnose(args: cli::DiagnoseArgs) -> i32 {
    diagnose::run_cli(args)
}

/// Runs the app; returns the process exit code.
pub fn run(options: Options) -> i32 {
    let builder = specta_builder();
    let smoke = options.smoke_test;
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            let dir = default_data_dir();
            data_dir::prepare(&dir)?;
            let guard = logging::init(&dir);
            tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %dir.display(), "starting");
            let keychain = keychain::Keychain::open(KEYCHAIN_SERVICE);
            if let Err(e) = &keychain {
                tracing::error!(code = e.code().as_str(), "{e}");
            }
            app.manage(app_state::AppState::new(options.clone(), dir, keychain));
            app.manage(LogGuard(std::sync::Mutex::new(guard)));
            let ticker = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let mut was_waiting = false;
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let state = ticker.state::<app_state::AppState>();
                    if let Some((report, new_drafts, intake_changed)) = state.tick().await {
                        let waiting = report.waiting.is_some();
                        if report.changed() || new_drafts > 0 || waiting != was_waiting || intake_changed {
                            was_waiting = waiting;
                            let mut ids = report.attempted.clone();
                            ids.extend(report.retried.iter().chain(&report.woken).chain(&report.archived));
                            events::outbox_changed(&ticker, ids);
                        }
                        events::notify_attention(&ticker, &state, &report.attempted);
                    }
                }
            });
            if smoke {
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(90)).await;
                    tracing::error!("smoke test: the UI never became ready");
                    handle.exit(1);
                });
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    match result {
        Ok(app) => app.run_return(|_, _| {}),
        Err(e) => {
            eprintln!("so-outbox could not start: {e}");
            1
        }
    }
}

/// Keeps the log writer alive for the app's lifetime.
struct LogGuard(#[allow(dead_code)] std::sync::Mutex<Option<tracing_appender::non_blocking::WorkerGuard>>);

#[cfg(test)]
mod tests {
    /// Whether a test can reach the OS keychain. On Linux the Secret Service needs a D-Bus
    /// session, which CI provides: without one a test fails there instead of passing vacuously
    /// (elsewhere it is skipped). Windows' Credential Manager (Wine's in CI) needs none.
    pub(crate) fn keychain_session() -> bool {
        if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            assert!(std::env::var_os("CI").is_none(), "CI must run this test inside a D-Bus session");
            eprintln!("skipped: no D-Bus session (run scripts/test.sh)");
            return false;
        }
        true
    }

    /// `ui/src/bindings.ts` is generated from the Rust commands and events; this fails when
    /// the committed file is stale. Regenerate with `UPDATE_BINDINGS=1 cargo test --lib bindings`.
    #[test]
    fn bindings_are_fresh() {
        let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
        let fresh = std::env::temp_dir().join(format!("so-outbox-bindings-{}.ts", std::process::id()));
        super::specta_builder()
            .export(
                specta_typescript::Typescript::default()
                    .header("// Generated from Rust by tauri-specta (cargo test --lib bindings). Do not edit.\n"),
                &fresh,
            )
            .unwrap_or_else(|e| panic!("export failed: {e}"));
        let fresh_text = std::fs::read_to_string(&fresh).unwrap_or_default();
        let _ = std::fs::remove_file(&fresh);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&committed, &fresh_text).unwrap_or_else(|e| panic!("write: {e}"));
        }
        let old = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(old == fresh_text, "ui/src/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test --lib bindings` and commit it");
    }

    /// build.rs declares the app manifest (the commands that need a permission); it must name
    /// exactly the registered commands, or one would be unreachable or unguarded.
    #[test]
    fn app_manifest_lists_every_command() {
        let build_rs = include_str!("../build.rs");
        let conf: serde_json::Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap_or_default();
        let granted: Vec<String> = conf["app"]["security"]["capabilities"][0]["permissions"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str()).filter_map(|p| p.strip_prefix("allow-")).map(|p| p.replace('-', "_")).collect())
            .unwrap_or_default();
        // The registered commands, as the generated bindings (checked fresh above) name them.
        let bindings = include_str!("../../ui/src/bindings.ts");
        let names: Vec<&str> = bindings
            .split("__TAURI_INVOKE<")
            .skip(1)
            .filter_map(|rest| rest.split("(\"").nth(1).and_then(|r| r.split('"').next()))
            .collect();
        assert!(names.len() >= 10, "no commands found in the bindings");
        for n in &names {
            assert!(build_rs.contains(&format!("\"{n}\"")), "build.rs does not declare {n}");
            assert!(granted.contains(&n.to_string()), "the main window is not granted {n}");
        }
        assert_eq!(granted.len(), names.len(), "a permission is granted for a command that does not exist");
    }
}
