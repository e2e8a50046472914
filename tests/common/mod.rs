//! Helpers shared by the integration tests: a signed-in SuperOffice client against the
//! simulator, and a real SMTP server (aiosmtpd) as its own process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use keychain::Secret;
use superoffice_sim::TestPki;

#[allow(unused_imports)] // each test binary uses some of them
pub use testkit::{sign_in, sim_relay, simulator, unreachable_relay};

/// Signs the demo rep in like [`sign_in`], for a process that knows the simulator only by its
/// address and app registration (a child process of a test, started by the parent).
pub async fn sign_in_at(base_url: &str, client_id: &str, client_secret: &str, context_id: &str) -> superoffice::Client {
    let request = testkit::request_at(base_url, client_id, context_id);
    let session =
        testkit::try_sign_in_with(request, Some(Secret::new(client_secret.to_owned())), Arc::new(keychain::MemoryStore::default())).await;
    superoffice::Client::new(session.expect("sign-in"))
}

/// The Python with aiosmtpd: `$SMTP_PYTHON`, else the venv the test script creates.
pub fn smtp_python() -> PathBuf {
    std::env::var_os("SMTP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci-venv/bin/python"))
}

/// aiosmtpd on loopback, killed on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub out: tempfile::TempDir,
    pub pki: TestPki,
}

pub const SMTP_USER: &str = "anna.berger@roboplanet.example";
pub const SMTP_PASSWORD: &str = "relay-password-7f3a";
/// The access token the test server's `AUTH XOAUTH2` accepts for [`SMTP_USER`].
pub const SMTP_TOKEN: &str = "EwBwA8l6BAAU-test-access-token";

impl SmtpServer {
    /// `mode`: `starttls`, `implicit` or `plain` (no TLS at all).
    pub fn start(mode: &str) -> SmtpServer {
        let out = tempfile::tempdir().expect("tempdir");
        let pki = TestPki::generate().expect("pki");
        let cert = out.path().join("leaf.pem");
        let key = out.path().join("leaf.key");
        std::fs::write(&cert, &pki.leaf_pem).expect("cert");
        std::fs::write(&key, &pki.leaf_key_pem).expect("key");
        let mails = out.path().join("mail");
        let python = smtp_python();
        let mut child = Command::new(&python)
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/smtp_server.py"))
            .args(["--mode", mode, "--user", SMTP_USER, "--password", SMTP_PASSWORD, "--token", SMTP_TOKEN])
            .arg("--out")
            .arg(&mails)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (run the test script, which installs aiosmtpd): {e}", python.display()));
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("READY line");
        let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("smtp server said {line:?}"));
        SmtpServer { child, port, out, pki }
    }

    /// Messages the server accepted, in order: (envelope JSON, exact bytes).
    pub fn received(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let dir = self.out.path().join("mail");
        let mut names: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names
            .into_iter()
            .map(|j| {
                let meta = serde_json::from_slice(&std::fs::read(&j).expect("json")).expect("meta");
                (meta, std::fs::read(j.with_extension("eml")).expect("eml"))
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
