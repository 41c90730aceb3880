//! Posting by difference (module docs of [`super`]): the entry header ([`Posting`]), the engine's target
//! book of a loan, the balanced difference against what is posted, writing entries (one, or many at once
//! for the close of business), refolding a loan and caching its balances on the loan row.

use coopfund_domain::ClassificationConfig;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    classification::DebtGroup, entry_for_difference, loan_book, AccountBalances, BookInputs,
    HolidayCalendar, JournalEntry, LoanState, Side, Vnd,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    IntoActiveModel, Iterable, QueryFilter, QuerySelect, QueryTrait, Set, Statement, TryIntoModel,
};

use super::{
    books::{self, posted_book},
    status_of,
};
use crate::{
    app::{
        chains::ChainHeads,
        deferred_writes::{self, Changes},
        loan_engine::{self, contract_of, events_of, loan_group},
        Caller,
    },
    error::{AppError, AppResult},
    store::entities::{self, journal_entry, journal_line, loan, loan_transaction},
};

/// The most rows of one multi-row INSERT (SQLite allows 32,766 bound values; lines have 5).
const INSERT_ROWS_MAX: usize = 4_000;

/// What an entry is about (stored in `journal_entries`).
#[derive(Debug, Clone)]
pub struct Posting {
    /// Entry kind: the event's kind (`disbursement`, `repayment`, `reversal` …) or e.g. `close_of_business`.
    pub kind: String,
    /// The posting date (the business date).
    pub entry_date: NaiveDate,
    /// Human description.
    pub description: String,
    /// The loan transaction that caused it, if any.
    pub transaction_id: Option<i64>,
    /// The entry this one corrects (a reversal), if any.
    pub reverses_entry_id: Option<i64>,
    /// A unique key making a retried posting a no-op (e.g. `cob:LOAN:DATE`), if any.
    pub business_key: Option<String>,
    /// When it is written (the use case's clock, `AppCtx::now`).
    pub posted_at: DateTime<Utc>,
    /// The id the entry is written under, when the command took it in SQLite's writer gate
    /// (`crate::app::loans::NextIds`): the insert then goes with the command's other writes
    /// (`deferred_writes`). `None`: the database gives it.
    pub entry_id: Option<i64>,
}

impl Posting {
    /// The header of loan `loan_id`'s close-of-business entry for `date`: business key
    /// `cob:{loan}:{date}`, one per loan and day (the loan-by-loan close, the set-based close and the
    /// month-end release of a finished loan's provision all post under it).
    pub fn close_of_business(loan_id: i64, date: NaiveDate, posted_at: DateTime<Utc>) -> Posting {
        Posting {
            kind: "close_of_business".into(),
            entry_date: date,
            description: super::text::close_of_business(date),
            transaction_id: None,
            reverses_entry_id: None,
            business_key: Some(format!("cob:{loan_id}:{date}")),
            posted_at,
            entry_id: None,
        }
    }

    /// The header of the portfolio's general provision entry at the month-end close of `date`
    /// (business key `cob:general_provision:{date}`).
    pub fn general_provision(date: NaiveDate, posted_at: DateTime<Utc>) -> Posting {
        Posting {
            kind: "provision".into(),
            entry_date: date,
            description: super::text::general_provision(date),
            transaction_id: None,
            reverses_entry_id: None,
            business_key: Some(format!("cob:general_provision:{date}")),
            posted_at,
            entry_id: None,
        }
    }
}

/// What [`refold_and_post`] did.
#[derive(Debug, Clone)]
pub struct Refolded {
    /// The engine's state of the loan as of the date.
    pub state: LoanState,
    /// The loan row after its cached balances were updated.
    pub loan: loan::Model,
    /// The journal entry posted, if anything differed.
    pub entry_id: Option<i64>,
}

/// What a posting does with the loan's specific provision (DOMAIN.md §8: it moves at month-end closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provision {
    /// Keep the provision posted so far (every event and every day but a month end).
    Keep,
    /// Hold this specific provision from now on (the month-end close); Dr 6426 / Cr 22931 or the reverse
    /// falls out of the difference.
    Set(Vnd),
}

/// The book the engine says loan `loan` should hold in `state` with debt group `group`, given `posted`,
/// with `provision` the specific provision to hold.
pub fn target_book(
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posted: &AccountBalances,
    provision: Provision,
) -> AppResult<AccountBalances> {
    let day_count = loan_engine::day_count_of(loan)?;
    let specific_provision = match provision {
        Provision::Keep => None,
        Provision::Set(amount) => Some(amount),
    };
    let inputs = BookInputs {
        group,
        specific_provision,
        day_count,
    };
    Ok(loan_book(state, &inputs, posted))
}

/// The balanced entry moving loan `loan`'s `posted` book to the engine's book for `state` and `group`
/// (with `provision`); `None` when nothing differs. Shared by every posting of a loan.
pub fn loan_difference(
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posted: &AccountBalances,
    provision: Provision,
) -> AppResult<Option<JournalEntry>> {
    let target = target_book(loan, state, group, posted, provision)?;
    entry_for_difference(&target, posted).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "loan {} book does not balance: {e}",
            loan.id
        ))
    })
}

/// An amount as stored in a whole-đồng column; an amount beyond i64 is an error, never clamped.
pub fn stored_vnd(amount: Vnd) -> AppResult<i64> {
    amount
        .to_i64()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("amount {amount} does not fit in i64")))
}

/// Posts the balanced difference between the engine's book for `loan` (in `state`, group `group`, holding
/// `provision`) and what is posted (`posted`, read by the caller in the same transaction: [`posted_book`]);
/// returns the entry's id, or `None` when nothing differs. Call inside the event's transaction; the entry is
/// linked after `heads`, which the caller moves before it commits ([`ChainHeads::finish`]).
#[allow(clippy::too_many_arguments)]
pub async fn post_loan_difference<C: ConnectionTrait>(
    conn: &C,
    heads: &mut ChainHeads,
    caller: &Caller,
    loan: &loan::Model,
    state: &LoanState,
    group: DebtGroup,
    posting: &Posting,
    provision: Provision,
    posted: &AccountBalances,
) -> AppResult<Option<i64>> {
    let Some(entry) = loan_difference(loan, state, group, posted, provision)? else {
        return Ok(None);
    };
    post_entry_linked(conn, heads, caller, Some(loan.id), &entry, posting)
        .await
        .map(Some)
}

