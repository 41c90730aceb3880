//! The posted books: debits and credits summed per account (and per loan) over the journal lines a [`BookQuery`]
//! selects ([`posted_sums`]: the trial balance, account statements, the portfolio report, `ledger verify`), and
//! each loan's book as it stands now ([`posted_books`], [`posted_book`]: posting by difference in every money
//! command and in the close of business), read from the running sums the database keeps in `loan_books` as lines
//! are inserted, so that it does not grow with the loan's history.

use std::collections::HashMap;

use chrono::NaiveDate;
use coopfund_domain::{Account, AccountBalances, LoanStatus, Vnd};
use sea_orm::{
    sea_query::{Alias, Expr, Query, SimpleExpr},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Statement,
};

use crate::{
    app::loan_engine::LOAN_IDS_PER_QUERY_MAX,
    error::{AppError, AppResult},
    store::{
        entities::{journal_entry, journal_line, loan, loan_book},
        sum_vnd,
    },
};

/// Whose journal lines a [`BookQuery`] sums.
#[derive(Debug, Clone, Copy)]
pub enum LoanScope<'a> {
    /// Every line, with or without a loan.
    All,
    /// The lines of these loans (their subledgers).
    Loans(&'a [i64]),
    /// The lines of the loans whose stored status is one of these.
    LoansInStatus(&'a [LoanStatus]),
    /// The lines without a loan (the portfolio-level general provision).
    PortfolioLevel,
}

/// Which journal lines to sum, and whether per loan.
#[derive(Debug, Clone, Copy)]
pub struct BookQuery<'a> {
    /// Whose lines.
    pub loans: LoanScope<'a>,
    /// Only these account codes (empty: every account).
    pub accounts: &'a [&'a str],
    /// Only entries dated on or after this day.
    pub dated_from: Option<NaiveDate>,
    /// Only entries dated on or before this day.
    pub dated_through: Option<NaiveDate>,
    /// Sum per (loan, account) rather than per account.
    pub per_loan: bool,
}

impl<'a> BookQuery<'a> {
    /// Every line of `loans`, summed per loan and account.
    pub fn per_loan(loans: LoanScope<'a>) -> Self {
        BookQuery {
            loans,
            accounts: &[],
            dated_from: None,
            dated_through: None,
            per_loan: true,
        }
    }

    /// Every line, summed per account.
    pub fn per_account() -> Self {
        BookQuery {
            per_loan: false,
            ..BookQuery::per_loan(LoanScope::All)
        }
    }

    /// Only the lines on `accounts`.
    pub fn on(self, accounts: &'a [&'a str]) -> Self {
        BookQuery { accounts, ..self }
    }

    /// Only the entries dated in `[from, through]` (either end open when `None`).
    pub fn dated(self, from: Option<NaiveDate>, through: Option<NaiveDate>) -> Self {
        BookQuery {
            dated_from: from,
            dated_through: through,
            ..self
        }
    }
}

/// The debits and credits posted to one account (of one loan, when the query is per loan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedSum {
    /// The loan of the lines; `None` for portfolio-level lines or a query not per loan.
    pub loan_id: Option<i64>,
    /// The account code as stored (a code outside the chart is reported by `ledger verify`).
    pub account_code: String,
    /// Σ debits.
    pub debit: Vnd,
    /// Σ credits.
    pub credit: Vnd,
}

impl PostedSum {
    /// Debits − credits.
    pub fn net_debit(&self) -> Vnd {
        self.debit - self.credit
    }

    /// Credits − debits.
    pub fn net_credit(&self) -> Vnd {
        self.credit - self.debit
    }

    /// The account in the chart, or an error naming the code.
    pub fn account(&self) -> AppResult<Account> {
        Account::from_code(&self.account_code).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "journal line on unknown account {}",
                self.account_code
            ))
        })
    }
}

/// The sums of the journal lines `query` selects, ordered by loan and account.
pub async fn posted_sums<C: ConnectionTrait>(
    conn: &C,
    query: &BookQuery<'_>,
) -> AppResult<Vec<PostedSum>> {
    match query.loans {
        LoanScope::Loans(ids) => {
            let mut sums = Vec::new();
            for batch in ids.chunks(LOAN_IDS_PER_QUERY_MAX) {
                let select = select_sums(query).filter(loans_in(conn, batch));
                sums.extend(run(conn, select, query.per_loan).await?);
            }
            Ok(sums)
        }
        LoanScope::PortfolioLevel => {
            let select = select_sums(query).filter(journal_line::Column::LoanId.is_null());
            run(conn, select, query.per_loan).await
        }
        LoanScope::LoansInStatus(statuses) => {
            let loans = Query::select()
                .column(loan::Column::Id)
                .from(loan::Entity)
                .and_where(
                    loan::Column::Status.is_in(statuses.iter().map(|status| status.as_str())),
                )
                .to_owned();
            let select = select_sums(query).filter(journal_line::Column::LoanId.in_subquery(loans));
            run(conn, select, query.per_loan).await
        }
        LoanScope::All => run(conn, select_sums(query), query.per_loan).await,
    }
}

