//! Reading applications: one, or a page of them (a cooperative user sees only its own).

use coopfund_domain::ids::ApplicationId;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    application_one, applications_of, find_for, Application, ApplicationFilter, ApplicationPage,
    Policy,
};
use crate::{
    app::{
        context::AppCtx,
        page::{paginate, PageRequest},
        Caller,
    },
    auth::Role,
    error::AppResult,
    store::entities::application,
};

/// One application; 404 for another cooperative's. Any logged-in user.
#[tracing::instrument(name = "read an application", skip_all, fields(application_id = id.get()))]
pub async fn get(ctx: &AppCtx, caller: &Caller, id: ApplicationId) -> AppResult<Application> {
    let (db, policy) = (&ctx.db, Policy::of(ctx));
    caller.require(&Role::ALL)?;
    let row = find_for(db, caller, id).await?;
    application_one(db, row, policy).await
}

/// Applications newest first, filtered by status and cooperative; a cooperative user sees only
/// its own.
#[tracing::instrument(name = "list applications", skip_all)]
pub async fn list(
    ctx: &AppCtx,
    caller: &Caller,
    filter: ApplicationFilter,
) -> AppResult<ApplicationPage> {
    let (db, policy) = (&ctx.db, Policy::of(ctx));
    caller.require(&Role::ALL)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut select = page.apply(application::Entity::find(), application::Column::Id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(application::Column::CooperativeId.eq(own));
    }
    if let Some(cooperative_id) = filter.cooperative_id {
        select = select.filter(application::Column::CooperativeId.eq(cooperative_id.get()));
    }
    if let Some(wanted) = filter.status {
        select = select.filter(application::Column::Status.eq(wanted.as_str()));
    }
    let rows = paginate(select.all(db).await?, &page, |row| row.id);
    let items = applications_of(db, rows.items, policy).await?;
    Ok(ApplicationPage {
        items,
        next_cursor: rows.next_cursor,
    })
}
