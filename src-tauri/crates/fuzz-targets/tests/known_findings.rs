//! The open findings the targets step around (`fuzz_targets::known`) are still open, and only
//! they are stepped around: each input under `fuzz/known/<target>/` (named
//! `<Finding>-<case>`) passes its target as the fuzzer runs it, and fails it when the open
//! findings are checked too. When a finding is fixed this test fails: move its inputs into
//! `fuzz/corpus/<target>/` and delete the finding from `known.rs`.
//!
//! (A test binary of its own: strict checking is a process-wide switch.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use std::path::Path;

use fuzz_targets::known::{set_strict, Finding};

#[test]
fn known_findings_are_still_open_and_only_stepped_around() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fuzz/known");
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    // No directory: no open finding.
    for target_dir in std::fs::read_dir(&dir).into_iter().flatten().map(|e| e.unwrap().path()) {
        let target_name = target_dir.file_name().unwrap().to_string_lossy().into_owned();
        let (_, target) = fuzz_targets::TARGETS
            .iter()
            .find(|(n, _)| *n == target_name)
            .unwrap_or_else(|| panic!("fuzz/known/{target_name}: no such target"));
        for file in std::fs::read_dir(&target_dir).unwrap().map(|e| e.unwrap().path()) {
            let name = format!("{target_name}/{}", file.file_name().unwrap().to_string_lossy());
            let finding = name.split('/').nth(1).and_then(|f| f.split('-').next()).unwrap_or_default().to_owned();
            if !Finding::ALL.iter().any(|f| format!("{f:?}") == finding) {
                problems.push(format!("{name}: names no open finding"));
                continue;
            }
            seen.push(finding);
            let bytes = std::fs::read(&file).unwrap();
            set_strict(false);
            if std::panic::catch_unwind(|| target(&bytes)).is_err() {
                problems.push(format!("{name}: fails even when its finding is stepped around"));
            }
            set_strict(true);
            if std::panic::catch_unwind(|| target(&bytes)).is_ok() {
                problems.push(format!("{name}: passes when checked strictly: the finding is fixed; move the input to fuzz/corpus"));
            }
            set_strict(false);
        }
    }
    for f in Finding::ALL {
        if !seen.contains(&format!("{f:?}")) {
            problems.push(format!("{f:?} has no input under fuzz/known/"));
        }
    }
    println!("known findings replayed: {}", seen.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
