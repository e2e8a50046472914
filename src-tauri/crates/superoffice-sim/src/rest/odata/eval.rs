//! Row values of the archive listings and the `$filter` semantics: how a column's value is
//! compared with a term's values, and how it is written back in SLIM (display or logical) and
//! FULL mode. The shapes are described at the top of `odata/mod.rs`.

use std::cmp::Ordering;

use serde_json::{json, Value};
use time::{Date, Duration, PrimitiveDateTime};

use super::columns::{Column, Kind};
use super::dates::parse_datetime;
use super::dates::ymd;
use super::parse::{Expr, TextFn, Val};

/// A column's value in one row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Int(i64),
    Num(f64),
    Text(String),
    Bool(bool),
    /// `None` = no date; the flag says whether the value has a time of day.
    Date(Option<(PrimitiveDateTime, bool)>),
    /// A list item or an associate: its id and its display text.
    Item {
        id: i64,
        text: String,
    },
}

/// What a display value of a boolean is: SuperOffice documents only that `$output=Display`
/// "returns icon hints" for booleans (`v1AppointmentEntity_GetAll.md`); the hint strings are
/// the simulator's. Use `$output=Logical` to get `true`/`false`.
pub const ICON_TRUE: &str = "[ICON:checked]";
pub const ICON_FALSE: &str = "[ICON:unchecked]";

impl Cell {
    /// The value of a documented column the simulator has no data for: empty, of its type.
    pub fn empty(kind: Kind) -> Cell {
        match kind {
            Kind::Bool => Cell::Bool(false),
            Kind::Int | Kind::TimeSpan => Cell::Int(0),
            Kind::Decimal => Cell::Num(0.0),
            Kind::Date | Kind::DateTime | Kind::UnlimitedDate => Cell::Date(None),
            Kind::ListAny | Kind::Associate | Kind::UserGroup => Cell::Item { id: 0, text: String::new() },
            Kind::String | Kind::PositiveString | Kind::StringOrPk | Kind::ListInterest | Kind::SaintStatus | Kind::None => {
                Cell::Text(String::new())
            }
        }
    }

    /// A stored date such as `2026-11-02T09:00:00` or `2026-12-03T10:00:00+01:00`.
    pub fn date(s: &str) -> Cell {
        Cell::Date(parse_datetime(s))
    }

    /// SLIM mode, `$output=Logical`: ints and ids as numbers, booleans as `true`/`false`.
    pub fn logical(&self) -> Value {
        match self {
            Cell::Int(i) => json!(i),
            Cell::Num(n) => json!(n),
            Cell::Text(s) => json!(s),
            Cell::Bool(b) => json!(b),
            Cell::Date(d) => json!(iso(d)),
            Cell::Item { id, .. } => json!(id),
        }
    }

    /// SLIM mode, `$output=Display` (the default): display strings, list items and
    /// associates by their text.
    pub fn display(&self) -> Value {
        match self {
            Cell::Int(i) => json!(i.to_string()),
            Cell::Num(n) => json!(n.to_string()),
            Cell::Text(s) => json!(s),
            Cell::Bool(b) => json!(if *b { ICON_TRUE } else { ICON_FALSE }),
            Cell::Date(d) => json!(iso(d)),
            Cell::Item { text, .. } => json!(text),
        }
    }

    /// FULL mode: `{RawValue, DisplayValue, LinkHint, TooltipHint}`, the display value encoded
    /// as `docs/en/api/archive-providers/encoded-values.md` describes ("Except for string column
    /// values, DisplayValue always contains an encoded string").
    pub fn full(&self) -> Value {
        let display = match self {
            Cell::Int(i) => format!("[I:{i}]"),
            Cell::Num(n) => format!("[F:{n}]"),
            Cell::Text(s) => s.clone(),
            Cell::Bool(b) => (if *b { ICON_TRUE } else { ICON_FALSE }).to_owned(),
            Cell::Date(None) => String::new(),
            Cell::Date(Some((d, true))) => format!(
                "[DT:{:02}/{:02}/{:04} {:02}:{:02}:{:02}]",
                u8::from(d.month()),
                d.day(),
                d.year(),
                d.hour(),
                d.minute(),
                d.second()
            ),
            Cell::Date(Some((d, false))) => format!("[D:{:02}.{:02}.{:04}]", d.day(), u8::from(d.month()), d.year()),
            Cell::Item { text, .. } => text.clone(),
        };
        json!({"RawValue": self.logical(), "DisplayValue": display, "LinkHint": "", "TooltipHint": ""})
    }

