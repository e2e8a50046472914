//! One page of the outbox for the list view: filtered by what the rep looks for (to review,
//! scheduled, sent, …), searched, sorted, counted — in SQLite, so a 10,000-draft outbox never
//! crosses the IPC bridge at once. The list rows leave out the body (the detail has it).

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use crate::store::{draft_row, Store, ROW_COLUMNS};
use crate::{DraftRow, Result};

/// The list's tabs; each is a set of states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum View {
    #[default]
    All,
    ToReview,
    /// Approved and waiting for the hold window or the limits, or being sent.
    Scheduled,
    Sent,
    NeedsDecision,
    Failed,
    Rejected,
    Snoozed,
}

impl View {
    pub const ALL: [View; 8] =
        [View::All, View::ToReview, View::Scheduled, View::Sent, View::NeedsDecision, View::Failed, View::Rejected, View::Snoozed];

    fn states(self) -> &'static [&'static str] {
        match self {
            View::All => &[],
            View::ToReview => &["pending"],
            View::Scheduled => &["approved", "sending"],
            View::Sent => &["sent", "archived", "done"],
            View::NeedsDecision => &["needs_decision"],
            View::Failed => &["failed"],
            View::Rejected => &["rejected"],
            View::Snoozed => &["snoozed"],
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Newest activity first.
    #[default]
    Updated,
    Company,
    Recipient,
    Subject,
    /// Arrival order.
    Created,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, specta::Type)]
pub struct PageQuery {
    pub view: View,
    /// Matched against company, recipient name and address, and subject (case-insensitive).
    pub search: String,
    pub sort: SortKey,
    pub descending: bool,
    pub offset: u32,
    /// At most 500.
    pub limit: u32,
    /// Only these drafts (a bulk approval's batch); empty: every draft.
    #[serde(default)]
    pub ids: Vec<i64>,
}

/// How many drafts each tab holds (for the current search).
#[derive(Clone, Debug, Default, Serialize, specta::Type)]
pub struct ViewCount {
    pub view: View,
    pub count: u32,
}

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Page {
    /// Rows matching the view and search, in all.
    pub total: u32,
    pub offset: u32,
    /// The rows of this page; `body` is left empty (see the detail).
    pub rows: Vec<DraftRow>,
    pub counts: Vec<ViewCount>,
}

pub const MAX_LIMIT: u32 = 500;

