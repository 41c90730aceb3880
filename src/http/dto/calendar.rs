//! `/calendar` on the wire.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::calendar::{Calendar, CalendarRange, DayOff, Holiday, NewHoliday, WeeklyRule};

view! {
    /// `POST /api/v1/calendar/holidays`.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct HolidayInput into NewHoliday {
        /// The day off; after the business date.
        #[schema(value_type = String, format = Date)]
        pub date: NaiveDate,
        /// What it is, e.g. "Tết Nguyên đán".
        pub name: String,
    }
}

view! {
    /// A holiday as kept.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct HolidayView from Holiday {
        #[schema(value_type = String, format = Date)]
        pub date: NaiveDate,
        pub name: String,
        /// `config` or `admin`.
        pub source: String,
        /// The business date on which it was entered (or removed); folds change only after it.
        #[schema(value_type = String, format = Date)]
        pub entered_on_business_date: NaiveDate,
        pub entered_by: String,
        /// False once removed.
        pub in_force: bool,
    }
}

view! {
    /// `?from=&to=` of `GET /api/v1/calendar` (default: the business date and a year after it).
    #[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct CalendarQuery into CalendarRange {
        /// YYYY-MM-DD (default: the business date).
        #[param(value_type = Option<String>, format = Date)]
        pub from: Option<NaiveDate>,
        /// YYYY-MM-DD, at most 731 days after `from` (default: 365 days after `from`).
        #[param(value_type = Option<String>, format = Date)]
        pub to: Option<NaiveDate>,
    }
}

/// One day the fund does not work.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayOffView {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `monday` … `sunday`.
    pub weekday: String,
    /// One of the weekly days off in force on that date.
    pub weekly_day_off: bool,
    /// The holiday's name, when it is one.
    pub holiday: Option<String>,
    /// The first business day after it: an installment due on `date` may be paid until then
    /// without penalty.
    #[schema(value_type = String, format = Date)]
    pub pay_by: NaiveDate,
}

/// A set of weekly days off and the date from which it is in force.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WeeklyRuleView {
    #[schema(value_type = String, format = Date)]
    pub effective_from: NaiveDate,
    /// `saturday`, `sunday` …
    pub days_off: Vec<String>,
}

/// The fund's calendar between two dates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarView {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub business_date: NaiveDate,
    /// Every weekly rule, oldest first (each in force until the next).
    pub weekly_rules: Vec<WeeklyRuleView>,
    /// Every day off in `[from, to]`, in order.
    pub days_off: Vec<DayOffView>,
    /// The holidays in `[from, to]`, removed ones included (`in_force` false), in order.
    pub holidays: Vec<HolidayView>,
}

impl From<Calendar> for CalendarView {
    fn from(c: Calendar) -> Self {
        CalendarView {
            from: c.from,
            to: c.to,
            business_date: c.business_date,
            weekly_rules: c
                .weekly_rules
                .into_iter()
                .map(|r: WeeklyRule| WeeklyRuleView {
                    effective_from: r.effective_from,
                    days_off: r.days_off,
                })
                .collect(),
            days_off: c
                .days_off
                .into_iter()
                .map(|d: DayOff| DayOffView {
                    date: d.date,
                    weekday: d.weekday,
                    weekly_day_off: d.weekly_day_off,
                    holiday: d.holiday,
                    pay_by: d.pay_by,
                })
                .collect(),
            holidays: c.holidays.into_iter().map(HolidayView::from).collect(),
        }
    }
}
