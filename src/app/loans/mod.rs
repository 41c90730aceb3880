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

use super::{calendar, fund, loan_engine, Caller};
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

/// [`lock_loan`], then the business date, the calendar in force and the close's marks
/// ([`calendar::business_date_calendar_and_marks`]), read after the lock (on PostgreSQL a close that held the loan
/// has committed its marks by then): what every money command begins with. On SQLite the two statements go to
/// the connection's thread as one text, one round trip instead of two (issue 14; why round trips count there:
/// `crate::app::ledger::posting`'s `PostingReads`), the loan's row named by its `part` of -1 (the calendar's
/// rows have 0 or more).
pub async fn lock_loan_with_calendar(
    txn: &DatabaseTransaction,
    id: i64,
) -> AppResult<(loan::Model, NaiveDate, HolidayCalendar, fund::CachedThrough)> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        let loan = lock_loan(txn, id).await?;
        let (today, calendar, marks) = calendar::business_date_calendar_and_marks(txn).await?;
        return Ok((loan, today, calendar, marks));
    }
    let sql = format!(
        "UPDATE loans SET version = version WHERE id = ? RETURNING -1 AS part, *; {}",
        calendar::business_date_calendar_and_marks_sql()
    );
    let mut rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            [id.into()],
        ))
        .await?;
    let mut loan = None;
    if let Some(at) = rows
        .iter()
        .position(|row| row.try_get::<i32>("", "part").ok() == Some(-1))
    {
        loan = Some(loan::Model::from_query_result(&rows.remove(at), "")?);
    }
    let loan = loan.ok_or_else(loan_not_found)?;
    let (today, calendar, marks) = calendar::business_date_calendar_and_marks_of(&rows)?;
    Ok((loan, today, calendar, marks))
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