impl Store {
    /// One page of the list.
    pub fn page(&self, q: &PageQuery) -> Result<Page> {
        // Case and accents do not matter (`so_fold` is `fold::search_key`, see `Store::open`);
        // the query is a plain substring (no wildcards).
        let search = crate::fold::query(&q.search);
        let mut where_search = String::new();
        let mut params: Vec<Value> = Vec::new();
        if !search.is_empty() {
            // One call per row; char(2) keeps a match from reaching across two columns.
            where_search = " AND instr(so_fold(company || char(2) || recipient_name || char(2) || COALESCE(recipient_email, '') || char(2) || COALESCE(subject, '')), ?1) > 0".into();
            params.push(Value::Text(search));
        }
        if !q.ids.is_empty() {
            // Numbers only: nothing of the rep's input reaches the SQL text.
            where_search.push_str(&format!(" AND id IN ({})", q.ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")));
        }
        let states = q.view.states();
        let where_view = if states.is_empty() {
            String::new()
        } else {
            format!(" AND state IN ({})", states.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(","))
        };
        let order = match q.sort {
            SortKey::Updated => "updated_at",
            SortKey::Company => "company COLLATE NOCASE",
            SortKey::Recipient => "recipient_name COLLATE NOCASE",
            SortKey::Subject => "subject COLLATE NOCASE",
            SortKey::Created => "id",
        };
        // "Updated" reads newest first unless reversed; the others A→Z unless reversed.
        let desc = (q.sort == SortKey::Updated) != q.descending;
        let dir = if desc { "DESC" } else { "ASC" };
        let limit = q.limit.clamp(1, MAX_LIMIT);
        let conn = self.conn();
        let columns = ROW_COLUMNS.replace(" body,", " '' AS body,");
        let sql = format!(
            "SELECT {columns} FROM drafts WHERE 1=1{where_search}{where_view} ORDER BY {order} {dir}, id {dir} LIMIT {limit} OFFSET {}",
            q.offset
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), draft_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_state = std::collections::HashMap::<String, u32>::new();
        let mut stmt = conn.prepare(&format!("SELECT state, COUNT(*) FROM drafts WHERE 1=1{where_search} GROUP BY state"))?;
        for r in stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
            let (s, n) = r?;
            by_state.insert(s, n);
        }
        let count = |v: View| -> u32 {
            if v == View::All {
                by_state.values().sum()
            } else {
                v.states().iter().map(|s| by_state.get(*s).copied().unwrap_or(0)).sum()
            }
        };
        Ok(Page {
            total: count(q.view),
            offset: q.offset,
            rows,
            counts: View::ALL.iter().map(|v| ViewCount { view: *v, count: count(*v) }).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::NewDraft;

    fn store_with(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("o.sqlite")).unwrap();
        let drafts: Vec<NewDraft> = (0..n)
            .map(|i| NewDraft {
                source: "test".into(),
                source_ref: i.to_string(),
                contact_id: 1,
                person_id: 1,
                sale_id: 0,
                company: if i % 2 == 0 { format!("Müller {i:05}") } else { format!("Hansen {i:05}") },
                recipient_name: format!("Person {i}"),
                recipient_email: Some(format!("p{i}@x.example")),
                subject: Some(if i == 7 { "100% off_sale".into() } else { format!("Subject {i}") }),
                body: "body text".into(),
                problem: None,
            })
            .collect();
        store.insert_drafts(&drafts).unwrap();
        (dir, store)
    }

    #[test]
    fn pages_filters_search_sort_and_counts() {
        let (_d, store) = store_with(1200);
        store.reject(3, "no", "rep").unwrap();
        store.snooze(4, crate::now_ms() + 60_000, "rep").unwrap();
        let q = PageQuery { limit: 100, ..PageQuery::default() };
        let p = store.page(&q).unwrap();
        assert_eq!((p.total, p.rows.len()), (1200, 100));
        assert!(p.rows.iter().all(|r| r.body.is_empty()), "list rows carry no body");
        let count = |p: &Page, v: View| p.counts.iter().find(|c| c.view == v).unwrap().count;
        assert_eq!((count(&p, View::ToReview), count(&p, View::Rejected), count(&p, View::Snoozed)), (1198, 1, 1));
        let last = store.page(&PageQuery { offset: 1150, limit: 100, ..PageQuery::default() }).unwrap();
        assert_eq!(last.rows.len(), 50);
        let rejected = store.page(&PageQuery { view: View::Rejected, limit: 10, ..PageQuery::default() }).unwrap();
        assert_eq!((rejected.total, rejected.rows[0].id), (1, 3));
        let mueller =
            store.page(&PageQuery { search: "müller 0001".into(), sort: SortKey::Company, limit: 500, ..PageQuery::default() }).unwrap();
        assert_eq!(mueller.total, 5, "Müller 00010, 00012 … 00018 (even ids are Müller)");
        assert!(mueller.rows.windows(2).all(|w| w[0].company <= w[1].company), "sorted by company");
        // Case and accents do not matter; the German spelling of umlauts finds them too.
        for typed in ["MULLER 0001", "mueller 0001", "Müller 0001"] {
            let found = store.page(&PageQuery { search: typed.into(), limit: 500, ..PageQuery::default() }).unwrap();
            assert_eq!(found.total, 5, "{typed}");
        }
        // LIKE wildcards in the search are literal.
        let pct = store.page(&PageQuery { search: "100%".into(), limit: 10, ..PageQuery::default() }).unwrap();
        assert_eq!((pct.total, pct.rows[0].id), (1, 8));
        assert_eq!(store.page(&PageQuery { search: "_".into(), limit: 10, ..PageQuery::default() }).unwrap().total, 1);
        // A batch's ids: only those, counted per tab.
        let batch = store.page(&PageQuery { ids: vec![3, 4, 5, 999_999], limit: 10, ..PageQuery::default() }).unwrap();
        assert_eq!(batch.total, 3);
        assert_eq!((count(&batch, View::Rejected), count(&batch, View::Snoozed), count(&batch, View::ToReview)), (1, 1, 1));
        let one = store.page(&PageQuery { ids: vec![3, 4, 5], view: View::Rejected, limit: 10, ..PageQuery::default() }).unwrap();
        assert_eq!(one.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3]);
    }

    /// Prints what the folded search costs over 10,000 drafts (measured, not asserted): the
    /// list asks for a page and the tab counts on every keystroke.
    #[test]
    fn folded_search_over_ten_thousand_drafts() {
        let (_d, store) = store_with(10_000);
        let time = |search: &str| {
            let t = std::time::Instant::now();
            let p = store.page(&PageQuery { search: search.into(), limit: 100, ..PageQuery::default() }).unwrap();
            (p.total, t.elapsed().as_secs_f64() * 1000.0)
        };
        let (none, plain_ms) = time("");
        let (found, folded_ms) = time("mueller 0999");
        assert_eq!((none, found), (10_000, 5));
        eprintln!("page: first 100 of 10,000 without search {plain_ms:.1} ms; folded search {folded_ms:.1} ms");
    }
}
