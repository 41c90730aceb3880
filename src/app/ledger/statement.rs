//! Account statements (sổ chi tiết tài khoản): one account's movements over a period with opening,
//! running and closing balances.

use chrono::{Datelike, NaiveDate};
use coopfund_domain::Vnd;
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func, Order, Query},
    ConnectionTrait, EntityTrait, FromQueryResult, Iterable,
};

use super::{
    books::totals,
    journal::{account_totals, normal_balance, normal_side_of},
    text::{account_not_found, BooksError},
    READERS,
};
use crate::{
    app::{context::AppCtx, fund, Caller},
    error::{AppError, AppResult, Reason},
    store::entities::{journal_entry, journal_line, ledger_account},
};

/// The most lines one account statement returns; a longer period must be narrowed.
pub const STATEMENT_LINES_MAX: usize = 20_000;

/// One journal entry's effect on the account, with the running balance on the account's normal side.
#[derive(Debug, Clone)]
pub struct StatementLine {
    /// The entry's header.
    pub entry: journal_entry::Model,
    /// Σ the entry's debits on the account.
    pub debit: Vnd,
    /// Σ the entry's credits on the account.
    pub credit: Vnd,
    /// The balance after the entry, on the account's normal side.
    pub balance: Vnd,
}

/// An account's movements over `[from, to]`.
#[derive(Debug, Clone)]
pub struct AccountStatement {
    /// The account as stored in the chart.
    pub account: ledger_account::Model,
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// The balance of the entries dated before `from`.
    pub opening_balance: Vnd,
    /// Each entry in date order.
    pub lines: Vec<StatementLine>,
}

impl AccountStatement {
    /// Σ debits and Σ credits over the period.
    pub fn totals(&self) -> (Vnd, Vnd) {
        totals(self.lines.iter().map(|l| (l.debit, l.credit)))
    }

    /// The balance after the last entry (the opening balance when none).
    pub fn closing_balance(&self) -> Vnd {
        self.lines
            .last()
            .map_or(self.opening_balance, |line| line.balance)
    }
}

/// The statement of account `code` over `[from, to]` (default: the business date's month up to the
/// business date): opening balance, each entry's debit and credit in date order with the running
/// balance. Staff (not cooperatives).
#[tracing::instrument(skip_all, fields(code = %code))]
pub async fn account_statement(
    ctx: &AppCtx,
    caller: &Caller,
    code: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<AccountStatement> {
    caller.require(&READERS)?;
    let conn = &ctx.db;
    let account = ledger_account::Entity::find_by_id(code.to_string())
        .one(conn)
        .await?
        .ok_or_else(account_not_found)?;
    let side = normal_side_of(&account)?;
    let to = match to {
        Some(date) => date,
        None => fund::business_date(conn).await?,
    };
    let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if from > to {
        return Err(AppError::invalid(
            "from",
            Reason::OutOfRange {
                min: "2000-01-01".into(),
                max: to.to_string(),
            },
        ));
    }
    let before = account_totals(conn, from.pred_opt()).await?;
    // Nothing posted to the account before `from`: it opens at zero.
    let (opening_debit, opening_credit) =
        before.get(code).copied().unwrap_or((Vnd::ZERO, Vnd::ZERO));
    let opening_balance = normal_balance(side, opening_debit, opening_credit);

    let entry = |column: journal_entry::Column| (journal_entry::Entity, column);
    let line = |column: journal_line::Column| (journal_line::Entity, column);
    let sum = |column: journal_line::Column, name: &str| {
        (
            Func::cast_as(Func::sum(Expr::col(line(column))), Alias::new("BIGINT")),
            Alias::new(name),
        )
    };
    // Every column of the entry, each line's whole header.
    let header = || journal_entry::Column::iter().map(entry);
    let (debits, debits_as) = sum(journal_line::Column::DebitVnd, "debits");
    let (credits, credits_as) = sum(journal_line::Column::CreditVnd, "credits");
    let statement = Query::select()
        .columns(header())
        .expr_as(debits, debits_as)
        .expr_as(credits, credits_as)
        .from(journal_line::Entity)
        .inner_join(
            journal_entry::Entity,
            Expr::col(line(journal_line::Column::EntryId)).equals(entry(journal_entry::Column::Id)),
        )
        .and_where(Expr::col(line(journal_line::Column::AccountCode)).eq(code))
        .and_where(Expr::col(entry(journal_entry::Column::EntryDate)).gte(from))
        .and_where(Expr::col(entry(journal_entry::Column::EntryDate)).lte(to))
        .group_by_columns(header())
        .order_by(entry(journal_entry::Column::EntryDate), Order::Asc)
        .order_by(entry(journal_entry::Column::Id), Order::Asc)
        .limit(STATEMENT_LINES_MAX as u64 + 1)
        .to_owned();
    let rows = conn.query_all(&statement).await?;
    if rows.len() > STATEMENT_LINES_MAX {
        return Err(BooksError::StatementTooLong {
            max_lines: STATEMENT_LINES_MAX,
        }
        .into());
    }
    let mut balance = opening_balance;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let debit = Vnd::from_i64(row.try_get("", "debits")?);
        let credit = Vnd::from_i64(row.try_get("", "credits")?);
        balance += normal_balance(side, debit, credit);
        lines.push(StatementLine {
            entry: journal_entry::Model::from_query_result(&row, "")?,
            debit,
            credit,
            balance,
        });
    }
    Ok(AccountStatement {
        account,
        from,
        to,
        opening_balance,
        lines,
    })
}
