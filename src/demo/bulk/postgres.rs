//! PostgreSQL's fast path for the bulk demo: a batch of rows travels as **one** JSON parameter and the
//! server unpacks it with `json_populate_recordset`:
//!
//! ```sql
//! INSERT INTO loans (id, number, …) SELECT id, number, … FROM json_populate_recordset(NULL::loans, $1::json)
//! ```
//!
//! A multi-row `VALUES` of 1,000 rows binds tens of thousands of parameters, each parsed, typed and planned
//! by the server; here a statement of 10,000 rows binds one text value and the plan is the same for every
//! batch. Each field is converted by its column's own input function (the table's row type), so the stored
//! values are exactly those the bound parameters would have given: the rows are built from the same
//! `ActiveModel`s, and only the values sea-orm's models hold here are accepted (anything else is an error
//! naming the table and column, never a silent default).

use chrono::SecondsFormat;
use sea_orm::{
    sea_query::Value, ActiveModelTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait,
    IdenStatic, Iterable, Statement,
};

use crate::error::{AppError, AppResult};

/// Rows per statement: the JSON of 10,000 rows is a few megabytes, far under PostgreSQL's 1 GB limit
/// for one value, and large enough that the per-statement cost (a round trip, the plan) disappears.
pub(super) const ROWS_PER_STATEMENT: usize = 10_000;

/// Inserts `rows` (all with the same columns set) into their table, [`ROWS_PER_STATEMENT`] a statement.
pub(super) async fn insert_rows<C, A>(conn: &C, rows: Vec<A>) -> AppResult<()>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
{
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let table = A::Entity::default().table_name().to_string();
    // The columns the rows set (e.g. a journal line leaves its id to the sequence).
    let columns: Vec<<A::Entity as EntityTrait>::Column> =
        <<A::Entity as EntityTrait>::Column as Iterable>::iter()
            .filter(|c| first.get(*c).is_set())
            .collect();
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let list = names.join(", ");
    let sql = format!(
        "INSERT INTO {table} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{table}, $1::json)"
    );
    let keys: Vec<String> = names
        .iter()
        .map(|n| serde_json::to_string(n).map_err(AppError::internal))
        .collect::<AppResult<_>>()?;
    for batch in rows.chunks(ROWS_PER_STATEMENT) {
        let json = rows_json(&table, &columns, &keys, batch)?;
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql.clone(),
            [Value::String(Some(json))],
        ))
        .await?;
    }
    Ok(())
}

/// The rows as a JSON array of objects keyed by column name.
fn rows_json<A: ActiveModelTrait>(
    table: &str,
    columns: &[<A::Entity as EntityTrait>::Column],
    keys: &[String],
    rows: &[A],
) -> AppResult<String> {
    let mut out = String::with_capacity(rows.len() * 64 * columns.len().max(1));
    out.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        for (j, (column, key)) in columns.iter().zip(keys).enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push(':');
            let value = row.get(*column).into_value().ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "bulk demo: {table}.{} is not set in every row",
                    column.as_str()
                ))
            })?;
            push_value(&mut out, &value).map_err(|kind| {
                AppError::internal(anyhow::anyhow!(
                    "bulk demo: {table}.{} holds a {kind} value the JSON batch does not carry",
                    column.as_str()
                ))
            })?;
        }
        out.push('}');
    }
    out.push(']');
    Ok(out)
}

/// Appends one value as JSON text in the form PostgreSQL's input function for the column reads back
/// exactly: integers and booleans as JSON literals, text as a JSON string, dates as `YYYY-MM-DD`,
/// instants as RFC 3339 in UTC to the microsecond (PostgreSQL's precision). Any other kind of value is
/// refused with its kind's name.
fn push_value(out: &mut String, value: &Value) -> Result<(), &'static str> {
    use std::fmt::Write as _;
    let pushed = match value {
        Value::Bool(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None)
        | Value::ChronoDate(None)
        | Value::ChronoDateTimeUtc(None) => {
            out.push_str("null");
            Ok(())
        }
        Value::Bool(Some(b)) => {
            out.push_str(if *b { "true" } else { "false" });
            Ok(())
        }
        Value::SmallInt(Some(v)) => write!(out, "{v}"),
        Value::Int(Some(v)) => write!(out, "{v}"),
        Value::BigInt(Some(v)) => write!(out, "{v}"),
        Value::String(Some(s)) => {
            out.push_str(&serde_json::to_string(s.as_str()).map_err(|_| "text")?);
            Ok(())
        }
        Value::ChronoDate(Some(d)) => write!(out, "\"{}\"", d.format("%Y-%m-%d")),
        Value::ChronoDateTimeUtc(Some(t)) => {
            write!(
                out,
                "\"{}\"",
                t.to_rfc3339_opts(SecondsFormat::Micros, true)
            )
        }
        Value::Double(_) | Value::Float(_) => return Err("floating-point"),
        Value::Json(_) => return Err("JSON"),
        _ => return Err("other"),
    };
    pushed.map_err(|_| "unwritable")
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use sea_orm::sea_query::Value;

    use super::push_value;

    fn json(value: Value) -> String {
        let mut out = String::new();
        push_value(&mut out, &value).expect("carried");
        out
    }

    #[test]
    fn values_are_written_as_postgres_reads_them_back() {
        assert_eq!(json(Value::BigInt(Some(-9_000_000_000))), "-9000000000");
        assert_eq!(json(Value::Int(None)), "null");
        assert_eq!(json(Value::Bool(Some(true))), "true");
        assert_eq!(
            json(Value::String(Some("Số dư \"đầu\" kỳ\\\n".into()))),
            r#""Số dư \"đầu\" kỳ\\\n""#
        );
        assert_eq!(
            json(Value::ChronoDate(Some(
                NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
            ))),
            "\"2026-11-25\""
        );
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(
            json(Value::ChronoDateTimeUtc(Some(at))),
            "\"2026-11-25T09:00:00.123456Z\""
        );
    }

    #[test]
    fn a_kind_it_does_not_carry_is_refused_not_guessed() {
        let mut out = String::new();
        assert_eq!(
            push_value(&mut out, &Value::Double(Some(0.1))),
            Err("floating-point")
        );
    }
}
