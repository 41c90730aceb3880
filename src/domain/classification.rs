//! Debt groups, provisions and the bad-debt ratio (DOMAIN.md §8).
//!
//! Decree 45/2021/NĐ-CP Art 28 applies the microfinance classification rules to these funds: Circular
//! 14/2024/TT-NHNN (groups by days past due and by restructuring) and Decree 86/2024/NĐ-CP (provision rates).
//! Every threshold and rate is configuration ([`ClassificationConfig`], [`ProvisionRates`]) with DOMAIN.md's
//! defaults.
//!
//! | group | DPD | restructured loans |
//! |---|---|---|
//! | 1 | < 10 | |
//! | 2 | 10 to < 30 | first restructuring, current |
//! | 3 | 30 to < 90 | first restructuring, < 30 DPD on the new schedule; interest waived or reduced |
//! | 4 | 90 to < 180 | first restructuring, 30 to < 90 DPD; second restructuring |
//! | 5 | ≥ 180 | first restructuring, ≥ 90 DPD; second restructuring overdue; third or later |
//!
//! Reading of the table (an ambiguity of DOMAIN.md): "current" means fewer than
//! [`ClassificationConfig::restructured_current_dpd_below`] days past due on the new schedule (default 1: not
//! overdue at all); a loan's group is the worse of its group by DPD and its group by restructuring, so the group
//! never improves as DPD grows. All loans of one cooperative take the group of its worst loan ([`customer_group`]).
//!
//! Provisions: specific = rate(group) × max(0, outstanding principal − discounted collateral), general = 0.5% of
//! the outstanding principal of groups 1-4; both rounded half-up to the đồng. Bad-debt ratio (Decree 45 Art 45) =
//! principal of groups 3, 4 and 5 / total principal.

use crate::money::{round_half_up_to_dong, Vnd};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// A debt group, 1 (standard) to 5 (loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum DebtGroup {
    /// Standard (nợ đủ tiêu chuẩn).
    One = 1,
    /// Special mention (nợ cần chú ý).
    Two = 2,
    /// Substandard (nợ dưới tiêu chuẩn).
    Three = 3,
    /// Doubtful (nợ nghi ngờ).
    Four = 4,
    /// Loss (nợ có khả năng mất vốn).
    Five = 5,
}

impl DebtGroup {
    /// All groups, best first.
    pub const ALL: [DebtGroup; 5] = [
        DebtGroup::One,
        DebtGroup::Two,
        DebtGroup::Three,
        DebtGroup::Four,
        DebtGroup::Five,
    ];

    /// 1 to 5.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The group of a number 1 to 5.
    pub fn from_number(number: u8) -> Option<DebtGroup> {
        DebtGroup::ALL
            .get(usize::from(number).checked_sub(1)?)
            .copied()
    }

    /// Groups 3, 4 and 5 (nợ xấu).
    pub fn is_bad_debt(self) -> bool {
        self >= DebtGroup::Three
    }

    fn index(self) -> usize {
        usize::from(self.number()) - 1
    }
}

impl From<DebtGroup> for u8 {
    fn from(group: DebtGroup) -> u8 {
        group.number()
    }
}

impl TryFrom<u8> for DebtGroup {
    type Error = String;
    fn try_from(number: u8) -> Result<DebtGroup, String> {
        DebtGroup::from_number(number).ok_or_else(|| format!("debt group {number} is not 1 to 5"))
    }
}

/// The thresholds of the classification (days past due), from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassificationConfig {
    /// DPD from which a loan is group 2 (default 10).
    pub group_2_from_dpd: i64,
    /// DPD from which a loan is group 3 (default 30).
    pub group_3_from_dpd: i64,
    /// DPD from which a loan is group 4 (default 90).
    pub group_4_from_dpd: i64,
    /// DPD from which a loan is group 5 (default 180).
    pub group_5_from_dpd: i64,
    /// A restructured loan is "current" below this DPD (default 1).
    pub restructured_current_dpd_below: i64,
    /// First restructuring: group 4 from this DPD (default 30).
    pub restructured_group_4_from_dpd: i64,
    /// First restructuring: group 5 from this DPD (default 90).
    pub restructured_group_5_from_dpd: i64,
}

