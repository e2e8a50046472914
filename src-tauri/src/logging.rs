//! Logs to a daily-rotating file in the app's data directory (7 files kept) and to stderr.
//! Secrets never reach a log: they are `keychain::Secret`s, whose `Debug` is redacted and
//! which have no `Display`. lettre's wire logging (its `tracing` feature) is not compiled in.

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber; the returned guard flushes the file on drop.
pub fn init(data_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = EnvFilter::try_from_env("SO_OUTBOX_LOG").unwrap_or_else(|_| EnvFilter::new("info,hyper=warn,reqwest=warn,zbus=warn"));
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .max_log_files(7)
        .filename_prefix("so-outbox")
        .filename_suffix("log")
        .build(data_dir.join("logs"))
        .ok();
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false);
    match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false);
            let _ = tracing_subscriber::registry().with(filter).with(stderr).with(layer).try_init();
            Some(guard)
        }
        None => {
            let _ = tracing_subscriber::registry().with(filter).with(stderr).try_init();
            None
        }
    }
}
