//! Aging of the portfolio by days past due, portfolio at risk (PAR), and the share of the fund's
//! charter capital one borrower holds (Decree 45/2021 Art 23: one customer ≤ 15%, a group of related
//! customers ≤ 25% of charter capital).
//!
//! The bands are the fund's reporting bands (issue 11): current, 1-9, 10-29, 30-89, 90-179 and 180+
//! days past due. PARn is the outstanding principal of the loans at least n days past due over the
//! whole outstanding principal — the microfinance convention (the whole balance of a late loan is at
//! risk, not only the late installment).

use rust_decimal::Decimal;

use crate::Vnd;

/// A band of days past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgingBand {
    /// Not past due (0 days).
    Current,
    /// 1 to 9 days.
    D1To9,
    /// 10 to 29 days.
    D10To29,
    /// 30 to 89 days.
    D30To89,
    /// 90 to 179 days.
    D90To179,
    /// 180 days or more.
    D180Plus,
}

impl AgingBand {
    /// Every band, current first.
    pub const ALL: [AgingBand; 6] = [
        AgingBand::Current,
        AgingBand::D1To9,
        AgingBand::D10To29,
        AgingBand::D30To89,
        AgingBand::D90To179,
        AgingBand::D180Plus,
    ];

    /// The band of a loan `dpd` days past due (a negative count is current).
    pub fn of(dpd: i64) -> AgingBand {
        match dpd {
            i64::MIN..=0 => AgingBand::Current,
            1..=9 => AgingBand::D1To9,
            10..=29 => AgingBand::D10To29,
            30..=89 => AgingBand::D30To89,
            90..=179 => AgingBand::D90To179,
            _ => AgingBand::D180Plus,
        }
    }

    /// Its position in [`AgingBand::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The band as the API spells it: `current`, `1-9`, `10-29`, `30-89`, `90-179`, `180+`.
    pub fn code(self) -> &'static str {
        match self {
            AgingBand::Current => "current",
            AgingBand::D1To9 => "1-9",
            AgingBand::D10To29 => "10-29",
            AgingBand::D30To89 => "30-89",
            AgingBand::D90To179 => "90-179",
            AgingBand::D180Plus => "180+",
        }
    }

    /// The fewest days past due in the band.
    pub fn min_dpd(self) -> i64 {
        match self {
            AgingBand::Current => 0,
            AgingBand::D1To9 => 1,
            AgingBand::D10To29 => 10,
            AgingBand::D30To89 => 30,
            AgingBand::D90To179 => 90,
            AgingBand::D180Plus => 180,
        }
    }
}

/// Outstanding principal by band: loans and principal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aging {
    /// Loans in each band ([`AgingBand::ALL`] order).
    pub loans: [i64; 6],
    /// Their outstanding principal.
    pub principal: [Vnd; 6],
}

impl Aging {
    /// Counts one loan with `principal` outstanding, `dpd` days past due.
    pub fn add(&mut self, dpd: i64, principal: Vnd) {
        let band = AgingBand::of(dpd).index();
        self.loans[band] += 1;
        self.principal[band] += principal;
    }

    /// All outstanding principal.
    pub fn total(&self) -> Vnd {
        self.principal.iter().copied().sum()
    }

    /// The principal of the loans at least `min_dpd` days past due (a band boundary: 1, 10, 30, 90, 180).
    pub fn at_risk(&self, min_dpd: i64) -> Vnd {
        AgingBand::ALL
            .iter()
            .filter(|band| band.min_dpd() >= min_dpd && band.min_dpd() > 0)
            .map(|band| self.principal[band.index()])
            .sum()
    }

    /// PARn in percent to 2 decimals (`at_risk(n) / total × 100`); `None` on an empty portfolio.
    pub fn par_percent(&self, min_dpd: i64) -> Option<Decimal> {
        percent_2dp(self.at_risk(min_dpd), self.total())
    }
}

/// `part / whole × 100`, rounded half away from zero to 2 decimals; `None` when `whole` is zero.
pub fn percent_2dp(part: Vnd, whole: Vnd) -> Option<Decimal> {
    if !whole.is_positive() {
        return None;
    }
    let mut percent = (part.as_decimal() * Decimal::ONE_HUNDRED / whole.as_decimal()).round_dp(2);
    percent.rescale(2);
    Some(percent)
}

/// Whether `exposure` is above `limit_percent` of `charter_capital` (Decree 45/2021 Art 23); with no
/// charter capital any exposure is above it.
pub fn above_limit(exposure: Vnd, charter_capital: Vnd, limit_percent: i64) -> bool {
    exposure.as_decimal() * Decimal::ONE_HUNDRED
        > charter_capital.as_decimal() * Decimal::from(limit_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_past_due_fall_in_their_bands_at_each_boundary() {
        let cases = [
            (0, AgingBand::Current),
            (1, AgingBand::D1To9),
            (9, AgingBand::D1To9),
            (10, AgingBand::D10To29),
            (29, AgingBand::D10To29),
            (30, AgingBand::D30To89),
            (89, AgingBand::D30To89),
            (90, AgingBand::D90To179),
            (179, AgingBand::D90To179),
            (180, AgingBand::D180Plus),
            (2000, AgingBand::D180Plus),
        ];
        for (dpd, band) in cases {
            assert_eq!(AgingBand::of(dpd), band, "{dpd}");
        }
    }

    #[test]
    fn par_counts_the_whole_balance_of_loans_late_at_least_n_days() {
        let mut aging = Aging::default();
        aging.add(0, Vnd::from_i64(600));
        aging.add(5, Vnd::from_i64(100));
        aging.add(15, Vnd::from_i64(200));
        aging.add(200, Vnd::from_i64(100));
        assert_eq!(aging.total(), Vnd::from_i64(1000));
        assert_eq!(aging.at_risk(10), Vnd::from_i64(300));
        assert_eq!(aging.at_risk(30), Vnd::from_i64(100));
        assert_eq!(aging.par_percent(10).unwrap().to_string(), "30.00");
        assert_eq!(aging.par_percent(30).unwrap().to_string(), "10.00");
        assert_eq!(Aging::default().par_percent(10), None);
    }

    #[test]
    fn an_exposure_is_above_the_limit_only_beyond_the_percentage() {
        let capital = Vnd::from_i64(1_000_000);
        assert!(!above_limit(Vnd::from_i64(150_000), capital, 15));
        assert!(above_limit(Vnd::from_i64(150_001), capital, 15));
        assert!(above_limit(Vnd::from_i64(1), Vnd::ZERO, 25));
    }
}
