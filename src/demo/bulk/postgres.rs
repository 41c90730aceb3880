//! PostgreSQL's fast path for the bulk demo: each table's rows of a chunk travel as **one**
//! `COPY t (cols) FROM STDIN` in text format, inside the chunk's transaction.
//!
//! `COPY` is the server's own bulk path: no statement to parse or plan per batch, no parameter or JSON
//! value to unpack, and the rows reach the table through its multi-row insert (the foreign-key checks
//! and the indexes still see every row, exactly as for an `INSERT`). Each field is converted by its
//! column's own input function from the text written here, so the stored values are those the bound
//! parameters of an `INSERT` would have given: the rows are built from the same `ActiveModel`s, and
//! only the kinds of value sea-orm's models hold here are accepted (anything else is an error naming
//! the table and column, never a silent default).
//!
//! sea-orm does not lend the connection under its transactions, and `COPY` has to run on the
//! connection that holds the transaction (the chain heads are moved in it too, so a chunk's rows and
//! its links commit together or not at all). [`CopyTxn`] is therefore a transaction of our own on a
//! connection taken from sea-orm's pool, which implements [`ConnectionTrait`] for the few statements
//! the chunk runs besides `COPY` (the chain heads through [`crate::app::chains`]).

use std::{fmt::Write as _, sync::Arc};

use chrono::SecondsFormat;
use sea_orm::{
    sea_query::Value,
    sqlx::{self, postgres::PgArguments, AssertSqlSafe, Postgres},
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityName,
    EntityTrait, ExecResult, IdenStatic, Iterable, QueryResult, RuntimeErr, Statement,
};
use tokio::sync::Mutex;

use crate::error::{AppError, AppResult};

/// Bytes of `COPY` text sent per message: the server parses one while the next is written.
const SEND_BYTES: usize = 1 << 20;

/// A transaction on one connection of the pool, for `COPY` and the statements around it.
pub(super) struct CopyTxn {
    tx: Mutex<sqlx::Transaction<'static, Postgres>>,
}

fn exec_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
}

fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
}

impl CopyTxn {
    /// Takes a connection from `db`'s pool and begins a transaction on it.
    pub(super) async fn begin(db: &DatabaseConnection) -> AppResult<Self> {
        let tx = db
            .get_postgres_connection_pool()
            .begin()
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
        Ok(Self { tx: Mutex::new(tx) })
    }

    /// Commits (dropping a `CopyTxn` instead rolls back, as sqlx's transactions do).
    pub(super) async fn commit(self) -> AppResult<()> {
        self.tx.into_inner().commit().await.map_err(exec_err)?;
        Ok(())
    }

    /// Copies `rows` (all with the same columns set) into their table with one `COPY`.
    pub(super) async fn copy_rows<A>(&self, rows: &[A]) -> AppResult<()>
    where
        A: ActiveModelTrait,
    {
        match CopyData::of(rows)? {
            Some(data) => self.copy(&data).await,
            None => Ok(()),
        }
    }

    /// Sends `data` with one `COPY`.
    pub(super) async fn copy(&self, data: &CopyData) -> AppResult<()> {
        let mut tx = self.tx.lock().await;
        let mut copy = tx.copy_in_raw(&data.statement).await.map_err(exec_err)?;
        for piece in data.text.chunks(SEND_BYTES) {
            copy.send(piece).await.map_err(exec_err)?;
        }
        copy.finish().await.map_err(exec_err)?;
        Ok(())
    }
}

/// One table's rows of a chunk, ready for `COPY`: built before the transaction needs them (on the
/// generator's side), so that only the sending is left in it.
pub(super) struct CopyData {
    /// The table's name.
    pub(super) table: String,
    /// `COPY t (cols) FROM STDIN`.
    statement: String,
    /// The rows in `COPY`'s text format.
    text: Vec<u8>,
    /// How many rows.
    pub(super) rows: usize,
}

impl CopyData {
    /// The `COPY` of `rows` (all with the same columns set), or `None` for no rows. A value the text
    /// format cannot carry fails here, before any `COPY` has begun.
    pub(super) fn of<A: ActiveModelTrait>(rows: &[A]) -> AppResult<Option<Self>> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let table = A::Entity::default().table_name().to_string();
        // The columns the rows set (e.g. a journal line leaves its id to the sequence).
        let columns: Vec<<A::Entity as EntityTrait>::Column> =
            <<A::Entity as EntityTrait>::Column as Iterable>::iter()
                .filter(|c| first.get(*c).is_set())
                .collect();
        let list = columns
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let text = copy_text(&table, &columns, rows)?;
        Ok(Some(Self {
            statement: format!("COPY {table} ({list}) FROM STDIN"),
            table,
            text,
            rows: rows.len(),
        }))
    }
}

