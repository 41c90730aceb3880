//! Borrowers: register, read, update and search cooperatives.
//!
//! Decree 45/2021 Art 20 lends to cooperatives, unions of cooperatives and members of a
//! cooperative located in the province, never to an enterprise: an `enterprise` kind is refused
//! with 422, a district outside the configured list likewise.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func},
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    audit::{self, Change},
    validate, Caller,
};
use crate::{
    auth::Role,
    config::FundSettings,
    error::{AppError, AppResult, ErrorKind, Lang, Localized, Reason},
    store::{
        self,
        entities::{cooperative, user},
    },
};

/// The kinds of borrower Decree 45 Art 20 allows.
pub const KINDS: [&str; 3] = ["cooperative", "union_of_cooperatives", "cooperative_member"];

/// A cooperative to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CooperativeInput {
    pub registration_code: String,
    pub name: String,
    /// `cooperative`, `union_of_cooperatives` or `cooperative_member`.
    pub kind: String,
    pub district: String,
    pub commune: String,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    /// `vi` (default) or `en`: the language of its emails.
    #[serde(default)]
    pub language: Option<String>,
    pub member_count: i64,
    pub charter_capital_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub founded_on: NaiveDate,
    /// Cooperatives in one group are related persons (Decree 45 Art 23, 25% limit).
    #[serde(default)]
    pub related_group: Option<String>,
    /// The officer who follows this borrower.
    #[serde(default)]
    pub officer_id: Option<i64>,
}

/// A partial update; `version` must be the one last read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CooperativePatch {
    pub version: i32,
    pub registration_code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
    pub address: Option<String>,
    pub legal_representative: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub member_count: Option<i64>,
    pub charter_capital_vnd: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub founded_on: Option<NaiveDate>,
    pub related_group: Option<String>,
    pub officer_id: Option<i64>,
}

