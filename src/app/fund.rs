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
        open_loans_cached_through: Set(None),
        cob_day: Set(None),
        cob_cooperatives_through: Set(None),
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

/// Sets the business date to `date`, changed `at`, outside the close of business (the demo's seeding and tests
/// that simulate time; the close moves it with [`finish_close_day`]). The "cached through" marks are written
/// onto the loan rows they cover first ([`settle_cached_through`]): they are valid only while the business date
/// moves by closes, and a date set back would make a command's row of that date look covered.
pub async fn set_business_date<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
    at: DateTime<Utc>,
) -> AppResult<()> {
    settle_cached_through(conn).await?;
    fund_state::ActiveModel {
        id: Set(STATE_ROW),
        business_date: Set(date),
        updated_at: Set(at),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// The close of business's "cached through" marks (issue 14, cobpg; migration 000018): as of which date the
/// open loans the close left unwritten (their balances did not change) have their cached balances. Read a loan's
/// as-of date through `ledger::effective_balances_as_of` with these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CachedThrough {
    /// Set when the close finishes a day: the new business date.
    pub open_loans: Option<NaiveDate>,
    /// The day the close is closing and the last cooperative whose open loans it has closed (in cooperative
    /// order), while the day is not finished.
    pub cob_day: Option<(NaiveDate, i64)>,
}

impl CachedThrough {
    fn of(state: &fund_state::Model) -> Self {
        CachedThrough {
            open_loans: state.open_loans_cached_through,
            cob_day: state.cob_day.zip(state.cob_cooperatives_through),
        }
    }

    /// No mark: every loan's as-of date is its row's.
    pub fn is_empty(&self) -> bool {
        self.open_loans.is_none() && self.cob_day.is_none()
    }
}

/// The business date and the "cached through" marks, in one statement.
pub async fn business_date_and_cached_through<C: ConnectionTrait>(
    conn: &C,
) -> AppResult<(NaiveDate, CachedThrough)> {
    crate::store::one_by_key(fund_state::Entity::find_by_id(STATE_ROW), conn)
        .await?
        .map(|s| (s.business_date, CachedThrough::of(&s)))
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "fund_state row missing: database not initialised"
            ))
        })
}

/// The "cached through" marks.
pub async fn cached_through<C: ConnectionTrait>(conn: &C) -> AppResult<CachedThrough> {
    Ok(business_date_and_cached_through(conn).await?.1)
}

/// The close of business finished day `next_day − 1`, `at`: the business date moves to `next_day`, and every open
/// loan the close left unwritten is cached as of it (the day's cooperative mark is done with).
pub async fn finish_close_day<C: ConnectionTrait>(
    conn: &C,
    next_day: NaiveDate,
    at: DateTime<Utc>,
) -> AppResult<()> {
    fund_state::ActiveModel {
        id: Set(STATE_ROW),
        business_date: Set(next_day),
        updated_at: Set(at),
        open_loans_cached_through: Set(Some(next_day)),
        cob_day: Set(None),
        cob_cooperatives_through: Set(None),
    }
    .update(conn)
    .await?;
    Ok(())
}

/// The close of day `day` has closed the open loans of every cooperative up to `through` (in the chunk's
/// transaction, whose unwritten rows this covers).
pub async fn mark_cooperatives_closed<C: ConnectionTrait>(
    conn: &C,
    day: NaiveDate,
    through: i64,
) -> AppResult<()> {
    fund_state::ActiveModel {
        id: Set(STATE_ROW),
        cob_day: Set(Some(day)),
        cob_cooperatives_through: Set(Some(through)),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Writes the as-of date the marks give onto every loan row they cover (only `balances_as_of`: `version` and
/// `updated_at` stay, as for the close's own mark of a row) and clears them, so that every loan's as-of date is
/// its row's again, as it reads through `ledger::effective_balances_as_of`. Rare (the business date set outside a
/// close, a close that finds another day's cooperative mark): it reads four columns of the open loans (by the
/// close's own condition, `cob::open_loans_condition`) and updates those whose date moves, by date, in batches
/// of ids bound through `loan_engine::ids_in`.
pub async fn settle_cached_through<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    use sea_orm::{sea_query::Expr, ColumnTrait, QueryFilter};

    use crate::{
        app::{
            ledger::{open_loan_balances_as_of, OpenLoanAsOf},
            loan_engine::{ids_in, LOAN_IDS_PER_QUERY_MAX},
        },
        store::entities::loan,
    };
    let marks = cached_through(conn).await?;
    if marks.is_empty() {
        return Ok(());
    }
    // Only the columns the as-of date depends on, of the loans the marks can cover: open ones with a date.
    let rows: Vec<(i64, i64, NaiveDate, bool)> = loan::Entity::find()
        .select_only()
        .columns([
            loan::Column::Id,
            loan::Column::CooperativeId,
            loan::Column::BalancesAsOf,
            loan::Column::BalancesCachedByCommand,
        ])
        .filter(loan::Column::BalancesAsOf.is_not_null())
        .filter(crate::app::cob::open_loans_condition())
        .into_tuple()
        .all(conn)
        .await?;
    let mut by_date: std::collections::BTreeMap<NaiveDate, Vec<i64>> = Default::default();
    for (id, cooperative_id, stored, cached_by_command) in rows {
        let loan = OpenLoanAsOf {
            cooperative_id,
            stored,
            cached_by_command,
        };
        let date = open_loan_balances_as_of(loan, &marks);
        if date != stored {
            by_date.entry(date).or_default().push(id);
        }
    }
    for (date, ids) in by_date {
        for batch in ids.chunks(LOAN_IDS_PER_QUERY_MAX) {
            loan::Entity::update_many()
                .col_expr(loan::Column::BalancesAsOf, Expr::value(Some(date)))
                .filter(ids_in(conn, loan::Column::Id, batch))
                .exec(conn)
                .await?;
        }
    }
    fund_state::ActiveModel {
        id: Set(STATE_ROW),
        open_loans_cached_through: Set(None),
        cob_day: Set(None),
        cob_cooperatives_through: Set(None),
        ..Default::default()
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
