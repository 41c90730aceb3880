//! The legal limits on lending (DOMAIN.md §6), pure: no database, no clock, whole đồng and exact decimals only.
//! The service loads the numbers (the application, the product, the exposures, the paid-in charter capital) and
//! turns a refusal into a message for people.
//!
//! - Civil Code 2015 Art 468, Circular 39/2016 Art 13: an agreed rate is at most 20%/year ([`RATE_PERCENT_MAX`]).
//! - Civil Code 2015 Art 466(5), Circular 39/2016 Art 13(4): overdue principal bears at most 150% of the in-term
//!   rate ([`OVERDUE_MULTIPLIER_MAX`]) and unpaid interest at most 10%/year ([`LATE_RATE_PERCENT_MAX`]). The
//!   overdue rate itself (rate × multiplier) may exceed 20%: Art 466 sets it relative to the agreed rate, which is
//!   the one Art 468 caps.
//! - Decree 45/2021 Art 22: the borrower's own capital is at least 20% of the project's total capital, so the loan
//!   is at most 80% of it ([`check_project_share`]).
//! - Decree 45/2021 Art 23: what one customer owes after this loan (outstanding principal plus approved but not
//!   yet disbursed principal plus this loan) is at most 15% of the fund's paid-in charter capital; with its
//!   related persons at most 25% ([`check_exposure`]).
//!
//! Comparisons are exact (`100 × amount ≤ percent × base` in `i128`), so no rounding can let a loan through by a
//! đồng; the limit shown to people is the exact limit rounded down to the đồng, which is the same test for
//! whole-đồng amounts.

use rust_decimal::Decimal;

use crate::money::{round_half_up_to_dong, Vnd};

/// Civil Code 2015 Art 468: an agreed rate is at most 20%/year.
pub const RATE_PERCENT_MAX: Decimal = Decimal::from_parts(20, 0, 0, false, 0);
/// Civil Code 2015 Art 466(5), Circular 39/2016 Art 13(4): overdue principal bears at most 150% of the in-term
/// rate.
pub const OVERDUE_MULTIPLIER_MAX: Decimal = Decimal::from_parts(15, 0, 0, false, 1);
/// Civil Code 2015 Art 466(5), Art 468: late interest on unpaid interest at most 10%/year.
pub const LATE_RATE_PERCENT_MAX: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

/// Decree 45/2021 Art 22: the loan is at most 80% of the project's total capital.
pub const LOAN_SHARE_OF_PROJECT_MAX_PERCENT: i64 = 80;
/// Decree 45/2021 Art 22: own capital is at least 20% of the project's total capital.
pub const OWN_CAPITAL_SHARE_MIN_PERCENT: i64 = 20;
/// Decree 45/2021 Art 23: one customer at most 15% of paid-in charter capital.
pub const SINGLE_CUSTOMER_MAX_PERCENT: i64 = 15;
/// Decree 45/2021 Art 23: one customer with its related persons at most 25%.
pub const RELATED_GROUP_MAX_PERCENT: i64 = 25;

/// Which rate cap a product's rates break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// The in-term rate above 20%/year (Civil Code Art 468).
    Rate,
    /// The overdue multiplier above 1.5 (Civil Code Art 466, Circular 39/2016 Art 13).
    OverdueMultiplier,
    /// The late rate on unpaid interest above 10%/year (Civil Code Art 466, 468).
    LateRate,
}

impl Cap {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            Cap::Rate => "rate_above_legal_cap",
            Cap::OverdueMultiplier => "overdue_multiplier_above_legal_cap",
            Cap::LateRate => "late_rate_above_legal_cap",
        }
    }

    /// The field that holds the rate.
    pub fn field(self) -> &'static str {
        match self {
            Cap::Rate => "rate_percent",
            Cap::OverdueMultiplier => "overdue_multiplier",
            Cap::LateRate => "late_rate_percent",
        }
    }

    /// The legal maximum.
    pub fn max(self) -> Decimal {
        match self {
            Cap::Rate => RATE_PERCENT_MAX,
            Cap::OverdueMultiplier => OVERDUE_MULTIPLIER_MAX,
            Cap::LateRate => LATE_RATE_PERCENT_MAX,
        }
    }
}

