//! Bulk mode (`coopfund demo --loans N`, N up to 100,000): a large fund for benchmarks of the close of
//! business, `ledger verify` and the list endpoints.
//!
//! ## What is generated
//! The four demo products and 300 billion đồng of charter capital (through the use cases, like the
//! explorable demo); `ceil(N / 4)` cooperatives with unique registration codes (`BULK-0000001` …)
//! across the configured districts; and per loan one application (`approved`), one loan (approved,
//! signed and disbursed 30 to 540 days before the business date) and its events: the disbursement
//! and repayments — most borrowers pay each installment on its due date, some 5-25 days late, some
//! stop paying, some prepay a fifth of the principal — generated in memory from a seeded random
//! stream, so a given N always gives the same fund.
//!
//! ## How it is fast and still right
//! Each loan is folded by the engine ([`coopfund_domain::fold`]) as of the business date, classified,
//! and its book computed with [`coopfund_domain::loan_book`] against an empty posted book; the balanced
//! [`coopfund_domain::entry_for_difference`] becomes one **opening entry** per loan (kind
//! `demo_opening`, every line tagged with the loan) — exactly what posting by difference would have
//! left after the same events, so `ledger verify` holds. The loan row carries the cached balances.
//! Ids are a function of the loan's index (gaps are harmless), so chunks of 2,000 loans are generated
//! on a blocking thread while the previous chunk is written: one database transaction per chunk, on
//! SQLite multi-row `INSERT`s sized under its bind-parameter limit (32,766), on PostgreSQL one
//! `COPY … FROM STDIN` per table (`postgres`). PostgreSQL's id sequences are moved past the explicit
//! ids at the end.
//!
//! On PostgreSQL up to `CHUNKS_IN_FLIGHT` chunks are written at once, each in its own transaction on
//! its own connection (the server's time is per-row foreign-key checks and index inserts, one core per
//! connection): a chunk copies its applications and loans, then waits until the chunk before it has
//! committed, and only then takes the chain heads and copies its loan transactions, journal entries and
//! lines. The chained rows are therefore appended, and the chunks committed, strictly in order; what
//! overlaps is the unchained part of the next chunks with the chained part of the current one. So that
//! the chained part is only the server's work, everything of a chunk is made before its transaction,
//! on a blocking thread: its rows are linked in memory after the heads the chunk before it leaves
//! ([`chains::link_after`]; this load is the database's only writer) and each table's `COPY` text is
//! built; in the transaction [`chains::move_heads`] takes the heads and refuses if one is not where the
//! rows were linked.
//!
//! ## A fund that has been running: one snapshot per open loan
//! A fund that closes every day holds, for each open loan, the snapshot of the fold its close last wrote
//! (`app::cob_batch`: each loan's is rewritten on its day of the week,
//! [`loan_engine::days_since_snapshot_day`]). The bulk fund is written the same way: each open loan gets the snapshot that rule would have left,
//! taken by [`FoldSnapshot::take`] from the loan's events at the start of that date (at most six days before
//! the business date, never before the disbursement). So the first close of a bulk fund costs what a day of a
//! running fund costs, and a benchmark of the close measures that (issue 14); `ledger verify` checks every
//! snapshot against the full refold. A fund imported from elsewhere has none until its first close, which
//! then reads every open loan's whole history and writes every snapshot (benches/README: "the fund's first
//! close").
//!
//! ## What a failure or a crash leaves
//! Each chunk is still one transaction, and a chunk commits only after the one before it has
//! committed (if that one fails, the later ones roll back). So a load that fails or is killed leaves
//! the charter capital, the products, the cooperatives and the **first k chunks, each whole** (their
//! books balance, their chains verify), and no `demo.bulk_load` audit record — as before the chunks
//! overlapped. Such a database is not empty, so the demo refuses to load into it again: load into a
//! fresh database.
//!
//! ## What it does not do
//! No audit record per row: a benchmark seed writes **one** audit record (`demo.bulk_load`) for the
//! whole load, naming the counts. No idempotency keys, no notices, no collateral. Use the explorable
//! demo to see the use cases at work.

use std::{collections::VecDeque, time::Instant};

