//! Repayment schedules (DOMAIN.md §3): the plan a loan is signed with.
//!
//! - **Due dates.** Without a first due date: due_k = D0 + k·m months; with one: due_k = first_due + (k−1)·m
//!   months, always from the anchor with month-end clamping ([`crate::calendar::add_months_clamped`]).
//! - **Days.** days_k = due_k − due_{k−1}, due_0 = D0 (Circular 14/2017/TT-NHNN: the first day counts, the last
//!   does not).
//! - **Interest of a period**, rounded half-up to the đồng: `actual_365` (Circular 14/2017, the default):
//!   B_{k−1} × R/100 × days_k / 365; `per_period` (products quoted per month): B_{k−1} × R/100 × m/12.
//! - **equal_principal**: N = n − g amortizing installments of round(P/N), never more than the balance left; the
//!   last takes what remains.
//! - **annuity**: i = R/100 × m/12, EMI = P·i / (1 − (1+i)^−N) (P/N at 0%), rounded to the installment unit, ties
//!   up; principal_k = min(max(EMI − interest_k, 0), B_{k−1}); the last installment takes the remaining principal.
//! - **bullet**: interest each period, all principal on the last due date.
//! - The first g installments (principal grace) pay interest only, for every method.
//!
//! Choices where DOMAIN.md is silent: the installment unit rounds only the annuity EMI (equal-principal
//! installments are round(P/N) to the đồng, as §3 writes); a first due date must be strictly after the
//! disbursement date; at most 360 installments and a principal of at most 10^15 đồng are accepted.
//!
//! Invariants (property-tested): principals sum to P exactly, every amount ≥ 0, the closing balance is 0.

use crate::calendar::{add_months_clamped, days_between};
use crate::money::{round_half_up_to_dong, round_to_unit_ties_up, Vnd};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The most installments a schedule may have (30 years of monthly installments).
pub const MAX_INSTALLMENTS: u32 = 360;
/// The period lengths a schedule may use, in months.
pub const ALLOWED_PERIOD_MONTHS: [u32; 4] = [1, 3, 6, 12];

/// How principal is repaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Equal total installments (the last one adjusts).
    Annuity,
    /// Equal principal, interest on the declining balance (gốc đều, lãi theo dư nợ giảm dần).
    EqualPrincipal,
    /// Interest every period, all principal at maturity.
    Bullet,
}

impl Method {
    /// The API spelling (`annuity`, `equal_principal`, `bullet`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Annuity => "annuity",
            Method::EqualPrincipal => "equal_principal",
            Method::Bullet => "bullet",
        }
    }
}

impl FromStr for Method {
    type Err = TermsError;
    fn from_str(text: &str) -> Result<Method, TermsError> {
        match text {
            "annuity" => Ok(Method::Annuity),
            "equal_principal" => Ok(Method::EqualPrincipal),
            "bullet" => Ok(Method::Bullet),
            other => Err(TermsError::UnknownMethod(other.to_string())),
        }
    }
}

/// How a period's interest counts days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Actual days over a 365-day year (Circular 14/2017/TT-NHNN), the default.
    #[default]
    #[serde(rename = "actual_365")]
    Actual365,
    /// m/12 of the annual rate per period whatever the calendar days (rates quoted per month).
    PerPeriod,
}

impl DayCount {
    /// The API spelling (`actual_365`, `per_period`).
    pub fn as_str(self) -> &'static str {
        match self {
            DayCount::Actual365 => "actual_365",
            DayCount::PerPeriod => "per_period",
        }
    }
}

impl FromStr for DayCount {
    type Err = TermsError;
    fn from_str(text: &str) -> Result<DayCount, TermsError> {
        match text {
            "actual_365" => Ok(DayCount::Actual365),
            "per_period" => Ok(DayCount::PerPeriod),
            other => Err(TermsError::UnknownDayCount(other.to_string())),
        }
    }
}

