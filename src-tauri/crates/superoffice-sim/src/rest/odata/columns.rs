//! What an archive provider knows: its columns (name, restriction type, whether it can be
//! ordered by) and the `$filter` operators of each restriction type.
//!
//! Nothing here is a hand list. The tables are the documentation extracts in
//! `docs/findappointment.tsv`, `docs/finddocument.tsv` (the "Supported Columns" tables of
//! `docs/en/api/archive-providers/reference/findappointment.md` and `.../finddocument.md`) and
//! `docs/odata-operators.tsv` (operators per restriction type, each row tagged with the page it
//! comes from), embedded with `include_str!` and parsed once. A column or operator the simulator
//! accepts is therefore one a page lists.

use std::collections::HashMap;
use std::sync::OnceLock;

const FIND_APPOINTMENT: &str = include_str!("../../../docs/findappointment.tsv");
const FIND_DOCUMENT: &str = include_str!("../../../docs/finddocument.tsv");
const OPERATORS: &str = include_str!("../../../docs/odata-operators.tsv");

/// A column's restriction type, as the provider pages spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Bool,
    Int,
    Decimal,
    String,
    PositiveString,
    StringOrPk,
    Associate,
    ListAny,
    Date,
    DateTime,
    UnlimitedDate,
    UserGroup,
    TimeSpan,
    ListInterest,
    SaintStatus,
    /// The page shows `*None*`: no restriction type, so not usable in `$filter`.
    None,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "bool" => Kind::Bool,
            "int" => Kind::Int,
            "decimal" => Kind::Decimal,
            "string" => Kind::String,
            "positiveString" => Kind::PositiveString,
            "stringorPK" => Kind::StringOrPk,
            "associate" => Kind::Associate,
            "listAny" => Kind::ListAny,
            "date" => Kind::Date,
            "datetime" => Kind::DateTime,
            "unlimitedDate" => Kind::UnlimitedDate,
            "userGroup" => Kind::UserGroup,
            "timeSpan" => Kind::TimeSpan,
            "listInterest" => Kind::ListInterest,
            "saintStatus" => Kind::SaintStatus,
            "None" => Kind::None,
            _ => return None,
        })
    }

    /// The name the pages use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Decimal => "decimal",
            Kind::String => "string",
            Kind::PositiveString => "positiveString",
            Kind::StringOrPk => "stringorPK",
            Kind::Associate => "associate",
            Kind::ListAny => "listAny",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::UnlimitedDate => "unlimitedDate",
            Kind::UserGroup => "userGroup",
            Kind::TimeSpan => "timeSpan",
            Kind::ListInterest => "listInterest",
            Kind::SaintStatus => "saintStatus",
            Kind::None => "None",
        }
    }

    /// The row type of `odata-operators.tsv` whose operators this kind takes.
    ///
    /// `positiveString` and `stringorPK` are listed on no operator page (see the tsv); the
    /// simulator gives them the string operators (inference: both hold text; `stringorPK` is
    /// the name column of a joined record). `userGroup`, `timeSpan`, `listInterest`,
    /// `saintStatus` and `None` get none: any `$filter` on them is refused.
    fn operator_type(self) -> Option<&'static str> {
        match self {
            Kind::PositiveString | Kind::StringOrPk => Some("string"),
            Kind::Bool
            | Kind::Int
            | Kind::Decimal
            | Kind::String
            | Kind::Associate
            | Kind::ListAny
            | Kind::Date
            | Kind::DateTime
            | Kind::UnlimitedDate => Some(self.name()),
            Kind::UserGroup | Kind::TimeSpan | Kind::ListInterest | Kind::SaintStatus | Kind::None => None,
        }
    }

    /// Text-like kinds: the string functions (`startswith` …) apply to them.
    pub fn is_text(self) -> bool {
        matches!(self, Kind::String | Kind::PositiveString | Kind::StringOrPk)
    }

    pub fn is_date(self) -> bool {
        matches!(self, Kind::Date | Kind::DateTime | Kind::UnlimitedDate)
    }
}

/// One documented column.
#[derive(Clone, Debug)]
pub struct Column {
    /// As the page spells it (the simulator answers under this name).
    pub name: String,
    pub kind: Kind,
    /// The page's OrderBy column has an `x`.
    pub orderable: bool,
}

