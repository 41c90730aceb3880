//! The arithmetic of the lending limits checked at approval (DOMAIN.md §6), pure: no database,
//! no clock, integers of đồng only. The approval use case ([`super::applications`]) loads the
//! numbers and turns a [`Breach`] into a 422 whose message names the limit, the current exposure
//! and the room left, in both languages.
//!
//! - Decree 45/2021 Art 22: the borrower's own capital is at least 20% of the project's total
//!   capital, so the loan is at most 80% of it.
//! - Decree 45/2021 Art 23: what one customer owes after this loan (outstanding principal plus
//!   approved-but-not-disbursed principal plus this loan) is at most 15% of the fund's paid-in
//!   charter capital; with its related persons at most 25%.
//!
//! Comparisons are exact (`100 × amount ≤ percent × base` in `i128`), so no rounding can let a
//! loan through by a đồng; the limit shown to people is the exact limit rounded down to the đồng,
//! which is the same test for whole-đồng amounts.

use coopfund_domain::{Language, Vnd};

use crate::error::{AppError, ErrorKind, Localized};

/// Decree 45/2021 Art 22: the loan is at most 80% of the project's total capital.
pub const LOAN_SHARE_OF_PROJECT_MAX_PERCENT: i64 = 80;
/// Decree 45/2021 Art 22: own capital is at least 20% of the project's total capital.
pub const OWN_CAPITAL_SHARE_MIN_PERCENT: i64 = 20;
/// Decree 45/2021 Art 23: one customer at most 15% of paid-in charter capital.
pub const SINGLE_CUSTOMER_MAX_PERCENT: i64 = 15;
/// Decree 45/2021 Art 23: one customer with its related persons at most 25%.
pub const RELATED_GROUP_MAX_PERCENT: i64 = 25;

/// Which limit a request breaks.
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
}

/// A limit that a request would break, with the numbers people need to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breach {
    pub rule: Rule,
    /// The limit in đồng (rounded down to the đồng); for [`Rule::OwnCapital`], the minimum.
    pub limit_vnd: i64,
    /// What counts against the limit before this loan (for [`Rule::OwnCapital`], the own capital).
    pub exposure_vnd: i64,
    /// How much more the limit allows (0 when already at or above it).
    pub room_vnd: i64,
    /// This loan.
    pub requested_vnd: i64,
}

/// `percent`% of `base_vnd`, rounded down to the đồng.
pub fn percent_of_floor(base_vnd: i64, percent: i64) -> i64 {
    let exact = i128::from(base_vnd) * i128::from(percent);
    i64::try_from(exact.div_euclid(100)).unwrap_or(i64::MAX)
}