use chrono::{Duration, NaiveDate, Utc};
use coopfund_domain::{
    build_schedule,
    chain::{Chain, Head},
    entry_for_difference, loan_book,
    snapshot::FoldSnapshot,
    AccountBalances, BookInputs, EventKind, LoanEvent, RepaymentKind, Side, Vnd,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityName, EntityTrait, IntoActiveModel, Iterable, Statement, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::oneshot;

mod postgres;

use super::{admin_caller, business_date, ensure_empty, explorable, names};
use crate::{
    app::{
        applications::{NewLoan, Status as ApplicationStatus},
        audit::{self, Change},
        chains,
        charter_capital::{self, NewContribution},
        ledger,
        loan_engine::{self, contract_of, kind, loan_group},
        products,
    },
    error::{AppError, AppResult},
    state::AppState,
    store::entities::{
        application, cooperative, journal_entry, journal_line, loan, loan_snapshot,
        loan_transaction, product,
    },
};

/// Loans generated and written per database transaction.
const CHUNK_LOANS: usize = 2_000;
/// Rows per multi-row `INSERT` on SQLite at most (fewer when the table is wide: see [`rows_per_statement`]).
const MAX_ROWS_PER_STATEMENT: usize = 1_000;
/// Chunks written at once on PostgreSQL, each on its own connection and in its own transaction: while
/// one appends to the chains, the next ones copy their applications and loans (see [`write_chunk_postgres`]).
const CHUNKS_IN_FLIGHT: usize = 3;
/// Transaction ids reserved per loan (a disbursement and at most this many minus one repayments).
const TX_IDS_PER_LOAN: i64 = 64;
const MILLION: i64 = 1_000_000;

/// What bulk mode loaded and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct BulkSummary {
    pub cooperatives: usize,
    pub loans: usize,
    pub transactions: usize,
    pub journal_entries: usize,
    pub journal_lines: usize,
    /// Loans by status after the fold.
    pub active: usize,
    pub closed: usize,
    pub overdue: usize,
    pub business_date: NaiveDate,
    /// Wall time of the whole load, seconds.
    pub seconds: f64,
}

impl BulkSummary {
    /// A readable summary.
    pub fn render(&self) -> String {
        format!(
            "bulk demo loaded in {:.1} s: {} cooperatives, {} loans ({} active, {} overdue, {} closed), {} transactions, {} journal entries with {} lines; business date {}\n",
            self.seconds,
            self.cooperatives,
            self.loans,
            self.active,
            self.overdue,
            self.closed,
            self.transactions,
            self.journal_entries,
            self.journal_lines,
            self.business_date
        )
    }
}

/// The first free id of each table written here (the tables may hold a few rows, e.g. the charter
/// capital's entry).
#[derive(Debug, Clone, Copy)]
struct IdBases {
    cooperative: i64,
    application: i64,
    loan: i64,
    transaction: i64,
    entry: i64,
}

async fn next_id<C: ConnectionTrait>(conn: &C, table: &str) -> AppResult<i64> {
    let backend = conn.get_database_backend();
    let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS max_id FROM {table}");
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    let max: i64 = row
        .map(|r| r.try_get("", "max_id"))
        .transpose()?
        .unwrap_or(0);
    Ok(max + 1)
}

/// Loads `loans` loans in bulk into a database without cooperatives or loans.
pub async fn load_bulk(state: &AppState, loans: usize) -> AppResult<BulkSummary> {
    load_bulk_in_chunks(state, loans, CHUNK_LOANS).await
}

