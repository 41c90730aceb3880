//! "How is this computed?" (issue 10 §3): the payoff quote on a date with every amount opened into the lines that
//! make it. The lines come from the engine's own fold ([`coopfund_domain::explain`]): the same replay that computes
//! the quote records each accrual segment, billing, payment and rounding, so they add up to the quote's amounts
//! exactly. Read like the payoff quote: staff and the auditor, a cooperative its own loans only (404 otherwise).

use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, ExplainError, Explanation};

use super::{calendar, find_for};
use crate::{
    app::{context::AppCtx, fund, loan_engine, Caller},
    error::{AppError, AppResult},
};

/// A loan's explained payoff quote, with what the pages show around it.
#[derive(Debug, Clone)]
pub struct LoanExplanation {
    /// The loan.
    pub loan_id: LoanId,
    /// The loan's number.
    pub loan_number: String,
    /// The loan's cooperative (the page's link back).
    pub cooperative_id: i64,
    /// The quote and its lines.
    pub explanation: Explanation,
}

/// The payoff quote on `date` (`None`: the business date) with every amount explained.
#[tracing::instrument(name = "explain a loan's amounts", skip_all, fields(loan_id = %id))]
pub async fn explain(
    ctx: &AppCtx,
    caller: &Caller,
    id: LoanId,
    date: Option<NaiveDate>,
) -> AppResult<LoanExplanation> {
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let date = match date {
        Some(date) => date,
        None => fund::business_date(&ctx.db).await?,
    };
    let calendar = calendar::in_force(&ctx.db).await?;
    let contract = loan_engine::contract_of(&loan, &calendar)?;
    let transactions = loan_engine::transactions_of(&ctx.db, loan.id).await?;
    let events = loan_engine::events_of(&transactions)?;
    let explanation =
        coopfund_domain::explain(&contract, &events, date).map_err(|err| match err {
            ExplainError::Fold(err) => loan_engine::fold_error(err),
            // The trace missed a step of the fold: a defect, never lines that do not add up.
            unexplained @ ExplainError::Unexplained { .. } => AppError::internal(unexplained),
        })?;
    Ok(LoanExplanation {
        loan_id: id,
        loan_number: loan.number,
        cooperative_id: loan.cooperative_id,
        explanation,
    })
}