/// Why a set of terms cannot make a schedule. Each variant has a stable [`code`](TermsError::code) and names the
/// request [`field`](TermsError::field) at fault (the JSON names of API.md's schedule preview).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    /// n = 0.
    #[error("a schedule needs at least one installment")]
    NoInstallments,
    /// n > 360.
    #[error("at most {max} installments are allowed, got {installments}")]
    TooManyInstallments {
        /// Installments asked for.
        installments: u32,
        /// The maximum.
        max: u32,
    },
    /// g ≥ n: no installment would repay principal.
    #[error("principal grace ({grace}) must be fewer than the installments ({installments})")]
    GraceNotBelowInstallments {
        /// Grace installments asked for.
        grace: u32,
        /// Installments.
        installments: u32,
    },
    /// P ≤ 0.
    #[error("the principal must be positive, got {0}")]
    PrincipalNotPositive(Vnd),
    /// P > 10^15.
    #[error("the principal {0} is above the supported maximum of 10^15 đồng")]
    PrincipalTooLarge(Vnd),
    /// R < 0 or R > 20.
    #[error("the rate {0}% must be between 0 and 20% per year")]
    RateOutOfRange(Decimal),
    /// m ∉ {1, 3, 6, 12}.
    #[error("the period must be 1, 3, 6 or 12 months, got {0}")]
    PeriodNotAllowed(u32),
    /// The first due date is on or before the disbursement date.
    #[error(
        "the first due date {first_due_on} must be after the disbursement date {disbursed_on}"
    )]
    FirstDueNotAfterDisbursement {
        /// Disbursement date.
        disbursed_on: NaiveDate,
        /// First due date asked for.
        first_due_on: NaiveDate,
    },
    /// A due date would fall after 9999-12-31.
    #[error("the schedule runs past the year 9999")]
    DateOutOfRange,
    /// The installment unit is below 1 đồng or above 10^15.
    #[error("the installment unit must be between 1 đồng and 10^15, got {0}")]
    InstallmentUnitInvalid(Vnd),
    /// A method name that is not `annuity`, `equal_principal` or `bullet`.
    #[error("unknown method {0:?} (annuity, equal_principal or bullet)")]
    UnknownMethod(String),
    /// A day count that is not `actual_365` or `per_period`.
    #[error("unknown day count {0:?} (actual_365 or per_period)")]
    UnknownDayCount(String),
}

impl TermsError {
    /// A stable snake_case code for API and CLI messages.
    pub fn code(&self) -> &'static str {
        match self {
            TermsError::NoInstallments => "installments_zero",
            TermsError::TooManyInstallments { .. } => "installments_too_many",
            TermsError::GraceNotBelowInstallments { .. } => {
                "principal_grace_not_below_installments"
            }
            TermsError::PrincipalNotPositive(_) => "principal_not_positive",
            TermsError::PrincipalTooLarge(_) => "principal_too_large",
            TermsError::RateOutOfRange(_) => "rate_out_of_range",
            TermsError::PeriodNotAllowed(_) => "period_months_not_allowed",
            TermsError::FirstDueNotAfterDisbursement { .. } => "first_due_not_after_disbursement",
            TermsError::DateOutOfRange => "date_out_of_range",
            TermsError::InstallmentUnitInvalid(_) => "installment_unit_invalid",
            TermsError::UnknownMethod(_) => "unknown_method",
            TermsError::UnknownDayCount(_) => "unknown_day_count",
        }
    }

    /// The request field at fault (API.md's JSON names).
    pub fn field(&self) -> &'static str {
        match self {
            TermsError::NoInstallments | TermsError::TooManyInstallments { .. } => "installments",
            TermsError::GraceNotBelowInstallments { .. } => "principal_grace",
            TermsError::PrincipalNotPositive(_) | TermsError::PrincipalTooLarge(_) => {
                "principal_vnd"
            }
            TermsError::RateOutOfRange(_) => "rate_percent",
            TermsError::PeriodNotAllowed(_) => "period_months",
            TermsError::FirstDueNotAfterDisbursement { .. } => "first_due_on",
            TermsError::DateOutOfRange => "disbursed_on",
            TermsError::InstallmentUnitInvalid(_) => "installment_unit_vnd",
            TermsError::UnknownMethod(_) => "method",
            TermsError::UnknownDayCount(_) => "day_count",
        }
    }
}

