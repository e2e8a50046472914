//! Secret canaries. Unique values are planted as the client secret and the SMTP password
//! (chosen here) and captured as the refresh tokens (the simulator issues random ones, read back
//! from the keychain); then the whole flow runs with logging at its most verbose: `configure`,
//! sign-in through the loopback listener, intake, approval of one draft and of a selection,
//! sending over SMTP (STARTTLS + AUTH), archiving, a relay check, a refresh with rotation, a
//! resumed sign-in, failures with wrong secrets, a crash at a crash point and a panic in child
//! processes, and the sign-out (revocation). Afterwards every file it could have written is
//! searched for each canary, raw and encoded (URL-encoded, JSON-escaped, base64 and base64url at
//! every alignment, hex): the TRACE log, the SQLite outbox with its `-wal`, `config.json`, the
//! crash and panic output, the serialized IPC payloads and `Debug` dumps, and every file under
//! the temp directory changed during the test. Hits must be 0; the files and bytes searched are
//! printed.
//!
//! The keychain is the real Secret Service when `DBUS_SESSION_BUS_ADDRESS` is set (the test
//! script runs the tests in a D-Bus session with gnome-keyring), else `keychain::MemoryStore`.
//! A second test does the same with the real app binary (`SO_OUTBOX_LOG=trace`) in its window
//! through WebDriver, like `tests/e2e.rs`, where a display and `tauri-driver` are available.
//! `CANARY_KEEP=1` keeps the searched directories for a look.
#![allow(clippy::unwrap_used, clippy::expect_used)] // integration tests may panic on failure

mod common;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use keychain::{Keychain, MemoryStore, Secret, SecretStore};
use outbox::{Delivery, Limits, Rep, SmtpSecurity, SmtpSettings, State, Store};
use superoffice::{refresh_token_key, AppointmentFilter, Client, Environment, Session};
use superoffice_sim::{SimConfig, SimHandle, TestPki};

/// The app's keychain service (`so_outbox::KEYCHAIN_SERVICE`), which `so-outbox configure` uses.
const SERVICE: &str = so_outbox::KEYCHAIN_SERVICE;
const CHILD: &str = "CANARY_CHILD";
const FILTER_TASK_TYPE: i64 = 7;
/// Files larger than this under the temp directory are not read (none of ours comes close).
const MAX_TEMP_FILE: u64 = 64 << 20;

// ---------------------------------------------------------------------------------------------
// Canaries and the search for them.
// ---------------------------------------------------------------------------------------------

/// 128 random bits as hex (std's `RandomState` is seeded from the OS per process and instance).
fn random_hex() -> String {
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i ^ std::process::id() as u64);
        h.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// A canary value: unique, and with characters that URL-encoding, JSON and base64 each change.
fn canary(tag: &str) -> String {
    let r = random_hex();
    format!("CnRy-{tag}+{}/{}=", &r[..16], &r[16..])
}

/// One encoded form of one canary.
struct Needle {
    canary: String,
    form: String,
    bytes: Vec<u8>,
}

/// What a base64 encoder can emit for `value` wherever it sits in a longer input: for each of
/// the three alignments, the characters that depend on the value's bytes alone.
fn base64_cores(value: &[u8], engine: &base64::engine::GeneralPurpose) -> Vec<String> {
    (0..3usize)
        .map(|pad| {
            let mut input = vec![0u8; pad];
            input.extend_from_slice(value);
            let encoded = engine.encode(&input);
            let first = (8 * pad).div_ceil(6);
            let last = 8 * (pad + value.len()) / 6;
            encoded[first..last].to_owned()
        })
        .collect()
}

fn percent_encode(value: &str, upper: bool) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ if upper => format!("%{b:02X}"),
            _ => format!("%{b:02x}"),
        })
        .collect()
}

fn needles(name: &str, value: &str) -> Vec<Needle> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let mut forms: Vec<(String, String)> = vec![
        ("raw".into(), value.to_owned()),
        ("URL-encoded".into(), percent_encode(value, true)),
        ("URL-encoded (lower-case hex)".into(), percent_encode(value, false)),
        ("JSON-escaped".into(), serde_json::to_string(value).unwrap().trim_matches('"').replace('/', "\\/")),
        ("hex".into(), value.bytes().map(|b| format!("{b:02x}")).collect()),
        ("HEX".into(), value.bytes().map(|b| format!("{b:02X}")).collect()),
    ];
    for (i, core) in base64_cores(value.as_bytes(), &STANDARD).into_iter().enumerate() {
        forms.push((format!("base64 (alignment {i})"), core));
    }
    for (i, core) in base64_cores(value.as_bytes(), &URL_SAFE).into_iter().enumerate() {
        forms.push((format!("base64url (alignment {i})"), core));
    }
    let mut seen = std::collections::HashSet::new();
    forms
        .into_iter()
        .filter(|(_, v)| seen.insert(v.clone()))
        .map(|(form, v)| Needle { canary: name.to_owned(), form, bytes: v.into_bytes() })
        .collect()
}