/// A cooperative as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CooperativeView {
    pub id: i64,
    pub registration_code: String,
    pub name: String,
    pub kind: String,
    pub district: String,
    pub commune: String,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    pub language: Lang,
    pub member_count: i32,
    pub charter_capital_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub founded_on: NaiveDate,
    pub related_group: Option<String>,
    pub officer_id: Option<i64>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<cooperative::Model> for CooperativeView {
    fn from(m: cooperative::Model) -> Self {
        CooperativeView {
            id: m.id,
            language: Lang::parse(&m.language).unwrap_or_default(),
            registration_code: m.registration_code,
            name: m.name,
            kind: m.kind,
            district: m.district,
            commune: m.commune,
            address: m.address,
            legal_representative: m.legal_representative,
            phone: m.phone,
            email: m.email,
            member_count: m.member_count,
            charter_capital_vnd: m.charter_capital_vnd,
            founded_on: m.founded_on,
            related_group: m.related_group,
            officer_id: m.officer_id,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Search and paging for the list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CooperativeQuery {
    /// Part of the name or registration code.
    pub q: Option<String>,
    /// Exact district.
    pub district: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CooperativePage {
    pub items: Vec<CooperativeView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The fields after validation: what is stored.
struct Valid {
    registration_code: String,
    name: String,
    kind: String,
    district: String,
    commune: String,
    address: String,
    legal_representative: String,
    phone: String,
    email: String,
    language: Lang,
    member_count: i32,
    charter_capital_vnd: i64,
    founded_on: NaiveDate,
    related_group: Option<String>,
    officer_id: Option<i64>,
}

fn not_eligible() -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "borrower_not_eligible",
        Localized::new(
            "Quỹ chỉ cho vay hợp tác xã, liên hiệp hợp tác xã và thành viên hợp tác xã, không cho vay doanh nghiệp (Nghị định 45/2021 Điều 20).",
            "The fund lends only to cooperatives, unions of cooperatives and their members, never to an enterprise (Decree 45/2021 Art 20).",
        ),
    )
    .with_field("kind")
}

fn validate_input(
    input: CooperativeInput,
    fund: &FundSettings,
    today: NaiveDate,
) -> AppResult<Valid> {
    if input.kind == "enterprise" {
        return Err(not_eligible());
    }
    let kind = validate::one_of("kind", &input.kind, &KINDS)?.to_string();
    let district = validate::text("district", &input.district, 100)?;
    if !fund.districts.is_empty() && !fund.districts.contains(&district) {
        return Err(AppError::new(
            ErrorKind::Rule,
            "outside_province",
            Localized::new(
                format!(
                    "Địa bàn '{district}' không thuộc tỉnh {}; Quỹ chỉ cho vay trên địa bàn tỉnh.",
                    fund.province
                ),
                format!(
                    "'{district}' is not in {} province; the fund lends only within the province.",
                    fund.province
                ),
            ),
        )
        .with_field("district"));
    }
    if input.founded_on > today {
        return Err(AppError::invalid(
            "founded_on",
            Reason::OutOfRange {
                min: "1900-01-01".into(),
                max: today.to_string(),
            },
        ));
    }
    let member_count = validate::non_negative("member_count", input.member_count)?;
    let member_count = i32::try_from(member_count).map_err(|_| {
        AppError::invalid(
            "member_count",
            Reason::OutOfRange {
                min: "0".into(),
                max: i32::MAX.to_string(),
            },
        )
    })?;
    let language = match input.language.as_deref() {
        None => Lang::Vi,
        Some(code) => Lang::parse(code).ok_or_else(|| {
            AppError::invalid(
                "language",
                Reason::UnknownValue {
                    allowed: "vi, en".into(),
                },
            )
        })?,
    };
    let related_group = match input.related_group.as_deref().map(str::trim) {
        Some(group) if !group.is_empty() => Some(validate::text("related_group", group, 100)?),
        _ => None,
    };
    Ok(Valid {
        registration_code: validate::text("registration_code", &input.registration_code, 50)?,
        name: validate::text("name", &input.name, 200)?,
        kind,
        district,
        commune: validate::text("commune", &input.commune, 100)?,
        address: validate::text("address", &input.address, 300)?,
        legal_representative: validate::text(
            "legal_representative",
            &input.legal_representative,
            200,
        )?,
        phone: validate::phone("phone", &input.phone)?,
        email: validate::email("email", &input.email)?,
        language,
        member_count,
        charter_capital_vnd: validate::non_negative(
            "charter_capital_vnd",
            input.charter_capital_vnd,
        )?,
        founded_on: input.founded_on,
        related_group,
        officer_id: input.officer_id,
    })
}

async fn check_officer<C: sea_orm::ConnectionTrait>(
    conn: &C,
    officer_id: Option<i64>,
) -> AppResult<()> {
    let Some(id) = officer_id else { return Ok(()) };
    let officer = user::Entity::find_by_id(id).one(conn).await?;
    match officer {
        Some(u) if u.role == Role::Officer.as_str() && !u.disabled => Ok(()),
        _ => Err(AppError::invalid(
            "officer_id",
            Reason::UnknownValue {
                allowed: "the id of an active officer".into(),
            },
        )),
    }
}

fn unique_code_conflict(err: sea_orm::DbErr) -> AppError {
    if store::is_unique_violation(&err) {
        AppError::duplicate("registration_code")
    } else {
        err.into()
    }
}

/// Registers a cooperative. Admins and officers.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    fund: &FundSettings,
    today: NaiveDate,
    input: CooperativeInput,
) -> AppResult<CooperativeView> {
    caller.require(&[Role::Admin, Role::Officer])?;
    let valid = validate_input(input, fund, today)?;
    let txn = db.begin().await?;
    check_officer(&txn, valid.officer_id).await?;
    let now = Utc::now();
    let created = cooperative::ActiveModel {
        registration_code: Set(valid.registration_code),
        name: Set(valid.name),
        kind: Set(valid.kind),
        district: Set(valid.district),
        commune: Set(valid.commune),
        address: Set(valid.address),
        legal_representative: Set(valid.legal_representative),
        phone: Set(valid.phone),
        email: Set(valid.email),
        language: Set(valid.language.code().to_string()),
        member_count: Set(valid.member_count),
        charter_capital_vnd: Set(valid.charter_capital_vnd),
        founded_on: Set(valid.founded_on),
        related_group: Set(valid.related_group),
        officer_id: Set(valid.officer_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(unique_code_conflict)?;
    let view = CooperativeView::from(created);
    audit::record(
        &txn,
        caller,
        Change::<(), _> {
            action: "cooperative.create",
            entity_type: "cooperative",
            entity_id: view.id.to_string(),
            before: None,
            after: Some(&view),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// One cooperative; 404 for a cooperative user asking for another's.
pub async fn get(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<CooperativeView> {
    caller.require(&Role::ALL)?;
    if !caller.may_see_cooperative(id) {
        return Err(AppError::not_found("hợp tác xã", "Cooperative"));
    }
    cooperative::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(CooperativeView::from)
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))
}

/// Updates some fields of a cooperative if `version` is still current. Admins and officers.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    fund: &FundSettings,
    today: NaiveDate,
    id: i64,
    patch: CooperativePatch,
) -> AppResult<CooperativeView> {
    caller.require(&[Role::Admin, Role::Officer])?;
    let txn = db.begin().await?;
    let current = cooperative::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    if current.version != patch.version {
        return Err(AppError::stale_version());
    }
    let merged = CooperativeInput {
        registration_code: patch
            .registration_code
            .unwrap_or_else(|| current.registration_code.clone()),
        name: patch.name.unwrap_or_else(|| current.name.clone()),
        kind: patch.kind.unwrap_or_else(|| current.kind.clone()),
        district: patch.district.unwrap_or_else(|| current.district.clone()),
        commune: patch.commune.unwrap_or_else(|| current.commune.clone()),
        address: patch.address.unwrap_or_else(|| current.address.clone()),
        legal_representative: patch
            .legal_representative
            .unwrap_or_else(|| current.legal_representative.clone()),
        phone: patch.phone.unwrap_or_else(|| current.phone.clone()),
        email: patch.email.unwrap_or_else(|| current.email.clone()),
        language: patch.language.or_else(|| Some(current.language.clone())),
        member_count: patch
            .member_count
            .unwrap_or(i64::from(current.member_count)),
        charter_capital_vnd: patch
            .charter_capital_vnd
            .unwrap_or(current.charter_capital_vnd),
        founded_on: patch.founded_on.unwrap_or(current.founded_on),
        related_group: patch
            .related_group
            .or_else(|| current.related_group.clone()),
        officer_id: patch.officer_id.or(current.officer_id),
    };
    let valid = validate_input(merged, fund, today)?;
    check_officer(&txn, valid.officer_id).await?;
    let mut active = current.clone().into_active_model();
    active.registration_code = Set(valid.registration_code);
    active.name = Set(valid.name);
    active.kind = Set(valid.kind);
    active.district = Set(valid.district);
    active.commune = Set(valid.commune);
    active.address = Set(valid.address);
    active.legal_representative = Set(valid.legal_representative);
    active.phone = Set(valid.phone);
    active.email = Set(valid.email);
    active.language = Set(valid.language.code().to_string());
    active.member_count = Set(valid.member_count);
    active.charter_capital_vnd = Set(valid.charter_capital_vnd);
    active.founded_on = Set(valid.founded_on);
    active.related_group = Set(valid.related_group);
    active.officer_id = Set(valid.officer_id);
    active.version = Set(current.version + 1);
    active.updated_at = Set(Utc::now());
    // The version in the WHERE clause makes a concurrent update lose cleanly instead of
    // overwriting: zero rows updated means someone else got there first.
    let result = cooperative::Entity::update_many()
        .set(active)
        .filter(cooperative::Column::Id.eq(id))
        .filter(cooperative::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(unique_code_conflict)?;
    if result.rows_affected != 1 {
        return Err(AppError::stale_version());
    }
    let after = cooperative::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    let (before, after) = (CooperativeView::from(current), CooperativeView::from(after));
    audit::record(
        &txn,
        caller,
        Change {
            action: "cooperative.update",
            entity_type: "cooperative",
            entity_id: id.to_string(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Parses a page-size and cursor pair.
///
/// Deprecated: use [`crate::app::page::PageRequest::parse`] (kept while every list moves to it).
pub fn paging(limit: Option<u64>, cursor: Option<&str>) -> AppResult<(u64, Option<i64>)> {
    let page = super::page::PageRequest::parse(limit, cursor)?;
    Ok((page.limit, page.before_id))
}

/// Lists cooperatives newest first, with search; a cooperative user sees only itself.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    query: CooperativeQuery,
) -> AppResult<CooperativePage> {
    caller.require(&Role::ALL)?;
    let (limit, cursor) = paging(query.limit, query.cursor.as_deref())?;
    let mut select = cooperative::Entity::find().order_by_desc(cooperative::Column::Id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(cooperative::Column::Id.eq(own));
    }
    if let Some(cursor) = cursor {
        select = select.filter(cooperative::Column::Id.lt(cursor));
    }
    if let Some(district) = query.district.as_deref().filter(|d| !d.trim().is_empty()) {
        select = select.filter(cooperative::Column::District.eq(district.trim()));
    }
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        select = select.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(cooperative::Column::Name)))
                        .like(pattern.clone()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(
                        cooperative::Column::RegistrationCode,
                    )))
                    .like(pattern),
                ),
        );
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let items: Vec<CooperativeView> = rows
        .into_iter()
        .take(limit as usize)
        .map(CooperativeView::from)
        .collect();
    let next_cursor = has_more
        .then(|| items.last().map(|c| c.id.to_string()))
        .flatten();
    Ok(CooperativePage { items, next_cursor })
}
