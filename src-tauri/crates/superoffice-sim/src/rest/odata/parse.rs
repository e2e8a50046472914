//! The `$filter` language of the archive-backed OData listings, parsed strictly after the
//! documentation: `column operator value` terms joined with `and`/`or` (AND binds tighter than
//! OR, parentheses group), the string functions, and values written as the pages write them.
//!
//! Sources (repo SuperOfficeDocs/superoffice-docs):
//! - operators and the number of values each takes: `docs/odata-operators.tsv` (see columns.rs);
//! - value forms: `docs/en/api/search/odata/{numbers,strings,lists,associate,boolean,date,datetime,unary}.md`
//!   (ints bare `contactId eq 2`, strings in single quotes `name begins 'S'`, lists in
//!   parentheses `category oneOf (3,6)`, two values `between ('A','S')`, `hasInterests set true`,
//!   dates `date before '2020-05-28'`, date-times `'2020-05-28T15:00:00'`, unary `date today`);
//! - quotes inside strings: "Use backslash to escape single quotes in strings"
//!   (`docs/en/api/reference/restful/agent/Find_Agent/v1FindAgent_GetDefaultDesiredColumnsFromRestrictions2.md`);
//!   OData's doubled `''` is not documented there and is refused;
//! - "AND and OR can be used to combine terms. AND has a higher priority than OR" (same page);
//! - encoded values (`[I:123]`, `[D:09.11.2017]`, `[DT:11/09/2017 14:53:18]`, `[F:123.4]`) "are
//!   allowed and NetServer knows how to detect and process them"
//!   (`docs/en/api/archive-providers/encoded-values.md`);
//! - functions `startswith(col,'x')`, `endswith(col,'x')`, `substringof(a,b)`
//!   (`.../rest/Appointment/v1AppointmentEntity_GetAll.md`); the date functions on that page
//!   (`this(f,period)` …) are documented but not simulated (HTTP 501).

use axum::http::StatusCode;
use time::PrimitiveDateTime;

use super::columns::{operator, Arity, Column, Kind, OperatorError, Provider};
use super::dates::parse_datetime;
use super::ODataError;
use crate::reqlog::ODataUse;

/// A value of a `$filter` term, already checked against the column's restriction type.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(i64),
    Num(f64),
    Text(String),
    Bool(bool),
    /// The moment, and whether a time of day was given.
    Date(PrimitiveDateTime, bool),
}

/// The string functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFn {
    StartsWith,
    EndsWith,
    SubstringOf,
}

/// A parsed `$filter`.
#[derive(Clone, Debug)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Term { column: &'static Column, op: String, args: Vec<Val> },
    Func { func: TextFn, column: &'static Column, needle: String },
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Sym(String),
    Str(String),
    Num(String),
    /// `[X:value]`
    Enc(String, String),
    Open,
    Close,
    Comma,
}

fn bad(message: String) -> ODataError {
    ODataError::archive(message)
}

