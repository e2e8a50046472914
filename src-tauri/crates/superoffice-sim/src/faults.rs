//! Fault injection: the failures a client must survive (latency, error statuses, throttling,
//! dropped connections, slow bodies, a tenant moving to another node), set at run time per
//! endpoint by tests or through `POST /__sim/faults`.
//!
//! This module holds the fault list; the HTTP middleware that acts on it is in `edge.rs`.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::lock;

/// One injected fault: applies to requests whose path (with its query string) contains
/// `path_contains` (and whose
/// method is `method`, when given), `times` times or until cleared.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    pub path_contains: String,
    #[serde(default)]
    pub method: Option<String>,
    pub kind: FaultKind,
    /// How many matching requests it applies to; `None` = until cleared.
    #[serde(default)]
    pub times: Option<u32>,
}

/// What happens to a matching request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum FaultKind {
    /// Waits, then serves normally.
    Latency { ms: u64 },
    /// Answers `status` with SuperOffice's error body.
    Status { status: u16, error_type: String, message: String },
    /// 429 with `Retry-After` (throttling is undocumented; this is what a client should expect).
    TooManyRequests { retry_after_secs: u64 },
    /// Closes the connection without an answer.
    Reset,
    /// Serves the request (its effect happens, e.g. a document is created), then closes the
    /// connection instead of answering: the client cannot know whether it worked.
    LoseAnswer,
    /// Sends the headers at once, then the body only after `delay_ms`.
    SlowBody { delay_ms: u64 },
    /// 421 "Wrong subdomain used to access tenant", and the tenant moves to a new node.
    MisdirectOnce,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        path.contains(&self.path_contains) && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// The active faults, first match wins.
#[derive(Default)]
pub struct Faults {
    list: Mutex<Vec<Fault>>,
}

impl Faults {
    pub fn inject(&self, fault: Fault) {
        if fault.times != Some(0) {
            lock(&self.list).push(fault);
        }
    }

    pub fn clear(&self) {
        lock(&self.list).clear();
    }

    pub fn active(&self) -> Vec<Fault> {
        lock(&self.list).clone()
    }

    /// The fault for this request, if any; counts it down and drops it when used up.
    pub fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut list = lock(&self.list);
        let idx = list.iter().position(|f| f.matches(method, path))?;
        let kind = list[idx].kind.clone();
        if let Some(n) = list[idx].times.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                list.remove(idx);
            }
        }
        Some(kind)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_by_path_and_method_and_count_down() {
        let f = Faults::default();
        f.inject(Fault { path_contains: "/Document".into(), method: Some("post".into()), kind: FaultKind::Reset, times: Some(2) });
        f.inject(Fault { path_contains: "/api/".into(), method: None, kind: FaultKind::Latency { ms: 5 }, times: None });
        assert_eq!(f.take("GET", "/Cust1/api/v1/Document"), Some(FaultKind::Latency { ms: 5 }));
        assert_eq!(f.take("POST", "/Cust1/api/v1/Document"), Some(FaultKind::Reset));
        assert_eq!(f.take("POST", "/Cust1/api/v1/Document"), Some(FaultKind::Reset));
        assert_eq!(f.take("POST", "/Cust1/api/v1/Document"), Some(FaultKind::Latency { ms: 5 }));
        assert_eq!(f.take("GET", "/login/common/oauth/tokens"), None);
        f.clear();
        assert!(f.active().is_empty());
    }

    #[test]
    fn faults_have_a_json_form() {
        let json = r#"{"path_contains":"/tokens","kind":{"TooManyRequests":{"retry_after_secs":3}},"times":1}"#;
        let f: Fault = serde_json::from_str(json).expect("fault");
        assert_eq!(f.kind, FaultKind::TooManyRequests { retry_after_secs: 3 });
        let reset: Fault = serde_json::from_str(r#"{"path_contains":"x","kind":"Reset"}"#).expect("reset");
        assert_eq!((reset.kind, reset.times), (FaultKind::Reset, None));
    }
}
