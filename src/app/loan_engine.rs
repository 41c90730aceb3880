//! The bridge between stored loans and the pure engine (`coopfund_domain`): a `loans` row becomes a
//! [`LoanContract`], its `loan_transactions` become [`LoanEvent`]s, and engine errors become 422s.
//!
//! The engine replays a loan from its events (DOMAIN.md §4). The stored events are the truth; the balances
//! cached on the loan row and the **snapshots of the fold** (`loan_snapshots`, issue 14) are copies checked by
//! `coopfund ledger verify` against the full refold.
//!
//! ## Snapshots ([`state_at`], [`fold_for_posting`], [`store_snapshots`])
//! The close of business keeps each open loan's folded position at the start of the next business date
//! ([`coopfund_domain::snapshot::FoldSnapshot`]), rewriting it about once a week per loan
//! ([`SNAPSHOT_REFRESH_DAYS`], staggered by loan id) and keeping [`SNAPSHOT_RETENTION_DAYS`] of them. A read
//! folds only the events after the latest snapshot on or before its date; so does the close of business
//! (a day advances the last snapshot by the days since), and so does every money command
//! (`ledger::refold_and_post`, through [`fold_for_posting`]).
//!
//! **A money command writes a snapshot every [`SNAPSHOT_EVERY_EVENTS`] events**: when its fold went that many
//! events past the last snapshot (or folded a loan of that many events from the start, having none), it stores
//! the position it reached at the business date in its own transaction. So a loan posted to all day long, or
//! one that has not seen a close of business yet, folds at most that many events per post and per read: the
//! time of a post does not grow with the loan's history. Writing on every post would add a statement to each
//! (the repayment path is counted in statements, issue 14); every sixteenth costs a sixteenth of one, and
//! folding sixteen events is cheaper than decoding a snapshot. A snapshot holds the position only, not the
//! allocations of every payment so far ([`coopfund_domain::snapshot`] module docs), so it stays a few kilobytes
//! whatever the history and its decoding is flat too.
//!
//! A back-dated event or a reversal makes the snapshots it would change stale, and so does an event dated on the
//! business date once the close of that date has written its loan's snapshot of the next day: posting deletes
//! them in the same transaction ([`invalidate_snapshots`]), so the fold that follows replays from the latest snapshot
//! before its value date (or from the start when there is none), and the engine refuses a snapshot the
//! events after it contradict anyway ([`coopfund_domain::snapshot::Stale`]), replaying from the start instead.
//!
//! **An unreadable snapshot is ignored with a warning, not an error**: unlike an event or a balance, a
//! snapshot is a cache of what the events already say, so the full refold gives the true answer and nothing
//! is lost by not using it (the next close of business writes a good one). An error would stop every read of
//! the loan for a problem the events can repair; `ledger verify` still reports it, naming the loan and date.

use coopfund_domain::ClassificationConfig;
use std::str::FromStr;

use chrono::NaiveDate;
use coopfund_domain::snapshot::{self, AdvanceError, FoldSnapshot};
use coopfund_domain::{
    classification::DebtGroup, AllocationOrder, DayCount, EventKind, FoldError, HolidayCalendar,
    LoanContract, LoanError, LoanEvent, LoanState, LoanStatus, Method, PrepaymentRule,
    RepaymentKind, Restructure, ScheduleTerms, StatementTransaction, TransactionKind, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    Statement,
};
use std::collections::HashMap;

use crate::{
    app::deferred_writes::{self, Changes},
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::{loan, loan_snapshot, loan_transaction},
};

/// Transaction kinds as stored in `loan_transactions.kind`, for queries that filter on the column; everything
/// else reads the column once into a [`TransactionKind`] ([`kind_of`]).
pub mod kind {
    use coopfund_domain::TransactionKind;
    /// Money lent (one tranche).
    pub const DISBURSEMENT: &str = TransactionKind::Disbursement.as_str();
    /// Money received.
    pub const REPAYMENT: &str = TransactionKind::Repayment.as_str();
    /// A new schedule (Decree 45/2021 Art 27).
    pub const RESTRUCTURE: &str = TransactionKind::Restructure.as_str();
    /// Written off against the provision.
    pub const WRITE_OFF: &str = TransactionKind::WriteOff.as_str();
    /// Cancels the transaction in `reverses_id`.
    pub const REVERSAL: &str = TransactionKind::Reversal.as_str();
    /// Money recovered on a written-off loan (Decree 45/2021 Art 29, DOMAIN.md §9).
    pub const RECOVERY: &str = TransactionKind::Recovery.as_str();
}

/// A stored value that cannot be read, naming the row: `stored loan 17 has status "foo"`.
fn corrupt_loan(loan: &loan::Model, what: &str, value: &str) -> AppError {
    AppError::unreadable("loan", loan.id, what, value)
}

fn corrupt_transaction<T: EventColumns>(tx: &T, what: &str, value: &str) -> AppError {
    AppError::unreadable("loan transaction", tx.id(), what, value)
}

/// The columns of a stored transaction that make it an engine event ([`events_of`]): every
/// [`loan_transaction::Model`] has them, and the close of business reads only them ([`FoldTransaction`]).
pub trait EventColumns {
    /// The row's id: the event's id and sequence.
    fn id(&self) -> i64;
    /// `kind` as stored ([`kind`]).
    fn kind(&self) -> &str;
    /// The value date.
    fn value_date(&self) -> NaiveDate;
    /// The amount in whole đồng (0 for kinds without one).
    fn amount_vnd(&self) -> i64;
    /// A repayment's kind as stored.
    fn repayment_kind(&self) -> Option<&str>;
    /// The transaction a reversal cancels.
    fn reverses_id(&self) -> Option<i64>;
    /// A restructuring's terms (JSON) as stored.
    fn details(&self) -> &str;
}