#[derive(Default)]
struct Canaries {
    needles: Vec<Needle>,
    names: Vec<String>,
}

impl Canaries {
    fn add(&mut self, name: &str, value: &str) {
        assert!(value.len() >= 16, "canary {name} is too short to be unique");
        self.names.push(name.to_owned());
        self.needles.extend(needles(name, value));
    }
}

struct Hit {
    file: PathBuf,
    canary: String,
    form: String,
    offset: usize,
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let Some(&first) = needle.first() else { return vec![] };
    let mut out = vec![];
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        match haystack[i..=haystack.len() - needle.len()].iter().position(|&b| b == first) {
            Some(p) => {
                let at = i + p;
                if &haystack[at..at + needle.len()] == needle {
                    out.push(at);
                }
                i = at + 1;
            }
            None => break,
        }
    }
    out
}

/// What was searched and what was found.
#[derive(Default)]
struct Scan {
    files: usize,
    bytes: u64,
    hits: Vec<Hit>,
    /// Access tokens (`8A:<tenant>.`) and JWTs (id_tokens) found by shape in our own files.
    shaped: Vec<(PathBuf, String)>,
    by_kind: BTreeMap<&'static str, (usize, u64)>,
}

impl Scan {
    fn file(&mut self, path: &Path, kind: &'static str, canaries: &Canaries, shapes: &[Vec<u8>]) {
        let Ok(bytes) = std::fs::read(path) else { return };
        self.files += 1;
        self.bytes += bytes.len() as u64;
        let k = self.by_kind.entry(kind).or_default();
        k.0 += 1;
        k.1 += bytes.len() as u64;
        for n in &canaries.needles {
            for offset in find_all(&bytes, &n.bytes) {
                self.hits.push(Hit { file: path.to_owned(), canary: n.canary.clone(), form: n.form.clone(), offset });
            }
        }
        for shape in shapes {
            for at in find_all(&bytes, shape) {
                let end = (at + 60).min(bytes.len());
                self.shaped.push((path.to_owned(), String::from_utf8_lossy(&bytes[at..end]).into_owned()));
            }
        }
    }

    /// Every regular file under `dir` (recursively) changed since `since`, if given.
    fn tree(
        &mut self,
        dir: &Path,
        kind: &'static str,
        since: Option<SystemTime>,
        skip: &[PathBuf],
        canaries: &Canaries,
        shapes: &[Vec<u8>],
    ) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            if skip.iter().any(|s| path.starts_with(s)) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if meta.is_dir() {
                self.tree(&path, kind, since, skip, canaries, shapes);
            } else if meta.is_file()
                && since.is_none_or(|s| meta.modified().is_ok_and(|m| m >= s))
                && (since.is_none() || meta.len() <= MAX_TEMP_FILE)
            {
                self.file(&path, kind, canaries, shapes);
            }
        }
    }

    fn report(&self, canaries: &Canaries) -> String {
        let kinds: Vec<String> = self.by_kind.iter().map(|(k, (f, b))| format!("{k}: {f} files, {b} bytes")).collect();
        format!(
            "searched {} files, {} bytes ({}) for {} canaries ({}) in {} encoded forms: {} hits, {} token-shaped strings",
            self.files,
            self.bytes,
            kinds.join("; "),
            canaries.names.len(),
            canaries.names.join(", "),
            canaries.needles.len(),
            self.hits.len(),
            self.shaped.len()
        )
    }

    fn assert_clean(&self, canaries: &Canaries) {
        let mut problems: Vec<String> =
            self.hits.iter().map(|h| format!("  {} ({}) in {} at byte {}", h.canary, h.form, h.file.display(), h.offset)).collect();
        problems.extend(self.shaped.iter().map(|(f, s)| format!("  a token-shaped string in {}: {s:?}", f.display())));
        assert!(problems.is_empty(), "secrets leaked; {}:\n{}", self.report(canaries), problems.join("\n"));
    }
}

/// Shapes of secrets whose values the test never sees: the simulator's access tokens
/// (`8A:<tenant>.<random>`) and JWT headers (`{"typ":` / `{"alg":` / `{"kid":` in base64url).
fn token_shapes(context_id: &str) -> Vec<Vec<u8>> {
    [format!("8A:{context_id}."), "eyJ0eXAiOi".into(), "eyJhbGciOi".into(), "eyJraWQiOi".into()]
        .into_iter()
        .map(String::into_bytes)
        .collect()
}