    /// Order for `$orderBy`.
    pub fn compare(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Num(a), Cell::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Cell::Text(a), Cell::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
            (Cell::Bool(a), Cell::Bool(b)) => a.cmp(b),
            (Cell::Date(a), Cell::Date(b)) => a.map(|x| x.0).cmp(&b.map(|x| x.0)),
            (Cell::Item { id: a, text: ta }, Cell::Item { id: b, text: tb }) => ta.to_lowercase().cmp(&tb.to_lowercase()).then(a.cmp(b)),
            _ => Ordering::Equal,
        }
    }
}

/// ISO form of a date value: "Dates are always returned as ISO strings" (`$output` on the GET pages).
fn iso(d: &Option<(PrimitiveDateTime, bool)>) -> String {
    match d {
        None => String::new(),
        Some((d, _)) => {
            format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", d.year(), u8::from(d.month()), d.day(), d.hour(), d.minute(), d.second())
        }
    }
}

/// What a term is evaluated against besides the row.
pub struct Ctx {
    /// The caller (`currentAssociate`).
    pub associate_id: i64,
    pub today: Date,
}

/// Whether a row passes the filter. `cell` gives the row's value of a column.
pub fn matches(e: &Expr, cell: &dyn Fn(&Column) -> Cell, ctx: &Ctx) -> bool {
    match e {
        Expr::And(a, b) => matches(a, cell, ctx) && matches(b, cell, ctx),
        Expr::Or(a, b) => matches(a, cell, ctx) || matches(b, cell, ctx),
        Expr::Func { func, column, needle } => {
            let Cell::Text(t) = cell(column) else { return false };
            let (t, n) = (t.to_lowercase(), needle.to_lowercase());
            match func {
                TextFn::StartsWith => t.starts_with(&n),
                TextFn::EndsWith => t.ends_with(&n),
                TextFn::SubstringOf => t.contains(&n),
            }
        }
        Expr::Term { column, op, args } => term(&cell(column), op, args, ctx),
    }
}

fn num(v: &Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::Num(n) => Some(*n),
        _ => None,
    }
}

fn term(c: &Cell, op: &str, args: &[Val], ctx: &Ctx) -> bool {
    let a = args.first();
    let b = args.get(1);
    match c {
        Cell::Int(_) | Cell::Num(_) => {
            let x = match c {
                Cell::Int(i) => *i as f64,
                Cell::Num(n) => *n,
                _ => 0.0,
            };
            let (a, b) = (a.and_then(num), b.and_then(num));
            match op {
                "equals" | "eq" | "=" | "set" => a == Some(x),
                "ne" | "unequals" | "!=" => a.is_some_and(|a| a != x),
                "lt" | "<" | "less" => a.is_some_and(|a| x < a),
                "gt" | ">" | "greater" => a.is_some_and(|a| x > a),
                "between" => a.zip(b).is_some_and(|(a, b)| a <= x && x <= b),
                "isnull" => x == 0.0,
                "isnotnull" => x != 0.0,
                _ => false,
            }
        }
        Cell::Item { id, .. } => {
            let ids: Vec<i64> = args.iter().filter_map(|v| if let Val::Int(i) = v { Some(*i) } else { None }).collect();
            match op {
                "oneof" | "in" | "associateisoneof" => ids.contains(id),
                "notoneof" | "associateisnotoneof" => !ids.contains(id),
                "equals" | "=" | "is" => ids.first() == Some(id),
                "currentassociate" => *id == ctx.associate_id,
                "isnull" => *id == 0,
                "isnotnull" => *id != 0,
                _ => false,
            }
        }
        Cell::Bool(x) => match (op, a) {
            ("set" | "equals", Some(Val::Bool(v))) => x == v,
            ("isnull", _) => false,
            ("isnotnull", _) => true,
            _ => false,
        },
        Cell::Text(t) => {
            let t = t.to_lowercase();
            let text = |v: Option<&Val>| if let Some(Val::Text(s)) = v { Some(s.to_lowercase()) } else { None };
            let (a, b) = (text(a), text(b));
            match op {
                "begins" => a.is_some_and(|a| t.starts_with(&a)),
                "notbegins" => a.is_some_and(|a| !t.starts_with(&a)),
                "contains" => a.is_some_and(|a| t.contains(&a)),
                "notcontains" => a.is_some_and(|a| !t.contains(&a)),
                "ends" => a.is_some_and(|a| t.ends_with(&a)),
                "is" | "eq" | "=" | "equals" => a.is_some_and(|a| t == a),
                "isnot" => a.is_some_and(|a| t != a),
                "between" => a.zip(b).is_some_and(|(a, b)| a <= t && t <= b),
                "in" => args.iter().any(|v| matches!(v, Val::Text(s) if s.to_lowercase() == t)),
                "isnull" => t.is_empty(),
                "isnotnull" => !t.is_empty(),
                _ => false,
            }
        }
        Cell::Date(d) => date_term(*d, op, a, b, ctx),
    }
}