/// Σ debits and Σ credits of `(debit, credit)` pairs.
pub fn totals(pairs: impl IntoIterator<Item = (Vnd, Vnd)>) -> (Vnd, Vnd) {
    pairs.into_iter().fold(
        (Vnd::ZERO, Vnd::ZERO),
        |(debits, credits), (debit, credit)| (debits + debit, credits + credit),
    )
}

/// Each of `ids`' posted book (net debits by account). A loan with nothing posted has no entry.
///
/// Read from `loan_books`, the running sums the database keeps as lines are inserted (the migration
/// `m20261206_000019_loan_books`), not summed from the journal lines: the cost of this read does not grow with the
/// loan's history (issue 14). The books are the sums [`posted_sums`] gives per loan; `ledger verify` checks that
/// they are.
pub async fn posted_books<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, AccountBalances>> {
    if ids.len() > 1 && conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        return posted_books_sqlite(conn, ids).await;
    }
    let mut books: HashMap<i64, AccountBalances> = HashMap::new();
    for batch in ids.chunks(LOAN_IDS_PER_QUERY_MAX) {
        for row in running_books(conn, batch).await? {
            let book = books.entry(row.loan_id).or_default();
            add_running_sum(book, row.account_code, row.debit_vnd, row.credit_vnd)?;
        }
    }
    Ok(books)
}

/// Adds one account's running sums (`loan_books`' debits and credits) to a loan's `book`, as a net debit; an
/// account code outside the chart is an error that names it.
fn add_running_sum(
    book: &mut AccountBalances,
    account_code: String,
    debit_vnd: i64,
    credit_vnd: i64,
) -> AppResult<()> {
    let sum = PostedSum {
        loan_id: None,
        account_code,
        debit: Vnd::from_i64(debit_vnd),
        credit: Vnd::from_i64(credit_vnd),
    };
    book.add(sum.account()?, sum.net_debit());
    Ok(())
}

/// One loan's posted book from its `loan_books` rows (as [`posted_book`] reads them).
pub(crate) fn book_of_rows(rows: Vec<loan_book::Model>) -> AppResult<AccountBalances> {
    let mut book = AccountBalances::default();
    for row in rows {
        add_running_sum(&mut book, row.account_code, row.debit_vnd, row.credit_vnd)?;
    }
    Ok(book)
}

/// The running books of the loans `batch` (at most [`LOAN_IDS_PER_QUERY_MAX`]).
async fn running_books<C: ConnectionTrait>(
    conn: &C,
    batch: &[i64],
) -> AppResult<Vec<loan_book::Model>> {
    Ok(loan_book::Entity::find()
        .filter(crate::app::loan_engine::ids_in(
            conn,
            loan_book::Column::LoanId,
            batch,
        ))
        .all(conn)
        .await?)
}

/// [`posted_books_sqlite`]'s statement for `batch`: the batch's running books (`loan_engine::ids_in`, so that the
/// statement's text is the same whatever the batch's size: issue 14, the close reads its chunk's books here), one
/// row per loan with its accounts' sums as text, `code debits credits` triples joined by spaces.
fn posted_books_sqlite_statement<C: ConnectionTrait>(conn: &C, batch: &[i64]) -> Statement {
    let per_loan = Query::select()
        .column(loan_book::Column::LoanId)
        .expr_as(
            Expr::cust("group_concat(account_code || ' ' || debit_vnd || ' ' || credit_vnd, ' ')"),
            Alias::new("sums"),
        )
        .from(loan_book::Entity)
        .and_where(crate::app::loan_engine::ids_in(
            conn,
            loan_book::Column::LoanId,
            batch,
        ))
        .group_by_col(loan_book::Column::LoanId)
        .to_owned();
    conn.get_database_backend().build(&per_loan)
}

/// The journal lines of the loans `batch` (at most [`LOAN_IDS_PER_QUERY_MAX`]): `loan_engine::ids_in`, so that on
/// SQLite the statement's text is the same whatever the batch's size.
fn loans_in<C: ConnectionTrait>(conn: &C, batch: &[i64]) -> SimpleExpr {
    crate::app::loan_engine::ids_in(conn, journal_line::Column::LoanId, batch)
}