/// [`load_bulk`] with `chunk_loans` loans a transaction instead of 2,000: the fund is the same whatever
/// the chunk size (tests load a small fund in many chunks, so that several are written at once).
pub async fn load_bulk_in_chunks(
    state: &AppState,
    loans: usize,
    chunk_loans: usize,
) -> AppResult<BulkSummary> {
    let chunk_loans = chunk_loans.max(1);
    let started = Instant::now();
    let db = &state.db;
    ensure_empty(db).await?;
    let admin = admin_caller(db).await?;
    let today = business_date(db).await?;
    let input = NewContribution {
        amount_vnd: 300_000 * MILLION,
        contributed_on: today,
        reference: "QĐ 512/QĐ-UBND (dữ liệu mẫu)".into(),
    };
    charter_capital::contribute(&state.ctx, &admin, input, None).await?;
    let mut product_rows = Vec::new();
    for body in explorable::product_inputs() {
        let body: crate::http::dto::products::ProductBody =
            serde_json::from_value(body).map_err(AppError::internal)?;
        let created = products::create(&state.ctx, &admin, body.try_into()?).await?;
        product_rows.push(products::load(db, created.id.into()).await?);
    }
    let cooperatives = loans.div_ceil(4).max(1);
    let bases = IdBases {
        cooperative: next_id(db, "cooperatives").await?,
        application: next_id(db, "applications").await?,
        loan: next_id(db, "loans").await?,
        transaction: next_id(db, "loan_transactions").await?,
        entry: next_id(db, "journal_entries").await?,
    };
    insert_cooperatives(state, cooperatives, bases.cooperative, today).await?;
    let plan = Plan {
        bases,
        cooperatives,
        today,
        calendar: crate::app::calendar::in_force(db).await?,
        products: product_rows,
        approver_id: admin.user_id(),
        classification: state.ctx.policy.classification.clone(),
    };
    let mut summary = BulkSummary {
        cooperatives,
        loans,
        transactions: 0,
        journal_entries: 0,
        journal_lines: 0,
        active: 0,
        closed: 0,
        overdue: 0,
        business_date: today,
        seconds: 0.0,
    };
    let plan = std::sync::Arc::new(plan);
    let chunks: Vec<(usize, usize)> = (0..loans)
        .step_by(chunk_loans)
        .map(|from| (from, (from + chunk_loans).min(loans)))
        .collect();
    let spawn = |(from, to): (usize, usize)| {
        let plan = plan.clone();
        tokio::task::spawn_blocking(move || plan.chunk(from, to))
    };
    // PostgreSQL: the chunks' rows are linked in memory, each chunk after the heads the one before it
    // leaves (this load is the only writer; each chunk checks the heads in its transaction).
    let mut heads = if state.db.get_database_backend() == DbBackend::Postgres {
        Some((
            chains::head(db, Chain::LoanTransactions, 0).await?,
            chains::head(db, Chain::Journal, 0).await?,
        ))
    } else {
        None
    };
    // PostgreSQL: the chunks being written, oldest first, and the signal the newest gives when it has
    // committed (the next one waits for it before it takes the chain heads).
    let mut in_flight: VecDeque<tokio::task::JoinHandle<AppResult<()>>> = VecDeque::new();
    let mut last_committed: Option<oneshot::Receiver<()>> = None;
    let mut next = chunks.first().copied().map(spawn);
    for (i, _) in chunks.iter().enumerate() {
        let Some(pending) = next.take() else { break };
        let chunk = match pending.await.map_err(AppError::internal) {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(e)) | Err(e) => return Err(drain(in_flight, e).await),
        };
        next = chunks.get(i + 1).copied().map(spawn);
        summary.transactions += chunk.transactions.len();
        summary.journal_entries += chunk.entries.len();
        summary.journal_lines += chunk.lines.iter().map(Vec::len).sum::<usize>();
        summary.active += chunk.loans.iter().filter(|l| l.status == "active").count();
        summary.closed += chunk.loans.iter().filter(|l| l.status == "closed").count();
        summary.overdue += chunk.loans.iter().filter(|l| l.dpd > 0).count();
        if let Some((transactions_head, journal_head)) = heads.take() {
            let prepared = tokio::task::spawn_blocking(move || {
                prepare_chunk(chunk, transactions_head, journal_head)
            })
            .await
            .map_err(AppError::internal)
            .and_then(|prepared| prepared);
            let (prepared, after_transactions, after_journal) = match prepared {
                Ok(prepared) => prepared,
                Err(e) => return Err(drain(in_flight, e).await),
            };
            heads = Some((after_transactions, after_journal));
            let (committed, signal) = oneshot::channel();
            let after = last_committed.replace(signal);
            in_flight.push_back(tokio::spawn(write_chunk_postgres(
                state.db.clone(),
                prepared,
                after,
                committed,
            )));
            if in_flight.len() >= CHUNKS_IN_FLIGHT {
                if let Some(oldest) = in_flight.pop_front() {
                    if let Err(e) = joined(oldest).await {
                        return Err(drain(in_flight, e).await);
                    }
                }
            }
        } else {
            write_chunk(state, chunk).await?;
        }
        tracing::info!(
            loans = summary.transactions,
            seconds = started.elapsed().as_secs_f64(),
            "bulk demo progress"
        );
    }
    while let Some(oldest) = in_flight.pop_front() {
        if let Err(e) = joined(oldest).await {
            return Err(drain(in_flight, e).await);
        }
    }
    let txn = state.db.begin().await?;
    advance_sequences(&txn).await?;
    summary.seconds = started.elapsed().as_secs_f64();
    audit::record_at(
        &txn,
        &admin,
        state.ctx.now(),
        Change::created("demo.bulk_load", "fund", "demo".into(), &summary),
    )
    .await?;
    txn.commit().await?;
    analyze_after_bulk_load(db).await?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The tables a bulk load fills with explicit ids (their id sequences then need moving on PostgreSQL)
/// and whose planner statistics it leaves stale.
const BULK_LOADED_TABLES: [&str; 6] = [
    "cooperatives",
    "applications",
    "loans",
    "loan_transactions",
    "journal_entries",
    "journal_lines",
];

/// On PostgreSQL, refreshes the planner's statistics of what the load wrote, as one does after any bulk
/// load: until autovacuum gets to them (a server may run without it), the service's prepared statements
/// would keep plans made for empty tables; the repayment's siblings query then walks every active loan
/// (benches/README, "PostgreSQL repayments in fewer round trips": 10.8 ms instead of 0.06 ms at 100,000
/// loans). SQLite plans well without statistics; nothing is done there.
async fn analyze_after_bulk_load(db: &DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared(&format!(
        "ANALYZE {}, loan_snapshots",
        BULK_LOADED_TABLES.join(", ")
    ))
    .await?;
    Ok(())
}

/// SQLite's limit on bound parameters per statement.
const SQLITE_BIND_LIMIT: usize = 32_766;

/// Rows per multi-row `INSERT` on SQLite for a table of `columns` columns, under its bind-parameter limit.
fn rows_per_statement(columns: usize) -> usize {
    (SQLITE_BIND_LIMIT / columns.max(1)).clamp(1, MAX_ROWS_PER_STATEMENT)
}

