//! Part of `tests/secret_canary.rs`: the canaries and the search for them. A canary is a
//! unique value planted as a secret; the search looks for it raw and in every encoding a log,
//! a database or a payload could give it (URL-encoded, JSON-escaped, base64 and base64url at
//! every alignment, hex), and for token-shaped strings whose values the test never sees.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine as _;

use crate::MAX_TEMP_FILE;

/// 128 random bits as hex (std's `RandomState` is seeded from the OS per process and instance).
pub(crate) fn random_hex() -> String {
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
pub(crate) fn canary(tag: &str) -> String {
    let r = random_hex();
    format!("CnRy-{tag}+{}/{}=", &r[..16], &r[16..])
}

/// One encoded form of one canary.
pub(crate) struct Needle {
    pub(crate) canary: String,
    pub(crate) form: String,
    pub(crate) bytes: Vec<u8>,
}

/// What a base64 encoder can emit for `value` wherever it sits in a longer input: for each of
/// the three alignments, the characters that depend on the value's bytes alone.
pub(crate) fn base64_cores(value: &[u8], engine: &base64::engine::GeneralPurpose) -> Vec<String> {
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

pub(crate) fn percent_encode(value: &str, upper: bool) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ if upper => format!("%{b:02X}"),
            _ => format!("%{b:02x}"),
        })
        .collect()
}

pub(crate) fn needles(name: &str, value: &str) -> Vec<Needle> {
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
pub(crate) struct Canaries {
    pub(crate) needles: Vec<Needle>,
    pub(crate) names: Vec<String>,
}

impl Canaries {
    pub(crate) fn add(&mut self, name: &str, value: &str) {
        assert!(value.len() >= 16, "canary {name} is too short to be unique");
        self.names.push(name.to_owned());
        self.needles.extend(needles(name, value));
    }
}

pub(crate) struct Hit {
    pub(crate) file: PathBuf,
    pub(crate) canary: String,
    pub(crate) form: String,
    pub(crate) offset: usize,
}

pub(crate) fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
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
pub(crate) struct Scan {
    pub(crate) files: usize,
    pub(crate) bytes: u64,
    pub(crate) hits: Vec<Hit>,
    /// Access tokens (`8A:<tenant>.`) and JWTs (id_tokens) found by shape in our own files.
    pub(crate) shaped: Vec<(PathBuf, String)>,
    pub(crate) by_kind: BTreeMap<&'static str, (usize, u64)>,
}

impl Scan {
    pub(crate) fn file(&mut self, path: &Path, kind: &'static str, canaries: &Canaries, shapes: &[Vec<u8>]) {
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
    pub(crate) fn tree(
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

    pub(crate) fn report(&self, canaries: &Canaries) -> String {
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

    pub(crate) fn assert_clean(&self, canaries: &Canaries) {
        let mut problems: Vec<String> =
            self.hits.iter().map(|h| format!("  {} ({}) in {} at byte {}", h.canary, h.form, h.file.display(), h.offset)).collect();
        problems.extend(self.shaped.iter().map(|(f, s)| format!("  a token-shaped string in {}: {s:?}", f.display())));
        assert!(problems.is_empty(), "secrets leaked; {}:\n{}", self.report(canaries), problems.join("\n"));
    }
}

/// Shapes of secrets whose values the test never sees: the simulator's access tokens
/// (`8A:<tenant>.<random>`) and JWT headers (`{"typ":` / `{"alg":` / `{"kid":` in base64url).
pub(crate) fn token_shapes(context_id: &str) -> Vec<Vec<u8>> {
    [format!("8A:{context_id}."), "eyJ0eXAiOi".into(), "eyJhbGciOi".into(), "eyJraWQiOi".into()]
        .into_iter()
        .map(String::into_bytes)
        .collect()
}
