//! Loans from the approved loan onward (DOMAIN.md §4, §5, §7): contract signing, disbursements,
//! repayments, reversals, restructuring, write-off; and what is owed: the loan with balances, its
//! schedule, transactions, payoff quote and statement, all as of the business date.
//!
//! Every money command: role check; then (on SQLite) the in-process writer gate; one transaction; lock
//! the loan row (`SELECT … FOR UPDATE` on PostgreSQL, a no-op write on SQLite so the transaction holds
//! the write lock from its first statement); the idempotency key lookup (replay or 409); append the
//! transaction; refold the loan with the engine up to the business date and post the difference to the
//! books ([`crate::app::ledger::refold_and_post`]); cache the balances; audit; store the key; commit. A refusal by
//! the engine (e.g. a payment above the payoff) rolls everything back and is a 422.
//!
//! Roles (API.md, DOMAIN.md §7): accountants disburse, post repayments and reverse; officers and approvers
//! sign the contract; approvers restructure (Decree 45/2021 Art 27: with approval — the approver's call is
//! the approval, recorded in `approved_by`) and write off (Art 29: the risk handling council's decision, by
//! an approver); everyone reads, a cooperative only its own loans (404 otherwise).
//!
//! The module: `commands` (the money and state commands, each taking a typed command), `queries` (the
//! reads) and `views` (what both return, the API's JSON).

mod commands;
mod explain;
mod period;
mod preview;
mod queries;
mod views;

use chrono::NaiveDate;
use coopfund_domain::{HolidayCalendar, LoanState};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Statement,
};

pub use commands::{
    disburse, recover, repay, restructure, reverse, sign, write_off, Disburse, Recover, Repay,
    Restructure, Reverse, SignContract, WriteOff,
};
pub use explain::{explain, LoanExplanation};
pub use period::{statement_for_period, LoanStatementPeriod};
pub use preview::{mails, preview_repayment, RepaymentPreview, MAILS_LIMIT};
pub use queries::{get, list, payoff, schedule, statement, transactions, LoanFilter};
pub use views::{
    installment_status_name, AllocationView, LoanSchedule, LoanStatement, LoanView, NextDue,
    PayoffView, ScheduleLine, StatementLine, TransactionView,
};

pub(crate) use commands::Recorded;

use super::{
    calendar,
    chains::{self, ChainHeads},
    fund, loan_engine, Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult},
    store::entities::{loan, loan_transaction},
};

/// Locks loan `id` for the rest of `txn` and returns it (404 when absent). PostgreSQL: `SELECT … FOR
/// UPDATE`; SQLite: a no-op `UPDATE` first, so the transaction holds the database's write lock from its
/// first statement (no `SQLITE_BUSY` upgrade failure later). The close of business locks each loan this way.
pub async fn lock_loan(txn: &DatabaseTransaction, id: i64) -> AppResult<loan::Model> {
    let found = if txn.get_database_backend() == DbBackend::Sqlite {
        // One statement: the no-op write takes the database's write lock and returns the row.
        loan::Entity::update_many()
            .col_expr(loan::Column::Version, Expr::col(loan::Column::Version))
            .filter(loan::Column::Id.eq(id))
            .exec_with_returning(txn)
            .await?
            .pop()
    } else {
        loan::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
    };
    found.ok_or_else(loan_not_found)
}

/// A loan locked for a money command, with what every such command reads with the lock
/// ([`lock_loan_with_calendar`]).
pub(crate) struct LockedLoan {
    /// The loan's row (a money command receives it with its cached balances' as-of date in force).
    pub loan: loan::Model,
    /// The business date.
    pub today: NaiveDate,
    /// The fund's calendar in force.
    pub calendar: HolidayCalendar,
    /// The close's marks (the loan's cached balances' as-of date is read by them).
    pub marks: fund::CachedThrough,
    /// The heads of the loan's part of the chains: read with the lock on SQLite when asked for, else
    /// read when the command links its first row (on PostgreSQL always then: the heads stay locked from
    /// their read to the commit, so they are taken as late as they can be).
    pub heads: ChainHeads,
    /// The ids the command's transaction and journal entry will take, read with the lock on SQLite when
    /// the heads are ([`NextIds`]); `None`: the database gives them at the insert.
    pub next_ids: Option<NextIds>,
}

/// The ids the next rows of the loan transactions and of the journal entries will take, read on SQLite in
/// the writer gate, after the loan's lock (`crate::app::writer`: no other writer of the process, and the
/// lock's write holds SQLite's write lock against any other process, so nothing else can take them before
/// the command inserts its rows).
///
/// **Why.** Knowing its rows' ids before it inserts them, a money command need not wait for an insert's
/// answer: the transaction's insert goes with the posting's reads and the entry's with the command's other
/// writes (`crate::app::deferred_writes`), two round trips fewer to the connection's thread (issue 14). The
/// command inserts no other row into those tables before its own; one that did would take the same id and
/// the command would fail on the primary key, never write twice. SQLite gives an `AUTOINCREMENT` table's new
/// row one more than the larger of its largest id and the largest it ever gave (`sqlite_sequence`); so do
/// these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NextIds {
    /// The id of the command's loan transaction.
    pub transaction_id: i64,
    /// The id of its journal entry.
    pub entry_id: i64,
}