/// An archive provider: its page, its entity and its columns.
#[derive(Debug)]
pub struct Provider {
    /// e.g. `FindAppointment`.
    pub name: &'static str,
    /// `EntityName` of its rows, e.g. `appointment`.
    pub entity: &'static str,
    /// The documentation page the columns come from.
    pub page: &'static str,
    columns: Vec<Column>,
    /// Lower-cased name → index: names are matched without regard to case, as the GET pages'
    /// own example does (`$select` "nameDepartment,fullname,category" for the column `fullName`,
    /// `docs/en/api/reference/restful/rest/Appointment/v1AppointmentEntity_GetAll.md`).
    by_name: HashMap<String, usize>,
}

impl Provider {
    fn from_tsv(name: &'static str, entity: &'static str, page: &'static str, tsv: &str) -> Provider {
        let mut columns = Vec::new();
        let mut by_name = HashMap::new();
        for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let mut f = line.split('\t');
            let (Some(col), Some(kind)) = (f.next(), f.next()) else { continue };
            let Some(kind) = Kind::parse(kind.trim()) else {
                tracing::warn!(provider = name, column = col, "unknown restriction type in the column table");
                continue;
            };
            let orderable = f.next().is_some_and(|flags| flags.contains("orderable"));
            // A name listed twice would keep its first row.
            if by_name.contains_key(&col.to_ascii_lowercase()) {
                continue;
            }
            by_name.insert(col.to_ascii_lowercase(), columns.len());
            columns.push(Column { name: col.to_owned(), kind, orderable });
        }
        Provider { name, entity, page, columns, by_name }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.by_name.get(&name.to_ascii_lowercase()).map(|&i| &self.columns[i])
    }

    #[cfg(test)]
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
}

/// `GET Appointment` runs FindAppointment (`.../rest/Appointment/v1AppointmentEntity_GetAll.md`).
pub fn find_appointment() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        Provider::from_tsv("FindAppointment", "appointment", "docs/en/api/archive-providers/reference/findappointment.md", FIND_APPOINTMENT)
    })
}

/// `GET Document` runs FindDocument (`.../rest/Document/v1DocumentEntity_GetAll.md`).
pub fn find_document() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        Provider::from_tsv("FindDocument", "document", "docs/en/api/archive-providers/reference/finddocument.md", FIND_DOCUMENT)
    })
}

/// How many values an operator takes (the docs' ValueHint: `W`, `W;W`, `W+`, `R`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// `R`: unary, no value (`associateId currentAssociate`, `date today`).
    None,
    /// `W`: one value.
    One,
    /// `W;W`: two values in parentheses, `between ('A','S')`.
    Two,
    /// `W+`: a parenthesised list, `oneOf (3,6)`.
    List,
    /// Listed, but no page says how many values it takes.
    Unknown,
}

/// An operator a restriction type accepts.
#[derive(Clone, Debug)]
pub struct Operator {
    /// As the tsv spells it.
    pub name: String,
    pub arity: Arity,
    /// `Some(reason)`: listed, but SuperOffice's own request collection marks it as failing.
    pub fails: Option<String>,
}

/// Operator type → its operators.
fn operator_table() -> &'static HashMap<String, Vec<Operator>> {
    static T: OnceLock<HashMap<String, Vec<Operator>>> = OnceLock::new();
    T.get_or_init(|| {
        let mut table: HashMap<String, Vec<Operator>> = HashMap::new();
        for line in OPERATORS.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let mut f = line.split('\t');
            let (Some(ty), Some(ops), notes) = (f.next(), f.next(), f.next().unwrap_or("")) else { continue };
            // `(undocumented)`, `(none)`, `(date operators)`: no operator; `startswith(col,'x')`
            // and friends are functions, parsed as such.
            if ops.starts_with('(') || ops.contains('(') {
                continue;
            }
            let notes = notes.trim();
            for op in ops.split('|') {
                let arity = if notes.starts_with("W+") {
                    Arity::List
                } else if notes.starts_with("W;W") {
                    Arity::Two
                } else if notes.starts_with('W') {
                    Arity::One
                } else if notes.starts_with('R') || op == "isNull" || op == "isNotNull" {
                    Arity::None
                } else if op == "equals" {
                    Arity::One
                } else {
                    Arity::Unknown
                };
                // `le`/`ge`: listed on the GET pages but marked "# Fails" in SuperOffice's own
                // request collection (repo SuperOffice/RESTful-HTTP-Queries, src/ODataQueries.http).
                let fails = notes
                    .contains("# Fails")
                    .then(|| "marked \"# Fails\" in SuperOffice/RESTful-HTTP-Queries src/ODataQueries.http".to_owned());
                table.entry(ty.to_owned()).or_default().push(Operator { name: op.to_owned(), arity, fails });
            }
        }
        table
    })
}