/// The header row of an entry.
fn header(caller: &Caller, loan_id: Option<i64>, posting: &Posting) -> journal_entry::ActiveModel {
    journal_entry::ActiveModel {
        entry_date: Set(posting.entry_date),
        kind: Set(posting.kind.clone()),
        description: Set(posting.description.clone()),
        loan_id: Set(loan_id),
        transaction_id: Set(posting.transaction_id),
        reverses_entry_id: Set(posting.reverses_entry_id),
        business_key: Set(posting.business_key.clone()),
        created_by: Set(caller.user_id()),
        posted_at: Set(posting.posted_at),
        ..Default::default()
    }
}

/// The line rows of `entry` under header `entry_id`, each carrying `loan_id`.
fn lines(
    entry_id: i64,
    loan_id: Option<i64>,
    entry: &JournalEntry,
) -> AppResult<Vec<journal_line::ActiveModel>> {
    entry
        .lines()
        .iter()
        .map(|line| {
            let amount = stored_vnd(line.amount)?;
            let (debit_vnd, credit_vnd) = if line.side == Side::Debit {
                (amount, 0)
            } else {
                (0, amount)
            };
            Ok(journal_line::ActiveModel {
                entry_id: Set(entry_id),
                account_code: Set(line.account.code().to_string()),
                debit_vnd: Set(debit_vnd),
                credit_vnd: Set(credit_vnd),
                loan_id: Set(loan_id),
                ..Default::default()
            })
        })
        .collect()
}

/// Writes a balanced `entry` with `posting`'s header; every line carries `loan_id` (`None`: a
/// portfolio-level entry such as the general provision). Returns the entry's id.
pub async fn post_entry<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    loan_id: Option<i64>,
    entry: &JournalEntry,
    posting: &Posting,
) -> AppResult<i64> {
    let mut heads = ChainHeads::new();
    let entry_id = post_entry_linked(conn, &mut heads, caller, loan_id, entry, posting).await?;
    heads.finish(conn).await?;
    Ok(entry_id)
}

/// [`post_entry`], the entry linked after `heads` (the unit of work's chain heads, which it moves at its
/// end).
pub async fn post_entry_linked<C: ConnectionTrait>(
    conn: &C,
    heads: &mut ChainHeads,
    caller: &Caller,
    loan_id: Option<i64>,
    entry: &JournalEntry,
    posting: &Posting,
) -> AppResult<i64> {
    let mut header = header(caller, loan_id, posting);
    // The lines are hashed with their entry before the entry's id is known (the id is not hashed).
    let mut rows = lines(0, loan_id, entry)?;
    heads
        .link_entries(conn, std::slice::from_mut(&mut header), &[rows.as_slice()])
        .await?;
    let entry_id = match posting.entry_id {
        Some(id) => {
            header.id = Set(id);
            let insert = journal_entry::Entity::insert(header).build(conn.get_database_backend());
            deferred_writes::execute(conn, insert, Changes::Any).await?;
            id
        }
        None => header.insert(conn).await?.id,
    };
    for row in &mut rows {
        row.entry_id = Set(entry_id);
    }
    // In a group commit the lines go with the command's other writes (`deferred_writes`): nothing of them
    // is read back.
    let insert = journal_line::Entity::insert_many(rows).build(conn.get_database_backend());
    deferred_writes::execute(conn, insert, Changes::Any).await?;
    Ok(entry_id)
}

/// One loan's entry to write with [`post_loan_entries`].
#[derive(Debug, Clone)]
pub struct LoanEntry {
    /// The loan every line carries.
    pub loan_id: i64,
    /// Its header; the business key is required (the ids are read back by it).
    pub posting: Posting,
    /// The balanced entry.
    pub entry: JournalEntry,
}

/// The id of the entry just inserted for `loan_id` (by the chunk's multi-row insert).
fn entry_id_of(entry_ids: &HashMap<i64, i64>, loan_id: i64) -> AppResult<i64> {
    entry_ids.get(&loan_id).copied().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "entry of loan {loan_id} not found after insert"
        ))
    })
}

/// Writes many loans' entries with a few multi-row INSERTs (the close of business in bulk), linked into the
/// journal chain's part of `heads` (whose heads it moves); returns each loan's entry id. Every posting must
/// carry a business key.
#[tracing::instrument(skip_all, fields(entries = entries.len()))]
pub async fn post_loan_entries<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    entries: &[LoanEntry],
    mut heads: crate::app::chains::ChainHeads,
) -> AppResult<HashMap<i64, i64>> {
    if entries.is_empty() {
        return Ok(HashMap::new());
    }
    let mut keys = Vec::with_capacity(entries.len());
    for entry in entries {
        let key = entry.posting.business_key.clone().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "loan {}'s bulk entry has no business key",
                entry.loan_id
            ))
        })?;
        keys.push(key);
    }
    // Every entry takes its place in the journal chain first (in insertion order), its lines hashed with it.
    let mut headers = entries
        .iter()
        .map(|e| header(caller, Some(e.loan_id), &e.posting))
        .collect::<Vec<_>>();
    let entry_lines = entries
        .iter()
        .map(|e| lines(0, Some(e.loan_id), &e.entry))
        .collect::<AppResult<Vec<_>>>()?;
    let line_refs = entry_lines.iter().map(Vec::as_slice).collect::<Vec<_>>();
    heads.link_entries(conn, &mut headers, &line_refs).await?;
    heads.finish(conn).await?;
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        return insert_entries_postgres(conn, &headers, entries, entry_lines).await;
    }
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        return insert_entries_sqlite(conn, &headers, entries, entry_lines).await;
    }
    while !headers.is_empty() {
        let rest = headers.split_off(headers.len().min(INSERT_ROWS_MAX / 2));
        journal_entry::Entity::insert_many(std::mem::replace(&mut headers, rest))
            .exec(conn)
            .await?;
    }
    // Read the ids back by their unique keys (portable, unlike relying on RETURNING order).
    let mut entry_ids = HashMap::new();
    for batch in keys.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<(i64, Option<i64>)> = journal_entry::Entity::find()
            .select_only()
            .column(journal_entry::Column::Id)
            .column(journal_entry::Column::LoanId)
            .filter(journal_entry::Column::BusinessKey.is_in(batch.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        entry_ids.extend(
            rows.into_iter()
                .filter_map(|(id, loan_id)| loan_id.map(|l| (l, id))),
        );
    }
    let mut rows = Vec::new();
    for (e, own_lines) in entries.iter().zip(entry_lines) {
        let entry_id = entry_id_of(&entry_ids, e.loan_id)?;
        rows.extend(own_lines.into_iter().map(|mut line| {
            line.entry_id = Set(entry_id);
            line
        }));
    }
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(INSERT_ROWS_MAX));
        journal_line::Entity::insert_many(std::mem::replace(&mut rows, rest))
            .exec(conn)
            .await?;
    }
    Ok(entry_ids)
}

