//! Part of `tests/crash.rs`: the tortures' reproducible randomness (a seeded generator, the
//! plan of how each bulk run is ended), their settings from the environment, and the summary
//! file the test script prints.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use outbox::failpoint::POINTS;

use crate::world::Sigkill;
use crate::{STARTUP_WINDOW_MS, SUMMARY};

/// splitmix64: a small, fixed, reproducible generator.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub(crate) fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not valid")),
        Err(_) => default,
    }
}

/// Keeps a test's figures in `target/tmp/crash-summary.txt` for the test script to print (cargo
/// test captures a passing test's output); the file holds the line of every test of this run.
pub(crate) fn write_summary(test: &'static str, line: String) {
    let mut all = SUMMARY.lock().unwrap_or_else(|p| p.into_inner());
    all.insert(test, line);
    let text: String = all.values().map(|l| format!("{l}\n")).collect();
    let _ = std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("crash-summary.txt"), text);
}

/// How one bulk-torture run is ended.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Plan {
    /// `SO_OUTBOX_CRASH_AT`: the first message to reach the point ends the run there.
    Point(&'static str),
    Kill(Sigkill),
}

impl Plan {
    /// Draws the next plan: a quarter named crash points, a tenth SIGKILLs from the start
    /// (sign-in, recovery, intake), the rest SIGKILLs within `window` of the child being ready
    /// (approving and sending). `approving` says whether approvals can still happen in the run,
    /// so `after_approve` is not drawn when nothing is left to approve.
    pub(crate) fn draw(rng: &mut Rng, window: Duration, approving: bool) -> Plan {
        let within = |rng: &mut Rng, d: Duration| Duration::from_micros(rng.next() % (d.as_micros() as u64).max(1));
        match rng.below(100) {
            0..=24 => {
                let mut i = rng.below(POINTS.len());
                if POINTS[i] == "after_approve" && !approving {
                    i = (i + 1) % POINTS.len();
                }
                Plan::Point(POINTS[i])
            }
            25..=34 => Plan::Kill(Sigkill { after_ready: false, after: within(rng, Duration::from_millis(STARTUP_WINDOW_MS)) }),
            _ => Plan::Kill(Sigkill { after_ready: true, after: within(rng, window) }),
        }
    }
}

/// Where the kills fell, for the report.
#[derive(Default)]
pub(crate) struct KillStats {
    pub(crate) points: BTreeMap<&'static str, usize>,
    /// SIGKILLs by what the child had printed last: before it was ready, while approving, while
    /// sending and archiving.
    pub(crate) startup: usize,
    pub(crate) approving: usize,
    pub(crate) sending: usize,
}

impl KillStats {
    pub(crate) fn total(&self) -> usize {
        self.points.values().sum::<usize>() + self.sigkills()
    }
    pub(crate) fn sigkills(&self) -> usize {
        self.startup + self.approving + self.sending
    }
}
