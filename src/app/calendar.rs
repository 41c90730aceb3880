//! The fund's calendar (DOMAIN.md §4, issue 17): its weekly days off and dated holidays, kept in the
//! database, entered by configuration at start and by an admin (API, CLI), every change audited.
//! An installment due on a day off may be paid on the next business day without penalty; every fold
//! (reads, posts, close of business, payoff) uses the calendar in force, loaded once per use case by
//! [`in_force`] and passed to the engine in the `LoanContract`.
//!
//! **Closed days are never rewritten.** The engine replays a loan from its events, so a calendar
//! change could otherwise change what a replay says about a day already closed (an installment that
//! fell overdue could stop being overdue, after the close of business posted its overdue interest).
//! A change therefore only ever changes the status of days **after** the business date:
//! - a holiday is entered or removed only for a date after the business date (422
//!   `holiday_not_after_business_date` otherwise);
//! - a change of the weekly days off is recorded as a new rule in force from the day after the
//!   business date (the rules before it stay, so past weeks keep their days off);
//! - configuration seeds a holiday only once per date (a holiday an admin removed is not seeded
//!   again) and only after the business date — except on a database with no loan transaction yet,
//!   where nothing has been folded and the whole configured calendar is entered, in force from the
//!   earliest date.
//!
//! Two calendars that agree on every day up to the business date give the same on-time window for
//! every due date whose window ends by then (the window is the run of days off after the due date),
//! so every fold up to the business date is unchanged: the change takes effect for folds from the
//! next business date. The change and the close of business are serialized on the `fund_state` row,
//! so a close cannot use a calendar that a change committed during it would have altered.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use coopfund_domain::{HolidayCalendar, WeekDays};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement, TransactionTrait,
};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::{AppCtx, Clock},
    fund, validate, Caller,
};
use crate::{
    auth::Role,
    config::Settings,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::{calendar_holiday, calendar_weekly_rule, loan_transaction},
};

/// The first rule's date on a database where nothing was folded yet: in force for every date the
/// fund can have (a date both backends store).
fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
}
/// The longest range `GET /api/v1/calendar` lists, in days (two years and a day).
const MAX_RANGE_DAYS: i64 = 731;
/// The longest holiday name, in characters.
const NAME_MAX_CHARS: usize = 200;

/// The calendar in force: every holiday not removed and every weekly rule. Load it once per use case.
/// One statement (issue 14: every read and every money command loads it).
pub async fn in_force<C: ConnectionTrait>(conn: &C) -> AppResult<HolidayCalendar> {
    calendar_of(calendar_rows(conn, false).await?)
}

/// The business date and the calendar in force, read together in one statement: what a read of a loan needs
/// before it folds ([`fund::business_date`] and [`in_force`] in one round trip instead of three).
pub async fn business_date_and_calendar<C: ConnectionTrait>(
    conn: &C,
) -> AppResult<(NaiveDate, HolidayCalendar)> {
    let (today, calendar, _) = business_date_calendar_and_marks(conn).await?;
    Ok((today, calendar))
}

/// [`business_date_and_calendar`] with the close of business's "cached through" marks (what a loan command
/// reads its loan's cached as-of date by, `ledger::effective_balances_as_of`), in the same statement.
pub async fn business_date_calendar_and_marks<C: ConnectionTrait>(
    conn: &C,
) -> AppResult<(NaiveDate, HolidayCalendar, fund::CachedThrough)> {
    dated_calendar_of(calendar_rows(conn, true).await?)
}

/// The text of [`business_date_calendar_and_marks`]' statement (no parameters), for a caller that sends it with
/// statements of its own in one round trip ([`crate::app::loans::lock_loan_with_calendar`] on SQLite); its rows
/// have a `part` of 0 or more.
pub(crate) fn business_date_calendar_and_marks_sql() -> String {
    calendar_sql(true)
}

/// [`business_date_calendar_and_marks`] from the rows of its statement ([`business_date_calendar_and_marks_sql`]).
pub(crate) fn business_date_calendar_and_marks_of(
    rows: &[sea_orm::QueryResult],
) -> AppResult<(NaiveDate, HolidayCalendar, fund::CachedThrough)> {
    dated_calendar_of(
        rows.iter()
            .map(|row| CalendarRow::from_query_result(row, ""))
            .collect::<Result<_, _>>()?,
    )
}

