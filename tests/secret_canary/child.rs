//! Part of `tests/secret_canary.rs`: the flow's plumbing. The TRACE log, the sign-in, the
//! child app runs (`canary_child`, which crashes at a crash point or panics on a wrong secret)
//! with what they are given in their environment, and `so-outbox configure` as the admin runs
//! it.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keychain::{Secret, SecretStore};
use superoffice::Session;

use crate::common::{SmtpServer, SMTP_USER};
use crate::CHILD;

/// Everything at TRACE (the most verbose `SO_OUTBOX_LOG` allows), `log` records included, to a
/// file, like the app's file layer, and in the app's stderr format to a second file.
pub(crate) fn trace_to(file: &Path) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    std::fs::create_dir_all(file.parent().expect("log dir")).expect("log dir");
    let open = |p: &Path| Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(p).expect("log file"));
    let layer = tracing_subscriber::fmt::layer().with_writer(open(file)).with_ansi(false);
    let stderr = tracing_subscriber::fmt::layer().with_writer(open(&file.with_extension("stderr"))).with_target(false).with_ansi(false);
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("trace"))
        .with(layer)
        .with(stderr)
        .try_init()
        .expect("one subscriber");
}

pub(crate) fn session_bus() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

pub(crate) async fn sign_in(
    sim_url: &str,
    client_id: &str,
    context_id: &str,
    secret: Option<Secret>,
    store: Arc<dyn SecretStore>,
) -> Session {
    testkit::try_sign_in_with(testkit::request_at(sim_url, client_id, context_id), secret, store).await.expect("sign-in")
}

/// What the child processes need (they get the secrets in their environment: the keychain of
/// a child is an in-memory one, and environments are not files).
pub(crate) const C_SIM: &str = "CANARY_SIM_URL";
pub(crate) const C_CLIENT_ID: &str = "CANARY_CLIENT_ID";
pub(crate) const C_CONTEXT: &str = "CANARY_CONTEXT_ID";
pub(crate) const C_SECRET: &str = "CANARY_CLIENT_SECRET";
pub(crate) const C_WRONG_SECRET: &str = "CANARY_WRONG_CLIENT_SECRET";
pub(crate) const C_SMTP_PORT: &str = "CANARY_SMTP_PORT";
pub(crate) const C_SMTP_CA: &str = "CANARY_SMTP_CA";
pub(crate) const C_SMTP_PASSWORD: &str = "CANARY_SMTP_PASSWORD";
pub(crate) const C_DATA: &str = "CANARY_DATA_DIR";

pub(crate) fn cvar(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child: {name} is not set"))
}

/// Runs `canary_child` in `mode`; its output goes to `out` (the crash or panic output).
pub(crate) fn run_child(mode: &str, env: &[(&str, String)], crash_at: Option<&str>, out: &Path) -> Option<i32> {
    let file = std::fs::File::create(out).expect("child output");
    let mut cmd = Command::new(std::env::current_exe().expect("exe"));
    cmd.args(["--ignored", "--exact", "canary_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env("RUST_BACKTRACE", "full")
        .env_remove("SO_OUTBOX_CRASH_AT")
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("clone"))
        .stderr(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(point) = crash_at {
        cmd.env("SO_OUTBOX_CRASH_AT", point);
    }
    let mut child = cmd.spawn().expect("child");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("child {mode} hung; output in {}", out.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `so-outbox configure` for the canary tenant, secrets on standard input; returns the exit
/// code. Its output is kept in `out`.
pub(crate) fn configure(
    data: &Path,
    [sim_url, ctx, client_id]: [&str; 3],
    relay: &SmtpServer,
    [secret, password]: [&str; 2],
    out: &Path,
) -> Option<i32> {
    let file = std::fs::File::create(out).expect("configure output");
    let mut child = Command::new(env!("CARGO_BIN_EXE_so-outbox"))
        .args(["configure", "--environment", sim_url, "--tenant", ctx, "--client-id", client_id, "--task-type", "7"])
        .args(["--smtp-host", "localhost", "--smtp-port", &relay.port.to_string(), "--smtp-security", "starttls"])
        .args(["--smtp-user", SMTP_USER, "--client-secret-stdin", "--smtp-password-stdin"])
        .arg("--smtp-ca-file")
        .arg(relay.ca_file())
        .env("SO_OUTBOX_DATA_DIR", data)
        .env("SO_OUTBOX_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(file.try_clone().expect("clone"))
        .stderr(file)
        .spawn()
        .expect("so-outbox configure");
    writeln!(child.stdin.take().expect("stdin"), "{secret}\n{password}").expect("secrets to stdin");
    child.wait().expect("configure").code()
}
