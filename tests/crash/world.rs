//! Part of `tests/crash.rs`: the parent's world, which outlives the app runs: the simulator,
//! the SMTP server and the outbox file, and how one child run is started, watched and ended
//! (by a crash point, our SIGKILL, or its own end).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use outbox::{DraftRow, State, Store};

use crate::common::{self, SmtpServer, SMTP_PASSWORD, SMTP_USER};
use crate::tally::{norm, Doc, Snapshot};
use crate::{
    APPROVE, CHILD, CHILD_DEADLINE, CHILD_TEST, CLIENT_ID, CLIENT_SECRET, CONTEXT_ID, CRASH_AT, CRASH_EXIT, DB, MODE, READY, SIM_URL,
    SMTP_CA, SMTP_LOGIN, SMTP_PORT, SMTP_SECRET,
};

pub(crate) struct World {
    pub(crate) sim: superoffice_sim::SimHandle,
    pub(crate) smtp: SmtpServer,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: PathBuf,
    pub(crate) ca: PathBuf,
    pub(crate) runs: usize,
    /// Children run as the app's ticker does ([`bulk_run`]) instead of [`app_run`].
    pub(crate) bulk: bool,
}

pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    /// The signal that ended the child, if one did (9 after our SIGKILL).
    pub(crate) signal: Option<i32>,
    /// How long after its start a bulk child said it was ready.
    pub(crate) ready_after: Option<Duration>,
    pub(crate) log: PathBuf,
}

impl Run {
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// Fails with the child's output unless it exited with `code`.
    pub(crate) fn expect_code(&self, code: i32, what: &str) {
        if self.code != Some(code) {
            panic!("{what}: the child exited with {:?}, expected {code}; its output:\n{}", self.code, self.log_text());
        }
    }
}

/// A SIGKILL from the parent: this long after the start, or after the child said it is ready.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sigkill {
    pub(crate) after_ready: bool,
    pub(crate) after: Duration,
}

impl World {
    /// The simulator (with `seeded` extra open tasks), the SMTP server and an empty outbox.
    pub(crate) fn start(rt: &tokio::runtime::Runtime, seeded: usize, bulk: bool) -> World {
        let sim = rt.block_on(common::simulator());
        sim.seed_tasks(seeded);
        let smtp = SmtpServer::start("starttls");
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = smtp.ca_file();
        let db = dir.path().join("outbox.sqlite");
        World { sim, smtp, dir, db, ca, runs: 0, bulk }
    }

    /// One app run: approves and delivers `approve`, dying at `crash_at` if given.
    pub(crate) fn run(&mut self, approve: &[i64], crash_at: Option<&str>) -> Run {
        self.run_with(approve, crash_at, None)
    }