/// [`EventColumns`] of row types whose fields are the columns, by the columns' names.
macro_rules! event_columns_of_fields {
    ($($row:ty),*) => {$(
        impl EventColumns for $row {
            fn id(&self) -> i64 {
                self.id
            }
            fn kind(&self) -> &str {
                &self.kind
            }
            fn value_date(&self) -> NaiveDate {
                self.value_date
            }
            fn amount_vnd(&self) -> i64 {
                self.amount_vnd
            }
            fn repayment_kind(&self) -> Option<&str> {
                self.repayment_kind.as_deref()
            }
            fn reverses_id(&self) -> Option<i64> {
                self.reverses_id
            }
            fn details(&self) -> &str {
                &self.details
            }
        }
    )*};
}

event_columns_of_fields!(loan_transaction::Model, FoldTransaction);

/// A stored transaction as the close of business reads it for its folds: only the columns of its event and its
/// loan (issue 14: the close of a fund's first day reads every open loan's whole history, and the other columns,
/// the hash chain's two digests above all, were most of what was copied out of the database for it).
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::DerivePartialModel)]
#[sea_orm(entity = "loan_transaction::Entity")]
pub struct FoldTransaction {
    /// The row's id.
    pub id: i64,
    /// Its loan.
    pub loan_id: i64,
    /// `kind` as stored.
    pub kind: String,
    /// The value date.
    pub value_date: NaiveDate,
    /// The amount in whole đồng.
    pub amount_vnd: i64,
    /// A repayment's kind as stored.
    pub repayment_kind: Option<String>,
    /// The transaction a reversal cancels.
    pub reverses_id: Option<i64>,
    /// A restructuring's terms (JSON) as stored.
    pub details: String,
}

/// The loan's stored status.
pub fn status_of(loan: &loan::Model) -> AppResult<LoanStatus> {
    LoanStatus::from_str(&loan.status).map_err(|_| corrupt_loan(loan, "status", &loan.status))
}

/// The debt group cached on the loan row (by the last close of business or money command).
pub fn cached_group_of(loan: &loan::Model) -> AppResult<DebtGroup> {
    u8::try_from(loan.debt_group)
        .ok()
        .and_then(DebtGroup::from_number)
        .ok_or_else(|| corrupt_loan(loan, "debt_group", &loan.debt_group.to_string()))
}

/// The loan's stored rate, exactly (read once with the row: `store::DbDecimal`).
pub fn rate_of(loan: &loan::Model) -> AppResult<Decimal> {
    Ok(loan.rate_percent.get())
}

/// The loan's stored schedule method.
pub fn method_of(loan: &loan::Model) -> AppResult<Method> {
    Method::from_str(&loan.method).map_err(|_| corrupt_loan(loan, "method", &loan.method))
}

/// What a stored transaction is.
pub fn kind_of<T: EventColumns>(tx: &T) -> AppResult<TransactionKind> {
    TransactionKind::from_str(tx.kind()).map_err(|_| corrupt_transaction(tx, "kind", tx.kind()))
}

/// A stored repayment's kind (`None` for any other transaction).
pub fn repayment_kind_of<T: EventColumns>(tx: &T) -> AppResult<Option<RepaymentKind>> {
    if kind_of(tx)? != TransactionKind::Repayment {
        return Ok(None);
    }
    let text = tx.repayment_kind().unwrap_or("null");
    RepaymentKind::from_str(text)
        .map(Some)
        .map_err(|_| corrupt_transaction(tx, "repayment_kind", text))
}

/// A stored restructuring's terms (`None` for any other transaction).
pub fn restructure_terms_of<T: EventColumns>(tx: &T) -> AppResult<Option<Restructure>> {
    if kind_of(tx)? != TransactionKind::Restructure {
        return Ok(None);
    }
    serde_json::from_str(tx.details())
        .map(Some)
        .map_err(|_| corrupt_transaction(tx, "details", tx.details()))
}

/// The stored transactions as the statement reads them.
pub fn statement_transactions_of(
    transactions: &[loan_transaction::Model],
) -> AppResult<Vec<StatementTransaction>> {
    transactions
        .iter()
        .map(|tx| {
            Ok(StatementTransaction {
                id: tx.id,
                kind: kind_of(tx)?,
                value_date: tx.value_date,
                amount: Vnd::from_i64(tx.amount_vnd),
                reference: tx.reference.clone(),
                reverses_id: tx.reverses_id,
            })
        })
        .collect()
}

fn allocation_order(loan: &loan::Model) -> AppResult<AllocationOrder> {
    // An empty column is the product's "default order" (DOMAIN.md §5), not a missing value.
    AllocationOrder::from_str(&loan.allocation_order)
        .map_err(|_| corrupt_loan(loan, "allocation_order", &loan.allocation_order))
}

/// The loan's day count (`actual_365` or `per_period`).
pub fn day_count_of(loan: &loan::Model) -> AppResult<DayCount> {
    DayCount::from_str(&loan.day_count)
        .map_err(|_| corrupt_loan(loan, "day_count", &loan.day_count))
}

/// The loan's prepayment rule (`shorten_term` or `reamortize`, from its product at approval).
pub fn prepayment_rule_of(loan: &loan::Model) -> AppResult<PrepaymentRule> {
    PrepaymentRule::from_str(&loan.prepayment_rule)
        .map_err(|_| corrupt_loan(loan, "prepayment_rule", &loan.prepayment_rule))
}