/// A sea-orm statement as a sqlx query, with the kinds of value the chain heads and sequences bind.
fn sqlx_query(stmt: &Statement) -> Result<sqlx::query::Query<'_, Postgres, PgArguments>, DbErr> {
    let mut query = sqlx::query(AssertSqlSafe(stmt.sql.as_str()));
    for value in stmt.values.iter().flat_map(|v| v.0.iter()) {
        query = match value {
            Value::Bool(v) => query.bind(*v),
            Value::SmallInt(v) => query.bind(*v),
            Value::Int(v) => query.bind(*v),
            Value::BigInt(v) => query.bind(*v),
            Value::String(v) => query.bind(v.clone()),
            Value::ChronoDate(v) => query.bind(*v),
            Value::ChronoDateTimeUtc(v) => query.bind(*v),
            other => {
                return Err(DbErr::Custom(format!(
                    "bulk demo: the COPY transaction does not bind {other:?}"
                )))
            }
        };
    }
    Ok(query)
}

#[async_trait::async_trait]
impl ConnectionTrait for CopyTxn {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let query = sqlx_query(&stmt)?;
        let mut tx = self.tx.lock().await;
        let done = query.execute(&mut **tx).await.map_err(exec_err)?;
        Ok(done.into())
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut tx = self.tx.lock().await;
        let done = sqlx::Executor::execute(&mut **tx, AssertSqlSafe(sql.to_owned()))
            .await
            .map_err(exec_err)?;
        Ok(done.into())
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let query = sqlx_query(&stmt)?;
        let mut tx = self.tx.lock().await;
        let row = query.fetch_optional(&mut **tx).await.map_err(query_err)?;
        Ok(row.map(Into::into))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let query = sqlx_query(&stmt)?;
        let mut tx = self.tx.lock().await;
        let rows = query.fetch_all(&mut **tx).await.map_err(query_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// The rows in `COPY`'s text format: one line a row, fields separated by tabs, `\N` for NULL.
fn copy_text<A: ActiveModelTrait>(
    table: &str,
    columns: &[<A::Entity as EntityTrait>::Column],
    rows: &[A],
) -> AppResult<Vec<u8>> {
    let mut out = String::with_capacity(rows.len() * 24 * columns.len().max(1));
    for row in rows {
        for (j, column) in columns.iter().enumerate() {
            if j > 0 {
                out.push('\t');
            }
            let value = row.get(*column).into_value().ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "bulk demo: {table}.{} is not set in every row",
                    column.as_str()
                ))
            })?;
            push_value(&mut out, &value).map_err(|kind| {
                AppError::internal(anyhow::anyhow!(
                    "bulk demo: {table}.{} holds a {kind} value the COPY does not carry",
                    column.as_str()
                ))
            })?;
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Appends one value as a field of `COPY`'s text format, in the form PostgreSQL's input function for
/// the column reads back exactly: integers as decimal, booleans as `t`/`f`, text with backslash,
/// tab, newline and carriage return escaped, dates as `YYYY-MM-DD`, instants as RFC 3339 in UTC to
/// the microsecond (PostgreSQL's precision), NULL as `\N`. Any other kind of value is refused with
/// its kind's name.
fn push_value(out: &mut String, value: &Value) -> Result<(), &'static str> {
    let pushed = match value {
        Value::Bool(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None)
        | Value::ChronoDate(None)
        | Value::ChronoDateTimeUtc(None) => {
            out.push_str("\\N");
            Ok(())
        }
        Value::Bool(Some(b)) => {
            out.push(if *b { 't' } else { 'f' });
            Ok(())
        }
        Value::SmallInt(Some(v)) => write!(out, "{v}"),
        Value::Int(Some(v)) => write!(out, "{v}"),
        Value::BigInt(Some(v)) => write!(out, "{v}"),
        Value::String(Some(s)) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            Ok(())
        }
        Value::ChronoDate(Some(d)) => write!(out, "{}", d.format("%Y-%m-%d")),
        Value::ChronoDateTimeUtc(Some(t)) => {
            out.push_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true));
            Ok(())
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

    fn field(value: Value) -> String {
        let mut out = String::new();
        push_value(&mut out, &value).expect("carried");
        out
    }

    #[test]
    fn values_are_written_as_copy_reads_them_back() {
        assert_eq!(field(Value::BigInt(Some(-9_000_000_000))), "-9000000000");
        assert_eq!(field(Value::Int(None)), "\\N");
        assert_eq!(field(Value::String(None)), "\\N");
        assert_eq!(field(Value::Bool(Some(true))), "t");
        assert_eq!(field(Value::Bool(Some(false))), "f");
        // The separators and the escape character itself are escaped; "\N" as text is not NULL.
        assert_eq!(
            field(Value::String(Some("Số dư\t\"đầu\" kỳ\\N\r\n".into()))),
            "Số dư\\t\"đầu\" kỳ\\\\N\\r\\n"
        );
        assert_eq!(
            field(Value::ChronoDate(Some(
                NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
            ))),
            "2026-11-25"
        );
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(
            field(Value::ChronoDateTimeUtc(Some(at))),
            "2026-11-25T09:00:00.123456Z"
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