/// The business date, the calendar and the close's marks of the rows of [`calendar_sql`]`(true)`.
fn dated_calendar_of(
    rows: Vec<CalendarRow>,
) -> AppResult<(NaiveDate, HolidayCalendar, fund::CachedThrough)> {
    let mut today = None;
    let mut marks = fund::CachedThrough::default();
    let mut calendar = Vec::with_capacity(rows.len());
    for row in rows {
        match row.part {
            PART_BUSINESS_DATE => today = Some(row.day),
            PART_OPEN_LOANS_CACHED_THROUGH => marks.open_loans = Some(row.day),
            PART_COB_DAY => marks.cob_day = Some((row.day, row.id)),
            _ => calendar.push(row),
        }
    }
    let today = today.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "fund_state row missing: database not initialised"
        ))
    })?;
    Ok((today, calendar_of(calendar)?, marks))
}

/// A row of [`calendar_rows`]: a holiday (`part` [`PART_HOLIDAY`], its date), a weekly rule
/// ([`PART_WEEKLY_RULE`], its first date and days off), the business date ([`PART_BUSINESS_DATE`]) or one of
/// the close's marks ([`PART_OPEN_LOANS_CACHED_THROUGH`]: its date; [`PART_COB_DAY`]: the day and, as `id`,
/// the last cooperative closed).
#[derive(Debug, FromQueryResult)]
struct CalendarRow {
    part: i32,
    id: i64,
    day: NaiveDate,
    days_off: String,
}

const PART_HOLIDAY: i32 = 0;
const PART_WEEKLY_RULE: i32 = 1;
const PART_BUSINESS_DATE: i32 = 2;
const PART_OPEN_LOANS_CACHED_THROUGH: i32 = 3;
const PART_COB_DAY: i32 = 4;

/// The holidays in force and the weekly rules (and, with `with_business_date`, the business date and the close's
/// marks that are set) as the rows of one `UNION ALL`: the same rows the entities would read, in one round trip.
async fn calendar_rows<C: ConnectionTrait>(
    conn: &C,
    with_business_date: bool,
) -> AppResult<Vec<CalendarRow>> {
    let statement = Statement::from_string(
        conn.get_database_backend(),
        calendar_sql(with_business_date),
    );
    Ok(CalendarRow::find_by_statement(statement).all(conn).await?)
}

/// The text of [`calendar_rows`]' statement.
fn calendar_sql(with_business_date: bool) -> String {
    let mut sql = format!(
        "SELECT {PART_HOLIDAY} AS part, id, holiday_on AS day, '' AS days_off FROM calendar_holidays \
         WHERE removed_at IS NULL \
         UNION ALL SELECT {PART_WEEKLY_RULE} AS part, id, effective_from AS day, days_off FROM calendar_weekly_rules"
    );
    if with_business_date {
        sql.push_str(&format!(
            " UNION ALL SELECT {PART_BUSINESS_DATE} AS part, CAST(id AS BIGINT) AS id, business_date AS day, '' AS days_off \
             FROM fund_state WHERE id = {row} \
             UNION ALL SELECT {PART_OPEN_LOANS_CACHED_THROUGH} AS part, CAST(0 AS BIGINT) AS id, \
             open_loans_cached_through AS day, '' AS days_off \
             FROM fund_state WHERE id = {row} AND open_loans_cached_through IS NOT NULL \
             UNION ALL SELECT {PART_COB_DAY} AS part, cob_cooperatives_through AS id, cob_day AS day, '' AS days_off \
             FROM fund_state WHERE id = {row} AND cob_day IS NOT NULL AND cob_cooperatives_through IS NOT NULL",
            row = fund::STATE_ROW
        ));
    }
    sql
}

/// The calendar of the holiday and weekly-rule rows of [`calendar_rows`].
fn calendar_of(rows: Vec<CalendarRow>) -> AppResult<HolidayCalendar> {
    let mut holidays = std::collections::BTreeSet::new();
    let mut weekly = BTreeMap::new();
    for row in rows {
        match row.part {
            PART_HOLIDAY => {
                holidays.insert(row.day);
            }
            PART_WEEKLY_RULE => {
                weekly.insert(row.day, week_days_of(row.id, &row.days_off)?);
            }
            other => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "calendar query returned a row of part {other}"
                )))
            }
        }
    }
    Ok(HolidayCalendar {
        holidays,
        weekends_off: false,
        weekly,
    })
}

/// The days off of weekly rule `id`, stored as `"sat,sun"`.
fn week_days_of(id: i64, days_off: &str) -> AppResult<WeekDays> {
    let mut days = Vec::new();
    for name in days_off.split(',').filter(|n| !n.trim().is_empty()) {
        days.push(crate::config::parse_weekday(name).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "calendar_weekly_rules row {id}: days_off {days_off:?} is not readable"
            ))
        })?);
    }
    Ok(WeekDays::of(days))
}