/// The terms a schedule is built from (API.md's schedule preview request). Build it from the request, then
/// [`validate`](ScheduleTerms::validate) (or call [`build_schedule`], which validates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleTerms {
    /// P, the principal (for a loan: the approved principal).
    pub principal: Vnd,
    /// R, percent per year (7.2 for 7.2%).
    pub rate_percent: Decimal,
    /// D0, the disbursement date.
    pub disbursed_on: NaiveDate,
    /// n, the number of installments.
    pub installments: u32,
    /// m, the period length in months (1, 3, 6 or 12).
    pub period_months: u32,
    /// The repayment method.
    pub method: Method,
    /// g, the first installments that pay interest only.
    pub principal_grace: u32,
    /// The first due date, when not D0 + m months.
    pub first_due_on: Option<NaiveDate>,
    /// The day count of interest.
    pub day_count: DayCount,
    /// The multiple an annuity installment is rounded to (1 đồng by default).
    pub installment_unit: Vnd,
}

impl ScheduleTerms {
    /// Terms with the API's defaults: no first due date, no grace, `actual_365`, unit 1 đồng.
    pub fn new(
        principal: Vnd,
        rate_percent: Decimal,
        disbursed_on: NaiveDate,
        installments: u32,
        period_months: u32,
        method: Method,
    ) -> ScheduleTerms {
        ScheduleTerms {
            principal,
            rate_percent,
            disbursed_on,
            installments,
            period_months,
            method,
            principal_grace: 0,
            first_due_on: None,
            day_count: DayCount::Actual365,
            installment_unit: Vnd::from_i64(1),
        }
    }

    /// Checks every rule of DOMAIN.md §3 and the ranges the engine supports; the first broken one is returned.
    pub fn validate(&self) -> Result<(), TermsError> {
        let max_vnd = Vnd::from_i64(Vnd::MAX_INPUT);
        if !self.principal.is_positive() {
            return Err(TermsError::PrincipalNotPositive(self.principal));
        }
        if self.principal > max_vnd {
            return Err(TermsError::PrincipalTooLarge(self.principal));
        }
        if self.rate_percent < Decimal::ZERO || self.rate_percent > crate::limits::RATE_PERCENT_MAX
        {
            return Err(TermsError::RateOutOfRange(self.rate_percent));
        }
        if self.installments == 0 {
            return Err(TermsError::NoInstallments);
        }
        if self.installments > MAX_INSTALLMENTS {
            return Err(TermsError::TooManyInstallments {
                installments: self.installments,
                max: MAX_INSTALLMENTS,
            });
        }
        if self.principal_grace >= self.installments {
            return Err(TermsError::GraceNotBelowInstallments {
                grace: self.principal_grace,
                installments: self.installments,
            });
        }
        if !ALLOWED_PERIOD_MONTHS.contains(&self.period_months) {
            return Err(TermsError::PeriodNotAllowed(self.period_months));
        }
        if self.installment_unit < Vnd::from_i64(1) || self.installment_unit > max_vnd {
            return Err(TermsError::InstallmentUnitInvalid(self.installment_unit));
        }
        if let Some(first_due_on) = self.first_due_on {
            if first_due_on <= self.disbursed_on {
                return Err(TermsError::FirstDueNotAfterDisbursement {
                    disbursed_on: self.disbursed_on,
                    first_due_on,
                });
            }
        }
        // Only the last due date can leave the calendar's range; checking it avoids building the list twice.
        let offset = u32::from(self.first_due_on.is_none());
        let anchor = self.first_due_on.unwrap_or(self.disbursed_on);
        (self.installments - 1 + offset)
            .checked_mul(self.period_months)
            .and_then(|months| add_months_clamped(anchor, months))
            .map(|_| ())
            .ok_or(TermsError::DateOutOfRange)
    }

    /// The n due dates (§3), or [`TermsError::DateOutOfRange`] past the year 9999.
    pub fn due_dates(&self) -> Result<Vec<NaiveDate>, TermsError> {
        due_dates(
            self.disbursed_on,
            self.first_due_on,
            self.installments,
            self.period_months,
        )
    }
}

