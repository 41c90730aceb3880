//! The rule the fund's calendar relies on (issue 17): two calendars that agree on every day up to the
//! business date B give the very same fold up to the start of B + 1, whatever they say after B. So a
//! holiday entered or removed after B, or new weekly days off from B + 1, never changes a closed day.

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    fold, HolidayCalendar, LoanContract, LoanEvent, Method, RepaymentKind, ScheduleTerms, Vnd,
    WeekDays,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn week_days(bits: u8) -> WeekDays {
    // Never all seven days: the fund works at least one day a week.
    WeekDays::of(
        WeekDays::WEEK
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0 && *i != 2)
            .map(|(_, d)| d),
    )
}

fn contract(start: NaiveDate, installments: u32, method: Method) -> LoanContract {
    LoanContract::new(ScheduleTerms {
        principal: Vnd::from_i64(100_000_000),
        rate_percent: Decimal::new(12, 0),
        disbursed_on: start,
        installments,
        period_months: 1,
        method,
        principal_grace: 0,
        first_due_on: None,
        day_count: coopfund_domain::DayCount::Actual365,
        installment_unit: Vnd::from_i64(1),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_calendar_change_after_the_business_date_changes_no_fold_up_to_it(
        start_offset in 0i64..365,
        installments in 1u32..=12,
        method in prop::sample::select(vec![Method::Annuity, Method::EqualPrincipal, Method::Bullet]),
        business_offset in 0i64..400,
        holidays in prop::collection::vec(0i64..420, 0..40),
        weekly_before in any::<u8>(),
        weekly_after in any::<u8>(),
        toggled in prop::collection::vec(1i64..60, 0..20),
        payments in prop::collection::vec((0i64..400, 1i64..15_000_000), 0..6),
    ) {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + Duration::days(start_offset);
        let business_date = start + Duration::days(business_offset);
        let mut before = HolidayCalendar::none();
        before.weekly.insert(start - Duration::days(1), week_days(weekly_before));
        before.holidays = holidays.iter().map(|d| start + Duration::days(*d)).collect();

        // The change: holidays after the business date entered or removed, new weekly days off.
        let mut after = before.clone();
        for offset in &toggled {
            let day = business_date + Duration::days(*offset);
            if !after.holidays.remove(&day) {
                after.holidays.insert(day);
            }
        }
        after.weekly.insert(business_date + Duration::days(1), week_days(weekly_after));

        let mut events = vec![LoanEvent::disbursement("d", start, 1, Vnd::from_i64(100_000_000))];
        for (i, (offset, amount)) in payments.iter().enumerate() {
            let value_date = start + Duration::days((*offset).min(business_offset));
            events.push(LoanEvent::repayment(
                format!("r{i}"),
                value_date,
                2 + i as u64,
                Vnd::from_i64(*amount),
                RepaymentKind::Ordinary,
            ));
        }
        let mut terms = contract(start, installments, method);
        terms.calendar = before;
        let closed = fold(&terms, &events, business_date + Duration::days(1));
        terms.calendar = after;
        let replayed = fold(&terms, &events, business_date + Duration::days(1));
        prop_assert_eq!(closed, replayed);
    }
}

#[test]
fn a_change_on_a_closed_day_would_change_the_fold() {
    // The control: entering a past due date as a holiday does change the replay, which is why the
    // service refuses it. Due 2026-02-10 (Tuesday), unpaid; folded to the start of 2026-02-12.
    let start = NaiveDate::from_ymd_opt(2026, 1, 10).expect("date");
    let events = vec![LoanEvent::disbursement(
        "d",
        start,
        1,
        Vnd::from_i64(100_000_000),
    )];
    let mut terms = contract(start, 10, Method::EqualPrincipal);
    let through = NaiveDate::from_ymd_opt(2026, 2, 12).expect("date");
    let closed = fold(&terms, &events, through).expect("folds");
    assert_eq!(closed.dpd, 2);
    terms
        .calendar
        .holidays
        .insert(NaiveDate::from_ymd_opt(2026, 2, 10).expect("date"));
    let rewritten = fold(&terms, &events, through).expect("folds");
    assert_eq!(rewritten.overdue_principal, closed.overdue_principal);
    assert_ne!(rewritten, closed, "one day less of overdue interest");
}
