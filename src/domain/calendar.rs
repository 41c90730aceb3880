//! Calendar arithmetic: due dates by whole months, and the fund's business days.
//!
//! - DOMAIN.md §3: months are added to the **anchor's** day of month and clamped to the last day of the target
//!   month, always computed from the anchor (31 Jan → 28 Feb → 31 Mar), never chained from the previous due date.
//! - DOMAIN.md §4: a fund may set a holiday calendar; a due date on a non-business day may be paid on the next
//!   business day without penalty ([`HolidayCalendar::grace_end`]). Weekends count as non-business days only when
//!   the calendar says so (`weekends_off`), because some funds collect on Saturdays.
//! - The fund's weekly days off may change over time (`weekly`: each set of days is in force from its date until
//!   the next one), so that changing them never changes the status of a day already closed: a fold replayed
//!   later sees every past day exactly as it was.
//!
//! Dates are always arguments; nothing here reads the clock.

use chrono::{Datelike, Months, NaiveDate, Weekday};
use std::collections::{BTreeMap, BTreeSet};

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

/// A set of days of the week (the fund's weekly days off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WeekDays(u8);

impl WeekDays {
    /// No day of the week.
    pub const NONE: WeekDays = WeekDays(0);

    /// The set of `days`.
    pub fn of(days: impl IntoIterator<Item = Weekday>) -> WeekDays {
        WeekDays(
            days.into_iter()
                .fold(0, |bits, day| bits | 1 << day.num_days_from_monday()),
        )
    }

    /// The seven days of the week, Monday first.
    pub const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    /// The days in the set, Monday first.
    pub fn days(self) -> Vec<Weekday> {
        Self::WEEK
            .into_iter()
            .filter(|day| self.contains(*day))
            .collect()
    }
}

/// The fund's non-business days: configured holidays, and optionally Saturdays and Sundays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    /// Public holidays and other days the fund does not work (Tết, 30/4, 1/5, 2/9 …), from configuration.
    pub holidays: BTreeSet<NaiveDate>,
    /// Whether Saturdays and Sundays are non-business days (before the first entry of `weekly`, if any).
    pub weekends_off: bool,
    /// The weekly days off by the date from which each set is in force (until the next entry). A date before
    /// the first entry uses `weekends_off`.
    pub weekly: BTreeMap<NaiveDate, WeekDays>,
}

impl HolidayCalendar {
    /// A calendar where every day is a business day (the default: no grace beyond the due date).
    pub fn none() -> HolidayCalendar {
        HolidayCalendar::default()
    }

    /// True when the fund works on `date`.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !self.is_weekly_day_off(date) && !self.holidays.contains(&date)
    }

    /// True when `date` is one of the weekly days off in force on that date.
    pub fn is_weekly_day_off(&self, date: NaiveDate) -> bool {
        match self.weekly.range(..=date).next_back() {
            Some((_, days)) => days.contains(date.weekday()),
            None => self.weekends_off && matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
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
            weekends_off: true,
            ..HolidayCalendar::none()
        };
        assert_eq!(calendar.grace_end(d(2026, 2, 7)), d(2026, 2, 9));
        assert_eq!(calendar.grace_end(d(2026, 2, 9)), d(2026, 2, 9));
        let mut tet = HolidayCalendar::none();
        tet.holidays.insert(d(2026, 2, 17));
        tet.holidays.insert(d(2026, 2, 18));
        assert_eq!(tet.grace_end(d(2026, 2, 17)), d(2026, 2, 19));
    }

    #[test]
    fn weekly_days_off_change_only_from_their_date() {
        let mut calendar = HolidayCalendar::none();
        calendar
            .weekly
            .insert(d(2026, 1, 1), WeekDays::of([Weekday::Sun]));
        calendar
            .weekly
            .insert(d(2026, 3, 1), WeekDays::of([Weekday::Sat, Weekday::Sun]));
        // Before the first rule: every day works (weekends_off is false).
        assert!(calendar.is_business_day(d(2025, 12, 28)));
        // Saturday 2026-02-07 works under the Sunday-only rule; Sunday 2026-02-08 does not.
        assert!(calendar.is_business_day(d(2026, 2, 7)));
        assert_eq!(calendar.grace_end(d(2026, 2, 8)), d(2026, 2, 9));
        // Saturday 2026-03-07 is off from March.
        assert_eq!(calendar.grace_end(d(2026, 3, 7)), d(2026, 3, 9));
        assert_eq!(
            WeekDays::of([Weekday::Sun, Weekday::Sat]).days(),
            vec![Weekday::Sat, Weekday::Sun]
        );
    }
}