fn date_term(d: Option<(PrimitiveDateTime, bool)>, op: &str, a: Option<&Val>, b: Option<&Val>, ctx: &Ctx) -> bool {
    let Some((d, _)) = d else { return op == "isnull" };
    let at = |v: Option<&Val>| if let Some(Val::Date(x, _)) = v { Some(*x) } else { None };
    let (a, b) = (at(a), at(b));
    let day = d.date();
    let in_range = |(from, to): (Date, Date)| from <= day && day < to;
    let today = ctx.today;
    match op {
        "before" => a.is_some_and(|a| day < a.date()),
        "date" | "equals" => a.is_some_and(|a| day == a.date()),
        "after" => a.is_some_and(|a| day > a.date()),
        "beforeorequal" => a.is_some_and(|a| day <= a.date()),
        "datebetween" | "between" => a.zip(b).is_some_and(|(a, b)| a.date() <= day && day <= b.date()),
        "datetime" => a.is_some_and(|a| d == a),
        "beforetime" => a.is_some_and(|a| d < a),
        "aftertime" => a.is_some_and(|a| d >= a),
        "beforetoday" => day < today,
        "today" => day == today,
        "aftertoday" => day > today,
        "isnull" => false,
        "isnotnull" => true,
        period => period_range(period, today).is_some_and(in_range),
    }
}

/// `[from, to)` of the period operators (`thisWeek` …), weeks starting on Monday.
fn period_range(op: &str, today: Date) -> Option<(Date, Date)> {
    let week = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let month_start = |y: i32, m: i32| {
        let (y, m) = (y + (m - 1).div_euclid(12), (m - 1).rem_euclid(12) + 1);
        ymd(y, m as u8, 1)
    };
    let (y, m) = (today.year(), i32::from(u8::from(today.month())));
    let q = (m - 1) / 3 * 3 + 1;
    let h = if m <= 6 { 1 } else { 7 };
    Some(match op {
        "lastweek" => (week - Duration::weeks(1), week),
        "thisweek" => (week, week + Duration::weeks(1)),
        "nextweek" => (week + Duration::weeks(1), week + Duration::weeks(2)),
        "lastmonth" => (month_start(y, m - 1)?, month_start(y, m)?),
        "thismonth" => (month_start(y, m)?, month_start(y, m + 1)?),
        "nextmonth" => (month_start(y, m + 1)?, month_start(y, m + 2)?),
        "lastquarter" => (month_start(y, q - 3)?, month_start(y, q)?),
        "thisquarter" => (month_start(y, q)?, month_start(y, q + 3)?),
        "nextquarter" => (month_start(y, q + 3)?, month_start(y, q + 6)?),
        "thishalf" => (month_start(y, h)?, month_start(y, h + 6)?),
        "thisyear" => (month_start(y, 1)?, month_start(y, 13)?),
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::dates::parse_encoded_date;
    use super::*;

    #[test]
    fn dates_in_the_documented_forms() {
        let (d, t) = parse_datetime("2020-05-28").expect("date");
        assert_eq!((d.year(), u8::from(d.month()), d.day(), t), (2020, 5, 28, false));
        assert!(parse_datetime("2014.3.4").is_some());
        let (d, t) = parse_datetime("2026-12-03T10:00:00+01:00").expect("offset");
        assert_eq!((d.hour(), t), (10, true));
        assert!(parse_datetime("28.05.2020").is_none());
        let (d, _) = parse_encoded_date("D", "09.11.2017").expect("D");
        let (e, _) = parse_encoded_date("DT", "11/09/2017 14:53:18").expect("DT");
        assert_eq!(d.date(), e.date());
    }

    #[test]
    fn periods() {
        let today = ymd(2026, 12, 3).expect("date"); // a Thursday
        assert_eq!(period_range("thisweek", today), Some((ymd(2026, 11, 30).expect("d"), ymd(2026, 12, 7).expect("d"))));
        assert_eq!(period_range("nextmonth", today), Some((ymd(2027, 1, 1).expect("d"), ymd(2027, 2, 1).expect("d"))));
        assert_eq!(period_range("lastquarter", today), Some((ymd(2026, 7, 1).expect("d"), ymd(2026, 10, 1).expect("d"))));
    }
}
