//! [`DbDecimal`]: a decimal kept as exact TEXT (rates, multipliers, percentages), read into a
//! [`Decimal`] once, where the row is decoded. A stored value that is not a decimal is an error
//! naming the column — never 0%, never a default.
//!
//! Why TEXT: SQLite has no exact decimal type, and the two backends must hold the same digits.

use std::{fmt, ops::Deref, str::FromStr, sync::Arc};

use rust_decimal::Decimal;
use sea_orm::{
    sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr},
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value,
};

/// An exact decimal stored as its text (`"12.5"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DbDecimal(pub Decimal);

impl DbDecimal {
    /// The decimal.
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl Deref for DbDecimal {
    type Target = Decimal;

    fn deref(&self) -> &Decimal {
        &self.0
    }
}

impl From<Decimal> for DbDecimal {
    fn from(value: Decimal) -> Self {
        DbDecimal(value)
    }
}

impl From<DbDecimal> for Decimal {
    fn from(value: DbDecimal) -> Self {
        value.0
    }
}

/// The stored text: the decimal with its scale, as it was written.
impl fmt::Display for DbDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Parses stored text exactly (no float, no rounding).
fn parse(text: &str) -> Result<Decimal, rust_decimal::Error> {
    Decimal::from_str_exact(text.trim())
}

/// The error for a stored value that is not a decimal, naming its column and, when the row has an
/// `id` column, its row.
#[derive(Debug, thiserror::Error)]
#[error("{}column {column} holds {text:?}, which is not a decimal", row_id.map(|id| format!("row {id}: ")).unwrap_or_default())]
pub struct NotADecimal {
    /// The id of the row, when the row read has an `id` column.
    pub row_id: Option<i64>,
    /// The column (name or position).
    pub column: String,
    /// What it holds.
    pub text: String,
}

/// The `id` of the row a column is read from, when it has one. sea-orm reads a model of a joined
/// select (`find_also_related`) with its columns prefixed `A_`, `B_` …: the row's id is then at the
/// same prefix.
fn row_id<I: ColIdx>(res: &QueryResult, index: I) -> Option<i64> {
    let name = index.as_str()?;
    let prefix = match name.split_once('_') {
        Some((p, _)) if p.len() == 1 && p.bytes().all(|b| b.is_ascii_uppercase()) => &name[..2],
        _ => "",
    };
    i64::try_get_by(res, format!("{prefix}id").as_str()).ok()
}

impl FromStr for DbDecimal {
    type Err = rust_decimal::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).map(DbDecimal)
    }
}

impl From<DbDecimal> for Value {
    fn from(value: DbDecimal) -> Self {
        Value::String(Some(value.0.to_string()))
    }
}

impl TryGetable for DbDecimal {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        parse(&text).map(DbDecimal).map_err(|_| {
            TryGetError::DbErr(DbErr::TryIntoErr {
                from: "TEXT",
                into: "Decimal",
                source: Arc::new(NotADecimal {
                    row_id: row_id(res, index),
                    column: index
                        .as_str()
                        .map_or_else(|| format!("{index:?}"), str::to_owned),
                    text,
                }),
            })
        })
    }
}

impl ValueType for DbDecimal {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(value)?;
        parse(&text).map(DbDecimal).map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        "DbDecimal".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl Nullable for DbDecimal {
    fn null() -> Value {
        Value::String(None)
    }
}

impl sea_orm::IntoActiveValue<DbDecimal> for DbDecimal {
    fn into_active_value(self) -> sea_orm::ActiveValue<DbDecimal> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_text_reads_back_with_its_scale_and_garbage_is_refused() {
        let rate: DbDecimal = "12.50".parse().unwrap();
        assert_eq!(rate.to_string(), "12.50");
        assert_eq!(*rate, Decimal::new(1250, 2));
        assert!("twelve".parse::<DbDecimal>().is_err());
        assert!(<DbDecimal as ValueType>::try_from(Value::String(Some("x".into()))).is_err());
        assert_eq!(
            <DbDecimal as ValueType>::try_from(Value::String(Some("1.5".into()))).unwrap(),
            DbDecimal(Decimal::new(15, 1))
        );
    }
}