/// The search itself must work, or 0 hits would prove nothing: a file holding a canary raw,
/// inside a base64 blob at an odd offset, URL-encoded and JSON-escaped is found in each form.
#[test]
fn the_search_finds_every_encoding_of_a_canary() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let value = canary("self-test");
    let mut canaries = Canaries::default();
    canaries.add("probe", &value);
    let dir = tempfile::tempdir().expect("tempdir");
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("raw", format!("token={value};").into_bytes()),
        ("base64", STANDARD.encode(format!("\0anna@example.test\0{value}")).into_bytes()),
        ("base64url", URL_SAFE_NO_PAD.encode(format!("xy{value}z")).into_bytes()),
        ("url", format!("a=b&client_secret={}&c", percent_encode(&value, true)).into_bytes()),
        ("json", serde_json::to_vec(&serde_json::json!({ "s": value })).unwrap()),
        ("hex", value.bytes().map(|b| format!("{b:02x}")).collect::<String>().into_bytes()),
        ("shape", b"Bearer 8A:Cust1.abc and eyJhbGciOiJSUzI1NiJ9.e30.x".to_vec()),
    ];
    for (name, bytes) in &forms {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    let mut scan = Scan::default();
    scan.tree(dir.path(), "self-test", None, &[], &canaries, &token_shapes("Cust1"));
    for (name, _) in forms.iter().filter(|(n, _)| *n != "shape") {
        assert!(
            scan.hits.iter().any(|h| h.file.ends_with(name)),
            "the {name} form was not found; hits in {:?}",
            scan.hits.iter().map(|h| &h.file).collect::<Vec<_>>()
        );
    }
    assert_eq!(scan.shaped.len(), 2, "an access token and a JWT header are found by shape");
    assert_eq!(scan.files, forms.len());
}

// ---------------------------------------------------------------------------------------------
// The flow, in this process and in child processes, with a TRACE log.
// ---------------------------------------------------------------------------------------------