/// The value of a column set on an active model (`None` when it is not set).
fn set_value<T: Into<sea_orm::Value> + Clone>(value: &sea_orm::ActiveValue<T>) -> Option<T> {
    match value {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => Some(v.clone()),
        sea_orm::ActiveValue::NotSet => None,
    }
}

/// The columns of `journal_entries` written by [`insert_entries_postgres`] with their PostgreSQL types.
const ENTRY_RECORD: &str = "entry_date date, kind text, description text, loan_id bigint, \
    transaction_id bigint, reverses_entry_id bigint, business_key text, created_by bigint, \
    posted_at timestamptz, chain_part smallint, chain_seq bigint, chain_prev text, chain_hash text";
/// The columns of `journal_lines` written by [`insert_entries_postgres`] with their PostgreSQL types.
const LINE_RECORD: &str =
    "entry_id bigint, account_code text, debit_vnd bigint, credit_vnd bigint, loan_id bigint";

/// The column names of a `json_to_recordset` record definition (`name type, …`).
pub(crate) fn record_columns(record: &str) -> String {
    record
        .split(',')
        .filter_map(|column| column.split_whitespace().next())
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`post_loan_entries`]' writes on PostgreSQL (issue 14, cobpg): the headers (already linked in their chain)
/// as one JSON parameter, `INSERT … SELECT … FROM json_to_recordset($1) RETURNING id, loan_id`, then the lines
/// the same way: two statements of one parameter each instead of multi-row `VALUES` of ≈ 10,000 bound values
/// to parse and bind, and no read-back of the entry ids by business key. The rows keep the order given (the
/// ids are taken in it, as from the multi-row `VALUES`); the ids come back by loan, one entry a loan.
async fn insert_entries_postgres<C: ConnectionTrait>(
    conn: &C,
    headers: &[journal_entry::ActiveModel],
    entries: &[LoanEntry],
    entry_lines: Vec<Vec<journal_line::ActiveModel>>,
) -> AppResult<HashMap<i64, i64>> {
    let backend = conn.get_database_backend();
    // As hashed by the chain (`timestamp_micros`): PostgreSQL keeps microseconds and would round the rest.
    let micros = |at: DateTime<Utc>| {
        DateTime::<Utc>::from_timestamp_micros(at.timestamp_micros())
            .unwrap_or(at)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    let rows: Vec<serde_json::Value> = headers
        .iter()
        .map(|h| {
            serde_json::json!({
                "entry_date": set_value(&h.entry_date),
                "kind": set_value(&h.kind),
                "description": set_value(&h.description),
                "loan_id": set_value(&h.loan_id).flatten(),
                "transaction_id": set_value(&h.transaction_id).flatten(),
                "reverses_entry_id": set_value(&h.reverses_entry_id).flatten(),
                "business_key": set_value(&h.business_key).flatten(),
                "created_by": set_value(&h.created_by).flatten(),
                "posted_at": set_value(&h.posted_at).map(micros),
                "chain_part": set_value(&h.chain_part),
                "chain_seq": set_value(&h.chain_seq).flatten(),
                "chain_prev": set_value(&h.chain_prev).flatten(),
                "chain_hash": set_value(&h.chain_hash).flatten(),
            })
        })
        .collect();
    let sql = format!(
        "INSERT INTO journal_entries ({columns}) SELECT {columns} \
         FROM json_to_recordset($1::text::json) AS r({ENTRY_RECORD}) RETURNING id, loan_id",
        columns = record_columns(ENTRY_RECORD),
    );
    let json = serde_json::Value::Array(rows).to_string();
    let inserted = conn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [json.into()],
        ))
        .await?;
    let entry_ids = entry_ids_by_loan(inserted, entries.len())?;
    let mut lines = Vec::new();
    for (e, own_lines) in entries.iter().zip(entry_lines) {
        let entry_id = entry_id_of(&entry_ids, e.loan_id)?;
        for line in own_lines {
            lines.push(serde_json::json!({
                "entry_id": entry_id,
                "account_code": set_value(&line.account_code),
                "debit_vnd": set_value(&line.debit_vnd),
                "credit_vnd": set_value(&line.credit_vnd),
                "loan_id": set_value(&line.loan_id).flatten(),
            }));
        }
    }
    let sql = format!(
        "INSERT INTO journal_lines ({columns}) SELECT {columns} \
         FROM json_to_recordset($1::text::json) AS r({LINE_RECORD})",
        columns = record_columns(LINE_RECORD),
    );
    let json = serde_json::Value::Array(lines).to_string();
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [json.into()],
    ))
    .await?;
    Ok(entry_ids)
}

/// A column value as JSON that SQLite's `->>` gives back as the value sqlx would have bound for it: integers as
/// integers, text as text, a date as `YYYY-MM-DD` and a time as RFC 3339 text (sqlx's SQLite encodings), NULL as
/// null. Only the types of the rows written through JSON ([`insert_entries_sqlite`]).
fn sqlite_json(value: sea_orm::Value) -> AppResult<serde_json::Value> {
    use sea_orm::Value;
    Ok(match value {
        Value::BigInt(v) => v.into(),
        Value::Int(v) => v.into(),
        Value::SmallInt(v) => v.into(),
        Value::String(v) => v.into(),
        Value::ChronoDate(v) => v.map(|d| d.format("%F").to_string()).into(),
        Value::ChronoDateTimeUtc(v) => v
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
            .into(),
        other => {
            return Err(AppError::internal(anyhow::anyhow!(
                "no JSON form for SQLite of {other:?}"
            )))
        }
    })
}

/// A column value as JSON that PostgreSQL's `json_to_recordset` turns back into the value sqlx would have bound
/// for it: integers as integers, text as text, a date as `YYYY-MM-DD`, a time as RFC 3339 text to the
/// microsecond (what PostgreSQL keeps; sqlx truncates the rest, as this does), NULL as null.
fn postgres_json(value: sea_orm::Value) -> AppResult<serde_json::Value> {
    use sea_orm::Value;
    Ok(match value {
        Value::ChronoDateTimeUtc(v) => v
            .map(|t| {
                DateTime::<Utc>::from_timestamp_micros(t.timestamp_micros())
                    .unwrap_or(t)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            })
            .into(),
        other => sqlite_json(other)?,
    })
}