/// The English name of a day of the week, as stored and shown (`sunday`).
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn days_text(days: WeekDays) -> String {
    days.days()
        .into_iter()
        .map(weekday_name)
        .collect::<Vec<_>>()
        .join(",")
}

/// Takes the `fund_state` row for the rest of `txn` (`FOR UPDATE` on PostgreSQL, a first write on
/// SQLite) and returns the business date, so a close of business cannot move it meanwhile.
async fn lock_business_date(txn: &DatabaseTransaction) -> AppResult<NaiveDate> {
    let backend = txn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT id FROM fund_state WHERE id = 1 FOR UPDATE",
        _ => "UPDATE fund_state SET id = id WHERE id = 1",
    };
    txn.execute_raw(Statement::from_string(backend, sql))
        .await?;
    fund::business_date(txn).await
}

/// A holiday to enter.
#[derive(Debug, Clone)]
pub struct NewHoliday {
    /// The day off; after the business date.
    pub date: NaiveDate,
    /// What it is, e.g. "Tết Nguyên đán".
    pub name: String,
}

/// A holiday as kept.
#[derive(Debug, Clone, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    /// `config` or `admin`.
    pub source: String,
    /// The business date on which it was entered (or removed); folds change only after it.
    pub entered_on_business_date: NaiveDate,
    pub entered_by: String,
    /// False once removed.
    pub in_force: bool,
}

impl Audited for Holiday {
    const ENTITY_TYPE: &'static str = "calendar_holiday";

    fn audit_id(&self) -> String {
        self.date.to_string()
    }
}

impl From<calendar_holiday::Model> for Holiday {
    fn from(m: calendar_holiday::Model) -> Self {
        Holiday {
            date: m.holiday_on,
            name: m.name,
            source: m.source,
            entered_on_business_date: m.entered_on_business_date,
            entered_by: m.entered_by,
            in_force: m.removed_at.is_none(),
        }
    }
}

/// Who entered a holiday, from where, on which business date and when.
struct Entered<'a> {
    /// `admin` or `config`.
    source: &'static str,
    business_date: NaiveDate,
    by: &'a Caller,
    at: chrono::DateTime<chrono::Utc>,
}

impl Entered<'_> {
    /// A new holiday row on `date` named `name`.
    fn row(&self, date: NaiveDate, name: String) -> calendar_holiday::ActiveModel {
        calendar_holiday::ActiveModel {
            holiday_on: Set(date),
            name: Set(name),
            source: Set(self.source.into()),
            entered_on_business_date: Set(self.business_date),
            entered_by: Set(self.by.name().to_string()),
            created_at: Set(self.at),
            updated_at: Set(self.at),
            removed_at: Set(None),
            ..Default::default()
        }
    }
}

fn not_after_business_date(date: NaiveDate, business_date: NaiveDate) -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "holiday_not_after_business_date",
        Localized::new(
            format!(
                "Chỉ được thay đổi lịch nghỉ cho các ngày sau ngày làm việc hiện tại {business_date}; ngày {date} đã hoặc đang được khóa sổ."
            ),
            format!(
                "Only days after the business date {business_date} may be changed; {date} is closed or being closed."
            ),
        ),
    )
    .with_field("date")
}

/// Enters a holiday after the business date (admin); audited.
#[tracing::instrument(name = "calendar.add_holiday", skip_all, fields(date = %input.date))]
pub async fn add_holiday(ctx: &AppCtx, caller: &Caller, input: NewHoliday) -> AppResult<Holiday> {
    caller.require(&[Role::Admin])?;
    let name = validate::text("name", &input.name, NAME_MAX_CHARS)?;
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    let business_date = lock_business_date(&txn).await?;
    if input.date <= business_date {
        return Err(not_after_business_date(input.date, business_date));
    }
    let now = ctx.now();
    let existing = calendar_holiday::Entity::find()
        .filter(calendar_holiday::Column::HolidayOn.eq(input.date))
        .one(&txn)
        .await?;
    let saved = match existing {
        Some(row) if row.removed_at.is_none() => {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "holiday_exists",
                Localized::new(
                    format!("Ngày {} đã là ngày nghỉ ({}).", row.holiday_on, row.name),
                    format!("{} is already a holiday ({}).", row.holiday_on, row.name),
                ),
            )
            .with_field("date"))
        }
        Some(row) => {
            let mut active = row.into_active_model();
            active.name = Set(name);
            active.source = Set("admin".into());
            active.entered_on_business_date = Set(business_date);
            active.entered_by = Set(caller.name().to_string());
            active.updated_at = Set(now);
            active.removed_at = Set(None);
            active.update(&txn).await?
        }
        None => {
            let entered = Entered {
                source: "admin",
                business_date,
                by: caller,
                at: now,
            };
            entered.row(input.date, name).insert(&txn).await?
        }
    };
    let view = Holiday::from(saved);
    audit::created(&txn, ctx, caller, "calendar.holiday_add", &view).await?;
    txn.commit().await?;
    Ok(view)
}