/// Everything at TRACE (the most verbose `SO_OUTBOX_LOG` allows), `log` records included, to a
/// file, like the app's file layer, and in the app's stderr format to a second file.
fn trace_to(file: &Path) {
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

fn session_bus() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

async fn sign_in(sim_url: &str, client_id: &str, context_id: &str, secret: Option<Secret>, store: Arc<dyn SecretStore>) -> Session {
    testkit::try_sign_in_with(testkit::request_at(sim_url, client_id, context_id), secret, store).await.expect("sign-in")
}

/// aiosmtpd with STARTTLS and AUTH, with the password chosen here (the shared helper's is fixed).
struct Relay {
    child: Child,
    port: u16,
    ca: PathBuf,
    mails: PathBuf,
}

impl Relay {
    fn start(dir: &Path, password: &str) -> Relay {
        let pki = TestPki::generate().expect("pki");
        std::fs::create_dir_all(dir).expect("relay dir");
        let (cert, key, ca, mails) = (dir.join("leaf.pem"), dir.join("leaf.key"), dir.join("ca.pem"), dir.join("mail"));
        std::fs::write(&cert, &pki.leaf_pem).expect("cert");
        std::fs::write(&key, &pki.leaf_key_pem).expect("key");
        std::fs::write(&ca, &pki.ca_pem).expect("ca");
        let mut child = Command::new(common::smtp_python())
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/smtp_server.py"))
            .args(["--mode", "starttls", "--user", common::SMTP_USER, "--password", password])
            .arg("--out")
            .arg(&mails)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the SMTP server (run scripts/test.sh, which installs aiosmtpd): {e}"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut line).expect("READY");
        let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("smtp server said {line:?}"));
        Relay { child, port, ca, mails }
    }

    fn settings(&self, password: Secret) -> SmtpSettings {
        SmtpSettings::new("localhost", self.port, SmtpSecurity::StartTls, common::SMTP_USER, password)
            .with_ca(Some(std::fs::read_to_string(&self.ca).expect("ca")))
            .with_data_timeout(Duration::from_secs(30))
    }

    /// The accepted messages' envelopes (with whether the client had logged in).
    fn envelopes(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.mails).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).expect("json")).expect("envelope")).collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the child processes need (they get the secrets in their environment: the keychain of
/// a child is an in-memory one, and environments are not files).
const C_SIM: &str = "CANARY_SIM_URL";
const C_CLIENT_ID: &str = "CANARY_CLIENT_ID";
const C_CONTEXT: &str = "CANARY_CONTEXT_ID";
const C_SECRET: &str = "CANARY_CLIENT_SECRET";
const C_WRONG_SECRET: &str = "CANARY_WRONG_CLIENT_SECRET";
const C_SMTP_PORT: &str = "CANARY_SMTP_PORT";
const C_SMTP_CA: &str = "CANARY_SMTP_CA";
const C_SMTP_PASSWORD: &str = "CANARY_SMTP_PASSWORD";
const C_DATA: &str = "CANARY_DATA_DIR";

fn cvar(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child: {name} is not set"))
}

/// A child app run. `crash`: sends one draft and dies at the crash point the parent set
/// (`SO_OUTBOX_CRASH_AT`); `panic`: resumes the sign-in with a wrong client secret and panics
/// on the error, as an `expect` in the app would.
#[test]
#[ignore = "a child process: its parent test starts it (with --ignored) and gives it its environment"]
fn canary_child() {
    let mode = std::env::var(CHILD).expect("canary_child runs only as a child of the canary tests");
    let data = PathBuf::from(cvar(C_DATA));
    trace_to(&data.join("logs").join(format!("child-{mode}.log")));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
        let (url, client_id, ctx) = (cvar(C_SIM), cvar(C_CLIENT_ID), cvar(C_CONTEXT));
        let session = sign_in(&url, &client_id, &ctx, Some(Secret::new(cvar(C_SECRET))), store.clone()).await;
        tracing::info!(claims = ?session.claims(), "child signed in");
        if mode == "panic" {
            let resumed =
                Session::restore(Environment::Custom(url.clone()), client_id.clone(), &ctx, Some(Secret::new(cvar(C_WRONG_SECRET))), store)
                    .await;
            resumed.expect("resume the sign-in with the stored refresh token");
            return;
        }
        let client = Client::new(session);
        let outbox = Arc::new(Store::open(&data.join("outbox.sqlite")).expect("outbox"));
        outbox.recover_interrupted().expect("recover");
        let me = client.current_principal().await.expect("principal");
        let smtp = SmtpSettings::new(
            "localhost",
            cvar(C_SMTP_PORT).parse().expect("port"),
            SmtpSecurity::StartTls,
            common::SMTP_USER,
            Secret::new(cvar(C_SMTP_PASSWORD)),
        )
        .with_ca(Some(std::fs::read_to_string(cvar(C_SMTP_CA)).expect("ca")))
        .with_data_timeout(Duration::from_secs(30));
        tracing::debug!(?smtp, "relay settings");
        let delivery =
            Delivery::new(outbox.clone(), client, smtp, Rep { associate_id: me.associate_id, name: me.full_name, email: me.email_address });
        let id = outbox
            .list()
            .expect("list")
            .into_iter()
            .find(|d| d.problem.is_none() && d.state == State::Pending)
            .expect("a pending draft")
            .id;
        delivery.approve(id).expect("approve");
        let state = delivery.deliver(id).await;
        panic!("the crash point was not reached: {state:?}");
    });
}

