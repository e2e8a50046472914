//! Drafts from files (`outbox::import`): `.json` and `.eml`.

use std::collections::HashMap;
use std::path::Path;

use outbox::draft::check;
use outbox::import::{parse_file, SOURCE_IMPORT};
use outbox::mime::Outgoing;
use outbox::{NewDraft, Store};

/// The input's first line is the file name (`drafts.json` when there is no line break), the
/// rest the file. Checks: only `.json`/`.eml` accepted; every draft trimmed, with a reference
/// and the problem `check` gives; a draft without a problem builds into a message whose
/// headers parse back (see `mime_roundtrip`); parsing is deterministic; importing into an
/// outbox adds each reference once, stores the values unchanged, and a second import adds
/// nothing.
pub fn import_file(data: &[u8]) {
    let (name, bytes) = match data.iter().position(|&b| b == b'\n') {
        Some(i) if i <= 64 => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        _ => ("drafts.json".to_owned(), data),
    };
    let lower = name.to_ascii_lowercase();
    let (json, eml) = (lower.ends_with(".json"), lower.ends_with(".eml"));
    let drafts = match parse_file(&name, bytes) {
        Ok(d) => d,
        Err(e) => {
            assert_eq!(e.code(), "draft_not_sendable", "{e}");
            return;
        }
    };
    assert!(json || eml, "{name} accepted");
    if eml {
        assert_eq!(drafts.len(), 1, "an .eml is one draft");
    }
    for d in &drafts {
        assert_eq!(d.source, SOURCE_IMPORT);
        assert!(!d.source_ref.trim().is_empty(), "no reference");
        if eml {
            assert!(d.source_ref.starts_with("eml:<") || d.source_ref.starts_with("sha256:"), "{}", d.source_ref);
        }
        for v in [d.recipient_email.as_deref(), d.subject.as_deref()].into_iter().flatten() {
            assert!(!v.is_empty() && v.trim() == v, "not trimmed: {v:?}");
        }
        assert_eq!(d.problem, check(d.recipient_email.as_deref(), &d.recipient_name, d.subject.as_deref(), &d.body));
        if d.problem.is_none() {
            // Sendable as imported: the message builds and reads back as the draft says.
            let (Some(to), Some(subject)) = (d.recipient_email.as_deref(), d.subject.as_deref()) else {
                panic!("no problem, but no recipient or subject")
            };
            let message_id = outbox::mime::new_message_id("anna.berger@roboplanet.example");
            crate::mime::check_build(&Outgoing {
                from_name: "Anna Berger",
                from_address: "anna.berger@roboplanet.example",
                to_name: &d.recipient_name,
                to_address: to,
                subject,
                body: &d.body,
                message_id: &message_id,
                date: time::macros::datetime!(2026-11-28 10:00 UTC),
            });
        }
    }
    let again = parse_file(&name, bytes).unwrap_or_else(|e| panic!("second parse failed: {e}"));
    assert_eq!(fingerprint(&again), fingerprint(&drafts), "not deterministic");

    // Into an outbox (in memory): each reference once, values as parsed, then nothing twice.
    let store = Store::open(Path::new(":memory:")).unwrap_or_else(|e| panic!("{e}"));
    let first = outbox::import_file(&store, &name, bytes).unwrap_or_else(|e| panic!("import failed after parse succeeded: {e}"));
    let mut by_ref: HashMap<&str, &NewDraft> = HashMap::new();
    for d in &drafts {
        by_ref.entry(d.source_ref.as_str()).or_insert(d);
    }
    assert_eq!(first.added as usize, by_ref.len(), "one draft per reference");
    assert_eq!((first.added + first.already_there) as usize, drafts.len());
    assert_eq!(first.with_problems as usize, by_ref.values().filter(|d| d.problem.is_some()).count());
    let rows = store.list().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), by_ref.len());
    for r in &rows {
        let d = by_ref.get(r.source_ref.as_str()).unwrap_or_else(|| panic!("stored an unknown reference {:?}", r.source_ref));
        assert_eq!(
            (&r.recipient_email, &r.subject, &r.body, &r.recipient_name, r.problem),
            (&d.recipient_email, &d.subject, &d.body, &d.recipient_name, d.problem),
            "stored values differ from the file's"
        );
    }
    let second = outbox::import_file(&store, &name, bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((second.added, second.already_there as usize), (0, drafts.len()), "re-import added drafts");
}

type Fingerprint<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, &'a str, &'a str);

fn fingerprint(drafts: &[NewDraft]) -> Vec<Fingerprint<'_>> {
    drafts
        .iter()
        .map(|d| {
            (
                d.source_ref.as_str(),
                d.recipient_name.as_str(),
                d.recipient_email.as_deref(),
                d.subject.as_deref(),
                d.body.as_str(),
                d.company.as_str(),
            )
        })
        .collect()
}
