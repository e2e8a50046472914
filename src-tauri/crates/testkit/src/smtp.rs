//! The test SMTP servers, each a process of its own on loopback, killed on drop: [`Server`] is
//! aiosmtpd (`tests/smtp/smtp_server.py`, a real server with STARTTLS or implicit TLS and AUTH
//! PLAIN, LOGIN and XOAUTH2) and [`Scripted`] is our own (`tests/smtp/scripted_smtp.py`, which
//! fails at an exact protocol step and logs every command).
//!
//! Why it exists: the app's tests, the crash torture and the secret canary each started these
//! scripts with their own copy of the same process handling. The Python scripts stay with the
//! app's tests in `tests/smtp/`; the Python is `$SMTP_PYTHON`, else the venv that
//! `scripts/setup.sh` creates (`.ci-venv/`).

use std::ffi::OsString;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use keychain::Secret;
use outbox::{SmtpSecurity, SmtpSettings};
use serde_json::Value;
use superoffice_sim::TestPki;

/// The account both servers accept by default.
pub const USER: &str = "anna.berger@roboplanet.example";
pub const PASSWORD: &str = "relay-password-7f3a";
/// The access token the aiosmtpd server's `AUTH XOAUTH2` accepts for [`USER`].
pub const TOKEN: &str = "EwBwA8l6BAAU-test-access-token";

/// The repository's root (this crate is `src-tauri/crates/testkit`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The Python with aiosmtpd: `$SMTP_PYTHON`, else the venv the test script creates.
pub fn python() -> PathBuf {
    std::env::var_os("SMTP_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".ci-venv/bin/python"))
}

/// A server process, killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tests/smtp/<script>` with `args` and waits for its `READY <port>` line.
fn spawn(script: &str, args: Vec<OsString>) -> (Process, u16) {
    let python = python();
    let mut child = Command::new(&python)
        .arg(repo_root().join("tests/smtp").join(script))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} (run scripts/test.sh, which installs aiosmtpd): {e}", python.display()));
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("{script}: no stdout"));
    std::io::BufReader::new(stdout).read_line(&mut line).unwrap_or_else(|e| panic!("{script}: no READY line: {e}"));
    let process = Process(child);
    let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{script} said {line:?}"));
    (process, port)
}

/// Where a server keeps its certificate, key, CA and the mail it received.
enum Dir {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl Dir {
    fn new(given: Option<PathBuf>) -> Dir {
        match given {
            Some(d) => {
                std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
                Dir::Given(d)
            }
            None => Dir::Temp(tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Dir::Temp(t) => t.path(),
            Dir::Given(p) => p,
        }
    }

    /// Writes `pki`'s leaf certificate and key and its CA; the `--cert`/`--key` arguments.
    fn write_pki(&self, pki: &TestPki) -> Vec<OsString> {
        let write = |name: &str, pem: &str| {
            let path = self.path().join(name);
            std::fs::write(&path, pem).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            path.into_os_string()
        };
        let _ = write("ca.pem", &pki.ca_pem);
        vec!["--cert".into(), write("leaf.pem", &pki.leaf_pem), "--key".into(), write("leaf.key", &pki.leaf_key_pem)]
    }
}

/// How the aiosmtpd server takes TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// STARTTLS, required before AUTH and mail (port 587 style).
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
    /// No TLS at all (a relay the app must refuse).
    None,
}

/// How to start [`Server`]: its TLS, the account it accepts, and where its files go.
#[derive(Clone, Debug)]
pub struct Options {
    pub tls: Tls,
    pub user: String,
    pub password: String,
    /// The bearer token `AUTH XOAUTH2` accepts (none: XOAUTH2 always fails).
    pub token: Option<String>,
    /// The folder for the certificates and the received mail (default: a temp dir).
    pub dir: Option<PathBuf>,
}

impl Options {
    /// [`USER`] with [`PASSWORD`] and [`TOKEN`], files in a temp dir.
    pub fn new(tls: Tls) -> Options {
        Options { tls, user: USER.into(), password: PASSWORD.into(), token: Some(TOKEN.into()), dir: None }
    }

    pub fn password(mut self, password: &str) -> Options {
        self.password = password.into();
        self
    }

    /// Keeps the certificates and the received mail in `dir` (created if missing).
    pub fn in_dir(mut self, dir: &Path) -> Options {
        self.dir = Some(dir.to_owned());
        self
    }
}

/// aiosmtpd on loopback (`tests/smtp/smtp_server.py`), killed on drop.
pub struct Server {
    _process: Process,
    pub port: u16,
    pub pki: TestPki,
    /// The account it accepts.
    pub user: String,
    dir: Dir,
}

impl Server {
    /// `mode`: `starttls`, `implicit` or `plain` (no TLS at all), with the default account.
    pub fn start(mode: &str) -> Server {
        let tls = match mode {
            "starttls" => Tls::StartTls,
            "implicit" => Tls::Implicit,
            "plain" => Tls::None,
            other => panic!("unknown SMTP server mode {other:?}"),
        };
        Server::start_with(Options::new(tls))
    }