/// The due dates of `installments` periods of `period_months` from `disbursed_on` or from `first_due_on`.
pub fn due_dates(
    disbursed_on: NaiveDate,
    first_due_on: Option<NaiveDate>,
    installments: u32,
    period_months: u32,
) -> Result<Vec<NaiveDate>, TermsError> {
    let (anchor, offset) = match first_due_on {
        Some(first) => (first, 0),
        None => (disbursed_on, 1),
    };
    (0..installments)
        .map(|k| {
            let months = (k + offset)
                .checked_mul(period_months)
                .ok_or(TermsError::DateOutOfRange)?;
            add_months_clamped(anchor, months).ok_or(TermsError::DateOutOfRange)
        })
        .collect()
}

/// One line of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installment {
    /// 1-based sequence number.
    pub seq: u32,
    /// The due date.
    pub due_on: NaiveDate,
    /// Days of the period (previous due date or disbursement, counted; this due date, not counted).
    pub days: i64,
    /// Principal due.
    pub principal: Vnd,
    /// Interest due.
    pub interest: Vnd,
    /// principal + interest.
    pub total: Vnd,
    /// Principal outstanding after this installment.
    pub closing_balance: Vnd,
}

/// A repayment schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// The installments in order.
    pub installments: Vec<Installment>,
    /// The rounded annuity installment (EMI), for `annuity` schedules.
    pub annuity_installment: Option<Vnd>,
}

impl Schedule {
    /// Σ principal (equals the principal, to the đồng).
    pub fn total_principal(&self) -> Vnd {
        self.installments.iter().map(|i| i.principal).sum()
    }

    /// Σ interest.
    pub fn total_interest(&self) -> Vnd {
        self.installments.iter().map(|i| i.interest).sum()
    }

    /// The last due date.
    pub fn maturity(&self) -> Option<NaiveDate> {
        self.installments.last().map(|i| i.due_on)
    }
}

/// Builds the schedule of DOMAIN.md §3 from validated terms.
pub fn build_schedule(terms: &ScheduleTerms) -> Result<Schedule, TermsError> {
    terms.validate()?;
    let due_dates = terms.due_dates()?;
    let plan = AmortizationPlan {
        start_on: terms.disbursed_on,
        due_dates: &due_dates,
        first_seq: 1,
        balance: terms.principal,
        grace_installments: terms.principal_grace as usize,
        method: terms.method,
        rate_percent: terms.rate_percent,
        day_count: terms.day_count,
        period_months: terms.period_months,
        installment_unit: terms.installment_unit,
    };
    Ok(amortize(&plan))
}

/// The exact interest of one period on a balance (before rounding), per day count.
pub fn period_interest_exact(
    balance: Vnd,
    rate_percent: Decimal,
    days: i64,
    day_count: DayCount,
    period_months: u32,
) -> Decimal {
    match day_count {
        DayCount::Actual365 => {
            balance.as_decimal() * rate_percent * Decimal::from(days) / Decimal::from(36_500)
        }
        DayCount::PerPeriod => {
            balance.as_decimal() * rate_percent * Decimal::from(period_months)
                / Decimal::from(1_200)
        }
    }
}

/// round_half_up(period_interest_exact(..)), computed in exact integers when they fit (the common case, several
/// times faster than a decimal division), in `Decimal` otherwise. Both are exact, so both round the same.
pub fn period_interest_rounded(
    balance: Vnd,
    rate_percent: Decimal,
    days: i64,
    day_count: DayCount,
    period_months: u32,
) -> Vnd {
    let (multiplier, divisor) = match day_count {
        DayCount::Actual365 => (days, 36_500i128),
        DayCount::PerPeriod => (i64::from(period_months), 1_200i128),
    };
    let integer = || -> Option<i128> {
        let balance = i128::from(balance.to_i64()?);
        let scale = 10i128.checked_pow(rate_percent.scale())?;
        let numerator = balance
            .checked_mul(rate_percent.mantissa())?
            .checked_mul(i128::from(multiplier))?;
        let denominator = divisor.checked_mul(scale)?;
        if numerator < 0 {
            return None;
        }
        // Half up: floor((2n + d) / 2d).
        numerator
            .checked_mul(2)?
            .checked_add(denominator)?
            .checked_div(denominator.checked_mul(2)?)
    };
    match integer().and_then(|v| i64::try_from(v).ok()) {
        Some(rounded) => Vnd::from_i64(rounded),
        None => round_half_up_to_dong(period_interest_exact(
            balance,
            rate_percent,
            days,
            day_count,
            period_months,
        )),
    }
}