/// A chunk's transaction and where its rows go: multi-row `INSERT`s on SQLite (each statement is a
/// call into the library in this process, so there is no round trip to save), one `COPY` per table on
/// PostgreSQL ([`postgres::CopyTxn`]).
trait BulkTxn: ConnectionTrait {
    /// Inserts `rows` (all with the same columns set) into their table.
    async fn insert_rows<A>(&self, rows: Vec<A>) -> AppResult<()>
    where
        A: ActiveModelTrait + Send + Sync;
}

impl BulkTxn for DatabaseTransaction {
    async fn insert_rows<A>(&self, rows: Vec<A>) -> AppResult<()>
    where
        A: ActiveModelTrait + Send + Sync,
    {
        let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
        let per = rows_per_statement(columns);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<A> = rows.by_ref().take(per).collect();
            A::Entity::insert_many(batch)
                .exec_without_returning(self)
                .await?;
        }
        Ok(())
    }
}

impl BulkTxn for postgres::CopyTxn {
    async fn insert_rows<A>(&self, rows: Vec<A>) -> AppResult<()>
    where
        A: ActiveModelTrait + Send + Sync,
    {
        self.copy_rows(&rows).await
    }
}

/// Inserts `rows` through `txn`, logging at debug level how long the table took (where the load's time
/// goes: `COOPFUND__LOG__LEVEL=warn,coopfund::demo=debug`).
async fn insert_timed<T, A>(txn: &T, rows: Vec<A>) -> AppResult<()>
where
    T: BulkTxn,
    A: ActiveModelTrait + Send + Sync,
{
    let started = Instant::now();
    let count = rows.len();
    txn.insert_rows(rows).await?;
    tracing::debug!(
        table = A::Entity::default().table_name(),
        rows = count,
        millis = started.elapsed().as_secs_f64() * 1e3,
        "bulk demo rows written"
    );
    Ok(())
}

fn all_set<M, A>(model: M) -> A
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait,
{
    model.into_active_model().reset_all()
}

