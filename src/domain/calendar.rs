//! Calendar arithmetic: due dates by whole months, and the fund's business days.
//!
//! - DOMAIN.md §3: months are added to the **anchor's** day of month and clamped to the last day of the target
//!   month, always computed from the anchor (31 Jan → 28 Feb → 31 Mar), never chained from the previous due date.
//! - DOMAIN.md §4: a fund may set a holiday calendar; a due date on a non-business day may be paid on the next
//!   business day without penalty ([`HolidayCalendar::grace_end`]). Weekends count as non-business days only when
//!   the calendar says so (`weekends_off`), because some funds collect on Saturdays.
//!
//! Dates are always arguments; nothing here reads the clock.

use chrono::{Datelike, Months, NaiveDate, Weekday};
use std::collections::BTreeSet;

/// The anchor plus `months` whole months, clamped to the end of the target month; `None` beyond chrono's range.
/// Year 9999 is the last year accepted, so that every date can be written as `YYYY-MM-DD`.
pub fn add_months_clamped(anchor: NaiveDate, months: u32) -> Option<NaiveDate> {
    // chrono's checked_add_months clamps to the last day of the month, which is exactly the rule.
    let date = anchor.checked_add_months(Months::new(months))?;
    (date.year() <= 9999).then_some(date)
}

/// Whole days from `from` to `to` (the first day counts, the last does not).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// The fund's non-business days: configured holidays, and optionally Saturdays and Sundays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    /// Public holidays and other days the fund does not work (Tết, 30/4, 1/5, 2/9 …), from configuration.
    pub holidays: BTreeSet<NaiveDate>,
    /// Whether Saturdays and Sundays are non-business days.
    pub weekends_off: bool,
}

impl HolidayCalendar {
    /// A calendar where every day is a business day (the default: no grace beyond the due date).
    pub fn none() -> HolidayCalendar {
        HolidayCalendar::default()
    }

    /// True when the fund works on `date`.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let weekend_off = self.weekends_off && weekend;
        !weekend_off && !self.holidays.contains(&date)
    }

    /// The first business day on or after `date` (bounded: at most 366 days are skipped, then `date` itself is
    /// returned, so a misconfigured calendar listing every day cannot loop forever).
    pub fn next_business_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        for _ in 0..=366 {
            if self.is_business_day(day) {
                return day;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => return date,
            }
        }
        date
    }

    /// DOMAIN.md §4: the last day on which an installment due on `due_on` is still paid on time.
    pub fn grace_end(&self, due_on: NaiveDate) -> NaiveDate {
        self.next_business_day(due_on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn month_end_anchor_clamps_without_drifting() {
        let anchor = d(2026, 1, 31);
        assert_eq!(add_months_clamped(anchor, 1), Some(d(2026, 2, 28)));
        assert_eq!(add_months_clamped(anchor, 2), Some(d(2026, 3, 31)));
        assert_eq!(add_months_clamped(anchor, 3), Some(d(2026, 4, 30)));
        assert_eq!(add_months_clamped(d(2027, 12, 31), 2), Some(d(2028, 2, 29)));
    }

    #[test]
    fn dates_past_year_9999_are_refused() {
        assert_eq!(add_months_clamped(d(9999, 6, 30), 12), None);
    }

    #[test]
    fn a_saturday_due_date_may_be_paid_on_monday() {
        let calendar = HolidayCalendar {
            holidays: BTreeSet::new(),
            weekends_off: true,
        };
        assert_eq!(calendar.grace_end(d(2026, 2, 7)), d(2026, 2, 9));
        assert_eq!(calendar.grace_end(d(2026, 2, 9)), d(2026, 2, 9));
        let mut tet = HolidayCalendar::none();
        tet.holidays.insert(d(2026, 2, 17));
        tet.holidays.insert(d(2026, 2, 18));
        assert_eq!(tet.grace_end(d(2026, 2, 17)), d(2026, 2, 19));
    }
}
