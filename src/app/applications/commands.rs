//! The writes before approval: create and edit a draft, submit, appraise, reject, withdraw.
//! Each checks the caller's role first (403), loads the application the caller may see (404),
//! asks the domain's life cycle where the action leads (409 otherwise), and stores the change with
//! its audit record (and mail) in one transaction.

use chrono::NaiveDate;
use coopfund_domain::{
    application::Action,
    ids::{ApplicationId, CooperativeId},
    CooperativeKind, Method, ScheduleTerms, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, Set, TransactionTrait,
};
use serde::Serialize;

use super::{
    application_one, find_for, load_cooperative, load_product, move_to, not_found, permit,
    Application, ApplicationChanges, Appraisal, NewApplication, NewCollateral, Policy, Status,
};
use crate::{
    app::{
        audit::{self, Change},
        context::AppCtx,
        event_mail, fund,
        products::{self, split_list},
        validate, Caller,
    },
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::{application, collateral_item, cooperative, product},
};

const MAX_COLLATERAL_ITEMS: usize = 50;
const MAX_DOCUMENTS: usize = 50;

/// What the audit trail keeps for a transition.
#[derive(Serialize)]
struct Transition<'a> {
    from: Status,
    to: Status,
    reason: Option<&'a str>,
    application: &'a Application,
}

// ---------------------------------------------------------------------------------------------
// Validation

/// The fields after validation, as stored.
struct Valid {
    product_id: i64,
    amount_vnd: i64,
    installments: i32,
    period_months: i32,
    method: Method,
    principal_grace: i32,
    purpose: String,
    project_total_vnd: i64,
    own_capital_vnd: i64,
    collateral: Vec<collateral_item::ActiveModel>,
    no_bad_debt_declared: bool,
    documents: String,
}