/// The engine's contract for a stored loan: its terms snapshot (taken at approval), its product rules and
/// the fund's calendar in force (`super::calendar::in_force`, loaded once per use case).
pub fn contract_of(loan: &loan::Model, calendar: &HolidayCalendar) -> AppResult<LoanContract> {
    let count = |what: &str, value: i32| {
        u32::try_from(value).map_err(|_| corrupt_loan(loan, what, &value.to_string()))
    };
    let terms = ScheduleTerms {
        principal: Vnd::from_i64(loan.principal_vnd),
        rate_percent: rate_of(loan)?,
        // Replaced by the first disbursement's value date when the loan is folded.
        disbursed_on: loan
            .first_disbursed_on
            .or(loan.signed_on)
            .unwrap_or_else(|| loan.created_at.date_naive()),
        installments: count("installments", loan.installments)?,
        period_months: count("period_months", loan.period_months)?,
        method: method_of(loan)?,
        principal_grace: count("principal_grace", loan.principal_grace)?,
        first_due_on: loan.first_due_on,
        day_count: day_count_of(loan)?,
        installment_unit: Vnd::from_i64(loan.installment_unit_vnd.max(1)),
    };
    Ok(LoanContract {
        terms,
        overdue_multiplier: loan.overdue_multiplier.get(),
        late_rate_percent: loan.late_rate_percent.get(),
        allocation_order: allocation_order(loan)?,
        prepayment_rule: prepayment_rule_of(loan)?,
        calendar: calendar.clone(),
    })
}

/// A loan's transactions in insertion order (the order the engine breaks value-date ties with).
pub async fn transactions_of<C: ConnectionTrait>(
    conn: &C,
    loan_id: i64,
) -> AppResult<Vec<loan_transaction::Model>> {
    Ok(loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.eq(loan_id))
        .order_by_asc(loan_transaction::Column::Id)
        .all(conn)
        .await?)
}

/// The engine's events for stored transactions (reversals included; the engine drops what they cancel).
pub fn events_of<T: EventColumns>(transactions: &[T]) -> AppResult<Vec<LoanEvent>> {
    transactions.iter().map(event_of).collect()
}

fn event_of<T: EventColumns>(tx: &T) -> AppResult<LoanEvent> {
    let amount = Vnd::from_i64(tx.amount_vnd());
    let kind = match kind_of(tx)? {
        TransactionKind::Disbursement => EventKind::Disbursement { amount },
        TransactionKind::Repayment => EventKind::Repayment {
            amount,
            kind: repayment_kind_of(tx)?
                .ok_or_else(|| corrupt_transaction(tx, "repayment_kind", "null"))?,
        },
        TransactionKind::Restructure => EventKind::Restructure(
            restructure_terms_of(tx)?
                .ok_or_else(|| corrupt_transaction(tx, "details", tx.details()))?,
        ),
        TransactionKind::WriteOff => EventKind::WriteOff,
        TransactionKind::Recovery => EventKind::Recovery { amount },
        TransactionKind::Reversal => EventKind::Reversal {
            reversed_id: tx
                .reverses_id()
                .ok_or_else(|| corrupt_transaction(tx, "reverses_id", "null"))?
                .to_string(),
        },
    };
    Ok(LoanEvent {
        id: tx.id().to_string(),
        value_date: tx.value_date(),
        sequence: tx.id().unsigned_abs(),
        kind,
    })
}

/// The loan as of the start of `date` (what is owed on `date`, DOMAIN.md §4), or the engine's refusal.
pub fn fold_at(
    contract: &LoanContract,
    events: &[LoanEvent],
    date: NaiveDate,
) -> AppResult<LoanState> {
    coopfund_domain::fold(contract, events, date).map_err(fold_error)
}

/// How often the close of business rewrites a loan's snapshot, in days. Between two writes each day folds the
/// few days since the last one: a snapshot is a whole schedule and every allocation (kilobytes), so writing one
/// per loan per day would cost the close more than the refold it saves.
pub const SNAPSHOT_REFRESH_DAYS: i64 = 7;

/// Days after `date` until the close of business next rewrites loan `loan_id`'s snapshot on its day of the week
/// (`0`: `date` is that day): loan id plus the day's number since the common era, modulo
/// [`SNAPSHOT_REFRESH_DAYS`], so about a seventh of the loans write one each day. The close's rule
/// (`cob_batch`) and the bulk demo's snapshots (`demo::bulk`, which writes what that rule would have left).
pub fn days_since_snapshot_day(loan_id: i64, date: NaiveDate) -> i64 {
    let day = i64::from(chrono::Datelike::num_days_from_ce(&date));
    (loan_id + day).rem_euclid(SNAPSHOT_REFRESH_DAYS)
}

/// How long snapshots are kept, in days: two generations, so a back-dated event within a week replays from
/// the snapshot before its value date rather than from the first disbursement.
pub const SNAPSHOT_RETENTION_DAYS: i64 = 15;

/// A stored snapshot read back, or `None` (with a warning naming the loan) when it cannot be (module docs).
pub fn decode_snapshot(row: &loan_snapshot::Model) -> Option<FoldSnapshot> {
    match serde_json::from_str::<FoldSnapshot>(&row.state) {
        Ok(snapshot)
            if snapshot.as_of == row.as_of
                && i64::try_from(snapshot.covered_sequence).ok() == Some(row.covered_sequence) =>
        {
            Some(snapshot)
        }
        Ok(_) => {
            tracing::warn!(
                loan_id = row.loan_id,
                as_of = %row.as_of,
                "stored loan snapshot disagrees with its row's date or sequence; ignored, the loan is refolded from its events"
            );
            None
        }
        Err(error) => {
            tracing::warn!(
                loan_id = row.loan_id,
                as_of = %row.as_of,
                %error,
                "unreadable stored loan snapshot ignored; the loan is refolded from its events"
            );
            None
        }
    }
}