/// Decree 45/2021 Art 22: the loan ≤ 80% of the project and own capital ≥ 20% of it.
pub fn check_project_share(
    amount_vnd: i64,
    project_total_vnd: i64,
    own_capital_vnd: i64,
) -> Result<(), Breach> {
    let (amount, total, own) = (
        i128::from(amount_vnd),
        i128::from(project_total_vnd),
        i128::from(own_capital_vnd),
    );
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
    if 100 * own < i128::from(OWN_CAPITAL_SHARE_MIN_PERCENT) * total {
        // The minimum rounds up: own capital is a whole number of đồng that must reach 20%.
        let minimum = (i128::from(OWN_CAPITAL_SHARE_MIN_PERCENT) * total + 99).div_euclid(100);
        let minimum_vnd = i64::try_from(minimum).unwrap_or(i64::MAX);
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

/// `1.500.000.000 đồng` (the domain's one money formatter).
fn vi_vnd(amount_vnd: i64) -> String {
    Vnd::from_i64(amount_vnd).for_people(Language::Vietnamese)
}

/// `1,500,000,000 VND` (the domain's one money formatter).
fn en_vnd(amount_vnd: i64) -> String {
    Vnd::from_i64(amount_vnd).for_people(Language::English)
}

impl Breach {
    /// The 422 for this breach: the rule, the limit, the exposure and the room left.
    pub fn to_error(self) -> AppError {
        let (limit_vi, limit_en) = (vi_vnd(self.limit_vnd), en_vnd(self.limit_vnd));
        let (exp_vi, exp_en) = (vi_vnd(self.exposure_vnd), en_vnd(self.exposure_vnd));
        let (room_vi, room_en) = (vi_vnd(self.room_vnd), en_vnd(self.room_vnd));
        let (req_vi, req_en) = (vi_vnd(self.requested_vnd), en_vnd(self.requested_vnd));
        let message = match self.rule {
            Rule::ProjectShare => Localized::new(
                format!("Số tiền vay {req_vi} vượt 80% tổng vốn dự án (Nghị định 45/2021 Điều 22): tối đa được vay {limit_vi}."),
                format!("The loan of {req_en} exceeds 80% of the project's total capital (Decree 45/2021 Art 22): at most {limit_en} may be lent."),
            ),
            Rule::OwnCapital => Localized::new(
                format!("Vốn tự có {exp_vi} thấp hơn 20% tổng vốn dự án (Nghị định 45/2021 Điều 22): tối thiểu {limit_vi}, còn thiếu {room_vi}."),
                format!("Own capital of {exp_en} is below 20% of the project's total capital (Decree 45/2021 Art 22): minimum {limit_en}, short by {room_en}."),
            ),
            Rule::SingleCustomer => Localized::new(
                format!("Dư nợ của khách hàng sau khoản vay {req_vi} vượt giới hạn 15% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn {limit_vi}, dư nợ hiện tại {exp_vi}, còn được vay {room_vi}."),
                format!("The customer's exposure after this loan of {req_en} exceeds the limit of 15% of paid-in charter capital (Decree 45/2021 Art 23): limit {limit_en}, current exposure {exp_en}, room left {room_en}."),
            ),
            Rule::RelatedGroup => Localized::new(
                format!("Dư nợ của khách hàng và người có liên quan sau khoản vay {req_vi} vượt giới hạn 25% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn {limit_vi}, dư nợ hiện tại {exp_vi}, còn được vay {room_vi}."),
                format!("The exposure of the customer and its related persons after this loan of {req_en} exceeds the limit of 25% of paid-in charter capital (Decree 45/2021 Art 23): limit {limit_en}, current exposure {exp_en}, room left {room_en}."),
            ),
        };
        let field = match self.rule {
            Rule::ProjectShare => "amount_vnd",
            Rule::OwnCapital => "own_capital_vnd",
            Rule::SingleCustomer | Rule::RelatedGroup => "amount_vnd",
        };
        AppError::new(ErrorKind::Rule, self.rule.code(), message).with_field(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_the_vietnamese_and_the_english_way() {
        assert_eq!(vi_vnd(1_500_000_000), "1.500.000.000 đồng");
        assert_eq!(en_vnd(1_500_000_000), "1,500,000,000 VND");
        assert_eq!(vi_vnd(0), "0 đồng");
        assert_eq!(en_vnd(-1_234_567), "-1,234,567 VND");
    }

    #[test]
    fn a_loan_of_exactly_80_percent_of_the_project_passes_and_one_dong_more_does_not() {
        assert_eq!(
            check_project_share(800_000_000, 1_000_000_000, 200_000_000),
            Ok(())
        );
        let breach = check_project_share(800_000_001, 1_000_000_000, 200_000_000).unwrap_err();
        assert_eq!(breach.rule, Rule::ProjectShare);
        assert_eq!(breach.limit_vnd, 800_000_000);
    }

    #[test]
    fn own_capital_below_20_percent_is_refused_with_the_shortfall() {
        let breach = check_project_share(500_000_000, 1_000_000_000, 150_000_000).unwrap_err();
        assert_eq!(breach.rule, Rule::OwnCapital);
        assert_eq!(breach.limit_vnd, 200_000_000);
        assert_eq!(breach.room_vnd, 50_000_000);
    }

    #[test]
    fn the_single_customer_limit_is_15_percent_of_charter_capital_inclusive() {
        // 15% of 10 billion = 1.5 billion; 1.2 billion outstanding leaves 300 million.
        assert_eq!(
            check_exposure(
                Rule::SingleCustomer,
                15,
                10_000_000_000,
                1_200_000_000,
                300_000_000
            ),
            Ok(())
        );
        let breach = check_exposure(
            Rule::SingleCustomer,
            15,
            10_000_000_000,
            1_200_000_000,
            300_000_001,
        )
        .unwrap_err();
        assert_eq!(
            breach,
            Breach {
                rule: Rule::SingleCustomer,
                limit_vnd: 1_500_000_000,
                exposure_vnd: 1_200_000_000,
                room_vnd: 300_000_000,
                requested_vnd: 300_000_001,
            }
        );
    }

    #[test]
    fn an_exposure_already_above_the_limit_leaves_no_room() {
        let breach =
            check_exposure(Rule::RelatedGroup, 25, 1_000_000_000, 300_000_000, 1).unwrap_err();
        assert_eq!(breach.limit_vnd, 250_000_000);
        assert_eq!(breach.room_vnd, 0);
    }

    #[test]
    fn a_fraction_of_a_dong_in_the_limit_never_lets_a_loan_through() {
        // 15% of 1,000,000,003 = 150,000,000.45: 150,000,000 passes, 150,000,001 does not.
        assert_eq!(
            check_exposure(Rule::SingleCustomer, 15, 1_000_000_003, 0, 150_000_000),
            Ok(())
        );
        assert!(check_exposure(Rule::SingleCustomer, 15, 1_000_000_003, 0, 150_000_001).is_err());
    }

    #[test]
    fn no_charter_capital_means_no_room() {
        let breach = check_exposure(Rule::SingleCustomer, 15, 0, 0, 1).unwrap_err();
        assert_eq!((breach.limit_vnd, breach.room_vnd), (0, 0));
    }

    #[test]
    fn the_refusal_names_limit_exposure_and_room_in_both_languages() {
        let err = check_exposure(
            Rule::SingleCustomer,
            15,
            10_000_000_000,
            1_200_000_000,
            500_000_000,
        )
        .unwrap_err()
        .to_error();
        assert_eq!(err.code, "single_customer_limit_exceeded");
        assert!(
            err.message.vi.contains("giới hạn 1.500.000.000 đồng"),
            "{}",
            err.message.vi
        );
        assert!(err.message.vi.contains("dư nợ hiện tại 1.200.000.000 đồng"));
        assert!(err.message.vi.contains("còn được vay 300.000.000 đồng"));
        assert!(
            err.message.en.contains("limit 1,500,000,000 VND"),
            "{}",
            err.message.en
        );
        assert!(err
            .message
            .en
            .contains("current exposure 1,200,000,000 VND"));
        assert!(err.message.en.contains("room left 300,000,000 VND"));
    }
}