/// Runs `canary_child` in `mode`; its output goes to `out` (the crash or panic output).
fn run_child(mode: &str, env: &[(&str, String)], crash_at: Option<&str>, out: &Path) -> Option<i32> {
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
fn configure(data: &Path, [sim_url, ctx, client_id]: [&str; 3], relay: &Relay, [secret, password]: [&str; 2], out: &Path) -> Option<i32> {
    let file = std::fs::File::create(out).expect("configure output");
    let mut child = Command::new(env!("CARGO_BIN_EXE_so-outbox"))
        .args(["configure", "--environment", sim_url, "--tenant", ctx, "--client-id", client_id, "--task-type", "7"])
        .args(["--smtp-host", "localhost", "--smtp-port", &relay.port.to_string(), "--smtp-security", "starttls"])
        .args(["--smtp-user", common::SMTP_USER, "--client-secret-stdin", "--smtp-password-stdin"])
        .arg("--smtp-ca-file")
        .arg(&relay.ca)
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

#[test]
fn planted_secrets_reach_no_log_database_config_temp_file_crash_output_or_payload() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let since = SystemTime::now() - Duration::from_secs(2);
    let root = tempfile::Builder::new().prefix("so-outbox-canary-").tempdir().expect("tempdir");
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    trace_to(&data.join("logs").join("so-outbox.log"));

    let client_secret = canary("client-secret");
    let smtp_password = canary("smtp-password");
    let wrong_secret = canary("wrong-client-secret");
    let wrong_password = canary("wrong-smtp-password");
    let mut canaries = Canaries::default();
    canaries.add("client secret", &client_secret);
    canaries.add("SMTP password", &smtp_password);
    canaries.add("wrong client secret", &wrong_secret);
    canaries.add("wrong SMTP password", &wrong_password);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut config = SimConfig::demo();
    // A client id of its own, so the keychain entries never collide with the demo tenant's.
    config.client.client_id = format!("so-outbox-canary-{}", &random_hex()[..8]);
    config.client.client_secret = client_secret.clone();
    let sim: SimHandle = rt.block_on(superoffice_sim::start(config)).expect("simulator");
    let (url, ctx, client_id) = (sim.base_url().to_owned(), sim.context_id(), sim.client().client_id.clone());
    let relay = Relay::start(&root.path().join("relay"), &smtp_password);
    let secret_key = format!("superoffice-client-secret:127.0.0.1:{ctx}:{client_id}");
    let relay_key = format!("smtp-password:{}@localhost:{}", common::SMTP_USER, relay.port);
    let rt_key = refresh_token_key(&Environment::Custom(url.clone()), &ctx, &client_id);

    // The admin's `so-outbox configure`: config.json and the keychain. Without a Secret Service
    // it must refuse (and write nothing); the in-memory store stands in for the rest.
    let code = configure(&data, [&url, &ctx, &client_id], &relay, [&client_secret, &smtp_password], &root.path().join("configure.out"));
    let (keychain, kind): (Arc<dyn SecretStore>, &str) = if session_bus() {
        assert_eq!(code, Some(0), "configure failed: {}", std::fs::read_to_string(root.path().join("configure.out")).unwrap_or_default());
        (Arc::new(Keychain::open(SERVICE).expect("the Secret Service")), "the Secret Service")
    } else {
        let out = std::fs::read_to_string(root.path().join("configure.out")).unwrap_or_default();
        assert_eq!(code, Some(1), "without a keychain configure must fail: {out}");
        assert!(out.contains("keychain is not available") && !data.join("config.json").exists(), "{out}");
        let memory = MemoryStore::default();
        memory.set(&secret_key, &Secret::new(client_secret.clone())).expect("set");
        memory.set(&relay_key, &Secret::new(smtp_password.clone())).expect("set");
        (Arc::new(memory), "keychain::MemoryStore (no D-Bus session)")
    };
    println!("keychain: {kind}");

    let mut payloads = serde_json::Map::new();
    let mut debug = String::new();
    let mut refresh_tokens = vec![];
    rt.block_on(async {
        // As the app: the secrets come from the keychain.
        let secret = keychain.get(&secret_key).expect("keychain").expect("client secret stored");
        let password = keychain.get(&relay_key).expect("keychain").expect("SMTP password stored");
        assert_eq!(secret.expose(), client_secret, "the keychain holds the planted client secret");
        let session = sign_in(&url, &client_id, &ctx, Some(secret.clone()), keychain.clone()).await;
        refresh_tokens.push(keychain.get(&rt_key).expect("keychain").expect("refresh token stored after sign-in").expose().to_owned());
        payloads.insert("session_info".into(), serde_json::to_value(session.info()).unwrap());
        debug.push_str(&format!("session claims: {:?}\n", session.claims()));
        let client = Client::new(session);
        let me = client.current_principal().await.expect("principal");
        let store = Arc::new(Store::open(&data.join("outbox.sqlite")).expect("outbox"));
        store.recover_interrupted().expect("recover");
        let intake = outbox::intake_tasks(&client, &store, &AppointmentFilter { associate_id: me.associate_id, task_type_id: FILTER_TASK_TYPE })
            .await
            .expect("intake");
        payloads.insert("refresh_outbox".into(), serde_json::to_value(&intake).unwrap());
        let smtp = relay.settings(password);
        debug.push_str(&format!("smtp settings: {smtp:?}\n{smtp:#?}\n"));
        let probe = outbox::smtp::probe(&smtp, &me.email_address).await;
        assert!(probe.failure.is_none(), "relay check with the right password: {probe:?}");
        let wrong = outbox::smtp::probe(&relay.settings(Secret::new(wrong_password.clone())), &me.email_address).await;
        assert!(wrong.failure.is_some(), "the relay must refuse the wrong password: {wrong:?}");
        payloads.insert("relay_check".into(), serde_json::json!({ "ok": probe.steps, "wrong_password": [wrong.steps, wrong.failure] }));
        debug.push_str(&format!("probes: {probe:?} {wrong:?}\n"));
        let delivery = Delivery::new(store.clone(), client, smtp, Rep { associate_id: me.associate_id, name: me.full_name.clone(), email: me.email_address.clone() });
        let sendable: Vec<i64> = store.list().expect("list").into_iter().filter(|d| d.problem.is_none()).map(|d| d.id).take(3).collect();
        assert_eq!(sendable.len(), 3);
        // One approval, then a selection of two (approve_draft, approve_many); the ticker sends.
        for id in &sendable {
            delivery.approve(*id).expect("approve");
        }
        let mut ticks = vec![];
        loop {
            let report = delivery.tick(&Limits::default()).await.expect("tick");
            let changed = report.changed();
            ticks.push(report);
            if !changed {
                break;
            }
        }
        payloads.insert("ticks".into(), serde_json::to_value(&ticks).unwrap());
        for id in &sendable {
            assert_eq!(store.get(*id).expect("row").state, State::Done, "draft {id} was sent and archived");
        }
        // A refresh with rotation (the `full` profile rotates), then the resume at start.
        sim.set_profile("full").expect("profile");
        delivery.client.session().expect("session").refresh_now().await.expect("refresh");
        refresh_tokens.push(keychain.get(&rt_key).expect("keychain").expect("rotated token").expose().to_owned());
        let resumed = Session::restore(Environment::Custom(url.clone()), client_id.clone(), &ctx, Some(secret.clone()), keychain.clone())
            .await
            .expect("resume")
            .expect("a stored sign-in");
        refresh_tokens.push(keychain.get(&rt_key).expect("keychain").expect("rotated token").expose().to_owned());
        // Failures with a wrong secret: their texts are what the UI would show.
        let refused = Session::restore(Environment::Custom(url.clone()), client_id.clone(), &ctx, Some(Secret::new(wrong_secret.clone())), keychain.clone())
            .await
            .err()
            .expect("a wrong client secret is refused");
        payloads.insert("error_wrong_client_secret".into(), serde_json::json!({ "code": refused.code(), "message": refused.to_string() }));
        debug.push_str(&format!("error: {refused:?}\n"));
        // What the UI receives: the list, and each draft's detail.
        let rows = store.list().expect("list");
        payloads.insert("list_drafts".into(), serde_json::to_value(&rows).unwrap());
        for r in &rows {
            payloads.insert(
                format!("get_draft {}", r.id),
                serde_json::json!({ "draft": r, "timeline": store.timeline(r.id).expect("timeline"), "versions": store.versions(r.id).expect("versions") }),
            );
        }
        payloads.insert("channel".into(), serde_json::to_value(delivery.channel()).unwrap());
        resumed.sign_out().await.expect("sign out (revocation)");
        assert_eq!(keychain.get(&rt_key).expect("keychain"), None, "signing out deletes the refresh token");
    });
    let counters = sim.counters();
    assert!(counters.refreshes >= 3, "the refresh token went over the wire (refreshes: {})", counters.refreshes);
    let envelopes = relay.envelopes();
    assert_eq!(envelopes.len(), 3, "three messages reached the relay");
    assert!(envelopes.iter().all(|e| e["login"] == true && e["tls"] == true), "each after AUTH over TLS: {envelopes:?}");
    refresh_tokens.dedup();
    assert!(refresh_tokens.len() >= 2, "the refresh token was rotated");
    for (i, t) in refresh_tokens.iter().enumerate() {
        canaries.add(&format!("refresh token {}", i + 1), t);
    }

    // Crash and panic output of child app runs, their TRACE logs in the same data directory.
    let crash = root.path().join("crash");
    std::fs::create_dir_all(&crash).expect("crash dir");
    let env = [
        (C_SIM, url.clone()),
        (C_CLIENT_ID, client_id.clone()),
        (C_CONTEXT, ctx.clone()),
        (C_SECRET, client_secret.clone()),
        (C_WRONG_SECRET, wrong_secret.clone()),
        (C_SMTP_PORT, relay.port.to_string()),
        (C_SMTP_CA, relay.ca.display().to_string()),
        (C_SMTP_PASSWORD, smtp_password.clone()),
        (C_DATA, data.display().to_string()),
    ];
    assert_eq!(
        run_child("crash", &env, Some("after_smtp_accepted"), &crash.join("crash.out")),
        Some(137),
        "the crash child dies at its point"
    );
    assert_eq!(run_child("panic", &env, None, &crash.join("panic.out")), Some(101), "the panic child panics");
    let panic_text = std::fs::read_to_string(crash.join("panic.out")).unwrap_or_default();
    assert!(panic_text.contains("panicked") && panic_text.contains("token_invalid_client"), "the panic output: {panic_text}");

    // The UI's payloads and Debug dumps, kept as files to be searched like the rest.
    std::fs::write(data.join("ipc-payloads.json"), serde_json::to_vec_pretty(&payloads).unwrap()).expect("payloads");
    std::fs::write(data.join("debug-dump.txt"), &debug).expect("debug dump");
    let log = std::fs::read_to_string(data.join("logs/so-outbox.log")).unwrap_or_default();
    assert!(log.contains(" TRACE ") && log.len() > 10_000, "the TRACE log is written ({} bytes)", log.len());

    // Search. The keychain's own files (gnome-keyring's, if it keeps any under the temp dir)
    // hold the secrets by design and are left out.
    let shapes = token_shapes(&ctx);
    let mut scan = Scan::default();
    scan.tree(&data, "data directory", None, &[], &canaries, &shapes);
    scan.tree(&crash, "crash and panic output", None, &[], &canaries, &shapes);
    scan.file(&root.path().join("configure.out"), "configure output", &canaries, &shapes);
    scan.tree(&root.path().join("relay"), "the relay's received mail", None, &[], &canaries, &shapes);
    let keyrings: Vec<PathBuf> =
        [std::env::var_os("XDG_DATA_HOME").map(PathBuf::from), std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share"))]
            .into_iter()
            .flatten()
            .map(|d| d.join("keyrings"))
            .collect();
    let mut skip = keyrings.clone();
    skip.push(root.path().to_owned());
    // Only the canaries there: other programs' files may hold token-shaped strings of their own.
    scan.tree(&std::env::temp_dir(), "temp files changed during the test", Some(since), &skip, &canaries, &[]);
    let report = scan.report(&canaries);
    println!("{report}");
    // For the record, not required: the keychain's own files (gnome-keyring encrypts them).
    let mut own = Scan::default();
    for dir in &keyrings {
        own.tree(dir, "keychain files", None, &[], &canaries, &[]);
    }
    println!("the keychain's own files: {} files, {} bytes, {} canary hits", own.files, own.bytes, own.hits.len());
    let files: Vec<String> =
        std::fs::read_dir(&data).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    println!("data directory: {}", files.join(", "));
    let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("canary-summary.txt"), format!("{kind}: {report}\n"));
    if session_bus() {
        for key in [&secret_key, &relay_key, &rt_key] {
            let _ = keychain.delete(key);
        }
    }
    assert!(data.join("outbox.sqlite-wal").exists() || data.join("outbox.sqlite").exists(), "the outbox was searched");
    if std::env::var_os("CANARY_KEEP").is_some() {
        println!("kept {}", root.keep().display());
    }
    scan.assert_clean(&canaries);
}

// ---------------------------------------------------------------------------------------------
// The real app binary at TRACE, in its window.
// ---------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn app_prerequisites() -> Result<(), String> {
    for var in ["DISPLAY", "DBUS_SESSION_BUS_ADDRESS"] {
        if std::env::var_os(var).is_none() {
            return Err(format!("no {var}"));
        }
    }
    for tool in ["tauri-driver", "WebKitWebDriver"] {
        let found =
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).stdout(Stdio::null()).status().is_ok_and(|s| s.success());
        if !found {
            return Err(format!("{tool} is not installed"));
        }
    }
    Ok(())
}