/// Why an operator cannot be used on a column.
#[derive(Debug, PartialEq, Eq)]
pub enum OperatorError {
    /// No operator is documented for the column's restriction type.
    NoneForType,
    /// Not in the list for this type; the list is given.
    NotValid(Vec<String>),
    /// Listed but marked failing.
    Fails(String),
    /// Listed, but how many values it takes is not documented.
    UnknownArity,
}

/// The operator `op` (matched without regard to case: the GET pages write `NotOneOf`, the
/// example pages `notOneOf`) for a column of `kind`.
pub fn operator(kind: Kind, op: &str) -> Result<&'static Operator, OperatorError> {
    let ty = kind.operator_type().ok_or(OperatorError::NoneForType)?;
    let ops = operator_table().get(ty).ok_or(OperatorError::NoneForType)?;
    let found = ops.iter().find(|o| o.name.eq_ignore_ascii_case(op));
    match found {
        None => Err(OperatorError::NotValid(ops.iter().filter(|o| o.fails.is_none()).map(|o| o.name.clone()).collect())),
        Some(o) if o.fails.is_some() => Err(OperatorError::Fails(o.fails.clone().unwrap_or_default())),
        Some(o) if o.arity == Arity::Unknown => Err(OperatorError::UnknownArity),
        Some(o) => Ok(o),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_read_from_the_extracts() {
        let a = find_appointment();
        assert_eq!(a.columns().len(), 650);
        let d = find_document();
        assert_eq!(d.columns().len(), 659);
        assert_eq!(a.column("rawType").map(|c| c.kind), Some(Kind::Int));
        assert_eq!(a.column("TYPE").map(|c| (c.name.as_str(), c.kind)), Some(("type", Kind::ListAny)));
        assert_eq!(a.column("person/email/emailAddress").map(|c| c.kind), Some(Kind::String));
        assert!(a.column("description").is_none() && a.column("taskId").is_none());
        assert!(d.column("externalRef").is_none() && d.column("header").is_none());
        assert_eq!(d.column("ourref").map(|c| c.kind), Some(Kind::String));
        assert!(!a.column("time").is_some_and(|c| c.orderable));
    }

    #[test]
    fn operators_follow_the_restriction_type() {
        assert_eq!(operator(Kind::Int, "eq").map(|o| o.arity), Ok(Arity::One));
        assert_eq!(operator(Kind::ListAny, "oneOf").map(|o| o.arity), Ok(Arity::List));
        assert_eq!(operator(Kind::ListAny, "NotOneOf").map(|o| o.arity), Ok(Arity::List));
        assert!(matches!(operator(Kind::ListAny, "eq"), Err(OperatorError::NotValid(_))));
        assert_eq!(operator(Kind::Associate, "currentAssociate").map(|o| o.arity), Ok(Arity::None));
        assert_eq!(operator(Kind::Bool, "set").map(|o| o.arity), Ok(Arity::One));
        assert!(matches!(operator(Kind::Bool, "eq"), Err(OperatorError::NotValid(_))));
        assert!(matches!(operator(Kind::Int, "le"), Err(OperatorError::Fails(_))));
        assert_eq!(operator(Kind::String, "between").map(|o| o.arity), Ok(Arity::Two));
        assert_eq!(operator(Kind::StringOrPk, "contains").map(|o| o.arity), Ok(Arity::One));
        assert_eq!(operator(Kind::UnlimitedDate, "thisYear").map(|o| o.arity), Ok(Arity::None));
        assert_eq!(operator(Kind::UserGroup, "equals").err(), Some(OperatorError::NoneForType));
        assert_eq!(operator(Kind::Date, "from").err(), Some(OperatorError::UnknownArity));
    }
}