/// The latest snapshot of each loan dated between `not_before` and `on_or_before`, decoded (unreadable ones
/// left out, [`decode_snapshot`]).
pub async fn latest_snapshots<C: ConnectionTrait>(
    conn: &C,
    loan_ids: &[i64],
    not_before: NaiveDate,
    on_or_before: NaiveDate,
) -> AppResult<HashMap<i64, FoldSnapshot>> {
    let mut latest: HashMap<i64, loan_snapshot::Model> = HashMap::new();
    for batch in loan_ids.chunks(LOAN_IDS_PER_QUERY_MAX) {
        let rows = loan_snapshot::Entity::find()
            .filter(ids_in(conn, loan_snapshot::Column::LoanId, batch))
            .filter(loan_snapshot::Column::AsOf.gte(not_before))
            .filter(loan_snapshot::Column::AsOf.lte(on_or_before))
            .all(conn)
            .await?;
        for row in rows {
            match latest.get(&row.loan_id) {
                Some(kept) if kept.as_of >= row.as_of => {}
                _ => {
                    latest.insert(row.loan_id, row);
                }
            }
        }
    }
    Ok(latest
        .into_iter()
        .filter_map(|(loan_id, row)| decode_snapshot(&row).map(|snapshot| (loan_id, snapshot)))
        .collect())
}

/// The most loan ids bound in one query (SQLite allows 32,766 bound values; on PostgreSQL [`ids_in`] binds one
/// value per id, and a statement takes at most 65,535).
pub(crate) const LOAN_IDS_PER_QUERY_MAX: usize = 4_000;

/// `column IN (ids)` for a set-based read of many loans (`column` unqualified, the query's only table). On SQLite
/// the ids are one JSON parameter, `column IN (SELECT value FROM json_each(?))`, so the statement's text is the
/// same whatever the number of ids and SQLite prepares it once per connection (issue 14, cobsqlite: an `IN` of
/// each chunk's count of placeholders was a new statement every chunk, and sqlx kept each in its statement
/// cache); elsewhere one bound value per id. One id is `column = ?` on both (one fixed text, no JSON to
/// build or parse: a money command's read of its own loan's book goes through here).
pub(crate) fn ids_in<C: ConnectionTrait, Col: ColumnTrait>(
    conn: &C,
    column: Col,
    ids: &[i64],
) -> sea_orm::sea_query::SimpleExpr {
    if let [id] = ids {
        column.eq(*id)
    } else if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        let json = serde_json::Value::from(ids.to_vec()).to_string();
        sea_orm::sea_query::Expr::cust_with_values(
            format!(
                "{} IN (SELECT value FROM json_each(?))",
                sea_orm::IdenStatic::as_str(&column)
            ),
            [json],
        )
    } else {
        column.is_in(ids.iter().copied())
    }
}

/// How many events a money command folds on top of a loan's latest snapshot (or from the start, when it has
/// none) before it writes a new snapshot of the position it reached (module docs): the cost of a post stays
/// bounded by this many events whatever the loan's history, without a close of business. A snapshot without
/// allocations is a few kilobytes (the schedule), one upsert of one row; written every
/// `SNAPSHOT_EVERY_EVENTS`-th event it adds a sixteenth of a statement to a post, and folding up to sixteen
/// events costs far less than decoding the snapshot does.
pub const SNAPSHOT_EVERY_EVENTS: usize = 16;

/// A loan folded to a date ([`fold_for_posting`]).
#[derive(Debug, Clone)]
pub struct Folded {
    /// The loan as of the start of the date. When folded from a snapshot, its `allocations` are only those made
    /// after the snapshot ([`coopfund_domain::snapshot`] module docs): the event just recorded is always among them.
    pub state: LoanState,
    /// The position reached, to store ([`store_snapshots`]) when the fold went [`SNAPSHOT_EVERY_EVENTS`] or more
    /// events past the last snapshot; `None` otherwise.
    pub snapshot: Option<FoldSnapshot>,
}

/// The loan as of the start of `date` (as [`fold_at`] over all its events, but for the allocations made before
/// the snapshot used), folding only the events after its latest snapshot on or before `date` when there is a
/// usable one (module docs). Reads only: it never writes a snapshot.
pub async fn state_at<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    calendar: &HolidayCalendar,
    date: NaiveDate,
) -> AppResult<LoanState> {
    let read = SnapshotRead::of(conn, loan.id, date).await?;
    Ok(fold_from(conn, loan, calendar, date, None, read)
        .await?
        .state)
}

/// [`state_at`] for a money command (inside its transaction, the loan locked): the same fold, and the position
/// reached when it folded [`SNAPSHOT_EVERY_EVENTS`] or more events (from the snapshot, or from the start) for the
/// caller to store in the same transaction.
///
/// `read` is what the command read of the loan's snapshot before it folds ([`SnapshotRead::of`], or read with
/// the posting's other reads in one round trip on SQLite: `crate::app::ledger::PostingReads`).
pub async fn fold_for_posting<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    calendar: &HolidayCalendar,
    date: NaiveDate,
    read: SnapshotRead,
) -> AppResult<Folded> {
    fold_from(
        conn,
        loan,
        calendar,
        date,
        Some(SNAPSHOT_EVERY_EVENTS),
        read,
    )
    .await
}

/// What a fold reads first: the loan's latest snapshot on or before the date and, when the caller read them
/// with it, the loan's transactions recorded or dated after that snapshot (`pending_transactions`' first
/// query, whose SQLite text is [`SnapshotRead::SINCE_SQLITE`]).
#[derive(Debug, Clone, Default)]
pub struct SnapshotRead {
    /// The latest stored snapshot on or before the date, if any.
    pub row: Option<loan_snapshot::Model>,
    /// The transactions of the loan with an id above `row`'s covered sequence or a value date after its
    /// date, in id order, when read with `row` (in the same transaction); when there is no `row`, every
    /// transaction of the loan (the fold starts from the first). `None`: not read yet.
    pub since: Option<Vec<loan_transaction::Model>>,
}

