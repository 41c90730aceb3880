//! A loan's statement for a period (issue 10 §1: the cooperative's printable statement): the
//! domain's [`coopfund_domain::statement_period`] cut from the statement as of the business date.

use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, StatementPeriod, Vnd};

use super::{find_for, state_of};
use crate::{
    app::{context::AppCtx, fund, loan_engine, Caller},
    error::{AppError, AppResult},
};

/// The statement of one period, as [`statement_for_period`] returns it: the domain's period of loan
/// `number`, read on the business date `as_of`.
#[derive(Debug, Clone)]
pub struct LoanStatementPeriod {
    pub loan_id: i64,
    pub number: String,
    /// The business date the statement is read on.
    pub as_of: NaiveDate,
    /// The period: its opening and closing balances, its lines and their totals.
    pub period: StatementPeriod,
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
    let period = coopfund_domain::statement_period(&whole, from, to.min(today));
    Ok(LoanStatementPeriod {
        loan_id: loan.id,
        number: loan.number,
        as_of: today,
        period,
    })
}

/// Interest paid of every kind in the period (contractual, overdue, late).
impl LoanStatementPeriod {
    /// Contractual, overdue and late interest paid in the period.
    pub fn interest_paid_vnd(&self) -> Vnd {
        let moved = &self.period.moved;
        moved.paid_interest + moved.paid_overdue_interest + moved.paid_late_interest
    }
}
