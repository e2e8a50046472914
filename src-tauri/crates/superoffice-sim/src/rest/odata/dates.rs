//! Dates as SuperOffice's OData filters write them: ISO-like literals (and the older dotted
//! form of the Find agent page's examples) and the encoded `[D:…]` / `[DT:…]` values. Used by
//! the parser (literals) and the evaluator (row values), which need it and not each other.

use time::{Date, Month, PrimitiveDateTime, Time};

/// `YYYY-MM-DD`, `YYYY-M-D` or `YYYY.M.D` (older examples on the Find agent page), optionally
/// followed by `T` or a space and `HH:MM[:SS[.fff]]`, an offset or `Z` being ignored.
pub fn parse_datetime(s: &str) -> Option<(PrimitiveDateTime, bool)> {
    let s = s.trim();
    let (date, rest) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.split(['-', '.', '/']);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    let date = ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    let Some(rest) = rest.filter(|r| !r.is_empty()) else {
        return Some((PrimitiveDateTime::new(date, Time::MIDNIGHT), false));
    };
    let clock = rest.split(['Z', '+']).next().unwrap_or("");
    let clock = if clock.len() > 8 && clock[8..].starts_with('-') { &clock[..8] } else { clock };
    let time = hms(clock)?;
    Some((PrimitiveDateTime::new(date, time), true))
}

/// `[D:09.11.2017]` (day.month.year) and `[DT:11/09/2017 14:53:18]` (month/day/year), as on
/// the encoded-values page (both examples are 9 November 2017).
pub fn parse_encoded_date(marker: &str, value: &str) -> Option<(PrimitiveDateTime, bool)> {
    if marker == "D" {
        let mut p = value.split('.');
        let (d, m, y) = (p.next()?, p.next()?, p.next()?);
        return Some((PrimitiveDateTime::new(ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?, Time::MIDNIGHT), false));
    }
    let (date, clock) = value.split_once(' ').unwrap_or((value, "00:00:00"));
    let mut p = date.split('/');
    let (m, d, y) = (p.next()?, p.next()?, p.next()?);
    Some((PrimitiveDateTime::new(ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?, hms(clock)?), true))
}

pub(super) fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn hms(clock: &str) -> Option<Time> {
    let mut c = clock.split(':');
    let h: u8 = c.next()?.parse().ok()?;
    let mi: u8 = c.next()?.parse().ok()?;
    let s: u8 = c.next().map(|s| s.split('.').next().unwrap_or("0").parse()).unwrap_or(Ok(0)).ok()?;
    Time::from_hms(h, mi, s).ok()
}