impl SnapshotRead {
    /// `latest_snapshot` on SQLite, its two parameters the loan's id and the date; `0 AS part` names its rows
    /// among those of the statements sent with it.
    pub const LATEST_SQLITE: &'static str =
        "SELECT 0 AS part, loan_id, as_of, covered_sequence, format_version, contract_fingerprint, state, \
         taken_at FROM loan_snapshots WHERE loan_id = ? AND as_of <= ? ORDER BY as_of DESC LIMIT 1";
    /// The first query of `pending_transactions` on SQLite for the snapshot [`Self::LATEST_SQLITE`] finds, or every
    /// transaction of the loan when it finds none ([`Self::since`]), its four parameters the loan's id, the date
    /// and the loan's id twice; `1 AS part`. Two ranges, as `pending_transactions` reads them: recorded since the
    /// snapshot (all of them when there is none), and recorded before it but dated after it.
    pub const SINCE_SQLITE: &'static str =
        "WITH s AS (SELECT covered_sequence, as_of FROM loan_snapshots WHERE loan_id = ? AND as_of <= ? \
         ORDER BY as_of DESC LIMIT 1) \
         SELECT 1 AS part, t.* FROM loan_transactions t \
         WHERE t.loan_id = ? AND t.id > coalesce((SELECT covered_sequence FROM s), -1) \
         UNION ALL SELECT 1 AS part, t.* FROM loan_transactions t \
         WHERE t.loan_id = ? AND t.value_date > (SELECT as_of FROM s) AND t.id + 0 <= (SELECT covered_sequence FROM s) \
         ORDER BY id";

    /// The latest snapshot of `loan_id` on or before `date`, alone (the transactions after it are read when the
    /// fold knows it can use it).
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        loan_id: i64,
        date: NaiveDate,
    ) -> AppResult<Self> {
        Ok(SnapshotRead {
            row: latest_snapshot(conn, loan_id, date).await?,
            since: None,
        })
    }
}

/// The latest stored snapshot of loan `loan_id` on or before `date`: on the primary key (loan_id, as_of), one
/// index probe. Written out with its `LIMIT 1` as text: sea-orm's `one()` binds the limit (`LIMIT ?`), and
/// SQLite recompiles a statement whose bound LIMIT its planner reads on every execution (`crate::store` docs);
/// every money command and every read of a loan runs this one.
async fn latest_snapshot<C: ConnectionTrait>(
    conn: &C,
    loan_id: i64,
    date: NaiveDate,
) -> AppResult<Option<loan_snapshot::Model>> {
    let backend = conn.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "SELECT loan_id, as_of, covered_sequence, format_version, contract_fingerprint, state, taken_at \
         FROM loan_snapshots WHERE loan_id = $1 AND as_of <= $2 ORDER BY as_of DESC LIMIT 1"
    } else {
        // The text the posting's reads send with theirs; its `part` column is not read here.
        SnapshotRead::LATEST_SQLITE
    };
    Ok(loan_snapshot::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            [loan_id.into(), date.into()],
        ))
        .all(conn)
        .await?
        .into_iter()
        .next())
}

/// The fold of [`state_at`] and [`fold_for_posting`] from what was read of the snapshot (`read`); with
/// `keep_after`, a snapshot of the position reached when at least that many events were folded.
async fn fold_from<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    calendar: &HolidayCalendar,
    date: NaiveDate,
    keep_after: Option<usize>,
    read: SnapshotRead,
) -> AppResult<Folded> {
    let contract = contract_of(loan, calendar)?;
    let SnapshotRead { row, mut since } = read;
    // Read with no snapshot found: the loan's whole history.
    let history = if row.is_none() { since.take() } else { None };
    if let Some((row, snapshot)) = row.and_then(|row| decode_snapshot(&row).map(|s| (row, s))) {
        let pending =
            events_of(&pending_transactions(conn, loan.id, &snapshot, &row, since).await?)?;
        match snapshot::advance_folder(&contract, &snapshot, &pending, date) {
            Ok(folder) => {
                let keep = keep_after.is_some_and(|every| pending.len() >= every);
                let snapshot = keep.then(|| {
                    let covered = snapshot
                        .covered_sequence
                        .max(snapshot::covered_sequence_of(&pending));
                    FoldSnapshot::of_folder(&contract, &folder, date, covered)
                });
                return Ok(Folded {
                    state: folder.into_state(),
                    snapshot,
                });
            }
            Err(AdvanceError::Fold(error)) => return Err(fold_error(error)),
            Err(AdvanceError::Stale(stale)) => {
                tracing::debug!(loan_id = loan.id, as_of = %snapshot.as_of, %stale, "snapshot not used");
            }
        }
    }
    // No usable snapshot: from the first disbursement (posting deleted the snapshots a back-dated event or a
    // reversal made stale, so the one read above is before its value date unless another writer raced it).
    let history = match history {
        Some(history) => history,
        None => transactions_of(conn, loan.id).await?,
    };
    let events = events_of(&history)?;
    let folder = snapshot::fold_folder(&contract, &events, date).map_err(fold_error)?;
    let keep = keep_after.is_some_and(|every| events.len() >= every);
    let snapshot = keep.then(|| {
        FoldSnapshot::of_folder(
            &contract,
            &folder,
            date,
            snapshot::covered_sequence_of(&events),
        )
    });
    Ok(Folded {
        state: folder.into_state(),
        snapshot,
    })
}