fn validate_collateral(items: &[NewCollateral]) -> AppResult<Vec<collateral_item::ActiveModel>> {
    if items.len() > MAX_COLLATERAL_ITEMS {
        return Err(AppError::invalid(
            "collateral",
            Reason::OutOfRange {
                min: "0".into(),
                max: MAX_COLLATERAL_ITEMS.to_string(),
            },
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| format!("collateral[{i}].{name}");
            let discount = item.discount_rate_percent;
            if discount < Decimal::ZERO || discount > Decimal::ONE_HUNDRED {
                return Err(AppError::invalid(
                    field("discount_rate_percent"),
                    Reason::OutOfRange {
                        min: "0".into(),
                        max: "100".into(),
                    },
                ));
            }
            Ok(collateral_item::ActiveModel {
                kind: Set(validate::text(&field("kind"), &item.kind, 40)?),
                description: Set(validate::text(
                    &field("description"),
                    &item.description,
                    2000,
                )?),
                appraised_value_vnd: Set(validate::in_range(
                    &field("appraised_value_vnd"),
                    item.appraised_value_vnd,
                    0,
                    coopfund_domain::Vnd::MAX_INPUT,
                )?),
                discount_rate_percent: Set(discount.normalize().into()),
                ..Default::default()
            })
        })
        .collect()
}

fn validate_documents(documents: &[String]) -> AppResult<String> {
    if documents.len() > MAX_DOCUMENTS {
        return Err(AppError::invalid(
            "documents",
            Reason::OutOfRange {
                min: "0".into(),
                max: MAX_DOCUMENTS.to_string(),
            },
        ));
    }
    let cleaned = documents
        .iter()
        .enumerate()
        .map(|(i, d)| validate::text(&format!("documents[{i}]"), d, 300))
        .collect::<AppResult<Vec<String>>>()?;
    serde_json::to_string(&cleaned).map_err(AppError::internal)
}

/// Shapes and ranges that do not depend on the product.
fn validate_shape(input: &NewApplication) -> AppResult<Valid> {
    let max_vnd = coopfund_domain::Vnd::MAX_INPUT;
    let project_total_vnd =
        validate::in_range("project_total_vnd", input.project_total_vnd, 1, max_vnd)?;
    Ok(Valid {
        product_id: input.product_id.get(),
        amount_vnd: validate::in_range("amount_vnd", input.amount_vnd, 1, max_vnd)?,
        installments: validate::small_in_range(
            "installments",
            input.installments,
            1,
            i64::from(coopfund_domain::schedule::MAX_INSTALLMENTS),
        )?,
        period_months: validate::small_in_range("period_months", input.period_months, 1, 12)?,
        method: input.method,
        principal_grace: validate::small_in_range(
            "principal_grace",
            input.principal_grace.unwrap_or(0),
            0,
            i64::from(coopfund_domain::schedule::MAX_INSTALLMENTS),
        )?,
        purpose: validate::text("purpose", &input.purpose, 2000)?,
        project_total_vnd,
        own_capital_vnd: validate::in_range(
            "own_capital_vnd",
            input.own_capital_vnd,
            0,
            project_total_vnd,
        )?,
        collateral: validate_collateral(&input.collateral)?,
        no_bad_debt_declared: input.no_bad_debt_declared,
        documents: validate_documents(&input.documents)?,
    })
}

/// The request must be something the product offers (400 naming the field), and terms the
/// engine can schedule.
fn check_against_product(
    valid: &Valid,
    product: &product::Model,
    business_date: NaiveDate,
) -> AppResult<()> {
    if !product.active {
        return Err(AppError::new(
            ErrorKind::Rule,
            "product_inactive",
            Localized::new(
                format!("Sản phẩm cho vay {} đã ngừng áp dụng.", product.code),
                format!("Loan product {} is no longer offered.", product.code),
            ),
        )
        .with_field("product_id"));
    }
    let methods = split_list(&product.methods);
    let allowed: Vec<&str> = methods.iter().map(String::as_str).collect();
    validate::one_of("method", valid.method.as_str(), &allowed)?;
    let periods = split_list(&product.period_months);
    let allowed: Vec<&str> = periods.iter().map(String::as_str).collect();
    validate::one_of("period_months", &valid.period_months.to_string(), &allowed)?;
    validate::in_range(
        "amount_vnd",
        valid.amount_vnd,
        product.min_amount_vnd,
        product.max_amount_vnd,
    )?;
    validate::in_range(
        "installments",
        i64::from(valid.installments),
        i64::from(product.min_installments),
        i64::from(product.max_installments),
    )?;
    validate::in_range(
        "principal_grace",
        i64::from(valid.principal_grace),
        0,
        i64::from(product.max_principal_grace),
    )?;
    engine_terms(valid, product, business_date)?
        .validate()
        .map_err(|err| {
            let field = if err.field() == "principal_vnd" {
                "amount_vnd"
            } else {
                err.field()
            };
            AppError::new(
                ErrorKind::BadRequest,
                err.code(),
                Localized::new(
                    format!("Điều kiện vay không hợp lệ: {err}."),
                    format!("The terms are invalid: {err}."),
                ),
            )
            .with_field(field)
        })
}

/// The terms as the engine sees them, disbursed on the business date (a placeholder: the real
/// date is the first disbursement's).
fn engine_terms(
    valid: &Valid,
    product: &product::Model,
    business_date: NaiveDate,
) -> AppResult<ScheduleTerms> {
    // The counts were checked against their ranges (at least 0, at most 360) above.
    let count = |value: i32| u32::try_from(value).map_err(AppError::internal);
    let mut terms = ScheduleTerms::new(
        Vnd::from_i64(valid.amount_vnd),
        products::rates_of(product).rate_percent,
        business_date,
        count(valid.installments)?,
        count(valid.period_months)?,
        valid.method,
    );
    terms.principal_grace = count(valid.principal_grace)?;
    terms.day_count = products::day_count_of(product)?;
    terms.installment_unit = Vnd::from_i64(product.installment_unit_vnd);
    Ok(terms)
}

/// Decree 45/2021 Art 20: never an enterprise (already refused at registration; re-checked).
pub(super) fn is_eligible(coop: &cooperative::Model) -> bool {
    coop.kind.parse::<CooperativeKind>().is_ok()
}

pub(super) fn not_eligible() -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "borrower_not_eligible",
        Localized::new(
            "Quỹ chỉ cho vay hợp tác xã, liên hiệp hợp tác xã và thành viên hợp tác xã (Nghị định 45/2021 Điều 20).",
            "The fund lends only to cooperatives, unions of cooperatives and their members (Decree 45/2021 Art 20).",
        ),
    )
}