async fn insert_cooperatives(
    state: &AppState,
    count: usize,
    base: i64,
    today: NaiveDate,
) -> AppResult<()> {
    let districts = &state.settings.fund.districts;
    let now = Utc::now();
    for from in (0..count).step_by(5_000) {
        let rows: Vec<cooperative::ActiveModel> = (from..(from + 5_000).min(count))
            .map(|i| {
                let n = i64::try_from(i).unwrap_or(0);
                let family = names::FAMILY_NAMES[i % names::FAMILY_NAMES.len()];
                let given = names::GIVEN_NAMES[(i / 10) % names::GIVEN_NAMES.len()];
                all_set(cooperative::Model {
                    id: base + n,
                    registration_code: format!("BULK-{:07}", i + 1),
                    name: format!(
                        "HTX {} {} số {}",
                        names::TRADES[i % 12],
                        names::PLACES[(i / 12) % 12],
                        i / 144 + 1
                    ),
                    kind: "cooperative".into(),
                    district: names::district(districts, i % 9),
                    commune: format!("Xã {}", names::PLACES[(i / 12) % 12]),
                    address: format!("Xóm {}, xã {}", 1 + i % 20, names::PLACES[(i / 12) % 12]),
                    legal_representative: format!("{family} {given}"),
                    phone: format!("0208 {:07}", i % 10_000_000),
                    email: format!("htx{}@example.vn", i + 1),
                    language: "vi".into(),
                    member_count: 7 + i32::try_from(i % 200).unwrap_or(0),
                    charter_capital_vnd: (500 + n % 4_500) * MILLION,
                    founded_on: today - Duration::days(1_000 + n % 5_000),
                    related_group: None,
                    officer_id: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                })
            })
            .collect();
        if state.db.get_database_backend() == DbBackend::Postgres {
            let txn = postgres::CopyTxn::begin(&state.db).await?;
            insert_timed(&txn, rows).await?;
            txn.commit().await?;
        } else {
            let txn = state.db.begin().await?;
            insert_timed(&txn, rows).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

/// Everything one chunk of loans writes.
struct Chunk {
    applications: Vec<application::Model>,
    loans: Vec<loan::Model>,
    /// One snapshot of the fold per open loan (module docs, "A fund that has been running").
    snapshots: Vec<loan_snapshot::ActiveModel>,
    transactions: Vec<loan_transaction::Model>,
    entries: Vec<journal_entry::Model>,
    /// Each entry's lines, in the order of `entries`.
    lines: Vec<Vec<journal_line::ActiveModel>>,
}

/// Writes `chunk` in one transaction (SQLite: one writer at a time anyway).
async fn write_chunk(state: &AppState, chunk: Chunk) -> AppResult<()> {
    let txn = state.db.begin().await?;
    write_unchained(&txn, chunk.applications, chunk.loans, chunk.snapshots).await?;
    write_chained(&txn, chunk.transactions, chunk.entries, chunk.lines).await?;
    txn.commit().await?;
    Ok(())
}

/// A chunk ready for PostgreSQL: its rows linked into the chains in memory and each table's `COPY`
/// built, so that its transaction only sends them.
struct PreparedChunk {
    /// Applications and loans.
    unchained: Vec<postgres::CopyData>,
    /// Loan transactions, journal entries and journal lines, in that order.
    chained: Vec<postgres::CopyData>,
    /// The heads of the two chains before and after the chunk's rows.
    heads: [(Head, Head); 2],
}

/// Links `chunk`'s rows after the heads `transactions_head` and `journal_head` (as [`write_chained`]
/// would in the transaction, in the same order) and builds its `COPY`s; returns them with the heads
/// after the chunk.
fn prepare_chunk(
    chunk: Chunk,
    transactions_head: Head,
    journal_head: Head,
) -> AppResult<(PreparedChunk, Head, Head)> {
    let Chunk {
        applications,
        loans,
        snapshots,
        transactions,
        entries,
        lines,
    } = chunk;
    let unchained = [
        postgres::CopyData::of(
            &applications
                .into_iter()
                .map(all_set)
                .collect::<Vec<application::ActiveModel>>(),
        )?,
        postgres::CopyData::of(
            &loans
                .into_iter()
                .map(all_set)
                .collect::<Vec<loan::ActiveModel>>(),
        )?,
        postgres::CopyData::of(&snapshots)?,
    ];
    // The rows take their places in the chains in id order (the ids grow with the loan index).
    let mut transactions = transactions
        .into_iter()
        .map(all_set)
        .collect::<Vec<loan_transaction::ActiveModel>>();
    let transactions_after = chains::link_after(&transactions_head, &mut transactions)?;
    let mut entries = entries
        .into_iter()
        .map(all_set)
        .collect::<Vec<journal_entry::ActiveModel>>();
    let line_refs = lines.iter().map(Vec::as_slice).collect::<Vec<_>>();
    let journal_after = chains::link_entries_after(&journal_head, &mut entries, &line_refs)?;
    let chained = [
        postgres::CopyData::of(&transactions)?,
        postgres::CopyData::of(&entries)?,
        postgres::CopyData::of(&lines.into_iter().flatten().collect::<Vec<_>>())?,
    ];
    let prepared = PreparedChunk {
        unchained: unchained.into_iter().flatten().collect(),
        chained: chained.into_iter().flatten().collect(),
        heads: [
            (transactions_head, transactions_after.clone()),
            (journal_head, journal_after.clone()),
        ],
    };
    Ok((prepared, transactions_after, journal_after))
}

/// Writes a prepared chunk on PostgreSQL in one transaction of its own connection, beside the chunks
/// before it: its applications and loans first (no chain: they may go while an earlier chunk is still
/// being written), then, once `after` says the previous chunk has committed, it moves the chain heads
/// (taken here and held to the commit; an error if they are not where its rows were linked) and copies
/// its chained rows — so the chunks append to the chains, and commit, in their order. `committed` is
/// signalled after the commit. If the previous chunk fails, `after` is dropped unsignalled and this
/// chunk rolls back: whatever happens, the chunks committed are the first ones, each whole.
async fn write_chunk_postgres(
    db: DatabaseConnection,
    chunk: PreparedChunk,
    after: Option<oneshot::Receiver<()>>,
    committed: oneshot::Sender<()>,
) -> AppResult<()> {
    let txn = postgres::CopyTxn::begin(&db).await?;
    for data in &chunk.unchained {
        copy_timed(&txn, data).await?;
    }
    if let Some(after) = after {
        let waited = Instant::now();
        after.await.map_err(|_| {
            AppError::internal(anyhow::anyhow!(
                "bulk demo: an earlier chunk was not written, so this one is rolled back"
            ))
        })?;
        tracing::debug!(
            millis = waited.elapsed().as_secs_f64() * 1e3,
            "bulk demo chunk waited for the previous one"
        );
    }
    chains::move_heads(&txn, &chunk.heads).await?;
    for data in &chunk.chained {
        copy_timed(&txn, data).await?;
    }
    let committing = Instant::now();
    txn.commit().await?;
    tracing::debug!(
        millis = committing.elapsed().as_secs_f64() * 1e3,
        "bulk demo chunk committed"
    );
    // The next chunk may already be gone (it failed on its own): nothing to tell it then.
    let _ = committed.send(());
    Ok(())
}

/// Sends one prepared `COPY`, logging at debug level how long it took.
async fn copy_timed(txn: &postgres::CopyTxn, data: &postgres::CopyData) -> AppResult<()> {
    let started = Instant::now();
    txn.copy(data).await?;
    tracing::debug!(
        table = data.table.as_str(),
        rows = data.rows,
        millis = started.elapsed().as_secs_f64() * 1e3,
        "bulk demo rows written"
    );
    Ok(())
}

/// The outcome of a chunk's task (a panic is an error like any other).
async fn joined(task: tokio::task::JoinHandle<AppResult<()>>) -> AppResult<()> {
    task.await.map_err(AppError::internal)?
}

/// After `error`, waits for the chunks still being written (each rolls back once the one before it has
/// failed, so they end quickly) before returning `error`: nothing of the load is left running.
async fn drain(
    in_flight: VecDeque<tokio::task::JoinHandle<AppResult<()>>>,
    error: AppError,
) -> AppError {
    for task in in_flight {
        if let Err(later) = joined(task).await {
            tracing::debug!(error = %later, "bulk demo: a later chunk rolled back");
        }
    }
    error
}

/// A chunk's applications, loans and snapshots (they are not chained).
async fn write_unchained<T: BulkTxn>(
    txn: &T,
    applications: Vec<application::Model>,
    loans: Vec<loan::Model>,
    snapshots: Vec<loan_snapshot::ActiveModel>,
) -> AppResult<()> {
    insert_timed(
        txn,
        applications
            .into_iter()
            .map(all_set)
            .collect::<Vec<application::ActiveModel>>(),
    )
    .await?;
    insert_timed(
        txn,
        loans
            .into_iter()
            .map(all_set)
            .collect::<Vec<loan::ActiveModel>>(),
    )
    .await?;
    insert_timed(txn, snapshots).await
}

/// A chunk's chained rows: its loan transactions, journal entries and their lines, linked into their
/// chains (the heads taken in `txn`) right before they are written.
async fn write_chained<T: BulkTxn>(
    txn: &T,
    transactions: Vec<loan_transaction::Model>,
    entries: Vec<journal_entry::Model>,
    lines: Vec<Vec<journal_line::ActiveModel>>,
) -> AppResult<()> {
    // The rows take their places in the chains in id order (the ids grow with the loan index).
    let linking = Instant::now();
    let mut transactions = transactions
        .into_iter()
        .map(all_set)
        .collect::<Vec<loan_transaction::ActiveModel>>();
    chains::link(txn, Chain::LoanTransactions, &mut transactions).await?;
    let mut entries = entries
        .into_iter()
        .map(all_set)
        .collect::<Vec<journal_entry::ActiveModel>>();
    let line_refs = lines.iter().map(Vec::as_slice).collect::<Vec<_>>();
    chains::link_entries(txn, &mut entries, &line_refs).await?;
    tracing::debug!(
        millis = linking.elapsed().as_secs_f64() * 1e3,
        "bulk demo chunk linked"
    );
    insert_timed(txn, transactions).await?;
    insert_timed(txn, entries).await?;
    insert_timed(txn, lines.into_iter().flatten().collect()).await?;
    Ok(())
}

/// PostgreSQL: move each id sequence past the explicit ids (SQLite's AUTOINCREMENT follows by itself).
async fn advance_sequences(txn: &DatabaseTransaction) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in BULK_LOADED_TABLES {
        let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)");
        txn.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}

/// The fixed inputs of the generation.
struct Plan {
    bases: IdBases,
    cooperatives: usize,
    today: NaiveDate,
    /// The fund's calendar in force (loaded once).
    calendar: coopfund_domain::HolidayCalendar,
    products: Vec<product::Model>,
    approver_id: Option<i64>,
    /// The debt-group thresholds in force (the fund's `[classification]`).
    classification: coopfund_domain::ClassificationConfig,
}

/// How a generated borrower pays.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Payer {
    OnTime,
    Late,
    Stops(u32),
    Prepays,
}

impl Plan {
    fn chunk(&self, from: usize, to: usize) -> AppResult<Chunk> {
        let mut chunk = Chunk {
            applications: vec![],
            loans: vec![],
            snapshots: vec![],
            transactions: vec![],
            entries: vec![],
            lines: vec![],
        };
        for index in from..to {
            self.one_loan(index, &mut chunk)?;
        }
        Ok(chunk)
    }

    /// The terms of loan `index`: product, amount, installments, method.
    fn terms(&self, rng: &mut StdRng, index: usize) -> (usize, i64, i32, &'static str) {
        let product = index % self.products.len().max(1);
        match product {
            0 => (
                0,
                rng.random_range(10..=150) * 10 * MILLION,
                rng.random_range(6..=12),
                "equal_principal",
            ),
            1 => (
                1,
                rng.random_range(30..=500) * 10 * MILLION,
                rng.random_range(4..=12),
                "annuity",
            ),
            2 => (
                2,
                rng.random_range(20..=200) * 10 * MILLION,
                rng.random_range(2..=8),
                "bullet",
            ),
            _ => (
                3,
                rng.random_range(5..=100) * 10 * MILLION,
                rng.random_range(3..=24),
                if index.is_multiple_of(2) {
                    "annuity"
                } else {
                    "equal_principal"
                },
            ),
        }
    }

    fn one_loan(&self, index: usize, chunk: &mut Chunk) -> AppResult<()> {
        let mut rng = StdRng::seed_from_u64(0x636f_6f70 ^ index as u64);
        let n = i64::try_from(index).map_err(AppError::internal)?;
        let (product_index, amount_vnd, installments, method) = self.terms(&mut rng, index);
        let product = &self.products[product_index];
        let period_months = if product_index == 1 || product_index == 2 {
            3
        } else {
            1
        };
        let disbursed_on = self.today - Duration::days(rng.random_range(30..=540));
        let approved_on = disbursed_on - Duration::days(rng.random_range(1..=10));
        let at = |date: NaiveDate| date.and_hms_opt(9, 0, 0).unwrap_or_default().and_utc();
        let (application_id, loan_id) = (self.bases.application + n, self.bases.loan + n);
        let cooperative_id = self.bases.cooperative
            + n % i64::try_from(self.cooperatives).map_err(AppError::internal)?;
        let year = disbursed_on.format("%Y");
        let application = application::Model {
            id: application_id,
            number: format!("DN-{year}-{application_id:06}"),
            cooperative_id,
            product_id: product.id,
            amount_vnd,
            installments,
            period_months,
            method: method.into(),
            principal_grace: 0,
            purpose: "Bổ sung vốn sản xuất kinh doanh (dữ liệu mẫu)".into(),
            project_total_vnd: amount_vnd * 3 / 2,
            own_capital_vnd: amount_vnd / 2,
            no_bad_debt_declared: true,
            documents: "[]".into(),
            status: ApplicationStatus::Approved.as_str().into(),
            created_by: None,
            appraised_by: None,
            appraisal_note: None,
            appraisal_recommendation: Some("approve".into()),
            approved_by: self.approver_id,
            council_approved_by: None,
            decision_reason: None,
            submitted_at: Some(at(approved_on - Duration::days(7))),
            decided_at: Some(at(approved_on)),
            version: 1,
            created_at: at(approved_on - Duration::days(10)),
            updated_at: at(approved_on),
        };
        // The loan as approval leaves it, then signed on the day of its first disbursement.
        let mut row = NewLoan::from_approval(&application, product).into_model(
            loan_id,
            format!("HTX-{year}-{loan_id:06}"),
            at(approved_on),
        );
        chunk.applications.push(application);
        row.status = "contract_signed".into();
        row.contract_number = Some(format!("{loan_id:06}/HĐTD-QHTX"));
        row.signed_on = Some(disbursed_on);
        row.first_disbursed_on = Some(disbursed_on);
        let contract = contract_of(&row, &self.calendar)?;
        let schedule = build_schedule(&contract.terms)
            .map_err(|e| AppError::internal(anyhow::anyhow!("demo terms: {e}")))?;
        let payer = match rng.random_range(0..100) {
            0..75 => Payer::OnTime,
            75..87 => Payer::Late,
            87..95 => Payer::Stops(rng.random_range(0..u32::try_from(installments).unwrap_or(1))),
            _ => Payer::Prepays,
        };
        let mut payments: Vec<(NaiveDate, i64, RepaymentKind)> = Vec::new();
        for installment in &schedule.installments {
            let total = installment.total.to_i64().unwrap_or(0);
            let (date, amount) = match payer {
                Payer::Stops(after) if installment.seq > after => break,
                Payer::Late => (
                    installment.due_on + Duration::days(rng.random_range(5..=25)),
                    total + total / 200,
                ),
                _ => (installment.due_on, total),
            };
            if date >= self.today {
                break;
            }
            payments.push((date, amount, RepaymentKind::Ordinary));
            if payer == Payer::Prepays && installment.seq == 2 {
                payments.push((
                    date + Duration::days(3),
                    amount_vnd / 5,
                    RepaymentKind::Prepayment,
                ));
            }
        }
        payments.sort_by_key(|p| p.0);
        payments.truncate(usize::try_from(TX_IDS_PER_LOAN - 1).unwrap_or(0));
        // A payment the engine refuses (e.g. a late payer's extra above the payoff) is dropped, last first.
        let (state, events) = loop {
            let events = events_for(
                self.bases.transaction + n * TX_IDS_PER_LOAN,
                disbursed_on,
                amount_vnd,
                &payments,
            );
            match coopfund_domain::fold(&contract, &events, self.today) {
                Ok(state) => break (state, events),
                Err(err) if !payments.is_empty() => {
                    tracing::debug!(loan_id, error = %err.error, "bulk demo: a payment dropped");
                    payments.pop();
                }
                Err(err) => return Err(loan_engine::fold_error(err)),
            }
        };
        let group = loan_group(&state, &self.classification);
        let book = loan_book(
            &state,
            &BookInputs {
                group,
                specific_provision: None,
                day_count: contract.terms.day_count,
            },
            &AccountBalances::new(),
        );
        let entry = entry_for_difference(&book, &AccountBalances::new())
            .map_err(|e| AppError::internal(anyhow::anyhow!("bulk demo loan {loan_id}: {e}")))?;
        row.status = ledger::status_of(&row.status, &state);
        row.closed_on = state.closed_on.or(state.written_off_on);
        row.disbursed_vnd = to_i64(state.disbursed);
        row.in_term_principal_vnd = to_i64(state.in_term_principal);
        row.overdue_principal_vnd = to_i64(state.overdue_principal);
        row.advance_vnd = to_i64(state.advance);
        row.dpd = i32::try_from(state.dpd).unwrap_or(i32::MAX);
        row.debt_group = i32::from(group.number());
        row.balances_as_of = Some(self.today);
        let created_at = at(self.today);
        if !loan_engine::status_of(&row)?.is_finished() {
            // The latest snapshot day on or before today (module docs).
            let as_of = (self.today
                - Duration::days(loan_engine::days_since_snapshot_day(loan_id, self.today)))
            .max(disbursed_on);
            let snapshot =
                FoldSnapshot::take(&contract, &events, as_of).map_err(loan_engine::fold_error)?;
            chunk
                .snapshots
                .push(loan_engine::snapshot_row(loan_id, &snapshot, created_at)?);
        }
        for event in &events {
            chunk
                .transactions
                .push(transaction_row(loan_id, event, created_at)?);
        }
        if let Some(entry) = entry {
            let entry_id = self.bases.entry + n;
            chunk.entries.push(journal_entry::Model {
                id: entry_id,
                entry_date: self.today,
                kind: "demo_opening".into(),
                description: format!("Số dư đầu kỳ khoản vay {} (dữ liệu mẫu)", row.number),
                loan_id: Some(loan_id),
                transaction_id: None,
                reverses_entry_id: None,
                business_key: Some(format!("demo:opening:{loan_id}")),
                created_by: None,
                posted_at: created_at,
                chain_part: 0,
                chain_seq: None,
                chain_prev: None,
                chain_hash: None,
            });
            let mut lines = Vec::new();
            for line in entry.lines() {
                let amount = to_i64(line.amount);
                let (debit_vnd, credit_vnd) = if line.side == Side::Debit {
                    (amount, 0)
                } else {
                    (0, amount)
                };
                lines.push(journal_line::ActiveModel {
                    entry_id: sea_orm::Set(entry_id),
                    account_code: sea_orm::Set(line.account.code().to_string()),
                    debit_vnd: sea_orm::Set(debit_vnd),
                    credit_vnd: sea_orm::Set(credit_vnd),
                    loan_id: sea_orm::Set(Some(loan_id)),
                    ..Default::default()
                });
            }
            chunk.lines.push(lines);
        }
        chunk.loans.push(row);
        Ok(())
    }
}

fn to_i64(amount: Vnd) -> i64 {
    amount.to_i64().unwrap_or(i64::MAX)
}

/// The disbursement and the repayments as engine events, ids from `first_id` in date order.
fn events_for(
    first_id: i64,
    disbursed_on: NaiveDate,
    amount_vnd: i64,
    payments: &[(NaiveDate, i64, RepaymentKind)],
) -> Vec<LoanEvent> {
    let event = |offset: i64, value_date: NaiveDate, kind: EventKind| {
        let id = first_id + offset;
        LoanEvent {
            id: id.to_string(),
            value_date,
            sequence: id.unsigned_abs(),
            kind,
        }
    };
    let mut events = vec![event(
        0,
        disbursed_on,
        EventKind::Disbursement {
            amount: Vnd::from_i64(amount_vnd),
        },
    )];
    for (offset, (date, amount, kind)) in (1..).zip(payments) {
        events.push(event(
            offset,
            *date,
            EventKind::Repayment {
                amount: Vnd::from_i64(*amount),
                kind: *kind,
            },
        ));
    }
    events
}

fn transaction_row(
    loan_id: i64,
    event: &LoanEvent,
    created_at: chrono::DateTime<Utc>,
) -> AppResult<loan_transaction::Model> {
    let id: i64 = event.id.parse().map_err(AppError::internal)?;
    let (tx_kind, amount, repayment_kind, reference) = match &event.kind {
        EventKind::Disbursement { amount } => {
            (kind::DISBURSEMENT, *amount, None, format!("UNC-GN-{id}"))
        }
        EventKind::Repayment {
            amount,
            kind: repayment,
        } => {
            let name = if *repayment == RepaymentKind::Prepayment {
                "prepayment"
            } else {
                "ordinary"
            };
            (
                kind::REPAYMENT,
                *amount,
                Some(name.to_string()),
                format!("GBC-{id}"),
            )
        }
        _ => {
            return Err(AppError::internal(anyhow::anyhow!(
                "bulk demo generates only disbursements and repayments"
            )))
        }
    };
    Ok(loan_transaction::Model {
        id,
        loan_id,
        kind: tx_kind.into(),
        value_date: event.value_date,
        amount_vnd: to_i64(amount),
        reference,
        repayment_kind,
        reverses_id: None,
        reason: None,
        details: "{}".into(),
        approved_by: None,
        created_by: None,
        created_at,
        chain_part: 0,
        chain_seq: None,
        chain_prev: None,
        chain_hash: None,
    })
}