/// Removes a holiday after the business date (admin); the row is kept, marked removed; audited.
#[tracing::instrument(name = "calendar.remove_holiday", skip_all, fields(date = %date))]
pub async fn remove_holiday(ctx: &AppCtx, caller: &Caller, date: NaiveDate) -> AppResult<Holiday> {
    caller.require(&[Role::Admin])?;
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    let business_date = lock_business_date(&txn).await?;
    let row = calendar_holiday::Entity::find()
        .filter(calendar_holiday::Column::HolidayOn.eq(date))
        .filter(calendar_holiday::Column::RemovedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("ngày nghỉ", "Holiday"))?;
    if date <= business_date {
        return Err(not_after_business_date(date, business_date));
    }
    let before = Holiday::from(row.clone());
    let mut active = row.into_active_model();
    active.entered_on_business_date = Set(business_date);
    active.entered_by = Set(caller.name().to_string());
    let now = ctx.now();
    active.updated_at = Set(now);
    active.removed_at = Set(Some(now));
    let view = Holiday::from(active.update(&txn).await?);
    audit::changed(&txn, ctx, caller, "calendar.holiday_remove", &before, &view).await?;
    txn.commit().await?;
    Ok(view)
}

/// The dates to show (default: the business date and a year after it).
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendarRange {
    /// YYYY-MM-DD (default: the business date).
    pub from: Option<NaiveDate>,
    /// YYYY-MM-DD, at most 731 days after `from` (default: 365 days after `from`).
    pub to: Option<NaiveDate>,
}

/// One day the fund does not work.
#[derive(Debug, Clone, Serialize)]
pub struct DayOff {
    pub date: NaiveDate,
    /// `monday` … `sunday`.
    pub weekday: String,
    /// One of the weekly days off in force on that date.
    pub weekly_day_off: bool,
    /// The holiday's name, when it is one.
    pub holiday: Option<String>,
    /// The first business day after it: an installment due on `date` may be paid until then
    /// without penalty.
    pub pay_by: NaiveDate,
}

/// A set of weekly days off and the date from which it is in force.
#[derive(Debug, Clone, Serialize)]
pub struct WeeklyRule {
    pub effective_from: NaiveDate,
    /// `saturday`, `sunday` …
    pub days_off: Vec<String>,
}

/// The fund's calendar between two dates.
#[derive(Debug, Clone, Serialize)]
pub struct Calendar {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub business_date: NaiveDate,
    /// Every weekly rule, oldest first (each in force until the next).
    pub weekly_rules: Vec<WeeklyRule>,
    /// Every day off in `[from, to]`, in order.
    pub days_off: Vec<DayOff>,
    /// The holidays in `[from, to]`, removed ones included (`in_force` false), in order.
    pub holidays: Vec<Holiday>,
}