/// [`pending_transactions`]' read on SQLite (parameters: the loan, the covered sequence, the loan, the snapshot's
/// date, the covered sequence), as two ranges: recorded since the snapshot, a range of
/// `idx_loan_transactions_loan_id`, and recorded before it but dated after it, a range of
/// `idx_loan_transactions_loan`. Spelled out so, because one condition with `OR`
/// walks every transaction of the loan: SQLite does not combine two indexes, and PostgreSQL's generic plan,
/// with statistics older than the loan's history, scans the loan's rows on the first index. `id + 0` keeps
/// both planners off that index for the second range, which there would be the loan's whole history.
const PENDING_SQL: &str = "SELECT * FROM loan_transactions WHERE loan_id = ? AND id > ? UNION ALL \
     SELECT * FROM loan_transactions WHERE loan_id = ? AND value_date > ? AND id + 0 <= ? ORDER BY id";

/// [`PENDING_SQL`] on PostgreSQL, each parameter bound once (the loan, the covered sequence, the snapshot's date).
const PENDING_SQL_POSTGRES: &str = "SELECT * FROM loan_transactions WHERE loan_id = $1 AND id > $2 UNION ALL \
     SELECT * FROM loan_transactions WHERE loan_id = $1 AND value_date > $3 AND id + 0 <= $2 ORDER BY id";

/// The loan's transactions still to fold on top of `snapshot` (stored as `row`), in insertion order: those
/// recorded since (id above the covered sequence) or dated after it, as two ranges of the loan's indexes
/// ([`PENDING_SQL`]), and only if some of those were recorded before the snapshot (known events dated after it),
/// the reversals recorded before it that cancel one of them. That is [`FoldSnapshot::is_pending`]'s selection
/// less the reversals it also takes that were accounted for when the snapshot was taken and cancel nothing
/// pending ([`snapshot::advance_folder`] ignores them), so a read costs the events since the snapshot, not a
/// scan of every reversal's row in the loan's history.
async fn pending_transactions<C: ConnectionTrait>(
    conn: &C,
    loan_id: i64,
    snapshot: &FoldSnapshot,
    row: &loan_snapshot::Model,
    since: Option<Vec<loan_transaction::Model>>,
) -> AppResult<Vec<loan_transaction::Model>> {
    let mut pending = match since {
        // Read with `row` (`SnapshotRead::since`): the same selection, for the same snapshot.
        Some(since) => since,
        None => {
            let backend = conn.get_database_backend();
            let (sql, values): (_, Vec<sea_orm::Value>) = if backend == DbBackend::Postgres {
                (
                    PENDING_SQL_POSTGRES,
                    vec![
                        loan_id.into(),
                        row.covered_sequence.into(),
                        snapshot.as_of.into(),
                    ],
                )
            } else {
                (
                    PENDING_SQL,
                    vec![
                        loan_id.into(),
                        row.covered_sequence.into(),
                        loan_id.into(),
                        snapshot.as_of.into(),
                        row.covered_sequence.into(),
                    ],
                )
            };
            loan_transaction::Entity::find()
                .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
                .all(conn)
                .await?
        }
    };
    let known_after: Vec<i64> = pending
        .iter()
        .filter(|tx| tx.id <= row.covered_sequence)
        .map(|tx| tx.id)
        .collect();
    if !known_after.is_empty() {
        pending.extend(
            loan_transaction::Entity::find()
                .filter(loan_transaction::Column::LoanId.eq(loan_id))
                .filter(loan_transaction::Column::Id.lte(row.covered_sequence))
                .filter(loan_transaction::Column::ReversesId.is_in(known_after))
                .all(conn)
                .await?,
        );
        pending.sort_by_key(|tx| tx.id);
    }
    Ok(pending)
}

/// The row for a snapshot of loan `loan_id`.
pub fn snapshot_row(
    loan_id: i64,
    snapshot: &FoldSnapshot,
    taken_at: chrono::DateTime<chrono::Utc>,
) -> AppResult<loan_snapshot::ActiveModel> {
    use sea_orm::ActiveValue::Set;
    let covered_sequence = i64::try_from(snapshot.covered_sequence).map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "loan {loan_id}'s snapshot covers sequence {} beyond the store's ids",
            snapshot.covered_sequence
        ))
    })?;
    let state = serde_json::to_string(snapshot).map_err(|error| {
        AppError::internal(anyhow::anyhow!(
            "loan {loan_id}'s snapshot of {} cannot be serialised: {error}",
            snapshot.as_of
        ))
    })?;
    Ok(loan_snapshot::ActiveModel {
        loan_id: Set(loan_id),
        as_of: Set(snapshot.as_of),
        covered_sequence: Set(covered_sequence),
        format_version: Set(i32::try_from(snapshot.format_version).map_err(|_| {
            AppError::internal(anyhow::anyhow!(
                "loan {loan_id}'s snapshot has format version {} beyond the column",
                snapshot.format_version
            ))
        })?),
        contract_fingerprint: Set(snapshot.contract_fingerprint.clone()),
        state: Set(state),
        taken_at: Set(taken_at),
    })
}

/// Writes snapshots (a row already there for the same loan and date is replaced), a few hundred per statement.
pub async fn store_snapshots<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<loan_snapshot::ActiveModel>,
) -> AppResult<()> {
    use sea_orm::sea_query::OnConflict;
    if rows.is_empty() {
        return Ok(());
    }
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        return store_snapshots_sqlite(conn, &rows).await;
    }
    // 7 columns a row: far below SQLite's 32,766 bound values, and a statement of a few megabytes at most.
    const ROWS_PER_STATEMENT: usize = 200;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<loan_snapshot::ActiveModel> =
            rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let insert = loan_snapshot::Entity::insert_many(batch)
            .on_conflict(
                OnConflict::columns([loan_snapshot::Column::LoanId, loan_snapshot::Column::AsOf])
                    .update_columns([
                        loan_snapshot::Column::CoveredSequence,
                        loan_snapshot::Column::FormatVersion,
                        loan_snapshot::Column::ContractFingerprint,
                        loan_snapshot::Column::State,
                        loan_snapshot::Column::TakenAt,
                    ])
                    .to_owned(),
            )
            .build(conn.get_database_backend());
        // A money command's snapshot goes with its other writes in a group commit (`deferred_writes`).
        deferred_writes::execute(conn, insert, Changes::Any).await?;
    }
    Ok(())
}