    pub fn start_with(o: Options) -> Server {
        let pki = TestPki::generate().unwrap_or_else(|e| panic!("pki: {e}"));
        let dir = Dir::new(o.dir);
        let mode = match o.tls {
            Tls::StartTls => "starttls",
            Tls::Implicit => "implicit",
            Tls::None => "plain",
        };
        let mut args: Vec<OsString> = ["--mode", mode, "--user", &o.user, "--password", &o.password].map(OsString::from).into();
        if let Some(token) = &o.token {
            args.extend(["--token".into(), token.into()]);
        }
        args.extend(["--out".into(), dir.path().join("mail").into_os_string()]);
        args.extend(dir.write_pki(&pki));
        let (process, port) = spawn("smtp_server.py", args);
        Server { _process: process, port, pki, user: o.user, dir }
    }

    /// The folder with the certificates and the received mail.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's CA as a PEM file, for a client that reads it from a file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// Settings for this server's account with `password`, trusting its CA; the app's default
    /// wait for the final reply.
    pub fn settings(&self, security: SmtpSecurity, password: Secret) -> SmtpSettings {
        SmtpSettings::new("localhost", self.port, security, self.user.as_str(), password).with_ca(Some(self.pki.ca_pem.clone()))
    }

    /// Messages the server accepted, in order: (envelope JSON, exact bytes). The envelope has
    /// `mail_from`, `rcpt_to`, `login`, `mechanism` and `tls`.
    pub fn received(&self) -> Vec<(Value, Vec<u8>)> {
        let dir = self.dir().join("mail");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names
            .into_iter()
            .map(|j| {
                let meta = std::fs::read(&j).ok().and_then(|b| serde_json::from_slice(&b).ok());
                let meta = meta.unwrap_or_else(|| panic!("{}: not an envelope", j.display()));
                let eml = j.with_extension("eml");
                (meta, std::fs::read(&eml).unwrap_or_else(|e| panic!("{}: {e}", eml.display())))
            })
            .collect()
    }
}

/// `tests/smtp/scripted_smtp.py` with a script (its docstring has the format: faults at exact
/// protocol steps, what to offer), killed on drop. It logs every event as a line of JSON.
pub struct Scripted {
    _process: Process,
    pub port: u16,
    pub pki: TestPki,
    dir: Dir,
}

impl Scripted {
    pub fn start(script: &Value) -> Scripted {
        Scripted::start_with(script, TestPki::generate().unwrap_or_else(|e| panic!("pki: {e}")))
    }

    /// With the server's certificate from `pki` (a PKI the client may not trust).
    pub fn start_with(script: &Value, pki: TestPki) -> Scripted {
        let dir = Dir::new(None);
        let mut args: Vec<OsString> =
            vec!["--log".into(), dir.path().join("log.jsonl").into(), "--out".into(), dir.path().join("mail").into()];
        args.extend(dir.write_pki(&pki));
        args.extend(["--script".into(), script.to_string().into()]);
        let (process, port) = spawn("scripted_smtp.py", args);
        Scripted { _process: process, port, pki, dir }
    }

    /// The log as the server wrote it, for failure messages.
    pub fn dump(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log.jsonl")).unwrap_or_default()
    }

    /// Everything the server logged, in order.
    pub fn events(&self) -> Vec<Value> {
        self.dump().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}"))).collect()
    }

    pub fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["event"] == kind).collect()
    }

    /// Messages that reached the final dot with this status (accepted, refused, unconfirmed).
    pub fn messages(&self, status: &str) -> Vec<Value> {
        self.events_of("message").into_iter().filter(|m| m["status"] == status).collect()
    }

    /// Accepted messages: the log entry and the exact bytes.
    pub fn accepted(&self) -> Vec<(Value, Vec<u8>)> {
        self.messages("accepted")
            .into_iter()
            .map(|e| {
                let file = self.dir.path().join("mail").join(e["file"].as_str().unwrap_or_default());
                let bytes = std::fs::read(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
                (e, bytes)
            })
            .collect()
    }

    /// Messages the server has, or may have: accepted, or complete but never confirmed.
    pub fn possibly_delivered(&self) -> usize {
        self.messages("accepted").len() + self.messages("unconfirmed").len()
    }

    pub fn connections(&self) -> usize {
        self.events_of("connect").len()
    }

    pub fn commands(&self, verb: &str) -> Vec<Value> {
        self.events_of("command").into_iter().filter(|c| c["verb"] == verb).collect()
    }
}