impl Default for ClassificationConfig {
    fn default() -> ClassificationConfig {
        ClassificationConfig {
            group_2_from_dpd: 10,
            group_3_from_dpd: 30,
            group_4_from_dpd: 90,
            group_5_from_dpd: 180,
            restructured_current_dpd_below: 1,
            restructured_group_4_from_dpd: 30,
            restructured_group_5_from_dpd: 90,
        }
    }
}

/// What the classification of one loan depends on (see [`crate::LoanState::classification_input`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClassificationInput {
    /// Days past due.
    pub dpd: i64,
    /// Restructurings so far.
    pub restructure_count: u32,
    /// A restructuring waived or reduced interest.
    pub interest_reduced: bool,
}

/// The group of one loan: the worse of its group by DPD and by restructuring.
pub fn classify(input: ClassificationInput, config: &ClassificationConfig) -> DebtGroup {
    group_by_dpd(input.dpd, config).max(group_by_restructuring(input, config))
}

fn group_by_dpd(dpd: i64, config: &ClassificationConfig) -> DebtGroup {
    match dpd {
        d if d >= config.group_5_from_dpd => DebtGroup::Five,
        d if d >= config.group_4_from_dpd => DebtGroup::Four,
        d if d >= config.group_3_from_dpd => DebtGroup::Three,
        d if d >= config.group_2_from_dpd => DebtGroup::Two,
        _ => DebtGroup::One,
    }
}

fn group_by_restructuring(input: ClassificationInput, config: &ClassificationConfig) -> DebtGroup {
    let current = input.dpd < config.restructured_current_dpd_below;
    let by_count = match input.restructure_count {
        0 => DebtGroup::One,
        1 if current => DebtGroup::Two,
        1 if input.dpd < config.restructured_group_4_from_dpd => DebtGroup::Three,
        1 if input.dpd < config.restructured_group_5_from_dpd => DebtGroup::Four,
        1 => DebtGroup::Five,
        2 if current => DebtGroup::Four,
        _ => DebtGroup::Five,
    };
    if input.interest_reduced {
        by_count.max(DebtGroup::Three)
    } else {
        by_count
    }
}

/// DOMAIN.md §8: all loans of one cooperative take the group of its worst loan (`None` without loans).
pub fn customer_group(groups: impl IntoIterator<Item = DebtGroup>) -> Option<DebtGroup> {
    groups.into_iter().max()
}

/// Provision rates in percent, from configuration (Decree 86/2024 defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRates {
    /// Specific provision rate of groups 1 to 5, percent (default 0, 2, 25, 50, 100).
    pub specific_percent: [Decimal; 5],
    /// General provision rate on groups 1-4, percent (default 0.5).
    pub general_percent: Decimal,
}

impl Default for ProvisionRates {
    fn default() -> ProvisionRates {
        ProvisionRates {
            specific_percent: [dec!(0), dec!(2), dec!(25), dec!(50), dec!(100)],
            general_percent: dec!(0.5),
        }
    }
}

/// Specific provision = rate(group) × max(0, outstanding principal − discounted collateral value), half-up.
pub fn specific_provision(
    group: DebtGroup,
    outstanding_principal: Vnd,
    discounted_collateral: Vnd,
    rates: &ProvisionRates,
) -> Vnd {
    let base = (outstanding_principal - discounted_collateral).clamp_non_negative();
    round_half_up_to_dong(
        base.as_decimal() * rates.specific_percent[group.index()] / Decimal::ONE_HUNDRED,
    )
}

/// General provision = rate × the outstanding principal of groups 1-4, half-up.
pub fn general_provision(principal_groups_1_to_4: Vnd, rates: &ProvisionRates) -> Vnd {
    round_half_up_to_dong(
        principal_groups_1_to_4.as_decimal() * rates.general_percent / Decimal::ONE_HUNDRED,
    )
}