/// The statement of [`NextIds`] in the lock's text, its row named by its `part`.
const NEXT_IDS_SQLITE: &str = "SELECT -3 AS part, \
     max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'loan_transactions'), 0), \
         coalesce((SELECT max(id) FROM loan_transactions), 0)) + 1 AS transaction_id, \
     max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'journal_entries'), 0), \
         coalesce((SELECT max(id) FROM journal_entries), 0)) + 1 AS entry_id";
/// The `part` of [`NEXT_IDS_SQLITE`]'s row.
const PART_NEXT_IDS: i32 = -3;

/// The `part` of the loan's row in the text [`lock_loan_with_calendar`] sends on SQLite (the calendar's rows
/// have 0 or more).
const PART_LOAN: i32 = -1;
/// The `part` of the chain heads' rows in that text.
const PART_HEADS: i32 = -2;

/// [`lock_loan`], then the business date, the calendar in force and the close's marks
/// ([`calendar::business_date_calendar_and_marks`]), read after the lock (on PostgreSQL a close that held the loan
/// has committed its marks by then): what every money command begins with. With `with_heads`, on SQLite, the
/// heads of the loan's part of the chains too, and the ids its transaction and entry will take
/// ([`NextIds`]), for a command that appends a transaction. On SQLite the
/// statements go to the connection's thread as one text, one round trip instead of two or three (issue 14;
/// why round trips count there: `crate::app::ledger::posting`'s `PostingReads`), each statement's rows
/// named by their `part` column.
pub(crate) async fn lock_loan_with_calendar(
    txn: &DatabaseTransaction,
    id: i64,
    with_heads: bool,
) -> AppResult<LockedLoan> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        let loan = lock_loan(txn, id).await?;
        let (today, calendar, marks) = calendar::business_date_calendar_and_marks(txn).await?;
        return Ok(LockedLoan {
            loan,
            today,
            calendar,
            marks,
            heads: ChainHeads::for_loan(id),
            next_ids: None,
        });
    }
    let mut sql = format!(
        "UPDATE loans SET version = version WHERE id = ? RETURNING {PART_LOAN} AS part, *;\n"
    );
    let mut values = vec![id.into()];
    if with_heads {
        let (heads_sql, heads_values) = chains::loan_heads_read_sqlite(id, PART_HEADS);
        sql.push_str(&heads_sql);
        sql.push_str(";\n");
        values.extend(heads_values);
        sql.push_str(NEXT_IDS_SQLITE);
        sql.push_str(";\n");
    }
    sql.push_str(&calendar::business_date_calendar_and_marks_sql());
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
        .await?;
    let mut loan = None;
    let mut heads = Vec::new();
    let mut next_ids = None;
    let mut calendar_rows = Vec::with_capacity(rows.len());
    for row in rows {
        match row.try_get::<i32>("", "part").ok() {
            Some(PART_LOAN) => loan = Some(loan::Model::from_query_result(&row, "")?),
            Some(PART_HEADS) => heads.push(row),
            Some(PART_NEXT_IDS) => {
                next_ids = Some(NextIds {
                    transaction_id: row.try_get("", "transaction_id")?,
                    entry_id: row.try_get("", "entry_id")?,
                })
            }
            _ => calendar_rows.push(row),
        }
    }
    let loan = loan.ok_or_else(loan_not_found)?;
    let heads = if with_heads {
        ChainHeads::for_loan_read(id, &heads)?
    } else {
        ChainHeads::for_loan(id)
    };
    if with_heads && next_ids.is_none() {
        return Err(AppError::internal(anyhow::anyhow!(
            "the next ids of loan {id}'s command were not read"
        )));
    }
    let (today, calendar, marks) = calendar::business_date_calendar_and_marks_of(&calendar_rows)?;
    Ok(LockedLoan {
        loan,
        today,
        calendar,
        marks,
        heads,
        next_ids,
    })
}

fn loan_not_found() -> AppError {
    AppError::not_found("khoản vay", "Loan")
}

/// Loan `id` when `caller` may see it (a cooperative only its own); 404 otherwise, as for a loan that does not
/// exist. The one way a read loads a loan: the cooperative filter cannot be forgotten.
pub async fn find_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<loan::Model> {
    caller.require(&Role::ALL)?;
    let mut select = loan::Entity::find_by_id(id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(loan::Column::CooperativeId.eq(own));
    }
    // `all`, not `one`: at most one row by the primary key, and `one`'s `LIMIT ?` makes SQLite recompile the
    // statement on every execution (`crate::store` docs).
    select
        .all(conn)
        .await?
        .into_iter()
        .next()
        .ok_or_else(loan_not_found)
}

/// A loan's state from its events, as of `date`, with the fund's calendar in force.
async fn state_of<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    date: NaiveDate,
) -> AppResult<(LoanState, Vec<loan_transaction::Model>)> {
    let calendar = calendar::in_force(conn).await?;
    state_with(conn, loan, date, &calendar).await
}

/// [`state_of`] with the calendar already loaded.
async fn state_with<C: ConnectionTrait>(
    conn: &C,
    loan: &loan::Model,
    date: NaiveDate,
    calendar: &HolidayCalendar,
) -> AppResult<(LoanState, Vec<loan_transaction::Model>)> {
    let contract = loan_engine::contract_of(loan, calendar)?;
    let transactions = loan_engine::transactions_of(conn, loan.id).await?;
    let state = loan_engine::fold_at(&contract, &loan_engine::events_of(&transactions)?, date)?;
    Ok((state, transactions))
}