/// The JSON array (one object a row, keyed by column name) of `models`' `columns` for `json_to_recordset`; a
/// column not set goes in as NULL.
pub(crate) fn postgres_json_records<A: sea_orm::ActiveModelTrait>(
    models: &[A],
    columns: &[<A::Entity as EntityTrait>::Column],
) -> AppResult<String> {
    let mut rows = Vec::with_capacity(models.len());
    for model in models {
        let mut row = serde_json::Map::with_capacity(columns.len());
        for column in columns {
            let value = match model.get(*column) {
                sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => {
                    postgres_json(v)?
                }
                sea_orm::ActiveValue::NotSet => serde_json::Value::Null,
            };
            row.insert(sea_orm::IdenStatic::as_str(column).to_string(), value);
        }
        rows.push(serde_json::Value::Object(row));
    }
    Ok(serde_json::Value::Array(rows).to_string())
}

/// The JSON array (one array of values a row, in `columns` order) of `models`' columns for `jsonb_each`.
pub(crate) fn sqlite_json_rows<A: sea_orm::ActiveModelTrait>(
    models: &[A],
    columns: &[<A::Entity as EntityTrait>::Column],
) -> AppResult<String> {
    let mut rows = Vec::with_capacity(models.len());
    for model in models {
        let mut row = Vec::with_capacity(columns.len());
        for column in columns {
            // A column not set goes in as NULL, as [`insert_entries_postgres`] writes it (the chain's columns
            // are set by `chains::link_entries`; the others by `header` and `lines`).
            row.push(match model.get(*column) {
                sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => {
                    sqlite_json(v)?
                }
                sea_orm::ActiveValue::NotSet => serde_json::Value::Null,
            });
        }
        rows.push(serde_json::Value::Array(row));
    }
    Ok(serde_json::Value::Array(rows).to_string())
}

/// `INSERT INTO table (columns) SELECT value ->> 0, … FROM jsonb_each(?)`: the rows of one JSON parameter
/// ([`sqlite_json_rows`]), inserted in their order, with `tail` after (`RETURNING …`). The text depends only on
/// the table and columns, so SQLite prepares it once per connection (issue 14, cobsqlite).
///
/// `jsonb_each`, not `json_each` (issue 14, cobcpu): the parameter is parsed once either way, but `json_each`
/// gives each row's array back as JSON *text*, which every one of the row's `->>` then parses again (a row of
/// twelve columns was rendered once and parsed twelve times; a snapshot row carries kilobytes); `jsonb_each`
/// gives it as SQLite's binary JSON, which `->>` reads in place. The values extracted are the same.
pub(crate) fn sqlite_json_insert<C: sea_orm::ColumnTrait>(
    table: &str,
    columns: &[C],
    tail: &str,
) -> String {
    let names: Vec<&str> = columns.iter().map(sea_orm::IdenStatic::as_str).collect();
    let extract: Vec<String> = (0..names.len())
        .map(|index| format!("value ->> {index}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM jsonb_each(?) {tail}",
        names.join(", "),
        extract.join(", ")
    )
}

/// The columns of table `E` a bulk posting writes: all but `id`, in the table's order.
fn written_columns<E: EntityTrait>() -> Vec<E::Column> {
    E::Column::iter()
        .filter(|column| sea_orm::IdenStatic::as_str(column) != "id")
        .collect()
}

/// The entry id of each loan from the `RETURNING id, loan_id` of a multi-row insert of `expected` loans'
/// entries; a count that differs is an error (an entry lost or doubled must not go unnoticed).
fn entry_ids_by_loan(
    inserted: Vec<sea_orm::QueryResult>,
    expected: usize,
) -> AppResult<HashMap<i64, i64>> {
    let mut entry_ids = HashMap::with_capacity(inserted.len());
    for row in inserted {
        let id: i64 = row.try_get("", "id")?;
        let loan_id: Option<i64> = row.try_get("", "loan_id")?;
        if let Some(loan_id) = loan_id {
            entry_ids.insert(loan_id, id);
        }
    }
    if entry_ids.len() != expected {
        return Err(AppError::internal(anyhow::anyhow!(
            "{expected} loans' entries written, {} ids returned",
            entry_ids.len()
        )));
    }
    Ok(entry_ids)
}

/// [`post_loan_entries`]' writes on SQLite (issue 14, cobsqlite): the headers (already linked in their chain) as
/// one JSON parameter, `INSERT … SELECT … FROM jsonb_each(?) RETURNING id, loan_id`, then the lines the same way.
/// Two statements whose text never changes (prepared once, kept once by sqlx's statement cache) instead of
/// multi-row `VALUES` of each chunk's size, the ids read back, and the lines' `VALUES`: each of those was a new
/// statement of thousands of bound values to parse every chunk, kept in the cache afterwards. The rows go in
/// in the order given, so they take the ids the multi-row `VALUES` gave them.
async fn insert_entries_sqlite<C: ConnectionTrait>(
    conn: &C,
    headers: &[journal_entry::ActiveModel],
    entries: &[LoanEntry],
    entry_lines: Vec<Vec<journal_line::ActiveModel>>,
) -> AppResult<HashMap<i64, i64>> {
    let backend = sea_orm::DbBackend::Sqlite;
    let entry_columns = written_columns::<journal_entry::Entity>();
    let inserted = conn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sqlite_json_insert("journal_entries", &entry_columns, "RETURNING id, loan_id"),
            [sqlite_json_rows(headers, &entry_columns)?.into()],
        ))
        .await?;
    let entry_ids = entry_ids_by_loan(inserted, entries.len())?;
    let mut lines = Vec::new();
    for (e, own_lines) in entries.iter().zip(entry_lines) {
        let entry_id = entry_id_of(&entry_ids, e.loan_id)?;
        lines.extend(own_lines.into_iter().map(|mut line| {
            line.entry_id = Set(entry_id);
            line
        }));
    }
    let line_columns = written_columns::<journal_line::Entity>();
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sqlite_json_insert("journal_lines", &line_columns, ""),
        [sqlite_json_rows(&lines, &line_columns)?.into()],
    ))
    .await?;
    Ok(entry_ids)
}