/// Everything needed to spread a balance over a run of due dates; used by [`build_schedule`] and by the loan
/// fold to re-amortize after a tranche, a prepayment or a restructuring.
#[derive(Debug, Clone)]
pub(crate) struct AmortizationPlan<'a> {
    /// The day interest starts (disbursement or the last due date before the run).
    pub start_on: NaiveDate,
    /// The due dates of the run (at least one).
    pub due_dates: &'a [NaiveDate],
    /// The seq of the first installment of the run.
    pub first_seq: u32,
    /// The principal to spread.
    pub balance: Vnd,
    /// How many installments at the start of the run pay interest only.
    pub grace_installments: usize,
    pub method: Method,
    pub rate_percent: Decimal,
    pub day_count: DayCount,
    pub period_months: u32,
    pub installment_unit: Vnd,
}

/// Spreads `plan.balance` over `plan.due_dates` (see the module docs for the rules).
pub(crate) fn amortize(plan: &AmortizationPlan<'_>) -> Schedule {
    let count = plan.due_dates.len();
    let grace = plan.grace_installments.min(count.saturating_sub(1));
    let amortizing = (count - grace).max(1);
    let level_principal =
        round_half_up_to_dong(plan.balance.as_decimal() / Decimal::from(amortizing as u64));
    let emi = match plan.method {
        Method::Annuity => Some(annuity_payment(plan, amortizing)),
        _ => None,
    };
    let mut installments = Vec::with_capacity(count);
    let mut balance = plan.balance;
    let mut previous_due = plan.start_on;
    for (index, &due_on) in plan.due_dates.iter().enumerate() {
        let days = days_between(previous_due, due_on);
        let interest = period_interest_rounded(
            balance,
            plan.rate_percent,
            days,
            plan.day_count,
            plan.period_months,
        );
        let principal = if index + 1 == count {
            balance
        } else if index < grace {
            Vnd::ZERO
        } else {
            match (plan.method, emi) {
                (Method::Annuity, Some(emi)) => (emi - interest).clamp_non_negative().min(balance),
                (Method::EqualPrincipal, _) => level_principal.min(balance),
                _ => Vnd::ZERO,
            }
        };
        balance -= principal;
        installments.push(Installment {
            seq: plan.first_seq + index as u32,
            due_on,
            days,
            principal,
            interest,
            total: principal + interest,
            closing_balance: balance,
        });
        previous_due = due_on;
    }
    Schedule {
        installments,
        annuity_installment: emi,
    }
}

/// DOMAIN.md §3: EMI = P·i / (1 − (1+i)^−N) with i = R/100 × m/12 (P/N at 0%), rounded to the unit, ties up.
fn annuity_payment(plan: &AmortizationPlan<'_>, amortizing: usize) -> Vnd {
    let principal = plan.balance.as_decimal();
    let count = Decimal::from(amortizing as u64);
    let rate_per_period =
        plan.rate_percent * Decimal::from(plan.period_months) / Decimal::from(1_200);
    if rate_per_period.is_zero() {
        return round_to_unit_ties_up(principal / count, plan.installment_unit);
    }
    // (1+i)^−N as v^N with v = 1/(1+i) < 1, so the power shrinks instead of overflowing (1.2^360 ≈ 3.5·10^28).
    let discount = Decimal::ONE / (Decimal::ONE + rate_per_period);
    let discount_power = power(discount, amortizing as u64);
    let exact = principal * rate_per_period / (Decimal::ONE - discount_power);
    round_to_unit_ties_up(exact, plan.installment_unit)
}