/// tauri-driver, stopped with SIGTERM (it stops WebKitWebDriver and the app only then).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

/// The demo tenant in the real app (`SO_OUTBOX_LOG=trace`): choose the demo, sign in, approve
/// one draft, wait for it to be archived; then ask the app over IPC what the UI can ask
/// (status, drafts with timelines and versions, the demo mailbox). The canaries are what the
/// app put in the Secret Service: the demo's client secret and relay password (random per
/// start) and the refresh token. Searched: the data directory (log, outbox, config), the app's
/// console output, the IPC answers, the webview's storage and the temp files of the run.
#[tokio::test(flavor = "multi_thread")]
async fn the_real_app_at_trace_level_leaks_no_secret() {
    use fantoccini::{ClientBuilder, Locator};
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    if let Err(why) = app_prerequisites() {
        assert!(std::env::var_os("CI").is_none(), "the real-app canary test cannot run in CI: {why}");
        eprintln!("skipping the real-app canary test: {why} (run scripts/test.sh)");
        return;
    }
    let since = SystemTime::now() - Duration::from_secs(2);
    let root = tempfile::Builder::new().prefix("so-outbox-canary-app-").tempdir().expect("tempdir");
    let data = root.path().join("data");
    let console = root.path().join("console.out");
    let (sim_port, port, native) = (free_port(), free_port(), free_port());
    let out = std::fs::File::create(&console).expect("console file");
    let driver = Driver(
        Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("SO_OUTBOX_DATA_DIR", &data)
            .env("SO_OUTBOX_LOG", "trace")
            .env("SO_OUTBOX_DEMO_HTTP_PORT", sim_port.to_string())
            .env("RUST_BACKTRACE", "1")
            .env("BROWSER", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/browser.py"))
            .env("BROWSER_LOG", root.path().join("browser.log"))
            .stdout(out.try_clone().expect("clone"))
            .stderr(out)
            .spawn()
            .expect("start tauri-driver"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), serde_json::json!({ "application": env!("CARGO_BIN_EXE_so-outbox") }));
    let c = ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session");
    let wait = Duration::from_secs(60);
    let run = async {
        c.wait().at_most(wait).for_element(Locator::Css("#choose-demo")).await?.click().await?;
        c.wait().at_most(wait).for_element(Locator::Css("#sign-in")).await?.click().await?;
        c.wait().at_most(wait).for_element(Locator::Css(".draft-row")).await?;
        c.find_all(Locator::Css(".draft-row")).await?[0].click().await?;
        c.find(Locator::Css("#approve")).await?.click().await?;
        let deadline = Instant::now() + wait;
        loop {
            let status = c.find(Locator::Css("#draft-status")).await?.text().await?;
            if status.contains("archived as document") {
                break;
            }
            assert!(Instant::now() < deadline, "the approved draft was not archived; status {status:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // What the UI can ask for, through the real IPC.
        let script = r#"
            const done = arguments[arguments.length - 1];
            const invoke = window.__TAURI_INTERNALS__.invoke;
            (async () => {
                const out = { app_status: await invoke('app_status'), list_drafts: await invoke('list_drafts'), demo_mailbox: await invoke('demo_mailbox') };
                for (const d of out.list_drafts) { out['get_draft ' + d.id] = await invoke('get_draft', { id: d.id }); }
                return out;
            })().then(v => done(JSON.stringify(v)), e => done('ERROR ' + String(e)));
        "#;
        c.execute_async(script, vec![]).await
    };
    let payloads = run.await;
    let _ = c.close().await;
    drop(driver);
    let payloads = payloads
        .unwrap_or_else(|e| panic!("driving the app failed: {e}; console: {}", std::fs::read_to_string(&console).unwrap_or_default()));
    let payloads = payloads.as_str().unwrap_or_default().to_owned();
    assert!(payloads.starts_with('{') && payloads.contains("\"list_drafts\""), "IPC answers: {payloads:.300}");
    std::fs::write(root.path().join("ipc-payloads.json"), &payloads).expect("payloads");

    // The canaries, from where the app keeps them.
    let logs: Vec<PathBuf> = std::fs::read_dir(data.join("logs")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    let log: String = logs.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();
    assert!(log.contains(" TRACE "), "the app logged at TRACE ({} bytes in {logs:?})", log.len());
    let smtp_port = log
        .split("demo tenant started")
        .nth(1)
        .and_then(|rest| rest.split("smtp=127.0.0.1:").nth(1))
        .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_else(|| panic!("the log names the demo relay's port"));
    let (ctx, client_id) = ("Demo26720", "so-outbox-demo");
    let keychain = Keychain::open(SERVICE).expect("the Secret Service");
    let mut canaries = Canaries::default();
    for (name, key) in [
        ("client secret", format!("superoffice-client-secret:127.0.0.1:{ctx}:{client_id}")),
        ("SMTP password", format!("smtp-password:{}@localhost:{smtp_port}", common::SMTP_USER)),
        ("refresh token", refresh_token_key(&Environment::Custom("http://127.0.0.1".into()), ctx, client_id)),
    ] {
        let value = keychain.get(&key).expect("keychain").unwrap_or_else(|| panic!("the app stored no {name} under {key}"));
        canaries.add(name, value.expose());
    }

    let shapes = token_shapes(ctx);
    let mut scan = Scan::default();
    scan.tree(&data, "data directory", None, &[], &canaries, &shapes);
    scan.file(&console, "console output (app and driver)", &canaries, &shapes);
    scan.file(&root.path().join("ipc-payloads.json"), "IPC answers", &canaries, &shapes);
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let share = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".local/share"));
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".cache"));
    for dir in [share.join(so_outbox::IDENTIFIER), cache.join(so_outbox::IDENTIFIER), cache.join("so-outbox")] {
        scan.tree(&dir, "webview storage and caches", Some(since), &[], &canaries, &shapes);
    }
    let skip = vec![share.join("keyrings"), home.join(".local/share/keyrings"), root.path().to_owned()];
    // Only the canaries there: other programs' files may hold token-shaped strings of their own.
    scan.tree(&std::env::temp_dir(), "temp files changed during the test", Some(since), &skip, &canaries, &[]);
    let report = scan.report(&canaries);
    println!("real app: {report}");
    let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("canary-app-summary.txt"), format!("real app at TRACE: {report}\n"));
    if std::env::var_os("CANARY_KEEP").is_some() {
        println!("kept {}", root.keep().display());
    }
    scan.assert_clean(&canaries);
}