async fn insert_collateral<C: ConnectionTrait>(
    conn: &C,
    application_id: i64,
    items: Vec<collateral_item::ActiveModel>,
) -> AppResult<()> {
    for mut item in items {
        item.application_id = Set(application_id);
        item.insert(conn).await?;
    }
    Ok(())
}

/// A placeholder unique number, replaced in the same transaction once the row id is known.
pub(super) fn provisional_number() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("tmp-{}", &id[..26])
}

/// Creates a draft. Officers (any cooperative) and cooperative users (their own).
#[tracing::instrument(name = "create an application", skip_all, fields(product_id = input.product_id.get()))]
pub async fn create(
    ctx: &AppCtx,
    caller: &Caller,
    input: NewApplication,
) -> AppResult<Application> {
    let policy = Policy::of(ctx);
    permit(caller, Action::Edit)?;
    let cooperative_id = match caller.own_cooperative() {
        Some(own) => own,
        None => input
            .cooperative_id
            .map(CooperativeId::get)
            .ok_or_else(|| AppError::invalid("cooperative_id", Reason::Required))?,
    };
    let valid = validate_shape(&input)?;
    let txn = ctx.db.begin().await?;
    let coop = load_cooperative(&txn, cooperative_id).await?;
    if !is_eligible(&coop) {
        return Err(not_eligible());
    }
    let product = load_product(&txn, valid.product_id).await?;
    let business_date = fund::business_date(&txn).await?;
    check_against_product(&valid, &product, business_date)?;
    let now = ctx.now();
    let inserted = application::ActiveModel {
        number: Set(provisional_number()),
        cooperative_id: Set(cooperative_id),
        product_id: Set(valid.product_id),
        amount_vnd: Set(valid.amount_vnd),
        installments: Set(valid.installments),
        period_months: Set(valid.period_months),
        method: Set(valid.method.as_str().into()),
        principal_grace: Set(valid.principal_grace),
        purpose: Set(valid.purpose),
        project_total_vnd: Set(valid.project_total_vnd),
        own_capital_vnd: Set(valid.own_capital_vnd),
        no_bad_debt_declared: Set(valid.no_bad_debt_declared),
        documents: Set(valid.documents),
        status: Set(Status::Draft.as_str().into()),
        created_by: Set(caller.user_id()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut numbered = inserted.clone().into_active_model();
    numbered.number = Set(format!(
        "DN-{}-{:06}",
        business_date.format("%Y"),
        inserted.id
    ));
    let created = numbered.update(&txn).await?;
    insert_collateral(&txn, created.id, valid.collateral).await?;
    let view = application_one(&txn, created, policy).await?;
    audit::created(&txn, ctx, caller, "application.create", &view).await?;
    txn.commit().await?;
    Ok(view)
}

/// The application `changes` would leave: each field changed or as it is.
fn merge(current: &Application, changes: ApplicationChanges) -> NewApplication {
    let collateral = || {
        current
            .collateral
            .iter()
            .map(|c| NewCollateral {
                kind: c.kind.clone(),
                description: c.description.clone(),
                appraised_value_vnd: c.appraised_value_vnd,
                discount_rate_percent: c.discount_rate_percent,
            })
            .collect()
    };
    NewApplication {
        product_id: changes.product_id.unwrap_or(current.product_id),
        cooperative_id: Some(current.cooperative_id),
        amount_vnd: changes.amount_vnd.unwrap_or(current.amount_vnd),
        installments: changes
            .installments
            .unwrap_or(i64::from(current.installments)),
        period_months: changes
            .period_months
            .unwrap_or(i64::from(current.period_months)),
        method: changes.method.unwrap_or(current.method),
        principal_grace: Some(
            changes
                .principal_grace
                .unwrap_or(i64::from(current.principal_grace)),
        ),
        purpose: changes.purpose.unwrap_or_else(|| current.purpose.clone()),
        project_total_vnd: changes
            .project_total_vnd
            .unwrap_or(current.project_total_vnd),
        own_capital_vnd: changes.own_capital_vnd.unwrap_or(current.own_capital_vnd),
        collateral: changes.collateral.unwrap_or_else(collateral),
        no_bad_debt_declared: changes
            .no_bad_debt_declared
            .unwrap_or(current.no_bad_debt_declared),
        documents: changes
            .documents
            .unwrap_or_else(|| current.documents.clone()),
    }
}

/// Edits a draft (creator's cooperative or an officer) if `version` is still current.
#[tracing::instrument(name = "edit an application", skip_all, fields(application_id = id.get()))]
pub async fn update(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    changes: ApplicationChanges,
) -> AppResult<Application> {
    let policy = Policy::of(ctx);
    permit(caller, Action::Edit)?;
    let txn = ctx.db.begin().await?;
    let current = find_for(&txn, caller, id).await?;
    move_to(caller, &current, Action::Edit)?;
    if current.version != changes.version {
        return Err(AppError::stale_version());
    }
    let before = application_one(&txn, current.clone(), policy).await?;
    let replaces_collateral = changes.collateral.is_some();
    let valid = validate_shape(&merge(&before, changes))?;
    let product = load_product(&txn, valid.product_id).await?;
    check_against_product(&valid, &product, fund::business_date(&txn).await?)?;
    let mut active = current.clone().into_active_model();
    active.product_id = Set(valid.product_id);
    active.amount_vnd = Set(valid.amount_vnd);
    active.installments = Set(valid.installments);
    active.period_months = Set(valid.period_months);
    active.method = Set(valid.method.as_str().into());
    active.principal_grace = Set(valid.principal_grace);
    active.purpose = Set(valid.purpose);
    active.project_total_vnd = Set(valid.project_total_vnd);
    active.own_capital_vnd = Set(valid.own_capital_vnd);
    active.no_bad_debt_declared = Set(valid.no_bad_debt_declared);
    active.documents = Set(valid.documents);
    let updated = store_versioned(&txn, ctx, &current, active).await?;
    if replaces_collateral {
        collateral_item::Entity::delete_many()
            .filter(collateral_item::Column::ApplicationId.eq(id.get()))
            .exec(&txn)
            .await?;
        insert_collateral(&txn, id.get(), valid.collateral).await?;
    }
    let after = application_one(&txn, updated, policy).await?;
    audit::changed(&txn, ctx, caller, "application.update", &before, &after).await?;
    txn.commit().await?;
    Ok(after)
}

/// Writes `active` only if the row still has `current.version` (a concurrent change loses
/// cleanly with 409), bumping the version.
async fn store_versioned(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    current: &application::Model,
    mut active: application::ActiveModel,
) -> AppResult<application::Model> {
    active.version = Set(current.version + 1);
    active.updated_at = Set(ctx.now());
    let result = application::Entity::update_many()
        .set(active)
        .filter(application::Column::Id.eq(current.id))
        .filter(application::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::stale_version());
    }
    application::Entity::find_by_id(current.id)
        .one(txn)
        .await?
        .ok_or_else(not_found)
}

/// A transition as the audit trail names it.
struct Move<'a> {
    action: Action,
    /// The audit action, e.g. `application.submit`.
    audited_as: &'static str,
    reason: Option<&'a str>,
}