/// **The entry point for the close of business and every money command.** Refolds loan `loan` (already
/// locked by the caller, see [`crate::app::loans::lock_loan`]) from its stored events as of `date` (the
/// start of that business day: accrued through the day before, what fell due before it moved to overdue) —
/// from its latest snapshot when it has a usable one, writing a new one every few events
/// ([`loan_engine::fold_for_posting`]), so the state's allocations are those made after that snapshot —
/// classifies it, posts the difference to the books with `posting`, and caches the balances on the loan
/// row — all on `conn`, the caller's transaction. A retried posting with the same `business_key` fails
/// on the unique index: the caller decides whether that means "already done".
///
/// The specific provision is decided by `provision` from the loan row, the refolded state and its debt group
/// (the month-end close sets it, DOMAIN.md §8; everything else keeps it); `calendar` is the fund's in force.
/// The entry is linked after `heads` (the unit of work's chain heads: the caller moves them before it commits,
/// [`ChainHeads::finish`]).
#[tracing::instrument(skip_all, fields(loan_id = loan.id, %date, kind = %posting.kind))]
#[allow(clippy::too_many_arguments)]
pub async fn refold_and_post<C: ConnectionTrait>(
    conn: &C,
    heads: &mut ChainHeads,
    classification: &ClassificationConfig,
    caller: &Caller,
    loan: loan::Model,
    date: NaiveDate,
    posting: &Posting,
    calendar: &HolidayCalendar,
    provision: impl FnOnce(&loan::Model, &LoanState, DebtGroup) -> Provision,
) -> AppResult<Refolded> {
    // Boxed: a money command's future is large, and a debug build carries it on the stack (`loans::commands`).
    let reads = Box::pin(PostingReads::read(conn, &loan, date)).await?;
    // From the loan's latest snapshot: the events after it only, not the whole history (issue 14); the
    // position reached is kept every `SNAPSHOT_EVERY_EVENTS` events so that the next post folds as few.
    let folded = loan_engine::fold_for_posting(conn, &loan, calendar, date, reads.snapshot).await?;
    if let Some(snapshot) = &folded.snapshot {
        let row = loan_engine::snapshot_row(loan.id, snapshot, posting.posted_at)?;
        loan_engine::store_snapshots(conn, vec![row]).await?;
    }
    let state = folded.state;
    let group = loan_group(&state, classification).max(worst_of(reads.sibling_groups)?);
    let provision = provision(&loan, &state, group);
    let entry_id = post_loan_difference(
        conn,
        heads,
        caller,
        &loan,
        &state,
        group,
        posting,
        provision,
        &reads.posted,
    )
    .await?;
    let loan = cache_balances(conn, loan, &state, group, date, posting.posted_at).await?;
    Ok(Refolded {
        state,
        loan,
        entry_id,
    })
}

/// The engine's state of `loan` from its stored `transactions` as of the start of `date`.
pub fn fold_loan(
    loan: &loan::Model,
    transactions: &[loan_transaction::Model],
    calendar: &HolidayCalendar,
    date: NaiveDate,
) -> AppResult<LoanState> {
    let contract = contract_of(loan, calendar)?;
    let events = events_of(transactions)?;
    loan_engine::fold_at(&contract, &events, date)
}

/// The debt group cached on a loan row; a number outside 1..=5 is an error naming the loan.
pub fn cached_group(loan_id: i64, stored: i32) -> AppResult<DebtGroup> {
    u8::try_from(stored)
        .ok()
        .and_then(DebtGroup::from_number)
        .ok_or_else(|| AppError::unreadable("loan", loan_id, "debt group", stored))
}

/// The worst debt group cached on the cooperative's other open loans (DOMAIN.md §8: all loans of one
/// cooperative take the group of its worst loan). The close of business recomputes the whole
/// cooperative each night; between closes an event uses this, so a loan never looks better than
/// its siblings made it.
pub async fn worst_sibling_group<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
) -> AppResult<DebtGroup> {
    worst_of(sibling_groups(conn, loan).await?)
}

/// The id and cached debt group of each of the cooperative's other open loans.
async fn sibling_groups<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
) -> AppResult<Vec<(i64, i32)>> {
    Ok(loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .column(loan::Column::DebtGroup)
        .filter(loan::Column::CooperativeId.eq(loan.cooperative_id))
        .filter(loan::Column::Id.ne(loan.id))
        .filter(loan::Column::Status.eq(coopfund_domain::LoanStatus::Active.as_str()))
        .into_tuple()
        .all(conn)
        .await?)
}

/// The worst of the siblings' cached `groups` (id, stored group); a stored group outside 1..=5 names its loan.
fn worst_of(groups: Vec<(i64, i32)>) -> AppResult<DebtGroup> {
    // No open sibling: nothing makes this loan worse than its own group.
    let mut worst = DebtGroup::One;
    for (id, stored) in groups {
        worst = worst.max(cached_group(id, stored)?);
    }
    Ok(worst)
}

/// What posting an event on a loan reads before it folds and posts ([`refold_and_post`]): the loan's latest
/// snapshot on or before the date with the transactions after it, the debt groups of the cooperative's other
/// open loans, and the loan's posted book.
///
/// **One round trip on SQLite** (issue 14): the driver runs each SQLite connection on a thread of its own, and
/// every statement is a hand-off to that thread and back, made while the money command holds the file's one
/// writer gate (`crate::app::writer`); the hand-offs, not the statements' work (a few µs each), are most of a
/// repayment's time there. So the four reads go as one text of four statements (the driver binds the `?`s in
/// order across them) and their rows come back together, each naming its statement in a `part` column. The
/// statements are those run one by one on PostgreSQL, where each is a network round trip made while only the
/// loan's row lock is held and a text of several statements cannot be prepared.
struct PostingReads {
    snapshot: loan_engine::SnapshotRead,
    sibling_groups: Vec<(i64, i32)>,
    posted: AccountBalances,
}

impl PostingReads {
    /// The cooperative's other open loans (`?`: the cooperative, the loan, the active status) and the loan's
    /// running book (`?`: the loan), parts 2 and 3 of the SQLite text.
    const SIBLINGS_AND_BOOK_SQLITE: &'static str =
        "SELECT 2 AS part, id, debt_group FROM loans WHERE cooperative_id = ? AND id <> ? AND status = ?; \
         SELECT 3 AS part, loan_id, account_code, debit_vnd, credit_vnd FROM loan_books WHERE loan_id = ?";