/// The calendar between `from` and `to` (any logged-in user).
#[tracing::instrument(name = "calendar.view", skip_all)]
pub async fn view(ctx: &AppCtx, caller: &Caller, query: CalendarRange) -> AppResult<Calendar> {
    let db = &ctx.db;
    caller.require(&Role::ALL)?;
    let business_date = fund::business_date(db).await?;
    let from = query.from.unwrap_or(business_date);
    let to = match query.to {
        Some(to) => to,
        None => from
            .checked_add_signed(Duration::days(365))
            .ok_or_else(|| range_error(from, from))?,
    };
    if to < from || (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(range_error(from, to));
    }
    let calendar = in_force(db).await?;
    let holidays = calendar_holiday::Entity::find()
        .filter(calendar_holiday::Column::HolidayOn.between(from, to))
        .order_by_asc(calendar_holiday::Column::HolidayOn)
        .all(db)
        .await?;
    let names: BTreeMap<NaiveDate, String> = holidays
        .iter()
        .filter(|h| h.removed_at.is_none())
        .map(|h| (h.holiday_on, h.name.clone()))
        .collect();
    let mut days_off = Vec::new();
    let mut day = from;
    while day <= to {
        if !calendar.is_business_day(day) {
            days_off.push(DayOff {
                date: day,
                weekday: weekday_name(day.weekday()).into(),
                weekly_day_off: calendar.is_weekly_day_off(day),
                holiday: names.get(&day).cloned(),
                pay_by: calendar.grace_end(day),
            });
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(Calendar {
        from,
        to,
        business_date,
        weekly_rules: calendar
            .weekly
            .iter()
            .map(|(effective_from, days)| WeeklyRule {
                effective_from: *effective_from,
                days_off: days
                    .days()
                    .into_iter()
                    .map(|d| weekday_name(d).to_string())
                    .collect(),
            })
            .collect(),
        days_off,
        holidays: holidays.into_iter().map(Holiday::from).collect(),
    })
}

fn range_error(from: NaiveDate, to: NaiveDate) -> AppError {
    AppError::invalid(
        "to",
        Reason::OutOfRange {
            min: from.to_string(),
            max: from
                .checked_add_signed(Duration::days(MAX_RANGE_DAYS))
                .unwrap_or(to)
                .to_string(),
        },
    )
}

/// Enters the configured calendar (at every start; idempotent): the weekly days off when they
/// differ from the rule in force after the business date, and each configured holiday never
/// entered before, after the business date. On a database with no loan transaction yet, the
/// first rule and every configured holiday are entered for all dates (nothing was folded).
/// Each change is audited as `system:calendar`.
pub async fn seed(db: &DatabaseConnection, settings: &Settings) -> AppResult<()> {
    seed_at(db, settings, &super::context::SystemClock).await
}

/// [`seed`], the records stamped by `clock`.
#[tracing::instrument(name = "calendar.seed", skip_all)]
pub async fn seed_at(
    db: &DatabaseConnection,
    settings: &Settings,
    clock: &dyn Clock,
) -> AppResult<()> {
    let caller = Caller::system_named("system:calendar");
    let txn = db.begin().await?;
    let business_date = lock_business_date(&txn).await?;
    let nothing_folded = loan_transaction::Entity::find()
        .select_only()
        .column(loan_transaction::Column::Id)
        .limit(1)
        .into_tuple::<i64>()
        .one(&txn)
        .await?
        .is_none();
    let next_day = business_date
        .succ_opt()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("business date at the end of time")))?;

    // Weekly days off.
    let wanted = settings.calendar.weekly_days();
    let rules = calendar_weekly_rule::Entity::find()
        .order_by_asc(calendar_weekly_rule::Column::EffectiveFrom)
        .all(&txn)
        .await?;
    let current = match rules.last() {
        Some(rule) => Some(week_days_of(rule.id, &rule.days_off)?),
        None => None,
    };
    if current != Some(wanted) {
        let effective_from = if rules.is_empty() && nothing_folded {
            earliest()
        } else {
            next_day
        };
        match rules.iter().find(|r| r.effective_from >= effective_from) {
            // A rule entered after the business date (not yet used by any close): replace it.
            Some(later) => {
                let mut active = later.clone().into_active_model();
                active.days_off = Set(days_text(wanted));
                active.update(&txn).await?;
            }
            None => {
                calendar_weekly_rule::ActiveModel {
                    effective_from: Set(effective_from),
                    days_off: Set(days_text(wanted)),
                    created_at: Set(clock.now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        let after = WeeklyRule {
            effective_from,
            days_off: wanted
                .days()
                .into_iter()
                .map(|d| weekday_name(d).to_string())
                .collect(),
        };
        audit::record_at(
            &txn,
            &caller,
            clock.now(),
            audit::Change::created(
                "calendar.weekly_days_off",
                "calendar_weekly_rule",
                effective_from.to_string(),
                &after,
            ),
        )
        .await?;
    }

    // Holidays, each configured date at most once.
    let known: std::collections::BTreeSet<NaiveDate> = calendar_holiday::Entity::find()
        .select_only()
        .column(calendar_holiday::Column::HolidayOn)
        .into_tuple::<NaiveDate>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let now = clock.now();
    for (date, name) in settings.calendar.holiday_dates() {
        if known.contains(&date) || (date <= business_date && !nothing_folded) {
            continue;
        }
        let entered = Entered {
            source: "config",
            business_date,
            by: &caller,
            at: now,
        };
        let row = entered.row(date, name).insert(&txn).await?;
        let view = Holiday::from(row);
        let change = audit::Change::created(
            "calendar.holiday_add",
            Holiday::ENTITY_TYPE,
            view.audit_id(),
            &view,
        );
        audit::record_at(&txn, &caller, now, change).await?;
    }
    txn.commit().await?;
    Ok(())
}