/// One transition: loads the caller's application, asks the rules where `step.action` leads,
/// lets `record` fill in what the transition records, and stores it with its audit record (from,
/// to, reason) in `txn`. Returns the row as it was and the application as it is now.
async fn transit(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    step: Move<'_>,
    record: impl FnOnce(&mut application::ActiveModel),
) -> AppResult<(application::Model, Application)> {
    let current = find_for(txn, caller, id).await?;
    let to = move_to(caller, &current, step.action)?;
    let mut active = current.clone().into_active_model();
    active.status = Set(to.as_str().into());
    record(&mut active);
    let after = record_transition(
        txn,
        ctx,
        caller,
        &current,
        active,
        step.audited_as,
        step.reason,
    )
    .await?;
    Ok((current, after))
}

/// Stores a state change and its audit record (from, to, reason).
pub(super) async fn record_transition(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    current: &application::Model,
    active: application::ActiveModel,
    action: &str,
    reason: Option<&str>,
) -> AppResult<Application> {
    let policy = Policy::of(ctx);
    let before = application_one(txn, current.clone(), policy).await?;
    let updated = store_versioned(txn, ctx, current, active).await?;
    let after = application_one(txn, updated, policy).await?;
    let transition = Transition {
        from: before.status,
        to: after.status,
        reason,
        application: &after,
    };
    audit::record_at(
        txn,
        caller,
        ctx.now(),
        Change {
            action,
            entity_type: "application",
            entity_id: current.id.to_string(),
            before: Some(&before),
            after: Some(&transition),
        },
    )
    .await?;
    Ok(after)
}