/// A rate above its legal cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapBreach {
    /// Which cap.
    pub cap: Cap,
    /// The rate given.
    pub value: Decimal,
}

/// A product's three rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// In-term rate, percent per year.
    pub rate_percent: Decimal,
    /// Overdue rate as a multiple of the in-term rate.
    pub overdue_multiplier: Decimal,
    /// Late interest on unpaid interest, percent per year.
    pub late_rate_percent: Decimal,
}

/// DOMAIN.md §6: every rate within its legal cap, the first breach first. Checked at product writes and again at
/// approval.
pub fn check_rate_caps(rates: Rates) -> Result<(), CapBreach> {
    [
        (Cap::Rate, rates.rate_percent),
        (Cap::OverdueMultiplier, rates.overdue_multiplier),
        (Cap::LateRate, rates.late_rate_percent),
    ]
    .into_iter()
    .find(|(cap, value)| *value > cap.max())
    .map_or(Ok(()), |(cap, value)| Err(CapBreach { cap, value }))
}

/// Which lending limit a request breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Loan above 80% of the project (Art 22).
    ProjectShare,
    /// Own capital below 20% of the project (Art 22).
    OwnCapital,
    /// One customer above 15% of charter capital (Art 23).
    SingleCustomer,
    /// A customer and its related persons above 25% of charter capital (Art 23).
    RelatedGroup,
}

impl Rule {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::ProjectShare => "project_share_exceeded",
            Rule::OwnCapital => "own_capital_insufficient",
            Rule::SingleCustomer => "single_customer_limit_exceeded",
            Rule::RelatedGroup => "related_group_limit_exceeded",
        }
    }

    /// The field of the application the refusal points at.
    pub fn field(self) -> &'static str {
        match self {
            Rule::OwnCapital => "own_capital_vnd",
            Rule::ProjectShare | Rule::SingleCustomer | Rule::RelatedGroup => "amount_vnd",
        }
    }
}

/// A limit that a request would break, with the numbers people need to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breach {
    /// Which limit.
    pub rule: Rule,
    /// The limit in đồng (rounded down to the đồng); for [`Rule::OwnCapital`], the minimum (rounded up).
    pub limit_vnd: i64,
    /// What counts against the limit before this loan (for [`Rule::OwnCapital`], the own capital).
    pub exposure_vnd: i64,
    /// How much more the limit allows (for [`Rule::OwnCapital`], the shortfall; 0 when already at or above it).
    pub room_vnd: i64,
    /// This loan.
    pub requested_vnd: i64,
}

/// `percent`% of `base_vnd`, rounded down to the đồng (saturating at `i64::MAX`, far above any input).
pub fn percent_of_floor(base_vnd: i64, percent: i64) -> i64 {
    let exact = i128::from(base_vnd) * i128::from(percent);
    i64::try_from(exact.div_euclid(100)).unwrap_or(i64::MAX)
}

/// Decree 45/2021 Art 22: the loan ≤ 80% of the project and own capital ≥ 20% of it (the loan's share
/// first, as approval reports it).
pub fn check_project_share(
    amount_vnd: i64,
    project_total_vnd: i64,
    own_capital_vnd: i64,
) -> Result<(), Breach> {
    check_loan_share(amount_vnd, project_total_vnd)?;
    check_own_capital(amount_vnd, project_total_vnd, own_capital_vnd)
}

