//! Reading applications: one, or a page of them (a cooperative user sees only its own).

use coopfund_domain::ids::ApplicationId;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

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
    store::entities::{application, user},
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
    if let Some(user_id) = filter.involving_user {
        select = select.filter(
            Condition::any()
                .add(application::Column::CreatedBy.eq(user_id))
                .add(application::Column::AppraisedBy.eq(user_id)),
        );
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

/// The names of the people an application names (creator, appraiser, approvers), by user id, for
/// its four-eyes status. The fund's staff only (a cooperative does not learn who decided inside
/// the fund); 404 for an application the caller may not see.
pub async fn people(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
) -> AppResult<std::collections::HashMap<i64, String>> {
    caller.require(&Role::STAFF)?;
    let row = find_for(&ctx.db, caller, id).await?;
    let ids: Vec<i64> = [
        row.created_by,
        row.appraised_by,
        row.approved_by,
        row.council_approved_by,
    ]
    .into_iter()
    .flatten()
    .collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(&ctx.db)
        .await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let name = if u.full_name.trim().is_empty() {
                u.username
            } else {
                format!("{} ({})", u.full_name, u.username)
            };
            (u.id, name)
        })
        .collect())
}