/// base^exponent by squaring; base is in (0, 1) so no step can overflow.
fn power(base: Decimal, mut exponent: u64) -> Decimal {
    let mut result = Decimal::ONE;
    let mut square = base;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result *= square;
        }
        square *= square;
        exponent >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn vnd(amount: i64) -> Vnd {
        Vnd::from_i64(amount)
    }

    fn example_1() -> ScheduleTerms {
        ScheduleTerms::new(
            vnd(120_000_000),
            dec!(7.2),
            d(2026, 1, 31),
            12,
            1,
            Method::EqualPrincipal,
        )
    }

    fn example_2() -> ScheduleTerms {
        let mut terms = ScheduleTerms::new(
            vnd(500_000_000),
            dec!(6.5),
            d(2026, 3, 15),
            8,
            3,
            Method::Annuity,
        );
        terms.principal_grace = 2;
        terms
    }

    /// Installment `seq` of `s` falls due on `due_on` after `days` days and is `[principal, interest, total]`.
    fn assert_line(s: &Schedule, seq: u32, due_on: NaiveDate, days: i64, amounts: [i64; 3]) {
        let i = &s.installments[seq as usize - 1];
        assert_eq!(i.seq, seq);
        assert_eq!(
            (i.due_on, i.days, [i.principal, i.interest, i.total]),
            (due_on, days, amounts.map(vnd)),
            "installment {seq}"
        );
    }

    #[test]
    fn worked_example_1_equal_principal_from_a_month_end() {
        let s = build_schedule(&example_1()).expect("valid terms");
        assert_eq!(s.installments.len(), 12);
        assert_line(&s, 1, d(2026, 2, 28), 28, [10_000_000, 662_795, 10_662_795]);
        assert_line(&s, 2, d(2026, 3, 31), 31, [10_000_000, 672_658, 10_672_658]);
        assert_line(&s, 3, d(2026, 4, 30), 30, [10_000_000, 591_781, 10_591_781]);
        assert_line(&s, 12, d(2027, 1, 31), 31, [10_000_000, 61_151, 10_061_151]);
        assert_eq!(s.installments[0].closing_balance, vnd(110_000_000));
        assert_eq!(s.total_principal(), vnd(120_000_000));
    }

    #[test]
    fn worked_example_2_quarterly_annuity_with_two_grace_quarters() {
        let s = build_schedule(&example_2()).expect("valid terms");
        assert_eq!(s.installments.len(), 8);
        assert_line(&s, 1, d(2026, 6, 15), 92, [0, 8_191_781, 8_191_781]);
        assert_line(
            &s,
            3,
            d(2026, 12, 15),
            91,
            [80_033_832, 8_102_740, 88_136_572],
        );
        assert_line(
            &s,
            4,
            d(2027, 3, 15),
            90,
            [81_405_607, 6_730_965, 88_136_572],
        );
        assert_line(
            &s,
            8,
            d(2028, 3, 15),
            91,
            [86_679_183, 1_404_678, 88_083_861],
        );
        assert_eq!(s.annuity_installment, Some(vnd(88_136_572)));
        assert_eq!(s.total_principal(), vnd(500_000_000));
    }

    #[test]
    fn a_first_due_date_anchors_the_following_ones() {
        let mut terms = example_1();
        terms.first_due_on = Some(d(2026, 3, 5));
        let s = build_schedule(&terms).expect("valid terms");
        assert_eq!(s.installments[0].due_on, d(2026, 3, 5));
        assert_eq!(s.installments[0].days, 33);
        assert_eq!(s.installments[1].due_on, d(2026, 4, 5));
    }

    #[test]
    fn per_period_interest_ignores_calendar_days() {
        let mut terms = example_1();
        terms.day_count = DayCount::PerPeriod;
        let s = build_schedule(&terms).expect("valid terms");
        // 120,000,000 × 7.2% / 12 = 720,000 whatever February's length.
        assert_eq!(s.installments[0].interest, vnd(720_000));
        assert_eq!(s.installments[1].interest, vnd(660_000));
    }

    #[test]
    fn bullet_repays_all_principal_at_maturity() {
        let mut terms = example_1();
        terms.method = Method::Bullet;
        let s = build_schedule(&terms).expect("valid terms");
        assert!(s.installments[..11].iter().all(|i| i.principal.is_zero()));
        assert_eq!(s.installments[11].principal, vnd(120_000_000));
    }

    #[test]
    fn an_annuity_rounded_to_thousands_keeps_equal_totals() {
        let mut terms = example_2();
        terms.installment_unit = vnd(1_000);
        let s = build_schedule(&terms).expect("valid terms");
        assert_eq!(s.annuity_installment, Some(vnd(88_137_000)));
        assert_eq!(s.installments[2].total, vnd(88_137_000));
        assert_eq!(s.total_principal(), vnd(500_000_000));
    }

    #[test]
    fn a_zero_rate_annuity_is_principal_over_n() {
        let mut terms = example_2();
        terms.rate_percent = Decimal::ZERO;
        let s = build_schedule(&terms).expect("valid terms");
        assert_eq!(s.installments[2].total, vnd(83_333_333));
        assert_eq!(s.installments[7].principal, vnd(83_333_335));
        assert_eq!(s.total_interest(), Vnd::ZERO);
    }

    #[test]
    fn impossible_terms_name_their_field() {
        type Mutation = Box<dyn Fn(&mut ScheduleTerms)>;
        let cases: Vec<(Mutation, &str, &str)> = vec![
            (
                Box::new(|t| t.installments = 0),
                "installments_zero",
                "installments",
            ),
            (
                Box::new(|t| t.installments = 361),
                "installments_too_many",
                "installments",
            ),
            (
                Box::new(|t| t.principal_grace = 12),
                "principal_grace_not_below_installments",
                "principal_grace",
            ),
            (
                Box::new(|t| t.principal = vnd(0)),
                "principal_not_positive",
                "principal_vnd",
            ),
            (
                Box::new(|t| t.principal = vnd(-5)),
                "principal_not_positive",
                "principal_vnd",
            ),
            (
                Box::new(|t| t.rate_percent = dec!(-1)),
                "rate_out_of_range",
                "rate_percent",
            ),
            (
                Box::new(|t| t.rate_percent = dec!(20.5)),
                "rate_out_of_range",
                "rate_percent",
            ),
            (
                Box::new(|t| t.period_months = 2),
                "period_months_not_allowed",
                "period_months",
            ),
            (
                Box::new(|t| t.installment_unit = vnd(0)),
                "installment_unit_invalid",
                "installment_unit_vnd",
            ),
            (
                Box::new(|t| t.first_due_on = Some(d(2026, 1, 31))),
                "first_due_not_after_disbursement",
                "first_due_on",
            ),
            (
                Box::new(|t| {
                    t.disbursed_on = d(9990, 1, 1);
                    t.period_months = 12;
                }),
                "date_out_of_range",
                "disbursed_on",
            ),
        ];
        for (mutate, code, field) in cases {
            let mut terms = example_1();
            mutate(&mut terms);
            let error = build_schedule(&terms).expect_err(code);
            assert_eq!((error.code(), error.field()), (code, field), "{error}");
        }
    }

    #[test]
    fn integer_and_decimal_interest_round_alike() {
        let cases = [
            (120_000_000, dec!(7.2), 28),
            (10_000_000, dec!(7.3), 5),
            (1, dec!(0.0001), 1),
            (999_999_999_999_999, dec!(19.99), 366),
        ];
        for (balance, rate, days) in cases {
            let exact = period_interest_exact(vnd(balance), rate, days, DayCount::Actual365, 1);
            let rounded = period_interest_rounded(vnd(balance), rate, days, DayCount::Actual365, 1);
            assert_eq!(
                rounded,
                round_half_up_to_dong(exact),
                "{balance} {rate} {days}"
            );
        }
        // 10,000,000 × 7.3% × 5/365 = 10,000 exactly; 36,500 × 0.5 / 36,500 = 0.5 → 1.
        assert_eq!(
            period_interest_rounded(vnd(5), dec!(1), 3650, DayCount::Actual365, 1),
            vnd(1)
        );
    }

    #[test]
    fn methods_parse_from_their_api_names() {
        assert_eq!("annuity".parse::<Method>(), Ok(Method::Annuity));
        assert_eq!(
            "balloon".parse::<Method>().map_err(|e| e.code()),
            Err("unknown_method")
        );
        assert_eq!("per_period".parse::<DayCount>(), Ok(DayCount::PerPeriod));
    }
}
