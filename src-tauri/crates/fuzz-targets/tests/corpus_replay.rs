//! Replays the saved fuzz corpus (`fuzz/corpus/<target>/`) through the same target functions
//! `cargo fuzz` runs, on stable, as part of `cargo test --workspace`: every input once found
//! interesting — including every crash, kept as a regression case — must pass the target's
//! invariants.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fuzz")
}

fn names_in(dir: &Path, ext: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_target_has_a_fuzz_binary_and_a_corpus() {
    let mut known: Vec<String> = fuzz_targets::TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    known.sort();
    assert_eq!(names_in(&fuzz_dir().join("fuzz_targets"), Some("rs")), known, "fuzz/fuzz_targets/*.rs");
    assert_eq!(names_in(&fuzz_dir().join("corpus"), None), known, "fuzz/corpus/*");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for name in &known {
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name} is not a [[bin]] in fuzz/Cargo.toml");
    }
}

#[test]
fn the_saved_corpus_passes_every_invariant() {
    // Panics are caught per input and reported together, by file name.
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for (name, target) in fuzz_targets::TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "the corpus of {name} is empty");
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| target(&bytes)) {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}/{}: {why}", f.file_name().unwrap().to_string_lossy()));
            }
        }
        counts.push(format!("{name}: {}", files.len()));
    }
    println!("corpus replayed: {}", counts.join(", "));
    assert!(failures.is_empty(), "{} corpus inputs fail:\n{}", failures.len(), failures.join("\n"));
}
