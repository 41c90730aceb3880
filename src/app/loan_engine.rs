//! The bridge between stored loans and the pure engine (`coopfund_domain`): a `loans` row becomes a
//! [`LoanContract`], its `loan_transactions` become [`LoanEvent`]s, and engine errors become 422s.
//!
//! The engine replays a loan from its events (DOMAIN.md §4): a back-dated payment or a reversal is handled
//! by replaying from scratch, so nothing here keeps running totals — the stored events are the truth and
//! the balances cached on the loan row are a copy checked by `coopfund ledger verify`.

use std::str::FromStr;

use chrono::NaiveDate;
use coopfund_domain::{
    classification::{classify, DebtGroup},
    AllocationOrder, Bucket, DayCount, EventKind, FoldError, HolidayCalendar, LoanContract,
    LoanError, LoanEvent, LoanState, Method, PrepaymentRule, RepaymentKind, Restructure,
    RestructureKind, ScheduleTerms, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::{
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::{loan, loan_transaction},
};

/// Transaction kinds stored in `loan_transactions.kind`.
pub mod kind {
    /// Money lent (one tranche).
    pub const DISBURSEMENT: &str = "disbursement";
    /// Money received.
    pub const REPAYMENT: &str = "repayment";
    /// A new schedule (Decree 45/2021 Art 27).
    pub const RESTRUCTURE: &str = "restructure";
    /// Written off against the provision.
    pub const WRITE_OFF: &str = "write_off";
    /// Cancels the transaction in `reverses_id`.
    pub const REVERSAL: &str = "reversal";
    /// Money recovered on a written-off loan (Decree 45/2021 Art 29, DOMAIN.md §9).
    pub const RECOVERY: &str = "recovery";
}

/// The restructuring terms kept in a `restructure` transaction's `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestructureTerms {
    /// `adjustment` (maturity unchanged) or `extension` (maturity later).
    pub kind: String,
    /// The first new due date.
    pub first_due_on: NaiveDate,
    /// How many new installments.
    pub installments: u32,
    /// Months between due dates.
    pub period_months: u32,
    /// `annuity`, `equal_principal` or `bullet`.
    pub method: String,
    /// Interest-only installments at the start.
    pub principal_grace: u32,
    /// Interest waived or reduced (classification §8).
    pub interest_reduced: bool,
    /// Interest forgiven, in đồng (DOMAIN.md §7). Rows written before it existed forgave nothing: 0.
    #[serde(default)]
    pub interest_reduction_vnd: i64,
}

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::internal(anyhow::anyhow!(
        "stored loan data is not readable: {what} = {value:?}"
    ))
}

fn decimal(what: &str, value: &str) -> AppResult<Decimal> {
    Decimal::from_str(value.trim()).map_err(|_| corrupt(what, value))
}