fn lex(input: &str) -> Result<Vec<Tok>, ODataError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("Unterminated string in $filter".into())),
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some(e) => s.push(*e),
                                None => return Err(bad("Unterminated string in $filter".into())),
                            }
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| x == ']')
                    .map(|p| i + p)
                    .ok_or_else(|| bad("Unterminated encoded value in $filter".into()))?;
                let inner: String = chars[i + 1..end].iter().collect();
                let (marker, value) = inner.split_once(':').ok_or_else(|| bad(format!("Bad encoded value '[{inner}]' in $filter")))?;
                out.push(Tok::Enc(marker.to_owned(), value.to_owned()));
                i = end + 1;
            }
            '=' | '<' | '>' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let sym = if matches!(two.as_str(), "<=" | ">=" | "!=") { two } else { c.to_string() };
                if sym == "!" {
                    return Err(bad("Unexpected '!' in $filter".into()));
                }
                i += sym.len();
                out.push(Tok::Sym(sym));
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|d| d.is_ascii_digit() || *d == '.') {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while chars.get(i).is_some_and(|d| d.is_alphanumeric() || matches!(d, '_' | '/' | '.' | ':')) {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(bad(format!("Unexpected character '{other}' in $filter"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    provider: &'static Provider,
    seen: &'a mut ODataUse,
}

/// Parses `filter` for `provider`, noting the columns, operators and functions it names in
/// `seen` (also when it is refused, so the request log shows what was asked).
pub fn parse(filter: &str, provider: &'static Provider, seen: &mut ODataUse) -> Result<Expr, ODataError> {
    let toks = lex(filter)?;
    let mut p = Parser { toks, pos: 0, provider, seen };
    let e = p.or()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(bad(format!("Unexpected {} in $filter", describe(t)))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("'{w}'"),
        Tok::Sym(s) => format!("'{s}'"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Num(n) => format!("number {n}"),
        Tok::Enc(m, v) => format!("[{m}:{v}]"),
        Tok::Open => "'('".into(),
        Tok::Close => "')'".into(),
        Tok::Comma => "','".into(),
    }
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// Date functions on the GET pages; documented, not simulated.
const DATE_FUNCTIONS: &[&str] = &["this", "next", "previous", "thisAndNext", "thisAndPrevious", "thisAndPreviousAndNext"];

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ODataError> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(bad(format!("Expected {what} in $filter, found {}", describe(&t)))),
            None => Err(bad(format!("Expected {what} at the end of $filter"))),
        }
    }

    fn or(&mut self) -> Result<Expr, ODataError> {
        let mut e = self.and()?;
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, ODataError> {
        let mut e = self.factor()?;
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.factor()?));
        }
        Ok(e)
    }

    fn factor(&mut self) -> Result<Expr, ODataError> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                self.expect(Tok::Close, "')'")?;
                Ok(e)
            }
            Some(Tok::Word(w)) if self.peek() == Some(&Tok::Open) => self.function(&w),
            Some(Tok::Word(w)) => self.term(&w),
            Some(t) => Err(bad(format!("Expected a column name in $filter, found {}", describe(&t)))),
            None => Err(bad("Expected a column name at the end of $filter".into())),
        }
    }

    fn column(&mut self, name: &str) -> Result<&'static Column, ODataError> {
        self.seen.filter_columns.push(name.to_owned());
        self.provider.column(name).ok_or_else(|| ODataError::unknown_column(self.provider, name))
    }

    fn function(&mut self, name: &str) -> Result<Expr, ODataError> {
        self.seen.functions.push(name.to_owned());
        let func = match name.to_ascii_lowercase().as_str() {
            "startswith" => TextFn::StartsWith,
            "endswith" => TextFn::EndsWith,
            "substringof" => TextFn::SubstringOf,
            _ if DATE_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name)) => {
                return Err(ODataError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "SoNotImplemented",
                    format!("The date function {name}() is documented but not simulated"),
                ))
            }
            _ => return Err(bad(format!("Unknown function {name}() in $filter"))),
        };
        self.expect(Tok::Open, "'('")?;
        let (a, b) = (self.next(), {
            self.expect(Tok::Comma, "','")?;
            self.next()
        });
        self.expect(Tok::Close, "')'")?;
        // `startswith(col, 'x')` as on the GET pages; the order of substringof's arguments is
        // not documented, so either order is taken.
        let (col, needle) = match (a, b) {
            (Some(Tok::Word(c)), Some(Tok::Str(s))) => (c, s),
            (Some(Tok::Str(s)), Some(Tok::Word(c))) if func == TextFn::SubstringOf => (c, s),
            _ => return Err(bad(format!("{name}() takes a column and a quoted string"))),
        };
        let column = self.column(&col)?;
        if !column.kind.is_text() {
            return Err(bad(format!("{name}() needs a text column; '{}' is of restriction type {}", column.name, column.kind.name())));
        }
        Ok(Expr::Func { func, column, needle })
    }

    fn term(&mut self, name: &str) -> Result<Expr, ODataError> {
        let column = self.column(name)?;
        let op_name = match self.next() {
            Some(Tok::Word(w)) => w,
            Some(Tok::Sym(s)) => s,
            Some(t) => return Err(bad(format!("Expected an operator after '{name}' in $filter, found {}", describe(&t)))),
            None => return Err(bad(format!("Expected an operator after '{name}' in $filter"))),
        };
        self.seen.operators.push(op_name.clone());
        if column.kind == Kind::None {
            return Err(bad(format!(
                "Column '{}' cannot be used in $filter: it has no restriction type ({})",
                column.name, self.provider.page
            )));
        }
        let op = operator(column.kind, &op_name).map_err(|e| match e {
            OperatorError::NoneForType => {
                bad(format!("No $filter operators are documented for restriction type {} (column '{}')", column.kind.name(), column.name))
            }
            OperatorError::NotValid(valid) => bad(format!(
                "Operator '{op_name}' is not valid for column '{}' of restriction type {}; valid: {}",
                column.name,
                column.kind.name(),
                valid.join(", ")
            )),
            OperatorError::Fails(why) => bad(format!("Operator '{op_name}' fails on SuperOffice ({why})")),
            OperatorError::UnknownArity => ODataError::new(
                StatusCode::NOT_IMPLEMENTED,
                "SoNotImplemented",
                format!("Operator '{op_name}' is listed, but how many values it takes is not documented; not simulated"),
            ),
        })?;
        let at_end = |t: Option<&Tok>| t.is_none() || t == Some(&Tok::Close) || is_kw(t, "and") || is_kw(t, "or");
        let args = match op.arity {
            Arity::None => Vec::new(),
            // "xstop set" with no value is an example on the Find agent page: `set` alone = true.
            Arity::One if column.kind == Kind::Bool && at_end(self.peek()) => vec![Val::Bool(true)],
            Arity::One => vec![self.value(column)?],
            Arity::Two => {
                self.expect(Tok::Open, "'(' before two values")?;
                let a = self.value(column)?;
                self.expect(Tok::Comma, "','")?;
                let b = self.value(column)?;
                self.expect(Tok::Close, "')'")?;
                vec![a, b]
            }
            Arity::List => {
                self.expect(Tok::Open, "'(' before a list of values")?;
                let mut v = vec![self.value(column)?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    v.push(self.value(column)?);
                }
                self.expect(Tok::Close, "')'")?;
                v
            }
            Arity::Unknown => Vec::new(),
        };
        Ok(Expr::Term { column, op: op.name.to_ascii_lowercase(), args })
    }

    /// One value, in the form the column's restriction type takes.
    fn value(&mut self, column: &Column) -> Result<Val, ODataError> {
        let tok = self.next().ok_or_else(|| bad(format!("Expected a value for '{}' at the end of $filter", column.name)))?;
        let wrong =
            |t: &Tok, want: &str| bad(format!("Column '{}' ({}) takes {want}; found {}", column.name, column.kind.name(), describe(t)));
        let int = |s: &str, t: &Tok| s.parse::<i64>().map_err(|_| wrong(t, "a whole number"));
        match column.kind {
            Kind::Int | Kind::ListAny | Kind::Associate => match &tok {
                Tok::Num(n) => Ok(Val::Int(int(n, &tok)?)),
                Tok::Enc(m, v) if m == "I" => Ok(Val::Int(int(v, &tok)?)),
                _ => Err(wrong(&tok, "a bare whole number (e.g. 5) or [I:5]")),
            },
            Kind::Decimal => match &tok {
                Tok::Num(n) => n.parse().map(Val::Num).map_err(|_| wrong(&tok, "a number")),
                Tok::Enc(m, v) if m == "F" || m == "I" || m == "M" => v.parse().map(Val::Num).map_err(|_| wrong(&tok, "a number")),
                _ => Err(wrong(&tok, "a bare number")),
            },
            Kind::Bool => match &tok {
                Tok::Word(w) if w.eq_ignore_ascii_case("true") => Ok(Val::Bool(true)),
                Tok::Word(w) if w.eq_ignore_ascii_case("false") => Ok(Val::Bool(false)),
                _ => Err(wrong(&tok, "true or false")),
            },
            k if k.is_text() => match tok {
                Tok::Str(s) => Ok(Val::Text(s)),
                t => Err(wrong(&t, "a string in single quotes")),
            },
            k if k.is_date() => {
                let parsed = match &tok {
                    Tok::Str(s) => parse_datetime(s),
                    Tok::Enc(m, v) if m == "D" || m == "DT" => super::dates::parse_encoded_date(m, v),
                    _ => None,
                };
                parsed.map(|(d, t)| Val::Date(d, t)).ok_or_else(|| wrong(&tok, "a date in single quotes, e.g. '2020-05-28'"))
            }
            _ => Err(wrong(&tok, "no value")),
        }
    }
}
