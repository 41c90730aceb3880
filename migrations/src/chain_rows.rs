//! Reading chained rows for the hash chains (issue 11 item 1; the encoding is
//! `coopfund_domain::chain`): migration 000014 reads them by id to chain an existing database once, and
//! `coopfund audit verify` reads them by sequence number to check them. Plain SQL over the column list of
//! [`Chain::columns`], so both read exactly what the encoding names, on SQLite and PostgreSQL alike.

use std::collections::HashMap;

use coopfund_domain::chain::{Chain, Field, FieldKind, StoredRow, JOURNAL_LINE_COLUMNS};
use sea_orm_migration::sea_orm::{
    prelude::{ChronoDate, ChronoDateTimeUtc},
    ConnectionTrait, DbErr, QueryResult, Statement,
};

/// The order a batch is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By id, rows after id `after` (chaining an existing database).
    Id,
    /// By `chain_seq`, chained rows of part `.0` after seq `after` (verifying; `chain_part` is migration
    /// 000017's, so not for the migrations before it).
    Seq(u16),
}

/// One column of `row` as the encoding reads it.
pub fn field(row: &QueryResult, column: &str, kind: FieldKind) -> Result<Field, DbErr> {
    Ok(match kind {
        FieldKind::Int => row
            .try_get::<Option<i64>>("", column)?
            .map_or(Field::Null, Field::Int),
        FieldKind::Text => row
            .try_get::<Option<String>>("", column)?
            .map_or(Field::Null, Field::Text),
        FieldKind::Date => row
            .try_get::<Option<ChronoDate>>("", column)?
            .map_or(Field::Null, Field::Date),
        FieldKind::Timestamp => row
            .try_get::<Option<ChronoDateTimeUtc>>("", column)?
            .map_or(Field::Null, |at| Field::Micros(at.timestamp_micros())),
    })
}

fn columns_sql(columns: &[(&str, FieldKind)]) -> String {
    columns
        .iter()
        .map(|(name, _)| quoted(name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `before` and `after` are keywords in some dialects: every column name is quoted.
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// Up to `limit` rows of `chain` after `after` in `order`, each with its hashed fields (a journal entry's
/// lines included).
pub async fn read_batch<C: ConnectionTrait>(
    conn: &C,
    chain: Chain,
    order: Order,
    after: i64,
    limit: u64,
) -> Result<Vec<StoredRow>, DbErr> {
    let (key, filter) = match order {
        Order::Id => ("id", format!("id > {after}")),
        Order::Seq(part) => (
            "chain_seq",
            format!("chain_part = {part} AND chain_seq IS NOT NULL AND chain_seq > {after}"),
        ),
    };
    let sql = format!(
        "SELECT id, chain_seq, chain_prev, chain_hash, {} FROM {} WHERE {filter} ORDER BY {key} LIMIT {limit}",
        columns_sql(chain.columns()),
        chain.table()
    );
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut stored = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut fields = Vec::with_capacity(chain.columns().len());
        for (name, kind) in chain.columns() {
            fields.push(field(row, name, *kind)?);
        }
        stored.push(StoredRow {
            id: row.try_get("", "id")?,
            seq: row.try_get::<Option<i64>>("", "chain_seq")?.unwrap_or(0),
            prev: row.try_get("", "chain_prev")?,
            hash: row.try_get("", "chain_hash")?,
            fields,
        });
    }
    if chain == Chain::Journal && !stored.is_empty() {
        append_lines(conn, &mut stored).await?;
    }
    Ok(stored)
}

/// Appends each entry's line count and lines (by line id) to its fields.
async fn append_lines<C: ConnectionTrait>(
    conn: &C,
    entries: &mut [StoredRow],
) -> Result<(), DbErr> {
    let ids = entries
        .iter()
        .map(|e| e.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT entry_id, {} FROM journal_lines WHERE entry_id IN ({ids}) ORDER BY entry_id, id",
        columns_sql(JOURNAL_LINE_COLUMNS)
    );
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut lines: HashMap<i64, Vec<Vec<Field>>> = HashMap::new();
    for row in &rows {
        let mut fields = Vec::with_capacity(JOURNAL_LINE_COLUMNS.len());
        for (name, kind) in JOURNAL_LINE_COLUMNS {
            fields.push(field(row, name, *kind)?);
        }
        lines
            .entry(row.try_get("", "entry_id")?)
            .or_default()
            .push(fields);
    }
    for entry in entries {
        let own = lines.remove(&entry.id).unwrap_or_default();
        entry.fields.extend(journal_lines_fields(&own));
    }
    Ok(())
}

/// The fields an entry's `lines` add to its own: the count, then each line's.
pub fn journal_lines_fields(lines: &[Vec<Field>]) -> Vec<Field> {
    let mut fields = Vec::with_capacity(1 + lines.len() * JOURNAL_LINE_COLUMNS.len());
    fields.push(Field::Int(i64::try_from(lines.len()).unwrap_or(i64::MAX)));
    for line in lines {
        fields.extend(line.iter().cloned());
    }
    fields
}

/// Ids (at most `limit`) of rows of `chain` with no sequence number or in no part of it (`chain_part`
/// outside 0..[`Chain::parts`]): written outside the chain, and walked by no part.
pub async fn unchained_ids<C: ConnectionTrait>(
    conn: &C,
    chain: Chain,
    limit: u64,
) -> Result<Vec<i64>, DbErr> {
    ids(
        conn,
        &format!(
            "SELECT id FROM {} WHERE chain_seq IS NULL OR chain_part < 0 OR chain_part >= {} \
             ORDER BY id LIMIT {limit}",
            chain.table(),
            chain.parts()
        ),
    )
    .await
}

/// (line id, entry id) of journal lines (at most `limit`) whose entry does not exist.
pub async fn orphan_lines<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT l.id AS id, l.entry_id AS entry_id FROM journal_lines l \
         LEFT JOIN journal_entries e ON e.id = l.entry_id \
         WHERE e.id IS NULL ORDER BY l.id LIMIT {limit}"
    );
    conn.query_all_raw(Statement::from_string(backend, sql))
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "entry_id")?)))
        .collect()
}

async fn ids<C: ConnectionTrait>(conn: &C, sql: &str) -> Result<Vec<i64>, DbErr> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await?
        .iter()
        .map(|row| row.try_get("", "id"))
        .collect()
}

/// The head of part `part` of `chain` in `chain_heads` (seq 0 and the genesis hash when the row is missing).
pub async fn head<C: ConnectionTrait>(
    conn: &C,
    chain: Chain,
    part: u16,
) -> Result<(i64, String), DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm_migration::sea_orm::DbBackend::Postgres => {
                    "SELECT seq, hash FROM chain_heads WHERE chain = $1"
                }
                _ => "SELECT seq, hash FROM chain_heads WHERE chain = ?",
            },
            [chain.head_name(part).into()],
        ))
        .await?;
    match row {
        Some(row) => Ok((row.try_get("", "seq")?, row.try_get("", "hash")?)),
        None => Ok((0, coopfund_domain::chain::GENESIS.to_string())),
    }
}