/// Decree 45/2021 Art 22: the loan is at most 80% of the project's total capital (one half of
/// [`check_project_share`], on its own so a page can show each check with its numbers).
pub fn check_loan_share(amount_vnd: i64, project_total_vnd: i64) -> Result<(), Breach> {
    let (amount, total) = (i128::from(amount_vnd), i128::from(project_total_vnd));
    if 100 * amount > i128::from(LOAN_SHARE_OF_PROJECT_MAX_PERCENT) * total {
        let limit_vnd = percent_of_floor(project_total_vnd, LOAN_SHARE_OF_PROJECT_MAX_PERCENT);
        return Err(Breach {
            rule: Rule::ProjectShare,
            limit_vnd,
            exposure_vnd: 0,
            room_vnd: limit_vnd.max(0),
            requested_vnd: amount_vnd,
        });
    }
    Ok(())
}

/// The least own capital Decree 45/2021 Art 22 asks of a project: 20% of its total, rounded up
/// (own capital is a whole number of đồng that must reach 20%).
pub fn own_capital_minimum_vnd(project_total_vnd: i64) -> i64 {
    let minimum = (i128::from(OWN_CAPITAL_SHARE_MIN_PERCENT) * i128::from(project_total_vnd) + 99)
        .div_euclid(100);
    i64::try_from(minimum).unwrap_or(i64::MAX)
}

/// Decree 45/2021 Art 22: own capital is at least 20% of the project's total capital (the other
/// half of [`check_project_share`]).
pub fn check_own_capital(
    amount_vnd: i64,
    project_total_vnd: i64,
    own_capital_vnd: i64,
) -> Result<(), Breach> {
    let (total, own) = (i128::from(project_total_vnd), i128::from(own_capital_vnd));
    if 100 * own < i128::from(OWN_CAPITAL_SHARE_MIN_PERCENT) * total {
        let minimum_vnd = own_capital_minimum_vnd(project_total_vnd);
        return Err(Breach {
            rule: Rule::OwnCapital,
            limit_vnd: minimum_vnd,
            exposure_vnd: own_capital_vnd,
            room_vnd: minimum_vnd.saturating_sub(own_capital_vnd),
            requested_vnd: amount_vnd,
        });
    }
    Ok(())
}

/// Decree 45/2021 Art 23: `exposure_vnd + requested_vnd ≤ percent% × charter_capital_vnd`.
pub fn check_exposure(
    rule: Rule,
    percent: i64,
    charter_capital_vnd: i64,
    exposure_vnd: i64,
    requested_vnd: i64,
) -> Result<(), Breach> {
    let after = i128::from(exposure_vnd) + i128::from(requested_vnd);
    if 100 * after <= i128::from(percent) * i128::from(charter_capital_vnd) {
        return Ok(());
    }
    let limit_vnd = percent_of_floor(charter_capital_vnd, percent);
    Err(Breach {
        rule,
        limit_vnd,
        exposure_vnd,
        room_vnd: limit_vnd.saturating_sub(exposure_vnd).max(0),
        requested_vnd,
    })
}

/// What counts against the Decree 45/2021 Art 23 limits when a loan is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exposure {
    /// The fund's paid-in charter capital.
    pub charter_capital_vnd: i64,
    /// What the customer owes or may still draw.
    pub customer_vnd: i64,
    /// The same for the customer and its related persons, when it has any.
    pub related_group_vnd: Option<i64>,
}

/// Decree 45/2021 Art 23: the 15% limit, then (with related persons) the 25% limit.
pub fn check_exposures(exposure: Exposure, requested_vnd: i64) -> Result<(), Breach> {
    check_exposure(
        Rule::SingleCustomer,
        SINGLE_CUSTOMER_MAX_PERCENT,
        exposure.charter_capital_vnd,
        exposure.customer_vnd,
        requested_vnd,
    )?;
    match exposure.related_group_vnd {
        Some(group_vnd) => check_exposure(
            Rule::RelatedGroup,
            RELATED_GROUP_MAX_PERCENT,
            exposure.charter_capital_vnd,
            group_vnd,
            requested_vnd,
        ),
        None => Ok(()),
    }
}

