//! Whose context a SuperOffice check runs in (the signed-in rep or the partner's system user),
//! and the evidence line every check writes: what was asked, and how long it took.

/// Whose context the checks run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Caller {
    Rep,
    SystemUser,
}

pub(crate) fn evidence(e: &superoffice::Error, ms: u128) -> String {
    format!("{e} ({ms} ms)")
}

pub(crate) fn ok_line(what: &str, ms: u128) -> String {
    format!("{what} ({ms} ms)")
}