/// The columns of `loan_snapshots`, all written by [`store_snapshots`].
const SNAPSHOT_COLUMNS: [loan_snapshot::Column; 7] = [
    loan_snapshot::Column::LoanId,
    loan_snapshot::Column::AsOf,
    loan_snapshot::Column::CoveredSequence,
    loan_snapshot::Column::FormatVersion,
    loan_snapshot::Column::ContractFingerprint,
    loan_snapshot::Column::State,
    loan_snapshot::Column::TakenAt,
];

/// [`store_snapshots`] on SQLite (issue 14, cobsqlite): every row in one statement of one JSON parameter,
/// `INSERT … SELECT … FROM jsonb_each(?) … ON CONFLICT … DO UPDATE`, whose text never changes, so SQLite prepares it
/// once per connection instead of a statement of each batch's size (the last of a chunk's batches was a new
/// text every time, kept in sqlx's statement cache afterwards). The same upsert as the other backends'.
async fn store_snapshots_sqlite<C: ConnectionTrait>(
    conn: &C,
    rows: &[loan_snapshot::ActiveModel],
) -> AppResult<()> {
    use crate::app::ledger::posting::{sqlite_json_insert, sqlite_json_rows};
    // `WHERE true`: SQLite's grammar needs a WHERE before ON CONFLICT in an `INSERT … SELECT`.
    let sql = sqlite_json_insert(
        "loan_snapshots",
        &SNAPSHOT_COLUMNS,
        "WHERE true ON CONFLICT (loan_id, as_of) DO UPDATE SET \
         covered_sequence = excluded.covered_sequence, format_version = excluded.format_version, \
         contract_fingerprint = excluded.contract_fingerprint, state = excluded.state, \
         taken_at = excluded.taken_at",
    );
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Sqlite,
        sql,
        [sqlite_json_rows(rows, &SNAPSHOT_COLUMNS)?.into()],
    ))
    .await?;
    Ok(())
}

