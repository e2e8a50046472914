//! Search that ignores case and accents, the way reps type: "muller" and "mueller" find
//! "Müller", "sao paulo" finds "São Paulo", "strasse" finds "Straße". SQLite's own `LIKE` folds
//! ASCII only, so the store registers [`search_key`] as the SQL function `so_fold` and compares
//! with the folded query ([`fold`]).

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Lower case, accents removed, ligatures and special letters spelled out ("Straße" →
/// "strasse", "Ærø" → "aero").
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            // Only the other characters are decomposed (NFKD), one at a time.
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    push_folded(&mut out, d);
                }
            });
        }
    }
    out
}

fn push_folded(out: &mut String, c: char) {
    match c {
        'ß' | 'ẞ' => out.push_str("ss"),
        'æ' | 'Æ' => out.push_str("ae"),
        'œ' | 'Œ' => out.push_str("oe"),
        'ø' | 'Ø' => out.push('o'),
        'ł' | 'Ł' => out.push('l'),
        'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
        'þ' | 'Þ' => out.push_str("th"),
        'ı' => out.push('i'),
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c => out.extend(c.to_lowercase()),
    }
}

/// What a query is matched against: [`fold`], and when it differs, the German spelling of
/// umlauts as well ("Müller" → "muller" and "mueller"), separated by a control character no
/// folded query contains.
pub fn search_key(s: &str) -> String {
    let plain = fold(s);
    if s.is_ascii() || !s.chars().any(|c| matches!(c, 'ä' | 'ö' | 'ü' | 'Ä' | 'Ö' | 'Ü')) {
        return plain;
    }
    let german: String = s
        .chars()
        .map(|c| match c {
            'ä' | 'Ä' => "ae".to_owned(),
            'ö' | 'Ö' => "oe".to_owned(),
            'ü' | 'Ü' => "ue".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("{plain}\u{1}{}", fold(&german))
}

/// The folded query; control characters (and so the key's separator) are dropped.
pub fn query(s: &str) -> String {
    fold(s.trim()).chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(text: &str, q: &str) -> bool {
        search_key(text).contains(&query(q))
    }

    #[test]
    fn case_and_accents_do_not_matter() {
        assert!(finds("Müller GmbH", "muller"));
        assert!(finds("Müller GmbH", "mueller"));
        assert!(finds("Müller GmbH", "MÜLLER"));
        assert!(finds("Mueller AG", "mueller"));
        assert!(finds("São Paulo Robótica", "sao paulo robotica"));
        assert!(finds("Hauptstraße 5", "strasse"));
        assert!(finds("Ærøskøbing", "aeroskobing"));
        assert!(finds("Łódź", "lodz"));
        assert!(finds("ﬁnance", "finance"), "compatibility ligatures are spelled out");
        assert!(finds("İstanbul", "istanbul"));
        assert!(!finds("Muller", "mueller"), "the German spelling is added only where there are umlauts");
        assert!(!finds("Müller", "miller"));
    }

    #[test]
    fn a_query_cannot_reach_across_the_two_spellings() {
        // "muller\u{1}mueller": a query of the end of one and the start of the other finds nothing.
        assert!(!finds("Müller", "ler\u{1}mue"));
        assert!(!finds("Müller", "lermue"));
    }
}
