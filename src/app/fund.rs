//! The fund itself: its business date (API.md: the day after the last closed day, what "today"
//! means to the service; it moves forward only by close of business) and its paid-in charter
//! capital.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect, Set,
};

use super::context::Clock;
use crate::{
    config::Settings,
    error::{AppError, AppResult},
    store::entities::{charter_capital_contribution, fund_state},
};

/// The id of the single `fund_state` row.
pub(crate) const STATE_ROW: i32 = 1;

/// Creates the fund state on a new database: the business date is `fund.start_business_date`
/// or, when that is empty, today by `clock` in the fund's time zone. Does nothing when it exists.
pub async fn ensure_state(
    db: &DatabaseConnection,
    settings: &Settings,
    clock: &dyn Clock,
) -> AppResult<()> {
    if fund_state::Entity::find_by_id(STATE_ROW)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let start = match settings.fund.start_business_date.as_str() {
        "" => clock
            .now()
            .with_timezone(&settings.time_zone())
            .date_naive(),
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(AppError::internal)?,
    };
    let row = fund_state::ActiveModel {
        id: Set(STATE_ROW),
        business_date: Set(start),
        updated_at: Set(clock.now()),
    };
    // Two instances starting at once may both try: the primary key lets only one win.
    if let Err(err) = row.insert(db).await {
        if fund_state::Entity::find_by_id(STATE_ROW)
            .one(db)
            .await?
            .is_none()
        {
            return Err(err.into());
        }
    }
    Ok(())
}

/// The current business date.
pub async fn business_date<C: ConnectionTrait>(conn: &C) -> AppResult<NaiveDate> {
    crate::store::one_by_key(fund_state::Entity::find_by_id(STATE_ROW), conn)
        .await?
        .map(|s| s.business_date)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "fund_state row missing: database not initialised"
            ))
        })
}

/// Sets the business date (close of business only), changed `at`.
pub async fn set_business_date<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
    at: DateTime<Utc>,
) -> AppResult<()> {
    fund_state::ActiveModel {
        id: Set(STATE_ROW),
        business_date: Set(date),
        updated_at: Set(at),
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Paid-in charter capital: the sum of contributions, in đồng.
pub async fn paid_in_charter_capital_vnd<C: ConnectionTrait>(conn: &C) -> AppResult<i64> {
    let total: Option<i64> = charter_capital_contribution::Entity::find()
        .select_only()
        .column_as(crate::store::sum_vnd("amount_vnd"), "total")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(total.unwrap_or(0))
}