/// Deletes the snapshots older than `before` (all loans): the close of business keeps
/// [`SNAPSHOT_RETENTION_DAYS`].
pub async fn prune_snapshots<C: ConnectionTrait>(conn: &C, before: NaiveDate) -> AppResult<u64> {
    Ok(loan_snapshot::Entity::delete_many()
        .filter(loan_snapshot::Column::AsOf.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes the loan's snapshots that the transaction just recorded makes stale, in the posting's transaction:
/// for an event dated `value_date`, those after that date (a snapshot on the date itself stays good: the new
/// event folds after the ones it holds); for a reversal, those on or after its value date, which is the reversed
/// event's (`commands`: a reversal carries its original's value date), the first snapshot that can hold it: the
/// ones before stay good and the next fold replays from the latest of them. Should a reversal ever carry another
/// date, the engine still refuses a snapshot holding the event it cancels ([`Stale::ReversesFolded`]), so
/// nothing is ever folded wrong; it only costs a replay from the start.
///
/// **When it costs no statement.** A loan's snapshot never stands after the date its balances are cached as of
/// (`cached_as_of`: the row's, as every reader takes it, `ledger::effective_balances_as_of`): both are written
/// together, by the close of business as of the next day and by a money command as of the business date. So an
/// event dated on the business date whose loan is cached no later than that date (the usual case) finds no
/// snapshot to make stale. The close of the business date writes the next day's snapshots, chunk by chunk,
/// before the date moves (and leaves them if it stops): an event dated on the business date of a loan it has
/// already closed does look (issue 14: a repayment posted then was left out of the next day's fold, which
/// reversed its allocation in the books; `tests/api/cob.rs`).
///
/// [`Stale::ReversesFolded`]: coopfund_domain::snapshot::Stale::ReversesFolded
pub async fn invalidate_snapshots<C: ConnectionTrait>(
    conn: &C,
    recorded: &loan_transaction::Model,
    business_date: NaiveDate,
    cached_as_of: Option<NaiveDate>,
) -> AppResult<()> {
    // Only a reversal carries the id of what it reverses.
    let reversal = recorded.reverses_id.is_some();
    let none_after = cached_as_of.is_none_or(|as_of| as_of <= recorded.value_date);
    if !reversal && recorded.value_date >= business_date && none_after {
        return Ok(());
    }
    let stale_from = loan_snapshot::Column::AsOf;
    loan_snapshot::Entity::delete_many()
        .filter(loan_snapshot::Column::LoanId.eq(recorded.loan_id))
        .filter(if reversal {
            stale_from.gte(recorded.value_date)
        } else {
            stale_from.gt(recorded.value_date)
        })
        .exec(conn)
        .await?;
    Ok(())
}

/// [`LoanStatus::after_fold`] on a stored status text, for the row's cache. An unreadable text is replaced
/// only when the fold decides the status; otherwise it is kept as it is, and every reader of the row names it
/// ([`status_of`]).
pub fn status_text_after_fold(current: &str, state: &LoanState) -> String {
    match LoanStatus::from_str(current) {
        Ok(status) => status.after_fold(state).as_str().to_owned(),
        Err(_) => LoanStatus::decided_by_fold(state)
            .map_or_else(|| current.to_owned(), |status| status.as_str().to_owned()),
    }
}

/// The debt group of one loan under the classification in force ([`coopfund_domain::loan_group`]).
pub fn loan_group(state: &LoanState, classification: &ClassificationConfig) -> DebtGroup {
    coopfund_domain::loan_group(state, classification)
}

/// An engine refusal as a 422 naming the rule (and, above the payoff, the payoff amount). Amounts are
/// written for people, `1.500.000.000 đồng` / `1,500,000,000 VND` ([`Vnd::for_people`]).
pub fn fold_error(err: FoldError) -> AppError {
    use coopfund_domain::Language::{English, Vietnamese};
    let (vi, en) = match &err.error {
        LoanError::PaymentAbovePayoff { amount, payoff } => {
            let (amount_vi, payoff_vi) =
                (amount.for_people(Vietnamese), payoff.for_people(Vietnamese));
            let (amount_en, payoff_en) = (amount.for_people(English), payoff.for_people(English));
            (
                format!("Số tiền trả {amount_vi} vượt quá số tiền tất toán khoản vay {payoff_vi}; hãy trả tối đa {payoff_vi}."),
                format!("The payment of {amount_en} is above the loan's payoff of {payoff_en}; pay at most {payoff_en}."),
            )
        }
        LoanError::DisbursementAboveApproved {
            approved,
            disbursed,
            requested,
        } => (
            format!(
                "Giải ngân {} sẽ vượt số tiền được duyệt {} (đã giải ngân {}).",
                requested.for_people(Vietnamese),
                approved.for_people(Vietnamese),
                disbursed.for_people(Vietnamese)
            ),
            format!(
                "Disbursing {} would exceed the approved principal of {} ({} already disbursed).",
                requested.for_people(English),
                approved.for_people(English),
                disbursed.for_people(English)
            ),
        ),
        LoanError::AmountNotPositive(amount) => (
            format!(
                "Số tiền phải lớn hơn 0 (nhận được {}).",
                amount.for_people(Vietnamese)
            ),
            format!(
                "The amount must be positive (got {}).",
                amount.for_people(English)
            ),
        ),
        LoanError::InterestReductionAboveInterestOwed { reduction, owed } => (
            format!(
                "Số lãi miễn, giảm {} vượt quá số lãi đang nợ {} (lãi chậm trả, lãi quá hạn và lãi chưa trả).",
                reduction.for_people(Vietnamese),
                owed.for_people(Vietnamese)
            ),
            format!(
                "The interest reduction of {} is above the interest owed of {} (late, overdue and unpaid interest).",
                reduction.for_people(English),
                owed.for_people(English)
            ),
        ),
        LoanError::InterestReductionAbovePayoff { reduction, payoff } => (
            format!(
                "Số lãi miễn, giảm {} vượt quá số tiền khách hàng còn phải trả sau khi trừ khoản đã trả trước {}; hãy miễn, giảm tối đa {}.",
                reduction.for_people(Vietnamese),
                payoff.for_people(Vietnamese),
                payoff.for_people(Vietnamese)
            ),
            format!(
                "The interest reduction of {} is above what the borrower still owes net of the advance already paid, {}; reduce by at most {}.",
                reduction.for_people(English),
                payoff.for_people(English),
                payoff.for_people(English)
            ),
        ),
        LoanError::RecoveryAboveRemaining { amount, remaining } => (
            format!(
                "Số tiền thu hồi {} vượt quá số nợ đã xử lý rủi ro còn theo dõi {}; hãy thu tối đa {}.",
                amount.for_people(Vietnamese),
                remaining.for_people(Vietnamese),
                remaining.for_people(Vietnamese)
            ),
            format!(
                "The recovery of {} is above what remains under follow-up, {}; recover at most {}.",
                amount.for_people(English),
                remaining.for_people(English),
                remaining.for_people(English)
            ),
        ),
        LoanError::AmountTooLarge(amount) => {
            let max = Vnd::from_i64(Vnd::MAX_INPUT);
            (
                format!(
                    "Số tiền {} vượt mức tối đa được hỗ trợ {}.",
                    amount.for_people(Vietnamese),
                    max.for_people(Vietnamese)
                ),
                format!(
                    "The amount {} is above the supported maximum of {}.",
                    amount.for_people(English),
                    max.for_people(English)
                ),
            )
        }
        other => {
            let en = other.to_string();
            let vi = match other {
                LoanError::NotDisbursed => "Khoản vay chưa được giải ngân.".to_string(),
                LoanError::LoanClosed { closed_on } => format!("Khoản vay đã tất toán ngày {closed_on}."),
                LoanError::LoanWrittenOff { written_off_on } => format!("Khoản vay đã xử lý rủi ro ngày {written_off_on}."),
                LoanError::LoanNotWrittenOff => "Chỉ khoản vay đã xử lý rủi ro mới ghi nhận thu hồi nợ (vào ngày hiệu lực của khoản thu).".to_string(),
                LoanError::TrancheAfterMaturity => "Không thể giải ngân sau kỳ trả nợ cuối cùng.".to_string(),
                LoanError::AdjustmentChangesMaturity { maturity, new_maturity } => format!(
                    "Điều chỉnh kỳ hạn phải giữ nguyên ngày đáo hạn {maturity}; lịch mới kết thúc ngày {new_maturity}."
                ),
                LoanError::ExtensionDoesNotExtend { maturity, new_maturity } => format!(
                    "Gia hạn nợ phải kết thúc sau ngày đáo hạn {maturity}; lịch mới kết thúc ngày {new_maturity}."
                ),
                _ => format!("Quy tắc cho vay không cho phép thao tác này: {en}."),
            };
            (vi, en)
        }
    };
    let field = err.field();
    let mut app = AppError::new(ErrorKind::Rule, err.code(), Localized::new(vi, en));
    if let Some(field) = field {
        app = app.with_field(field);
    }
    app
}
