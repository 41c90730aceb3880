//! `GET /api/v1/loans/{id}/explain`: the payoff quote with every amount opened into its lines (issue 10 §3).
//!
//! For every `_vnd` field of the payoff quote (`/payoff`) an entry of the same name: its `amount_vnd`, equal to
//! the quote's, and its `lines`, whose `amount`s (decimal strings, to the cent) add up to `amount_vnd` exactly.

use chrono::NaiveDate;
use coopfund_domain::{ExplainedAmount, ExplanationKind, ExplanationLine, Formula, QuoteField};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::loans::LoanExplanation;

/// `?date=` of the explanation (default: the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    /// YYYY-MM-DD.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// One line of an explained amount.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationLineView {
    /// `accrual`, `disbursement`, `billed`, `rounding_at_billing`, `carried_interest`, `fell_overdue`,
    /// `payment`, `prepayment`, `advance_applied`, `fraction_dropped`, `restructure`, `write_off`, `recovery`,
    /// `rounding_on_total`, `component`, `advance_deducted`, `advance_above_owed`.
    #[schema(value_type = String)]
    pub kind: ExplanationKind,
    /// The date (an accrual's first day, counted).
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// An accrual's end, not counted.
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// An accrual's days.
    pub days: Option<i64>,
    /// The balance an accrual ran on.
    pub balance_vnd: Option<i64>,
    /// An accrual's annual rate in percent (the overdue rate is the in-term rate × the overdue multiplier).
    #[schema(value_type = Option<String>)]
    pub rate_percent: Option<Decimal>,
    /// An accrual's formula, e.g. `balance × rate × days / 365`.
    pub formula: Option<String>,
    /// The formula with the line's figures and its exact value (6 decimals).
    pub calculation: Option<String>,
    /// The line's amount in đồng, a decimal to the cent; the lines of an amount add up to its `amount_vnd`.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The rounding rule this line applies, when it is a rounding.
    pub rounding: Option<String>,
    /// The installment concerned.
    pub installment: Option<u32>,
    /// In `total_vnd`: the quote field this line is (`overdue_interest_vnd`, …).
    pub component: Option<String>,
}

/// One amount of the quote and the lines that make it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainedAmountView {
    /// The quote's amount.
    pub amount_vnd: i64,
    /// The lines, oldest first.
    pub lines: Vec<ExplanationLineView>,
}

/// The payoff quote on `date`, every amount explained.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationView {
    pub loan_id: i64,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub overdue_principal_vnd: ExplainedAmountView,
    pub unpaid_interest_vnd: ExplainedAmountView,
    pub overdue_interest_vnd: ExplainedAmountView,
    pub late_interest_vnd: ExplainedAmountView,
    pub current_interest_vnd: ExplainedAmountView,
    pub restructured_interest_vnd: ExplainedAmountView,
    pub principal_vnd: ExplainedAmountView,
    pub advance_vnd: ExplainedAmountView,
    pub total_vnd: ExplainedAmountView,
}

/// The rounding rule a line applies, in words.
pub fn rounding_rule(kind: ExplanationKind) -> Option<&'static str> {
    match kind {
        ExplanationKind::RoundingOnTotal => {
            Some("round half up to the đồng, on the total (not per segment)")
        }
        ExplanationKind::RoundingAtBilling => {
            Some("round half up to the đồng, the period's interest when billed")
        }
        ExplanationKind::FractionDropped => {
            Some("a charge rounded half up and paid in full: the fraction of a đồng is dropped")
        }
        _ => None,
    }
}

/// `balance × rate × days / 365 = exact`, with the line's figures.
pub fn calculation(line: &ExplanationLine) -> Option<String> {
    let (Some(formula), Some(balance), Some(rate), Some(days), Some(exact)) = (
        line.formula,
        line.balance,
        line.rate_percent,
        line.days,
        line.exact,
    ) else {
        return None;
    };
    let balance = balance.as_decimal();
    Some(match formula {
        Formula::Actual365 => format!("{balance} × {rate}% × {days} / 365 = {exact}"),
        Formula::PerPeriod {
            period_months,
            period_days,
        } => format!("{balance} × {rate}% × {period_months}/12 × {days} / {period_days} = {exact}"),
    })
}

impl From<&ExplanationLine> for ExplanationLineView {
    fn from(line: &ExplanationLine) -> Self {
        ExplanationLineView {
            kind: line.kind,
            from: line.from,
            to: line.to,
            days: line.days,
            balance_vnd: line.balance.and_then(|b| b.to_i64()),
            rate_percent: line.rate_percent,
            formula: line.formula.map(Formula::text),
            calculation: calculation(line),
            amount: line.amount,
            rounding: rounding_rule(line.kind).map(str::to_owned),
            installment: line.installment,
            component: line.component.map(|f| f.wire_name().to_owned()),
        }
    }
}

impl From<&ExplainedAmount> for ExplainedAmountView {
    fn from(amount: &ExplainedAmount) -> Self {
        ExplainedAmountView {
            amount_vnd: amount.amount.to_i64().unwrap_or_default(),
            lines: amount.lines.iter().map(Into::into).collect(),
        }
    }
}

impl From<LoanExplanation> for ExplanationView {
    fn from(loan: LoanExplanation) -> Self {
        let explanation = &loan.explanation;
        let of = |field: QuoteField| -> ExplainedAmountView {
            explanation
                .amount(field)
                .map(Into::into)
                .unwrap_or(ExplainedAmountView {
                    amount_vnd: 0,
                    lines: Vec::new(),
                })
        };
        ExplanationView {
            loan_id: loan.loan_id.get(),
            date: explanation.quote.date,
            overdue_principal_vnd: of(QuoteField::OverduePrincipal),
            unpaid_interest_vnd: of(QuoteField::UnpaidInterest),
            overdue_interest_vnd: of(QuoteField::OverdueInterest),
            late_interest_vnd: of(QuoteField::LateInterest),
            current_interest_vnd: of(QuoteField::CurrentInterest),
            restructured_interest_vnd: of(QuoteField::RestructuredInterest),
            principal_vnd: of(QuoteField::Principal),
            advance_vnd: of(QuoteField::Advance),
            total_vnd: of(QuoteField::Total),
        }
    }
}
