//! Part of `examples/bench_send.rs`: the figures (mean and percentiles of the per-message
//! times) and the correctness check at the end: every message reached the relay once, was
//! archived with the bytes the relay received, and its task was completed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::Side;

pub(crate) struct Stats {
    pub(crate) mean_ms: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) max_ms: f64,
}

pub(crate) fn stats(each: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = each.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    let wall: Duration = each.iter().sum();
    Stats { mean_ms: wall.as_secs_f64() * 1e3 / ms.len() as f64, p50_ms: q(0.5), p95_ms: q(0.95), max_ms: q(1.0) }
}

pub(crate) fn message_id_of(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("Message-ID").then(|| value.trim().to_owned())
    })
}

/// Relay messages, documents and tasks of one side, against the Message-IDs it should hold.
pub(crate) fn check(side: &Side, expected: &[(String, i64, Option<i64>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let received = side.sim.mailbox().messages();
    let by_id: HashMap<String, &[u8]> = received.iter().filter_map(|m| message_id_of(&m.data).map(|id| (id, m.data.as_slice()))).collect();
    if received.len() != expected.len() {
        problems.push(format!("{} messages in the relay's mailbox, expected {}", received.len(), expected.len()));
    }
    if by_id.len() != received.len() {
        problems.push(format!("{} distinct Message-IDs among {} received messages", by_id.len(), received.len()));
    }
    let tenant = side.sim.tenant();
    if tenant.documents.len() != expected.len() {
        problems.push(format!("{} documents, expected {}", tenant.documents.len(), expected.len()));
    }
    let by_ref: HashMap<&str, _> = tenant.documents.iter().map(|d| (d.external_ref.as_str(), d)).collect();
    let completed: HashSet<i64> = tenant.appointments.iter().filter(|a| a.completed == "Completed").map(|a| a.id).collect();
    let (mut missing, mut wrong_bytes, mut wrong_doc, mut open_tasks) = (0, 0, 0, 0);
    for (message_id, task, document_id) in expected {
        let Some(sent) = by_id.get(message_id) else {
            missing += 1;
            continue;
        };
        match by_ref.get(message_id.as_str()) {
            Some(doc) => {
                if doc.content.as_deref() != Some(*sent) {
                    wrong_bytes += 1;
                }
                if document_id.is_some_and(|d| d != doc.id) {
                    wrong_doc += 1;
                }
            }
            None => missing += 1,
        }
        if !completed.contains(task) {
            open_tasks += 1;
        }
    }
    for (n, what) in [
        (missing, "messages missing from the relay or the archive"),
        (wrong_bytes, "archives whose bytes differ from what the relay received"),
        (wrong_doc, "rows whose document_id is not the archive document"),
        (open_tasks, "tasks not completed"),
    ] {
        if n > 0 {
            problems.push(format!("{n} {what}"));
        }
    }
    problems
}