    async fn read<C: ConnectionTrait>(
        conn: &C,
        loan: &loan::Model,
        date: NaiveDate,
    ) -> AppResult<Self> {
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(PostingReads {
                snapshot: loan_engine::SnapshotRead::of(conn, loan.id, date).await?,
                sibling_groups: sibling_groups(conn, loan).await?,
                posted: posted_book(conn, loan.id).await?,
            });
        }
        let sql = format!(
            "{}; {}; {}",
            loan_engine::SnapshotRead::LATEST_SQLITE,
            loan_engine::SnapshotRead::SINCE_SQLITE,
            Self::SIBLINGS_AND_BOOK_SQLITE
        );
        let values: [sea_orm::Value; 10] = [
            loan.id.into(),
            date.into(),
            loan.id.into(),
            date.into(),
            loan.id.into(),
            loan.id.into(),
            loan.cooperative_id.into(),
            loan.id.into(),
            coopfund_domain::LoanStatus::Active.as_str().into(),
            loan.id.into(),
        ];
        // The loan's book, its row, its snapshots and its transactions as this command's writes left them: its
        // kept writes (the transaction's insert among them) go first in the same text (`deferred_writes`).
        let rows = deferred_writes::query_all(
            conn,
            Statement::from_sql_and_values(DbBackend::Sqlite, sql, values),
        )
        .await?;
        let (mut snapshot, mut since) = (None, Vec::new());
        let (mut sibling_groups, mut book_rows) = (Vec::new(), Vec::new());
        for row in rows {
            let part: i32 = row.try_get("", "part")?;
            match part {
                0 => snapshot = Some(entities::loan_snapshot::Model::from_query_result(&row, "")?),
                1 => since.push(loan_transaction::Model::from_query_result(&row, "")?),
                2 => sibling_groups.push((row.try_get("", "id")?, row.try_get("", "debt_group")?)),
                3 => book_rows.push(entities::loan_book::Model::from_query_result(&row, "")?),
                other => {
                    return Err(AppError::internal(anyhow::anyhow!(
                        "the posting's reads of loan {} returned a row of part {other}",
                        loan.id
                    )))
                }
            }
        }
        Ok(PostingReads {
            snapshot: loan_engine::SnapshotRead {
                row: snapshot,
                since: Some(since),
            },
            sibling_groups,
            posted: books::book_of_rows(book_rows)?,
        })
    }
}

/// The balances a loan row caches for the engine's `state` and debt `group` (one definition for the
/// loan-by-loan write, [`cache_balances`], and the set-based one, [`cache_balances_many`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct CachedBalances {
    status: String,
    first_disbursed_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
    disbursed_vnd: i64,
    in_term_principal_vnd: i64,
    overdue_principal_vnd: i64,
    advance_vnd: i64,
    dpd: i32,
    debt_group: i32,
    restructure_count: i32,
}

impl CachedBalances {
    fn of(loan: &loan::Model, state: &LoanState, group: DebtGroup) -> AppResult<Self> {
        let loan_id = loan.id;
        let stored_count = |what: &str, count: i64| {
            i32::try_from(count).map_err(|_| {
                AppError::internal(anyhow::anyhow!(
                    "loan {loan_id}: {what} {count} does not fit its column"
                ))
            })
        };
        Ok(CachedBalances {
            status: status_of(&loan.status, state),
            first_disbursed_on: state.first_disbursed_on,
            closed_on: state.closed_on.or(state.written_off_on),
            disbursed_vnd: stored_vnd(state.disbursed)?,
            in_term_principal_vnd: stored_vnd(state.in_term_principal)?,
            overdue_principal_vnd: stored_vnd(state.overdue_principal)?,
            advance_vnd: stored_vnd(state.advance)?,
            dpd: stored_count("days past due", state.dpd)?,
            debt_group: i32::from(group.number()),
            restructure_count: stored_count(
                "restructure count",
                i64::from(state.restructure_count),
            )?,
        })
    }

    /// `loan` with these balances as of `date`, written at `now` (its version moved on).
    fn applied(self, mut loan: loan::Model, date: NaiveDate, now: DateTime<Utc>) -> loan::Model {
        loan.status = self.status;
        loan.first_disbursed_on = self.first_disbursed_on;
        loan.closed_on = self.closed_on;
        loan.disbursed_vnd = self.disbursed_vnd;
        loan.in_term_principal_vnd = self.in_term_principal_vnd;
        loan.overdue_principal_vnd = self.overdue_principal_vnd;
        loan.advance_vnd = self.advance_vnd;
        loan.dpd = self.dpd;
        loan.debt_group = self.debt_group;
        loan.restructure_count = self.restructure_count;
        loan.balances_as_of = Some(date);
        loan.balances_cached_by_command = false;
        loan.version += 1;
        loan.updated_at = now;
        loan
    }
}

/// Writes the engine's balances as of `date` onto the loan row (cached for lists and reports; `ledger
/// verify` checks them), at `now`.
pub async fn cache_balances<C: ConnectionTrait>(
    conn: &C,
    loan: loan::Model,
    state: &LoanState,
    group: DebtGroup,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<loan::Model> {
    let cached = CachedBalances::of(&loan, state, group)?;
    let loan_id = loan.id;
    let version = loan.version + 1;
    let mut active = loan.into_active_model();
    active.status = Set(cached.status);
    active.first_disbursed_on = Set(cached.first_disbursed_on);
    active.closed_on = Set(cached.closed_on);
    active.disbursed_vnd = Set(cached.disbursed_vnd);
    active.in_term_principal_vnd = Set(cached.in_term_principal_vnd);
    active.overdue_principal_vnd = Set(cached.overdue_principal_vnd);
    active.advance_vnd = Set(cached.advance_vnd);
    active.dpd = Set(cached.dpd);
    active.debt_group = Set(cached.debt_group);
    active.restructure_count = Set(cached.restructure_count);
    active.balances_as_of = Set(Some(date));
    // A command's write (or the loan-by-loan close's): of the close's day, it may be after the close passed the
    // loan, so the close's marks must not cover it ([`effective_balances_as_of`]); at worst the next close
    // writes the row once more.
    active.balances_cached_by_command = Set(true);
    active.version = Set(version);
    active.updated_at = Set(now);
    // The row as written is the row read with these columns set: in a group commit the `UPDATE` goes with
    // the command's other writes (`deferred_writes`), nothing read back.
    let written = active.clone().try_into_model()?;
    let update = loan::Entity::update_many()
        .set(active)
        .filter(loan::Column::Id.eq(loan_id))
        .build(conn.get_database_backend());
    deferred_writes::execute(
        conn,
        update,
        Changes::Exactly(1, "the loan's cached balances".into()),
    )
    .await?;
    Ok(written)
}

/// The date loan `loan`'s cached balances are as of, given the fund's "cached through" marks: the row's
/// `balances_as_of`, or a later date for an open loan the close of business left unwritten (issue 14, cobpg).
///
/// The close of day p writes only the rows whose balances change, and the rows a command wrote on day p (their
/// as-of is p); it leaves alone an open loan whose cached balances are the engine's as of p + 1 and whose row is
/// as of a day before p, or as of p not by a command (`balances_cached_by_command`: by the close of p − 1). That
/// row is as of p + 1 as much as if the close had written it (what it did before), and stays so until it is
/// written again: every write of a loan row that changes whether it is open, or its balances, writes
/// `balances_as_of` (a command: the business date, so ≥ p, and the flag). A command's row of day p written after
/// the close of p passed the loan is as of p, and the flag keeps it so. So, with D the date a mark gives (p + 1 for the
/// cooperatives the close of p has passed, [`crate::app::fund::CachedThrough::cob_day`]; the business date for the rest once
/// the day is finished, [`crate::app::fund::CachedThrough::open_loans`]), an open loan's row is as of D when it is before
/// D − 1, or is D − 1 not by a command. A loan not yet disbursed, or closed, written off or recovered, is
/// not one the close caches: its row's date. Every reader of the as-of date (`ledger verify`, the audited
/// "before" of a loan command) reads it through here and sees what it saw when every open loan's row was written
/// daily.
///
/// A stored status that cannot be read is an error naming the loan.
pub fn effective_balances_as_of(
    loan: &loan::Model,
    marks: &crate::app::fund::CachedThrough,
) -> AppResult<Option<NaiveDate>> {
    let Some(stored) = loan.balances_as_of else {
        return Ok(None);
    };
    let open = loan.first_disbursed_on.is_some()
        && !crate::app::loan_engine::status_of(loan)?.is_finished();
    if !open {
        return Ok(Some(stored));
    }
    Ok(Some(open_loan_balances_as_of(
        OpenLoanAsOf {
            cooperative_id: loan.cooperative_id,
            stored,
            cached_by_command: loan.balances_cached_by_command,
        },
        marks,
    )))
}

/// What an open loan's as-of date depends on besides the marks: the columns of its row
/// [`open_loan_balances_as_of`] reads (a reader of many open loans selects only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenLoanAsOf {
    /// The loan's cooperative (the close's cooperative mark covers those up to one id).
    pub cooperative_id: i64,
    /// The row's `balances_as_of`.
    pub stored: NaiveDate,
    /// The row's `balances_cached_by_command`: a command wrote it on its as-of date.
    pub cached_by_command: bool,
}

