//! Properties of every schedule (DOMAIN.md §3 invariants) over random terms.

mod common;

use common::cases;

use chrono::NaiveDate;
use coopfund_domain::{build_schedule, ScheduleTerms, Vnd};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn terms_strategy() -> impl Strategy<Value = ScheduleTerms> {
    (
        1_000_000i64..=10_000_000_000_000,
        0u32..=2_000,
        0i64..3_000,
        1u32..=360,
        prop::sample::select(vec![1u32, 3, 6, 12]),
        common::any_method(),
        0u32..=359,
        common::any_day_count(),
        prop::sample::select(vec![1i64, 1_000]),
    )
        .prop_map(
            |(principal, rate_bp, day, installments, period, method, grace, day_count, unit)| {
                let disbursed_on = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
                    + chrono::Duration::days(day);
                ScheduleTerms {
                    principal: Vnd::from_i64(principal),
                    rate_percent: Decimal::new(i64::from(rate_bp), 2),
                    disbursed_on,
                    installments,
                    period_months: period,
                    method,
                    principal_grace: grace % installments,
                    first_due_on: None,
                    day_count,
                    installment_unit: Vnd::from_i64(unit),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn principals_sum_to_the_principal_and_nothing_is_negative(terms in terms_strategy()) {
        let schedule = build_schedule(&terms).expect("generated terms are valid");
        prop_assert_eq!(schedule.installments.len(), terms.installments as usize);
        prop_assert_eq!(schedule.total_principal(), terms.principal);
        let mut balance = terms.principal;
        for line in &schedule.installments {
            prop_assert!(!line.principal.is_negative() && !line.interest.is_negative());
            prop_assert_eq!(line.total, line.principal + line.interest);
            balance -= line.principal;
            prop_assert_eq!(line.closing_balance, balance);
            prop_assert!(!balance.is_negative());
            prop_assert!(line.days > 0);
        }
        prop_assert_eq!(balance, Vnd::ZERO);
        for line in &schedule.installments[..terms.principal_grace as usize] {
            prop_assert!(line.principal.is_zero());
        }
    }
}