/// Outstanding principal by group, and the bad-debt ratio (Decree 45 Art 45).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PortfolioSummary {
    /// Outstanding principal of groups 1 to 5.
    pub principal_by_group: [Vnd; 5],
    /// Total outstanding principal.
    pub total_principal: Vnd,
    /// Groups 3 + 4 + 5.
    pub bad_debt_principal: Vnd,
    /// bad debt / total (a fraction, e.g. 0.0325), `None` on an empty portfolio.
    pub bad_debt_ratio: Option<Decimal>,
    /// The general provision on groups 1-4.
    pub general_provision: Vnd,
}

/// Sums (group, outstanding principal) pairs into a portfolio summary.
pub fn portfolio_summary(
    loans: impl IntoIterator<Item = (DebtGroup, Vnd)>,
    rates: &ProvisionRates,
) -> PortfolioSummary {
    let mut summary = PortfolioSummary::default();
    for (group, principal) in loans {
        summary.principal_by_group[group.index()] += principal;
        summary.total_principal += principal;
        if group.is_bad_debt() {
            summary.bad_debt_principal += principal;
        }
    }
    let performing: Vnd = summary.principal_by_group[..4].iter().copied().sum();
    summary.general_provision = general_provision(performing, rates);
    summary.bad_debt_ratio = summary
        .total_principal
        .is_positive()
        .then(|| summary.bad_debt_principal.as_decimal() / summary.total_principal.as_decimal());
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(dpd: i64, restructure_count: u32) -> u8 {
        let input = ClassificationInput {
            dpd,
            restructure_count,
            interest_reduced: false,
        };
        classify(input, &ClassificationConfig::default()).number()
    }

    #[test]
    fn groups_follow_days_past_due() {
        let cases = [
            (0, 1),
            (9, 1),
            (10, 2),
            (29, 2),
            (30, 3),
            (89, 3),
            (90, 4),
            (179, 4),
            (180, 5),
            (2000, 5),
        ];
        for (dpd, expected) in cases {
            assert_eq!(group(dpd, 0), expected, "dpd {dpd}");
        }
    }

    #[test]
    fn restructured_loans_are_at_least_group_2() {
        assert_eq!(group(0, 1), 2);
        assert_eq!(group(5, 1), 3);
        assert_eq!(group(30, 1), 4);
        assert_eq!(group(90, 1), 5);
        assert_eq!(group(0, 2), 4);
        assert_eq!(group(3, 2), 5);
        assert_eq!(group(0, 3), 5);
        let reduced = ClassificationInput {
            dpd: 0,
            restructure_count: 1,
            interest_reduced: true,
        };
        assert_eq!(
            classify(reduced, &ClassificationConfig::default()),
            DebtGroup::Three
        );
    }

    #[test]
    fn a_cooperative_takes_its_worst_group() {
        assert_eq!(
            customer_group([DebtGroup::One, DebtGroup::Four, DebtGroup::Two]),
            Some(DebtGroup::Four)
        );
        assert_eq!(customer_group([]), None);
    }

    #[test]
    fn provisions_deduct_collateral_and_round_half_up() {
        let rates = ProvisionRates::default();
        let provision = specific_provision(
            DebtGroup::Three,
            Vnd::from_i64(100_000_002),
            Vnd::from_i64(40_000_000),
            &rates,
        );
        assert_eq!(provision, Vnd::from_i64(15_000_001)); // 25% × 60,000,002 = 15,000,000.5
        assert_eq!(
            specific_provision(
                DebtGroup::Five,
                Vnd::from_i64(10),
                Vnd::from_i64(50),
                &rates
            ),
            Vnd::ZERO
        );
        assert_eq!(
            general_provision(Vnd::from_i64(1_000_000_100), &rates),
            Vnd::from_i64(5_000_001)
        );
    }

    #[test]
    fn the_bad_debt_ratio_counts_groups_3_to_5() {
        let loans = [
            (DebtGroup::One, Vnd::from_i64(600)),
            (DebtGroup::Three, Vnd::from_i64(300)),
            (DebtGroup::Five, Vnd::from_i64(100)),
        ];
        let summary = portfolio_summary(loans, &ProvisionRates::default());
        assert_eq!(summary.bad_debt_ratio, Some(dec!(0.4)));
        assert_eq!(summary.general_provision, Vnd::from_i64(5)); // 0.5% × 900 = 4.5 → 5
    }
}