/// The as-of date of an open loan's cached balances ([`effective_balances_as_of`], for a loan known to be open:
/// disbursed, not finished).
pub fn open_loan_balances_as_of(
    loan: OpenLoanAsOf,
    marks: &crate::app::fund::CachedThrough,
) -> NaiveDate {
    let covered_through = |through: NaiveDate| {
        let day_before = through - chrono::Duration::days(1);
        loan.stored < day_before || (loan.stored == day_before && !loan.cached_by_command)
    };
    if let Some((day, last_cooperative)) = marks.cob_day {
        let through = day + chrono::Duration::days(1);
        if loan.cooperative_id <= last_cooperative && covered_through(through) {
            return through;
        }
    }
    match marks.open_loans {
        Some(through) if covered_through(through) => through,
        _ => loan.stored,
    }
}

/// Whether the close of day `date` may leave loan `loan`'s row unwritten when its cached balances do not change:
/// the row is then covered by the marks the close sets ([`effective_balances_as_of`]), i.e. it is not as of `date`
/// by a command's write (nor of a later date).
pub fn close_may_skip(loan: &loan::Model, date: NaiveDate) -> bool {
    match loan.balances_as_of {
        Some(stored) => stored < date || (stored == date && !loan.balances_cached_by_command),
        None => false,
    }
}

/// The loan columns [`cache_balances_many`] sets from each row's values, after `id`.
const CACHED_COLUMNS: [&str; 10] = [
    "status",
    "first_disbursed_on",
    "closed_on",
    "disbursed_vnd",
    "in_term_principal_vnd",
    "overdue_principal_vnd",
    "advance_vnd",
    "dpd",
    "debt_group",
    "restructure_count",
];

/// The PostgreSQL types of `id` and [`CACHED_COLUMNS`], in that order.
const CACHED_CASTS: [&str; 11] = [
    "bigint", "text", "date", "date", "bigint", "bigint", "bigint", "bigint", "integer", "integer",
    "integer",
];

/// The most loans of one [`cache_balances_many`] statement: 12 bound values each, under SQLite's 32,766.
const CACHED_ROWS_MAX: usize = 2_000;

/// One loan row for [`cache_balances_many`]: its balances rewritten from the engine's state and group, or only
/// marked as of the day (nothing it caches changed: `version` and `updated_at` stay).
#[derive(Debug, Clone, Copy)]
pub enum CacheRow<'a> {
    /// The engine's balances differ from the row's: rewrite them, move `version`, stamp `updated_at`.
    Changed(&'a loan::Model, &'a LoanState, DebtGroup),
    /// Nothing the row caches changed: only `balances_as_of` moves.
    AsOfOnly(i64),
}