fn allocation_order(text: &str) -> AppResult<AllocationOrder> {
    if text.trim().is_empty() {
        return Ok(AllocationOrder::default());
    }
    let buckets = text
        .split(',')
        .map(|name| {
            serde_json::from_value::<Bucket>(serde_json::Value::String(name.trim().to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| corrupt("allocation_order", text))?;
    AllocationOrder::new(buckets).ok_or_else(|| corrupt("allocation_order", text))
}

/// The loan's day count (`actual_365` or `per_period`).
pub fn day_count_of(loan: &loan::Model) -> AppResult<DayCount> {
    DayCount::from_str(&loan.day_count).map_err(|_| corrupt("day_count", &loan.day_count))
}

/// The engine's contract for a stored loan: its terms snapshot (taken at approval), its product rules and
/// the fund's calendar in force (`super::calendar::in_force`, loaded once per use case).
pub fn contract_of(loan: &loan::Model, calendar: &HolidayCalendar) -> AppResult<LoanContract> {
    let count = |what: &str, value: i32| {
        u32::try_from(value).map_err(|_| corrupt(what, &value.to_string()))
    };
    let terms = ScheduleTerms {
        principal: Vnd::from_i64(loan.principal_vnd),
        rate_percent: decimal("rate_percent", &loan.rate_percent)?,
        // Replaced by the first disbursement's value date when the loan is folded.
        disbursed_on: loan
            .first_disbursed_on
            .or(loan.signed_on)
            .unwrap_or_else(|| loan.created_at.date_naive()),
        installments: count("installments", loan.installments)?,
        period_months: count("period_months", loan.period_months)?,
        method: Method::from_str(&loan.method).map_err(|_| corrupt("method", &loan.method))?,
        principal_grace: count("principal_grace", loan.principal_grace)?,
        first_due_on: loan.first_due_on,
        day_count: DayCount::from_str(&loan.day_count)
            .map_err(|_| corrupt("day_count", &loan.day_count))?,
        installment_unit: Vnd::from_i64(loan.installment_unit_vnd.max(1)),
    };
    let prepayment_rule = match loan.prepayment_rule.as_str() {
        "reamortize" => PrepaymentRule::Reamortize,
        _ => PrepaymentRule::ShortenTerm,
    };
    Ok(LoanContract {
        terms,
        overdue_multiplier: decimal("overdue_multiplier", &loan.overdue_multiplier)?,
        late_rate_percent: decimal("late_rate_percent", &loan.late_rate_percent)?,
        allocation_order: allocation_order(&loan.allocation_order)?,
        prepayment_rule,
        calendar: calendar.clone(),
    })
}

/// A loan's transactions in insertion order (the order the engine breaks value-date ties with).
pub async fn transactions_of<C: ConnectionTrait>(
    conn: &C,
    loan_id: i64,
) -> AppResult<Vec<loan_transaction::Model>> {
    Ok(loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.eq(loan_id))
        .order_by_asc(loan_transaction::Column::Id)
        .all(conn)
        .await?)
}

/// The engine's events for stored transactions (reversals included; the engine drops what they cancel).
pub fn events_of(transactions: &[loan_transaction::Model]) -> AppResult<Vec<LoanEvent>> {
    transactions.iter().map(event_of).collect()
}

fn event_of(tx: &loan_transaction::Model) -> AppResult<LoanEvent> {
    let amount = Vnd::from_i64(tx.amount_vnd);
    let kind = match tx.kind.as_str() {
        kind::DISBURSEMENT => EventKind::Disbursement { amount },
        kind::REPAYMENT => EventKind::Repayment {
            amount,
            kind: match tx.repayment_kind.as_deref() {
                Some("prepayment") => RepaymentKind::Prepayment,
                _ => RepaymentKind::Ordinary,
            },
        },
        kind::RESTRUCTURE => {
            let terms: RestructureTerms = serde_json::from_str(&tx.details)
                .map_err(|_| corrupt("restructure details", &tx.details))?;
            EventKind::Restructure(
                restructure_of(&terms)
                    .ok_or_else(|| corrupt("restructure details", &tx.details))?,
            )
        }
        kind::WRITE_OFF => EventKind::WriteOff,
        kind::RECOVERY => EventKind::Recovery { amount },
        kind::REVERSAL => EventKind::Reversal {
            reversed_id: tx.reverses_id.map(|id| id.to_string()).unwrap_or_default(),
        },
        other => return Err(corrupt("transaction kind", other)),
    };
    Ok(LoanEvent {
        id: tx.id.to_string(),
        value_date: tx.value_date,
        sequence: tx.id.unsigned_abs(),
        kind,
    })
}

/// The engine's restructuring for stored terms (`None` when a name is unknown).
pub fn restructure_of(terms: &RestructureTerms) -> Option<Restructure> {
    Some(Restructure {
        kind: match terms.kind.as_str() {
            "adjustment" => RestructureKind::Adjustment,
            "extension" => RestructureKind::Extension,
            _ => return None,
        },
        first_due_on: terms.first_due_on,
        installments: terms.installments,
        period_months: terms.period_months,
        method: Method::from_str(&terms.method).ok()?,
        principal_grace: terms.principal_grace,
        interest_reduced: terms.interest_reduced,
        interest_reduction: Vnd::from_i64(terms.interest_reduction_vnd),
    })
}

/// The loan as of the start of `date` (what is owed on `date`, DOMAIN.md §4), or the engine's refusal.
pub fn fold_at(
    contract: &LoanContract,
    events: &[LoanEvent],
    date: NaiveDate,
) -> AppResult<LoanState> {
    coopfund_domain::fold(contract, events, date).map_err(fold_error)
}

/// The debt group of one loan (DOMAIN.md §8, Circular 14/2024): by DPD and restructuring; a written-off
/// loan is group 5 and a settled one group 1. The cooperative-wide group (worst loan) is the close of
/// business's job.
pub fn loan_group(state: &LoanState) -> DebtGroup {
    if state.written_off_on.is_some() {
        return DebtGroup::Five;
    }
    if state.closed_on.is_some() {
        return DebtGroup::One;
    }
    classify(
        state.classification_input(),
        &super::policy::current().classification,
    )
}

/// An engine refusal as a 422 naming the rule (and, above the payoff, the payoff amount). Amounts are
/// written for people, `1.500.000.000 đồng` / `1,500,000,000 VND` ([`Vnd::for_people`]).
pub fn fold_error(err: FoldError) -> AppError {
    use coopfund_domain::Language::{English, Vietnamese};
    let (vi, en) = match &err.error {
        LoanError::PaymentAbovePayoff { amount, payoff } => {
            let (amount_vi, payoff_vi) =
                (amount.for_people(Vietnamese), payoff.for_people(Vietnamese));
            let (amount_en, payoff_en) = (amount.for_people(English), payoff.for_people(English));
            (
                format!("Số tiền trả {amount_vi} vượt quá số tiền tất toán khoản vay {payoff_vi}; hãy trả tối đa {payoff_vi}."),
                format!("The payment of {amount_en} is above the loan's payoff of {payoff_en}; pay at most {payoff_en}."),
            )
        }
        LoanError::DisbursementAboveApproved {
            approved,
            disbursed,
            requested,
        } => (
            format!(
                "Giải ngân {} sẽ vượt số tiền được duyệt {} (đã giải ngân {}).",
                requested.for_people(Vietnamese),
                approved.for_people(Vietnamese),
                disbursed.for_people(Vietnamese)
            ),
            format!(
                "Disbursing {} would exceed the approved principal of {} ({} already disbursed).",
                requested.for_people(English),
                approved.for_people(English),
                disbursed.for_people(English)
            ),
        ),
        LoanError::AmountNotPositive(amount) => (
            format!(
                "Số tiền phải lớn hơn 0 (nhận được {}).",
                amount.for_people(Vietnamese)
            ),
            format!(
                "The amount must be positive (got {}).",
                amount.for_people(English)
            ),
        ),
        LoanError::InterestReductionAboveInterestOwed { reduction, owed } => (
            format!(
                "Số lãi miễn, giảm {} vượt quá số lãi đang nợ {} (lãi chậm trả, lãi quá hạn và lãi chưa trả).",
                reduction.for_people(Vietnamese),
                owed.for_people(Vietnamese)
            ),
            format!(
                "The interest reduction of {} is above the interest owed of {} (late, overdue and unpaid interest).",
                reduction.for_people(English),
                owed.for_people(English)
            ),
        ),
        LoanError::RecoveryAboveRemaining { amount, remaining } => (
            format!(
                "Số tiền thu hồi {} vượt quá số nợ đã xử lý rủi ro còn theo dõi {}; hãy thu tối đa {}.",
                amount.for_people(Vietnamese),
                remaining.for_people(Vietnamese),
                remaining.for_people(Vietnamese)
            ),
            format!(
                "The recovery of {} is above what remains under follow-up, {}; recover at most {}.",
                amount.for_people(English),
                remaining.for_people(English),
                remaining.for_people(English)
            ),
        ),
        LoanError::AmountTooLarge(amount) => {
            let max = Vnd::from_i64(Vnd::MAX_INPUT);
            (
                format!(
                    "Số tiền {} vượt mức tối đa được hỗ trợ {}.",
                    amount.for_people(Vietnamese),
                    max.for_people(Vietnamese)
                ),
                format!(
                    "The amount {} is above the supported maximum of {}.",
                    amount.for_people(English),
                    max.for_people(English)
                ),
            )
        }
        other => {
            let en = other.to_string();
            let vi = match other {
                LoanError::NotDisbursed => "Khoản vay chưa được giải ngân.".to_string(),
                LoanError::LoanClosed { closed_on } => format!("Khoản vay đã tất toán ngày {closed_on}."),
                LoanError::LoanWrittenOff { written_off_on } => format!("Khoản vay đã xử lý rủi ro ngày {written_off_on}."),
                LoanError::LoanNotWrittenOff => "Chỉ khoản vay đã xử lý rủi ro mới ghi nhận thu hồi nợ (vào ngày hiệu lực của khoản thu).".to_string(),
                LoanError::TrancheAfterMaturity => "Không thể giải ngân sau kỳ trả nợ cuối cùng.".to_string(),
                LoanError::AdjustmentChangesMaturity { maturity, new_maturity } => format!(
                    "Điều chỉnh kỳ hạn phải giữ nguyên ngày đáo hạn {maturity}; lịch mới kết thúc ngày {new_maturity}."
                ),
                LoanError::ExtensionDoesNotExtend { maturity, new_maturity } => format!(
                    "Gia hạn nợ phải kết thúc sau ngày đáo hạn {maturity}; lịch mới kết thúc ngày {new_maturity}."
                ),
                _ => format!("Quy tắc cho vay không cho phép thao tác này: {en}."),
            };
            (vi, en)
        }
    };
    let field = err.field();
    let mut app = AppError::new(ErrorKind::Rule, err.code(), Localized::new(vi, en));
    if let Some(field) = field {
        app = app.with_field(field);
    }
    app
}
