//! Named crash points for the crash tests. With `SO_OUTBOX_CRASH_AT=<name>` in the
//! environment, the process ends abruptly (exit code 137, no unwinding, no destructors, as
//! after `kill -9`) the moment it reaches that point. Without the variable nothing happens.
//!
//! The points sit right after each durable commit and right before each side effect, so the
//! tests can prove that a crash anywhere recovers without a lost or a duplicate message.

use std::sync::OnceLock;

/// Every crash point, in the order a delivery passes them.
pub const POINTS: &[&str] = &[
    "after_approve",
    "after_claim",
    "after_data_started",
    "after_smtp_accepted",
    "after_sent",
    "after_archive_started",
    "after_document_created",
    "after_content_uploaded",
    "after_archived",
    "after_task_completed",
];

fn configured() -> Option<&'static str> {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    AT.get_or_init(|| std::env::var("SO_OUTBOX_CRASH_AT").ok().filter(|s| !s.is_empty())).as_deref()
}

/// Ends the process here when this point is the configured one.
pub fn hit(name: &str) {
    debug_assert!(POINTS.contains(&name), "unknown crash point {name}");
    if configured() == Some(name) {
        eprintln!("crash point {name} reached: exiting abruptly");
        std::process::exit(137);
    }
}