/// One collateral item: its appraised value and the haircut applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collateral {
    /// The appraised value.
    pub appraised_value_vnd: i64,
    /// The haircut, 0 to 100 percent.
    pub discount_rate_percent: Decimal,
}

/// Σ appraised × (1 − discount%), exact, then rounded half-up to the đồng once (DOMAIN.md §8: the value that
/// reduces the provision base).
pub fn discounted_collateral_vnd(items: &[Collateral]) -> Vnd {
    let exact: Decimal = items
        .iter()
        .map(|item| {
            let kept = (Decimal::ONE_HUNDRED - item.discount_rate_percent) / Decimal::ONE_HUNDRED;
            Decimal::from(item.appraised_value_vnd) * kept
        })
        .sum();
    round_half_up_to_dong(exact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn rates(rate: Decimal, multiplier: Decimal, late: Decimal) -> Rates {
        Rates {
            rate_percent: rate,
            overdue_multiplier: multiplier,
            late_rate_percent: late,
        }
    }

    #[test]
    fn each_rate_is_refused_just_above_its_cap_and_accepted_at_it() {
        let cases = [
            (rates(dec!(20), dec!(1.5), dec!(10)), None),
            (rates(dec!(0), dec!(0), dec!(0)), None),
            (
                rates(dec!(20.01), dec!(1.5), dec!(10)),
                Some((Cap::Rate, dec!(20.01))),
            ),
            (
                rates(dec!(12), dec!(1.51), dec!(10)),
                Some((Cap::OverdueMultiplier, dec!(1.51))),
            ),
            (
                rates(dec!(12), dec!(1.5), dec!(10.5)),
                Some((Cap::LateRate, dec!(10.5))),
            ),
            // The first breach is named first.
            (
                rates(dec!(25), dec!(2), dec!(11)),
                Some((Cap::Rate, dec!(25))),
            ),
        ];
        for (given, expected) in cases {
            let got = check_rate_caps(given).err().map(|b| (b.cap, b.value));
            assert_eq!(got, expected, "{given:?}");
        }
    }

    #[test]
    fn each_cap_has_its_code_field_and_maximum() {
        let cases = [
            (Cap::Rate, "rate_above_legal_cap", "rate_percent", dec!(20)),
            (
                Cap::OverdueMultiplier,
                "overdue_multiplier_above_legal_cap",
                "overdue_multiplier",
                dec!(1.5),
            ),
            (
                Cap::LateRate,
                "late_rate_above_legal_cap",
                "late_rate_percent",
                dec!(10),
            ),
        ];
        for (cap, code, field, max) in cases {
            assert_eq!((cap.code(), cap.field(), cap.max()), (code, field, max));
        }
    }

    #[test]
    fn the_project_share_is_checked_to_the_dong() {
        // (amount, project total, own capital) → (rule, limit, exposure, room) of the breach.
        let cases = [
            ((800_000_000, 1_000_000_000, 200_000_000), None),
            (
                (800_000_001, 1_000_000_000, 200_000_000),
                Some((Rule::ProjectShare, 800_000_000, 0, 800_000_000)),
            ),
            (
                (500_000_000, 1_000_000_000, 150_000_000),
                Some((Rule::OwnCapital, 200_000_000, 150_000_000, 50_000_000)),
            ),
            // 20% of 1,000,000,003 is 200,000,000.6: the minimum rounds up.
            (
                (500_000_000, 1_000_000_003, 200_000_000),
                Some((Rule::OwnCapital, 200_000_001, 200_000_000, 1)),
            ),
        ];
        for ((amount, total, own), expected) in cases {
            let got = check_project_share(amount, total, own)
                .err()
                .map(|b| (b.rule, b.limit_vnd, b.exposure_vnd, b.room_vnd));
            assert_eq!(got, expected, "{amount} of {total} with {own}");
        }
    }

    #[test]
    fn the_exposure_limits_are_inclusive_and_leave_no_room_when_already_above() {
        // (rule, percent, charter capital, exposure, requested) → (limit, room) of the breach.
        let cases = [
            (
                (
                    Rule::SingleCustomer,
                    15,
                    10_000_000_000,
                    1_200_000_000,
                    300_000_000,
                ),
                None,
            ),
            (
                (
                    Rule::SingleCustomer,
                    15,
                    10_000_000_000,
                    1_200_000_000,
                    300_000_001,
                ),
                Some((1_500_000_000, 300_000_000)),
            ),
            (
                (Rule::RelatedGroup, 25, 1_000_000_000, 300_000_000, 1),
                Some((250_000_000, 0)),
            ),
            // 15% of 1,000,000,003 = 150,000,000.45: 150,000,000 passes, 150,000,001 does not.
            (
                (Rule::SingleCustomer, 15, 1_000_000_003, 0, 150_000_000),
                None,
            ),
            (
                (Rule::SingleCustomer, 15, 1_000_000_003, 0, 150_000_001),
                Some((150_000_000, 150_000_000)),
            ),
            // No charter capital means no room.
            ((Rule::SingleCustomer, 15, 0, 0, 1), Some((0, 0))),
        ];
        for ((rule, percent, capital, exposure, requested), expected) in cases {
            let got = check_exposure(rule, percent, capital, exposure, requested)
                .err()
                .map(|b| {
                    assert_eq!(
                        (b.rule, b.exposure_vnd, b.requested_vnd),
                        (rule, exposure, requested)
                    );
                    (b.limit_vnd, b.room_vnd)
                });
            assert_eq!(got, expected, "{rule:?} {percent}% of {capital}");
        }
    }

    #[test]
    fn the_related_group_limit_applies_only_to_a_customer_with_related_persons() {
        let exposure = |group| Exposure {
            charter_capital_vnd: 10_000_000_000,
            customer_vnd: 1_000_000_000,
            related_group_vnd: group,
        };
        assert_eq!(check_exposures(exposure(None), 500_000_000), Ok(()));
        assert_eq!(
            check_exposures(exposure(Some(2_000_000_000)), 500_000_000),
            Ok(())
        );
        assert_eq!(
            check_exposures(exposure(Some(2_000_000_001)), 500_000_000).map_err(|b| b.rule),
            Err(Rule::RelatedGroup)
        );
        assert_eq!(
            check_exposures(exposure(Some(2_000_000_000)), 500_000_001).map_err(|b| b.rule),
            Err(Rule::SingleCustomer)
        );
    }

    #[test]
    fn each_rule_has_its_code_and_field() {
        let cases = [
            (Rule::ProjectShare, "project_share_exceeded", "amount_vnd"),
            (
                Rule::OwnCapital,
                "own_capital_insufficient",
                "own_capital_vnd",
            ),
            (
                Rule::SingleCustomer,
                "single_customer_limit_exceeded",
                "amount_vnd",
            ),
            (
                Rule::RelatedGroup,
                "related_group_limit_exceeded",
                "amount_vnd",
            ),
        ];
        for (rule, code, field) in cases {
            assert_eq!((rule.code(), rule.field()), (code, field));
        }
    }

    #[test]
    fn collateral_is_discounted_exactly_and_rounded_once() {
        let item = |value, discount| Collateral {
            appraised_value_vnd: value,
            discount_rate_percent: discount,
        };
        let cases = [
            (vec![], 0),
            (vec![item(1_000_000_000, dec!(30))], 700_000_000),
            (vec![item(1_000_000_000, dec!(100))], 0),
            // 0.5 + 0.5: rounding each item would give 2, the exact sum gives 1.
            (vec![item(1, dec!(50)), item(1, dec!(50))], 1),
            (vec![item(3, dec!(50))], 2),
            (
                vec![item(100_000_001, dec!(12.5)), item(7, dec!(0))],
                87_500_008,
            ),
        ];
        for (items, expected) in cases {
            assert_eq!(
                discounted_collateral_vnd(&items),
                Vnd::from_i64(expected),
                "{items:?}"
            );
        }
    }
}
