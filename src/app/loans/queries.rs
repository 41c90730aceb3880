//! The loan reads: one loan, the list, its schedule, transactions, payoff quote and statement, each folded from
//! the loan's events as of the business date (or the date asked for).

use std::collections::HashMap;

use chrono::NaiveDate;
use coopfund_domain::{
    build_schedule,
    ids::{CooperativeId, LoanId},
    LoanStatus, ScheduleTerms, Vnd,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    find_for, state_of, state_with, views::installment_status_name, LoanSchedule, LoanStatement,
    LoanView, PayoffView, ScheduleLine, TransactionView,
};
use crate::{
    app::{
        calendar,
        context::AppCtx,
        fund, loan_engine,
        page::{paginate, Page, PageRequest},
        Caller,
    },
    auth::Role,
    error::{AppError, AppResult},
    store::entities::{loan, loan_transaction},
};

/// Which loans to list, and the page.
#[derive(Debug, Clone, Default)]
pub struct LoanFilter {
    /// Only loans in this status.
    pub status: Option<LoanStatus>,
    /// Only this cooperative's loans (a cooperative user sees only its own anyway).
    pub cooperative_id: Option<CooperativeId>,
    /// Only loans with DPD > 0 (true) or none (false), as cached by the last close of business or money
    /// command.
    pub overdue: Option<bool>,
    /// Page size, 1 to 200 (`None`: 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One loan with balances, next due, DPD and group as of the business date.
#[tracing::instrument(name = "read a loan", skip_all, fields(loan_id = %id))]
pub async fn get(ctx: &AppCtx, caller: &Caller, id: LoanId) -> AppResult<LoanView> {
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    // The business date and the calendar in one statement (issue 14: a read is a few statements, each a
    // round trip).
    let (today, calendar) = calendar::business_date_and_calendar(&ctx.db).await?;
    // From the latest snapshot: the events after it only, not the whole history (issue 14).
    let state = loan_engine::state_at(&ctx.db, &loan, &calendar, today).await?;
    LoanView::live(ctx, loan, &state, today)
}

/// Loans newest first; a cooperative user sees only its own.
#[tracing::instrument(name = "list loans", skip_all)]
pub async fn list(ctx: &AppCtx, caller: &Caller, filter: LoanFilter) -> AppResult<Page<LoanView>> {
    caller.require(&Role::ALL)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut select = loan::Entity::find();
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(loan::Column::CooperativeId.eq(own));
    }
    if let Some(status) = filter.status {
        select = select.filter(loan::Column::Status.eq(status.as_str()));
    }
    if let Some(cooperative_id) = filter.cooperative_id {
        select = select.filter(loan::Column::CooperativeId.eq(cooperative_id.get()));
    }
    match filter.overdue {
        Some(true) => select = select.filter(loan::Column::Dpd.gt(0)),
        Some(false) => select = select.filter(loan::Column::Dpd.eq(0)),
        None => {}
    }
    let rows = page.apply(select, loan::Column::Id).all(&ctx.db).await?;
    let rows = paginate(rows, &page, |loan| loan.id);
    // Each loan of the page folded as of the business date, as `get` does, so the list and the detail
    // agree on every field; the page's transactions are read in one query.
    let today = fund::business_date(&ctx.db).await?;
    let mut transactions = transactions_by_loan(&ctx.db, rows.items.iter().map(|l| l.id)).await?;
    let calendar = calendar::in_force(&ctx.db).await?;
    rows.try_map(|loan| {
        let contract = loan_engine::contract_of(&loan, &calendar)?;
        // A loan without transactions has none in the map.
        let events = loan_engine::events_of(&transactions.remove(&loan.id).unwrap_or_default())?;
        let state = loan_engine::fold_at(&contract, &events, today)?;
        LoanView::live(ctx, loan, &state, today)
    })
}

/// The transactions of `loan_ids` in insertion order (the engine's tie-break), by loan, in one query.
async fn transactions_by_loan<C: ConnectionTrait>(
    conn: &C,
    loan_ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, Vec<loan_transaction::Model>>> {
    let mut by_loan: HashMap<i64, Vec<loan_transaction::Model>> = HashMap::new();
    let rows = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.is_in(loan_ids))
        .order_by_asc(loan_transaction::Column::Id)
        .all(conn)
        .await?;
    for row in rows {
        by_loan.entry(row.loan_id).or_default().push(row);
    }
    Ok(by_loan)
}

