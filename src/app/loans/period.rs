//! A loan's statement for a period (issue 10 §1: the cooperative's printable statement): the
//! domain's [`coopfund_domain::statement_period`] cut from the statement as of the business date.

use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, Vnd};
use serde::Serialize;

use super::{find_for, state_of, StatementLine};
use crate::{
    app::{context::AppCtx, fund, loan_engine, Caller},
    error::{AppError, AppResult},
};

/// The statement of one period, as [`statement_for_period`] returns it.
#[derive(Debug, Clone, Serialize)]
pub struct LoanStatementPeriod {
    pub loan_id: i64,
    pub number: String,
    /// The business date the statement is read on.
    pub as_of: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_principal_vnd: Vnd,
    pub opening_advance_vnd: Vnd,
    pub lines: Vec<StatementLine>,
    pub disbursed_vnd: Vnd,
    pub principal_due_vnd: Vnd,
    pub interest_due_vnd: Vnd,
    pub received_vnd: Vnd,
    pub paid_principal_vnd: Vnd,
    pub paid_interest_vnd: Vnd,
    pub paid_overdue_interest_vnd: Vnd,
    pub paid_late_interest_vnd: Vnd,
    pub written_off_vnd: Vnd,
    pub closing_principal_vnd: Vnd,
    pub closing_advance_vnd: Vnd,
}

/// 400 `invalid_period`: the period ends before it starts.
fn invalid_period() -> AppError {
    AppError::new(
        crate::error::ErrorKind::BadRequest,
        "invalid_period",
        crate::error::Localized::new(
            "Ngày kết thúc kỳ sao kê phải từ ngày bắt đầu trở đi.",
            "The statement period must not end before it starts.",
        ),
    )
    .with_field("to")
}

/// The statement of loan `id` from `from` to `to` (both included; `to` is capped at the business
/// date, which is as far as the loan is known). Whoever may read the loan (a cooperative only its
/// own: 404 otherwise).
#[tracing::instrument(name = "read a loan's statement for a period", skip_all, fields(loan_id = %id))]
pub async fn statement_for_period(
    ctx: &AppCtx,
    caller: &Caller,
    id: LoanId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<LoanStatementPeriod> {
    if to < from {
        return Err(invalid_period());
    }
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let today = fund::business_date(&ctx.db).await?;
    let (state, all) = state_of(&ctx.db, &loan, today).await?;
    let whole = coopfund_domain::statement(
        &state,
        &loan_engine::statement_transactions_of(&all)?,
        today,
    );
    let p = coopfund_domain::statement_period(&whole, from, to.min(today));
    Ok(LoanStatementPeriod {
        loan_id: loan.id,
        number: loan.number,
        as_of: today,
        from: p.from,
        to: p.to,
        opening_principal_vnd: p.opening_principal,
        opening_advance_vnd: p.opening_advance,
        lines: p.lines.iter().map(StatementLine::from).collect(),
        disbursed_vnd: p.disbursed,
        principal_due_vnd: p.principal_due,
        interest_due_vnd: p.interest_due,
        received_vnd: p.received,
        paid_principal_vnd: p.paid_principal,
        paid_interest_vnd: p.paid_interest,
        paid_overdue_interest_vnd: p.paid_overdue_interest,
        paid_late_interest_vnd: p.paid_late_interest,
        written_off_vnd: p.written_off,
        closing_principal_vnd: p.closing_principal,
        closing_advance_vnd: p.closing_advance,
    })
}

/// Interest paid of every kind in the period (contractual, overdue, late).
impl LoanStatementPeriod {
    /// Contractual, overdue and late interest paid in the period.
    pub fn interest_paid_vnd(&self) -> Vnd {
        self.paid_interest_vnd + self.paid_overdue_interest_vnd + self.paid_late_interest_vnd
    }
}