/// A reason given (trimmed, bounded), or none when blank.
pub(super) fn optional_reason(reason: Option<&str>) -> AppResult<Option<String>> {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => Ok(Some(validate::text("reason", reason, 2000)?)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Transitions

/// draft → submitted. Officers or the borrowing cooperative.
#[tracing::instrument(name = "submit an application", skip_all, fields(application_id = id.get()))]
pub async fn submit(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    reason: Option<String>,
) -> AppResult<Application> {
    permit(caller, Action::Submit)?;
    let reason = optional_reason(reason.as_deref())?;
    let txn = ctx.db.begin().await?;
    let step = Move {
        action: Action::Submit,
        audited_as: "application.submit",
        reason: reason.as_deref(),
    };
    let (current, after) = transit(&txn, ctx, caller, id, step, |active| {
        active.submitted_at = Set(Some(ctx.now()));
    })
    .await?;
    // DOMAIN.md §10: the cooperative hears that the fund registered its application.
    let received_on = fund::business_date(&txn).await?;
    event_mail::application_received(&txn, &ctx.settings, &current, received_on).await?;
    txn.commit().await?;
    Ok(after)
}

/// submitted (or in_appraisal) → appraised, recording the appraiser, note and recommendation.
/// Officers.
#[tracing::instrument(name = "appraise an application", skip_all, fields(application_id = id.get()))]
pub async fn appraise(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    appraisal: Appraisal,
) -> AppResult<Application> {
    permit(caller, Action::Appraise)?;
    let note = validate::text("note", &appraisal.note, 5000)?;
    let recommendation = appraisal.recommendation.as_str();
    let reason = format!("{recommendation}: {note}");
    let txn = ctx.db.begin().await?;
    let step = Move {
        action: Action::Appraise,
        audited_as: "application.appraise",
        reason: Some(&reason),
    };
    let (_, after) = transit(&txn, ctx, caller, id, step, |active| {
        active.appraised_by = Set(caller.user_id());
        active.appraisal_note = Set(Some(note));
        active.appraisal_recommendation = Set(Some(recommendation.into()));
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// appraised | awaiting_council → rejected, with a reason. Approvers.
#[tracing::instrument(name = "reject an application", skip_all, fields(application_id = id.get()))]
pub async fn reject(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    reason: Option<String>,
) -> AppResult<Application> {
    permit(caller, Action::Reject)?;
    let reason = optional_reason(reason.as_deref())?
        .ok_or_else(|| AppError::invalid("reason", Reason::Required))?;
    let txn = ctx.db.begin().await?;
    let step = Move {
        action: Action::Reject,
        audited_as: "application.reject",
        reason: Some(&reason),
    };
    let (current, after) = transit(&txn, ctx, caller, id, step, |active| {
        active.decision_reason = Set(Some(reason.clone()));
        active.decided_at = Set(Some(ctx.now()));
    })
    .await?;
    let decided_on = fund::business_date(&txn).await?;
    event_mail::application_rejected(&txn, &ctx.settings, &current, &reason, decided_on).await?;
    txn.commit().await?;
    Ok(after)
}

/// Any open state → withdrawn. Officers or the borrowing cooperative.
#[tracing::instrument(name = "withdraw an application", skip_all, fields(application_id = id.get()))]
pub async fn withdraw(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    reason: Option<String>,
) -> AppResult<Application> {
    permit(caller, Action::Withdraw)?;
    let reason = optional_reason(reason.as_deref())?;
    let txn = ctx.db.begin().await?;
    let step = Move {
        action: Action::Withdraw,
        audited_as: "application.withdraw",
        reason: reason.as_deref(),
    };
    let (_, after) = transit(&txn, ctx, caller, id, step, |active| {
        active.decided_at = Set(Some(ctx.now()));
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}