/// [`cache_balances`] for many loans (the close of business in bulk): one `UPDATE … FROM` a list of values
/// per 2,000 loans instead of one statement per loan. Every row of `loans` gets `balances_as_of = date` and
/// `balances_cached_by_command = false`, in the one statement that writes it; only the [`CacheRow::Changed`] ones get new
/// balances, `version + 1` and `updated_at = now`. The close gives only the rows it must write: a loan whose
/// balances do not change and whose row the marks will cover is left out ([`close_may_skip`],
/// [`effective_balances_as_of`]). Returns the changed rows as written, in the order given.
pub async fn cache_balances_many<C: ConnectionTrait>(
    conn: &C,
    loans: &[CacheRow<'_>],
    date: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<loan::Model>> {
    let backend = conn.get_database_backend();
    if backend == sea_orm::DbBackend::Sqlite {
        return cache_balances_many_sqlite(conn, loans, date, now).await;
    }
    let postgres = backend == sea_orm::DbBackend::Postgres;
    let mut written = Vec::new();
    for batch in loans.chunks(CACHED_ROWS_MAX) {
        // PostgreSQL numbers its parameters and types each value by its cast; SQLite takes them in order.
        let mut count = 0usize;
        let mut placeholder = |cast: &str| {
            count += 1;
            if postgres {
                format!("${count}::{cast}")
            } else {
                "?".to_string()
            }
        };
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(batch.len() * 11 + 2);
        let mut rows = Vec::with_capacity(batch.len());
        let mut cached_rows = Vec::new();
        for row in batch {
            match row {
                CacheRow::Changed(loan, state, group) => {
                    let cached = CachedBalances::of(loan, state, *group)?;
                    let row: Vec<String> =
                        CACHED_CASTS.iter().map(|cast| placeholder(cast)).collect();
                    rows.push(format!("({}, 1)", row.join(", ")));
                    values.extend([
                        loan.id.into(),
                        cached.status.clone().into(),
                        cached.first_disbursed_on.into(),
                        cached.closed_on.into(),
                        cached.disbursed_vnd.into(),
                        cached.in_term_principal_vnd.into(),
                        cached.overdue_principal_vnd.into(),
                        cached.advance_vnd.into(),
                        cached.dpd.into(),
                        cached.debt_group.into(),
                        cached.restructure_count.into(),
                    ]);
                    cached_rows.push(((*loan).clone(), cached));
                }
                // The id is an integer written as a literal (nothing to bind); the NULLs are typed so that
                // PostgreSQL resolves the list's column types whatever row comes first.
                CacheRow::AsOfOnly(id) => {
                    let nulls: Vec<String> = CACHED_CASTS[1..]
                        .iter()
                        .map(|cast| {
                            if postgres {
                                format!("NULL::{cast}")
                            } else {
                                "NULL".to_string()
                            }
                        })
                        .collect();
                    let id = if postgres {
                        format!("{id}::bigint")
                    } else {
                        id.to_string()
                    };
                    rows.push(format!("({id}, {}, 0)", nulls.join(", ")));
                }
            }
        }
        let (as_of, updated_at) = (placeholder("date"), placeholder("timestamptz"));
        values.extend([Some(date).into(), now.into()]);
        let set: Vec<String> = CACHED_COLUMNS
            .iter()
            .map(|column| {
                format!(
                    "{column} = CASE WHEN v.changed = 1 THEN v.{column} ELSE loans.{column} END"
                )
            })
            .collect();
        let sql = format!(
            "WITH v (id, {columns}, changed) AS (VALUES {rows}) \
             UPDATE loans SET {set}, balances_as_of = {as_of}, balances_cached_by_command = FALSE, \
             version = loans.version + v.changed, \
             updated_at = CASE WHEN v.changed = 1 THEN {updated_at} ELSE loans.updated_at END \
             FROM v WHERE loans.id = v.id",
            columns = CACHED_COLUMNS.join(", "),
            rows = rows.join(", "),
            set = set.join(", "),
        );
        let result = conn
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                backend, sql, values,
            ))
            .await?;
        if result.rows_affected() != batch.len() as u64 {
            return Err(AppError::internal(anyhow::anyhow!(
                "caching the balances of {} loans updated {} rows",
                batch.len(),
                result.rows_affected()
            )));
        }
        for (loan, cached) in cached_rows {
            written.push(cached.applied(loan, date, now));
        }
    }
    Ok(written)
}

/// The SQL of [`cache_balances_many_sqlite`]: the same `UPDATE … FROM` as [`cache_balances_many`]'s, its rows
/// read from one JSON parameter (an array of `[id, CACHED_COLUMNS…, changed]` arrays) by `jsonb_each`. The text
/// never changes, so SQLite prepares it once per connection and sqlx's statement cache keeps that one statement
/// (issue 14, cobsqlite): a `VALUES` list of each chunk's size (with its ids as literals) was a new statement of
/// ≈ 9,000 bound values to parse and plan every chunk, and each was kept in the cache, up to 100 per
/// connection, which is what made the close's memory grow with the fund. `jsonb_each` for the reason given at
/// [`sqlite_json_insert`].
fn cache_balances_sqlite_sql() -> String {
    let extract: Vec<String> = (0..=CACHED_COLUMNS.len() + 1)
        .map(|index| format!("value ->> {index}"))
        .collect();
    let set: Vec<String> = CACHED_COLUMNS
        .iter()
        .map(|column| {
            format!("{column} = CASE WHEN v.changed = 1 THEN v.{column} ELSE loans.{column} END")
        })
        .collect();
    format!(
        "WITH v (id, {columns}, changed) AS (SELECT {extract} FROM jsonb_each(?)) \
         UPDATE loans SET {set}, balances_as_of = ?, balances_cached_by_command = FALSE, \
         version = loans.version + v.changed, \
         updated_at = CASE WHEN v.changed = 1 THEN ? ELSE loans.updated_at END \
         FROM v WHERE loans.id = v.id",
        columns = CACHED_COLUMNS.join(", "),
        extract = extract.join(", "),
        set = set.join(", "),
    )
}

/// [`cache_balances_many`] on SQLite: one statement of three parameters for all of `loans` (JSON has no bound on
/// rows, and the statement text is always the same: [`cache_balances_sqlite_sql`]). Each value goes in as the
/// type sqlx binds it as (integers as integers, dates as `YYYY-MM-DD` text, NULL as NULL), so the rows written are
/// those of the `VALUES` form.
async fn cache_balances_many_sqlite<C: ConnectionTrait>(
    conn: &C,
    loans: &[CacheRow<'_>],
    date: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<loan::Model>> {
    if loans.is_empty() {
        return Ok(Vec::new());
    }
    // sqlx's SQLite encoding of a date (`%F`).
    let day = |date: Option<NaiveDate>| date.map(|d| d.format("%F").to_string());
    let mut rows = Vec::with_capacity(loans.len());
    let mut cached_rows = Vec::new();
    for row in loans {
        rows.push(match row {
            CacheRow::Changed(loan, state, group) => {
                let cached = CachedBalances::of(loan, state, *group)?;
                let json = serde_json::json!([
                    loan.id,
                    cached.status,
                    day(cached.first_disbursed_on),
                    day(cached.closed_on),
                    cached.disbursed_vnd,
                    cached.in_term_principal_vnd,
                    cached.overdue_principal_vnd,
                    cached.advance_vnd,
                    cached.dpd,
                    cached.debt_group,
                    cached.restructure_count,
                    1,
                ]);
                cached_rows.push(((*loan).clone(), cached));
                json
            }
            CacheRow::AsOfOnly(id) => {
                let mut json = vec![serde_json::Value::from(*id)];
                json.extend(CACHED_COLUMNS.iter().map(|_| serde_json::Value::Null));
                json.push(0.into());
                serde_json::Value::Array(json)
            }
        });
    }
    let values: Vec<sea_orm::Value> = vec![
        serde_json::Value::Array(rows).to_string().into(),
        Some(date).into(),
        now.into(),
    ];
    let result = conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            cache_balances_sqlite_sql(),
            values,
        ))
        .await?;
    if result.rows_affected() != loans.len() as u64 {
        return Err(AppError::internal(anyhow::anyhow!(
            "caching the balances of {} loans updated {} rows",
            loans.len(),
            result.rows_affected()
        )));
    }
    Ok(cached_rows
        .into_iter()
        .map(|(loan, cached)| cached.applied(loan, date, now))
        .collect())
}