/// [`posted_books`] of many loans on SQLite (the close of business reads its chunk's books through here): one row
/// per loan instead of one per loan and account (issue 14, cobcpu: ≈ 4.7 accounts a loan on the bulk fund, and
/// each row read costs sqlx a copy of its values, a message between threads and often a wake-up, more than
/// SQLite's own work on it). The sums are SQLite's integers written as decimal text and read back exactly.
async fn posted_books_sqlite<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, AccountBalances>> {
    let mut books: HashMap<i64, AccountBalances> = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(LOAN_IDS_PER_QUERY_MAX) {
        let rows = conn
            .query_all_raw(posted_books_sqlite_statement(conn, batch))
            .await?;
        for row in rows {
            let loan_id: i64 = row.try_get("", "loan_id")?;
            let sums: String = row.try_get("", "sums")?;
            let book = books.entry(loan_id).or_default();
            let mut fields = sums.split(' ');
            while let Some(code) = fields.next() {
                let mut amount = || -> AppResult<i64> {
                    fields.next().and_then(|n| n.parse().ok()).ok_or_else(|| {
                        AppError::internal(anyhow::anyhow!(
                            "loan {loan_id}'s posted book cannot be read from {sums:?}"
                        ))
                    })
                };
                let (debits, credits) = (amount()?, amount()?);
                add_running_sum(book, code.to_owned(), debits, credits)?;
            }
        }
    }
    Ok(books)
}

/// The balances posted so far for one loan (its subledger), as net debits by account.
pub async fn posted_book<C: ConnectionTrait>(conn: &C, loan_id: i64) -> AppResult<AccountBalances> {
    Ok(posted_books(conn, &[loan_id])
        .await?
        .remove(&loan_id)
        .unwrap_or_default())
}

fn select_sums(query: &BookQuery<'_>) -> Select<journal_line::Entity> {
    let mut select = journal_line::Entity::find().select_only();
    if query.per_loan {
        select = select
            .column(journal_line::Column::LoanId)
            .group_by(journal_line::Column::LoanId)
            .order_by_asc(journal_line::Column::LoanId);
    }
    select = select
        .column(journal_line::Column::AccountCode)
        .column_as(sum_vnd("debit_vnd"), "debits")
        .column_as(sum_vnd("credit_vnd"), "credits")
        .group_by(journal_line::Column::AccountCode)
        .order_by_asc(journal_line::Column::AccountCode);
    if !query.accounts.is_empty() {
        select = select.filter(journal_line::Column::AccountCode.is_in(query.accounts.to_vec()));
    }
    if query.dated_from.is_some() || query.dated_through.is_some() {
        let mut entries = Query::select();
        entries
            .column(journal_entry::Column::Id)
            .from(journal_entry::Entity);
        if let Some(from) = query.dated_from {
            entries.and_where(journal_entry::Column::EntryDate.gte(from));
        }
        if let Some(through) = query.dated_through {
            entries.and_where(journal_entry::Column::EntryDate.lte(through));
        }
        select = select.filter(journal_line::Column::EntryId.in_subquery(entries.to_owned()));
    }
    select
}

async fn run<C: ConnectionTrait>(
    conn: &C,
    select: Select<journal_line::Entity>,
    per_loan: bool,
) -> AppResult<Vec<PostedSum>> {
    let sum = |loan_id, account_code, debits, credits| PostedSum {
        loan_id,
        account_code,
        debit: Vnd::from_i64(debits),
        credit: Vnd::from_i64(credits),
    };
    if per_loan {
        let rows: Vec<(Option<i64>, String, i64, i64)> = select.into_tuple().all(conn).await?;
        Ok(rows
            .into_iter()
            .map(|(loan_id, code, debits, credits)| sum(loan_id, code, debits, credits))
            .collect())
    } else {
        let rows: Vec<(String, i64, i64)> = select.into_tuple().all(conn).await?;
        Ok(rows
            .into_iter()
            .map(|(code, debits, credits)| sum(None, code, debits, credits))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQLite statement of many loans' books binds the ids as one JSON value, so its text is the same
    /// whatever the batch's size (one prepared statement per connection), and it is one row per loan.
    #[tokio::test]
    async fn the_sqlite_books_statement_binds_one_json_value_whatever_the_batch() {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        let three = posted_books_sqlite_statement(&db, &[1, 2, 3]);
        let five = posted_books_sqlite_statement(&db, &[4, 5, 6, 7, 8]);
        println!("{}", three.sql);
        assert_eq!(three.sql, five.sql);
        assert!(three.sql.contains("IN (SELECT value FROM json_each(?))"));
        assert!(three.sql.contains("group_concat("));
        assert!(three.sql.ends_with("GROUP BY \"loan_id\""), "{}", three.sql);
        let values = three.values.expect("bound values").0;
        assert_eq!(values, vec![sea_orm::Value::from("[1,2,3]".to_string())]);
    }
}