    /// One app run, ended by a crash point or by our SIGKILL if either is given.
    pub(crate) fn run_with(&mut self, approve: &[i64], crash_at: Option<&str>, kill: Option<Sigkill>) -> Run {
        self.runs += 1;
        let log = self.dir.path().join(format!("run-{:03}.log", self.runs));
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let ids: Vec<String> = approve.iter().map(i64::to_string).collect();
        let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
        cmd.args(["--ignored", "--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env(MODE, if self.bulk { "bulk" } else { "single" })
            .env(SIM_URL, self.sim.base_url())
            .env(CLIENT_ID, &self.sim.client().client_id)
            .env(CLIENT_SECRET, &self.sim.client().client_secret)
            .env(CONTEXT_ID, self.sim.context_id())
            .env(SMTP_PORT, self.smtp.port.to_string())
            .env(SMTP_CA, &self.ca)
            .env(SMTP_LOGIN, SMTP_USER)
            .env(SMTP_SECRET, SMTP_PASSWORD)
            .env(DB, &self.db)
            .env(APPROVE, ids.join(","))
            .env_remove(CRASH_AT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err);
        if let Some(point) = crash_at {
            cmd.env(CRASH_AT, point);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("start a child run");
        // The child's stdout goes to its log through this thread, which notes when it is ready.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("child stdout");
        let copier = std::thread::spawn(move || {
            let mut out = out;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(READY) {
                    let _ = ready_tx.send(Instant::now());
                }
                let _ = writeln!(out, "{line}");
            }
        });
        let deadline = started + CHILD_DEADLINE;
        let mut kill_at = kill.filter(|k| !k.after_ready).map(|k| started + k.after);
        let mut ready_after = None;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the child") {
                break status;
            }
            if let Ok(ready) = ready_rx.try_recv() {
                ready_after = Some(ready - started);
                if let Some(k) = kill.filter(|k| k.after_ready) {
                    kill_at = Some(ready + k.after);
                }
            }
            let now = Instant::now();
            if kill_at.is_some_and(|at| now >= at) {
                // kill -9: std's `Child::kill` sends SIGKILL.
                let _ = child.kill();
                break child.wait().expect("wait for the killed child");
            }
            if now > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let _ = copier.join();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("child run {} (crash at {crash_at:?}) hung for {CHILD_DEADLINE:?}; its output:\n{text}", self.runs);
            }
            let step = kill_at.map(|at| at.saturating_duration_since(now)).unwrap_or(Duration::from_millis(20));
            std::thread::sleep(step.clamp(Duration::from_micros(200), Duration::from_millis(if kill.is_some() { 2 } else { 20 })));
        };
        let _ = copier.join();
        if let (None, Ok(ready)) = (ready_after, ready_rx.try_recv()) {
            ready_after = Some(ready - started);
        }
        Run { code: status.code(), signal: status.signal(), ready_after, log }
    }

    /// A run that must die at `point`.
    pub(crate) fn crash(&mut self, approve: &[i64], point: &str) {
        let run = self.run(approve, Some(point));
        run.expect_code(CRASH_EXIT, &format!("crash at {point} with drafts {approve:?}"));
        assert!(
            run.log_text().contains(&format!("crash point {point} reached")),
            "the child died, but not at {point}:\n{}",
            run.log_text()
        );
    }

    /// A run without a crash point that must end normally.
    pub(crate) fn heal(&mut self, approve: &[i64], what: &str) {
        self.run(approve, None).expect_code(0, what);
    }

    pub(crate) fn store(&self) -> Store {
        Store::open(&self.db).expect("open the outbox")
    }

    pub(crate) fn sendable(&self) -> Vec<DraftRow> {
        self.store().list().expect("list").into_iter().filter(|d| d.problem.is_none() && d.state == State::Pending).collect()
    }

    /// What the servers and the outbox hold now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut received: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        let mut letters: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (i, (meta, bytes)) in self.smtp.received().into_iter().enumerate() {
            let parsed = mail_parser::MessageParser::default()
                .parse(bytes.as_slice())
                .unwrap_or_else(|| panic!("received message {} does not parse", i + 1));
            let id = norm(parsed.message_id().unwrap_or_else(|| panic!("received message {} has no Message-ID", i + 1)));
            let letter = (meta["rcpt_to"].to_string(), parsed.subject().unwrap_or_default().to_owned());
            letters.entry(letter).or_default().push(id.clone());
            received.entry(id).or_default().push(bytes);
        }
        let tenant = self.sim.tenant();
        let mut documents: HashMap<String, Vec<Doc>> = HashMap::new();
        for d in &tenant.documents {
            let content = d.content_base64.as_ref().map(|b| base64::engine::general_purpose::STANDARD.decode(b).expect("document base64"));
            documents.entry(norm(&d.external_ref)).or_default().push(Doc { id: d.id, content });
        }
        let tasks = tenant.appointments.iter().map(|a| (a.id.to_string(), a.completed.clone())).collect();
        Snapshot { rows: self.store().list().expect("list"), received, letters, documents, tasks }
    }
}