/// The schedule; before the first disbursement, the plan as if disbursed on the business date.
#[tracing::instrument(name = "read a loan's schedule", skip_all, fields(loan_id = %id))]
pub async fn schedule(ctx: &AppCtx, caller: &Caller, id: LoanId) -> AppResult<LoanSchedule> {
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let (today, calendar) = calendar::business_date_and_calendar(&ctx.db).await?;
    let (state, _) = state_with(&ctx.db, &loan, today, &calendar).await?;
    let line = |seq, due_on, days, principal, interest, total, closing_balance| ScheduleLine {
        seq,
        due_on,
        days,
        principal_vnd: principal,
        interest_vnd: interest,
        total_vnd: total,
        closing_balance_vnd: closing_balance,
        paid_principal_vnd: Vnd::ZERO,
        paid_interest_vnd: Vnd::ZERO,
        status: "future",
        due_on_day_off: !calendar.is_business_day(due_on),
        pay_by: calendar.grace_end(due_on),
    };
    let installments: Vec<ScheduleLine> = if state.disbursed.is_positive() {
        state
            .schedule
            .iter()
            .map(|i| ScheduleLine {
                paid_principal_vnd: i.paid_principal,
                paid_interest_vnd: i.paid_interest,
                status: installment_status_name(i.status),
                ..line(
                    i.seq,
                    i.due_on,
                    i.days,
                    i.principal,
                    i.interest,
                    i.total(),
                    i.closing_balance,
                )
            })
            .collect()
    } else {
        let contract = loan_engine::contract_of(&loan, &calendar)?;
        let terms = ScheduleTerms {
            disbursed_on: today,
            ..contract.terms
        };
        let plan = build_schedule(&terms).map_err(|e| {
            AppError::internal(anyhow::anyhow!("stored loan {} has terms: {e}", loan.id))
        })?;
        plan.installments
            .iter()
            .map(|i| {
                line(
                    i.seq,
                    i.due_on,
                    i.days,
                    i.principal,
                    i.interest,
                    i.total,
                    i.closing_balance,
                )
            })
            .collect()
    };
    Ok(LoanSchedule {
        as_of: today,
        total_principal_vnd: installments.iter().map(|i| i.principal_vnd).sum(),
        total_interest_vnd: installments.iter().map(|i| i.interest_vnd).sum(),
        installments,
    })
}

/// All of a loan's transactions in the order they were recorded (oldest first, so a statement reads
/// top-down), reversals included.
#[tracing::instrument(name = "read a loan's transactions", skip_all, fields(loan_id = %id))]
pub async fn transactions(
    ctx: &AppCtx,
    caller: &Caller,
    id: LoanId,
) -> AppResult<Vec<TransactionView>> {
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let today = fund::business_date(&ctx.db).await?;
    let (state, all) = state_of(&ctx.db, &loan, today).await?;
    all.iter()
        .map(|t| TransactionView::of(t, &all, &state))
        .collect()
}

/// What settles the loan on `date` (`None`: the business date), with every component (DOMAIN.md §5).
#[tracing::instrument(name = "quote a loan's payoff", skip_all, fields(loan_id = %id))]
pub async fn payoff(
    ctx: &AppCtx,
    caller: &Caller,
    id: LoanId,
    date: Option<NaiveDate>,
) -> AppResult<PayoffView> {
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let date = match date {
        Some(date) => date,
        None => fund::business_date(&ctx.db).await?,
    };
    let day_count = loan_engine::day_count_of(&loan)?;
    let calendar = calendar::in_force(&ctx.db).await?;
    let state = loan_engine::state_at(&ctx.db, &loan, &calendar, date).await?;
    Ok(state.payoff_quote(day_count).into())
}

/// The statement as of the business date (reversed transactions left out: they never happened).
#[tracing::instrument(name = "read a loan's statement", skip_all, fields(loan_id = %id))]
pub async fn statement(ctx: &AppCtx, caller: &Caller, id: LoanId) -> AppResult<LoanStatement> {
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let today = fund::business_date(&ctx.db).await?;
    let (state, all) = state_of(&ctx.db, &loan, today).await?;
    let statement = coopfund_domain::statement(
        &state,
        &loan_engine::statement_transactions_of(&all)?,
        today,
    );
    Ok(LoanStatement::of(&loan, statement))
}
