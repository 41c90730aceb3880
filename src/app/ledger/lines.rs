//! The journal line by line, oldest first, in keyset batches: what an export of the whole journal
//! reads. A batch is one indexed range query (`journal_lines.id > after`, `LIMIT n`), so an export of
//! a million lines holds one batch at a time and never an offset scan.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::Vnd;
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Order, Query},
    ConnectionTrait,
};

use super::{
    journal::{entries_on_account, EntryFilter},
    READERS,
};
use crate::{
    app::{context::AppCtx, Caller},
    error::{AppError, AppResult, Reason},
    store::entities::{journal_entry, journal_line},
};

/// The most lines one batch returns.
pub const LINES_BATCH_MAX: u64 = 5_000;

/// One journal line with its entry's header.
#[derive(Debug, Clone)]
pub struct JournalLineRow {
    /// The line's id (the keyset cursor).
    pub line_id: i64,
    /// The entry it belongs to.
    pub entry_id: i64,
    /// The entry's business date.
    pub entry_date: NaiveDate,
    /// The entry's kind (`repayment`, `close_of_business`, …).
    pub kind: String,
    /// The entry's description.
    pub description: String,
    /// The loan of the line (the loan subledger); none for fund-level lines.
    pub loan_id: Option<i64>,
    /// The loan transaction that caused the entry.
    pub transaction_id: Option<i64>,
    /// The account code.
    pub account_code: String,
    /// Debit in đồng.
    pub debit: Vnd,
    /// Credit in đồng.
    pub credit: Vnd,
    /// When the entry was written (UTC).
    pub posted_at: DateTime<Utc>,
}

/// The lines after line `after_line_id` (0 for the first batch) of the entries `filter` selects,
/// oldest first, at most `limit` (1..=[`LINES_BATCH_MAX`]). An empty batch is the end. Staff.
#[tracing::instrument(skip_all, fields(after_line_id, limit))]
pub async fn journal_lines_after(
    ctx: &AppCtx,
    caller: &Caller,
    filter: &EntryFilter,
    after_line_id: i64,
    limit: u64,
) -> AppResult<Vec<JournalLineRow>> {
    caller.require(&READERS)?;
    if !(1..=LINES_BATCH_MAX).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            Reason::OutOfRange {
                min: "1".into(),
                max: LINES_BATCH_MAX.to_string(),
            },
        ));
    }
    let line = |c: journal_line::Column| (journal_line::Entity, c);
    let entry = |c: journal_entry::Column| (journal_entry::Entity, c);
    let mut query = Query::select();
    query
        .expr_as(
            Expr::col(line(journal_line::Column::Id)),
            Alias::new("line_id"),
        )
        .expr_as(
            Expr::col(line(journal_line::Column::EntryId)),
            Alias::new("entry_id"),
        )
        .expr_as(
            Expr::col(line(journal_line::Column::AccountCode)),
            Alias::new("account_code"),
        )
        .expr_as(
            Expr::col(line(journal_line::Column::DebitVnd)),
            Alias::new("debit_vnd"),
        )
        .expr_as(
            Expr::col(line(journal_line::Column::CreditVnd)),
            Alias::new("credit_vnd"),
        )
        .expr_as(
            Expr::col(line(journal_line::Column::LoanId)),
            Alias::new("loan_id"),
        )
        .expr_as(
            Expr::col(entry(journal_entry::Column::EntryDate)),
            Alias::new("entry_date"),
        )
        .expr_as(
            Expr::col(entry(journal_entry::Column::Kind)),
            Alias::new("kind"),
        )
        .expr_as(
            Expr::col(entry(journal_entry::Column::Description)),
            Alias::new("description"),
        )
        .expr_as(
            Expr::col(entry(journal_entry::Column::TransactionId)),
            Alias::new("transaction_id"),
        )
        .expr_as(
            Expr::col(entry(journal_entry::Column::PostedAt)),
            Alias::new("posted_at"),
        )
        .from(journal_line::Entity)
        .inner_join(
            journal_entry::Entity,
            Expr::col(line(journal_line::Column::EntryId)).equals(entry(journal_entry::Column::Id)),
        )
        .and_where(Expr::col(line(journal_line::Column::Id)).gt(after_line_id));
    if let Some(from) = filter.from {
        query.and_where(Expr::col(entry(journal_entry::Column::EntryDate)).gte(from));
    }
    if let Some(to) = filter.to {
        query.and_where(Expr::col(entry(journal_entry::Column::EntryDate)).lte(to));
    }
    if let Some(loan_id) = filter.loan_id {
        query.and_where(Expr::col(entry(journal_entry::Column::LoanId)).eq(loan_id.get()));
    }
    if let Some(code) = filter.account_code()? {
        // Every line of the entries that touch the account (as the journal page shows them).
        query.and_where(
            Expr::col(line(journal_line::Column::EntryId)).in_subquery(entries_on_account(code)),
        );
    }
    query
        .order_by(line(journal_line::Column::Id), Order::Asc)
        .limit(limit);
    let rows = ctx.db.query_all(&query).await?;
    rows.into_iter()
        .map(|row| {
            Ok(JournalLineRow {
                line_id: row.try_get("", "line_id")?,
                entry_id: row.try_get("", "entry_id")?,
                entry_date: row.try_get("", "entry_date")?,
                kind: row.try_get("", "kind")?,
                description: row.try_get("", "description")?,
                loan_id: row.try_get("", "loan_id")?,
                transaction_id: row.try_get("", "transaction_id")?,
                account_code: row.try_get("", "account_code")?,
                debit: Vnd::from_i64(row.try_get("", "debit_vnd")?),
                credit: Vnd::from_i64(row.try_get("", "credit_vnd")?),
                posted_at: row.try_get("", "posted_at")?,
            })
        })
        .collect()
}
