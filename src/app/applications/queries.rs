//! Reading applications: one, or a page of them (a cooperative user sees only its own).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    application_one, applications_of, find_for, Application, ApplicationFilter, ApplicationPage,
    Policy,
};
use crate::{
    app::{context::AppCtx, cooperatives::paging, Caller},
    auth::Role,
    error::AppResult,
    store::entities::application,
};

/// One application; 404 for another cooperative's. Any logged-in user.
pub async fn get(ctx: &AppCtx, caller: &Caller, id: i64) -> AppResult<Application> {
    let (db, policy) = (&ctx.db, Policy::of(ctx));
    caller.require(&Role::ALL)?;
    let row = find_for(db, caller, id).await?;
    application_one(db, row, policy).await
}

/// Applications newest first, filtered by status and cooperative; a cooperative user sees only
/// its own.
pub async fn list(
    ctx: &AppCtx,
    caller: &Caller,
    filter: ApplicationFilter,
) -> AppResult<ApplicationPage> {
    let (db, policy) = (&ctx.db, Policy::of(ctx));
    caller.require(&Role::ALL)?;
    let (limit, cursor) = paging(filter.limit, filter.cursor.as_deref())?;
    let mut select = application::Entity::find().order_by_desc(application::Column::Id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(application::Column::CooperativeId.eq(own));
    }
    if let Some(cooperative_id) = filter.cooperative_id {
        select = select.filter(application::Column::CooperativeId.eq(cooperative_id));
    }
    if let Some(wanted) = filter.status {
        select = select.filter(application::Column::Status.eq(wanted.as_str()));
    }
    if let Some(cursor) = cursor {
        select = select.filter(application::Column::Id.lt(cursor));
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let items = applications_of(db, rows, policy).await?;
    let next_cursor = has_more
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(ApplicationPage { items, next_cursor })
}
