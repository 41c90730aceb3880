//! Borrowers: register, read, update and search cooperatives.
//!
//! Decree 45/2021 Art 20 lends to cooperatives, unions of cooperatives and members of a
//! cooperative located in the province, never to an enterprise: an `enterprise` kind is refused
//! with 422, a district outside the configured list likewise.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    ids::{CooperativeId, UserId},
    CooperativeKind, KindRefusal,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func},
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
    TransactionTrait,
};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::AppCtx,
    page::{paginate, Page, PageRequest},
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

/// Where a cooperative is: its district (one of the province's, Decree 45/2021 Art 20), commune
/// and street address. Serialized inline (`district`, `commune`, `address` beside the other fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub district: String,
    pub commune: String,
    pub address: String,
}

/// Who answers for a cooperative and how the fund reaches it: its legal representative, phone,
/// email and the language of its emails. Serialized inline, like [`Location`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    /// The language of its emails.
    pub language: Lang,
}

/// A cooperative to register (parsed from the API's body by `crate::http::dto::cooperatives`).
#[derive(Debug, Clone)]
pub struct NewCooperative {
    pub registration_code: String,
    pub name: String,
    /// A [`CooperativeKind`] as typed (checked here: `enterprise` is a 422, anything else unknown a 400).
    pub kind: String,
    pub location: Location,
    pub contact: Contact,
    pub member_count: i64,
    pub charter_capital_vnd: i64,
    pub founded_on: NaiveDate,
    /// Cooperatives in one group are related persons (Decree 45 Art 23, 25% limit).
    pub related_group: Option<String>,
    /// The officer who follows this borrower.
    pub officer_id: Option<UserId>,
}

/// A change of some parts of a [`Location`]; an absent part keeps its value.
#[derive(Debug, Clone, Default)]
pub struct LocationChange {
    pub district: Option<String>,
    pub commune: Option<String>,
    pub address: Option<String>,
}

impl LocationChange {
    /// The location `before` with the parts this change names replaced.
    fn over(self, before: &Location) -> Location {
        Location {
            district: self.district.unwrap_or_else(|| before.district.clone()),
            commune: self.commune.unwrap_or_else(|| before.commune.clone()),
            address: self.address.unwrap_or_else(|| before.address.clone()),
        }
    }
}

impl From<Location> for LocationChange {
    /// Every part replaced (a form that edits the whole record).
    fn from(whole: Location) -> Self {
        LocationChange {
            district: Some(whole.district),
            commune: Some(whole.commune),
            address: Some(whole.address),
        }
    }
}

/// A change of some parts of a [`Contact`]; an absent part keeps its value.
#[derive(Debug, Clone, Default)]
pub struct ContactChange {
    pub legal_representative: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<Lang>,
}

impl ContactChange {
    /// The contact `before` with the parts this change names replaced.
    fn over(self, before: &Contact) -> Contact {
        Contact {
            legal_representative: self
                .legal_representative
                .unwrap_or_else(|| before.legal_representative.clone()),
            phone: self.phone.unwrap_or_else(|| before.phone.clone()),
            email: self.email.unwrap_or_else(|| before.email.clone()),
            language: self.language.unwrap_or(before.language),
        }
    }
}

impl From<Contact> for ContactChange {
    /// Every part replaced (a form that edits the whole record).
    fn from(whole: Contact) -> Self {
        ContactChange {
            legal_representative: Some(whole.legal_representative),
            phone: Some(whole.phone),
            email: Some(whole.email),
            language: Some(whole.language),
        }
    }
}

/// A partial update; `version` must be the one last read. An absent field keeps its value.
#[derive(Debug, Clone, Default)]
pub struct CooperativeChange {
    pub version: i32,
    pub registration_code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub location: LocationChange,
    pub contact: ContactChange,
    pub member_count: Option<i64>,
    pub charter_capital_vnd: Option<i64>,
    pub founded_on: Option<NaiveDate>,
    pub related_group: Option<String>,
    pub officer_id: Option<UserId>,
}

/// A cooperative as the use cases return it; serialized as the audit trail's before and after
/// (its location and contact inline, so the trail reads as the flat columns).
#[derive(Debug, Clone, Serialize)]
pub struct Cooperative {
    pub id: CooperativeId,
    pub registration_code: String,
    pub name: String,
    pub kind: CooperativeKind,
    #[serde(flatten)]
    pub location: Location,
    #[serde(flatten)]
    pub contact: Contact,
    pub member_count: i32,
    pub charter_capital_vnd: i64,
    pub founded_on: NaiveDate,
    pub related_group: Option<String>,
    pub officer_id: Option<UserId>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Audited for Cooperative {
    const ENTITY_TYPE: &'static str = "cooperative";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

impl TryFrom<cooperative::Model> for Cooperative {
    type Error = AppError;

    /// A stored language that cannot be read is an error naming the cooperative.
    fn try_from(m: cooperative::Model) -> AppResult<Self> {
        let language = Lang::parse(&m.language)
            .ok_or_else(|| AppError::unreadable("cooperative", m.id, "language", &m.language))?;
        Ok(Cooperative {
            id: CooperativeId::new(m.id),
            registration_code: m.registration_code,
            name: m.name,
            kind: m
                .kind
                .parse()
                .map_err(|_| AppError::unreadable("cooperative", m.id, "kind", &m.kind))?,
            location: Location {
                district: m.district,
                commune: m.commune,
                address: m.address,
            },
            contact: Contact {
                legal_representative: m.legal_representative,
                phone: m.phone,
                email: m.email,
                language,
            },
            member_count: m.member_count,
            charter_capital_vnd: m.charter_capital_vnd,
            founded_on: m.founded_on,
            related_group: m.related_group,
            officer_id: m.officer_id.map(UserId::new),
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// Search of the list: part of the name or registration code, an exact district, and the page.
#[derive(Debug, Clone)]
pub struct CooperativeFilter {
    /// Part of the name or registration code.
    pub q: Option<String>,
    /// Exact district.
    pub district: Option<String>,
    /// Which page.
    pub page: PageRequest,
}

/// The fields after validation: what is stored.
struct Valid {
    registration_code: String,
    name: String,
    kind: CooperativeKind,
    location: Location,
    contact: Contact,
    member_count: i32,
    charter_capital_vnd: i64,
    founded_on: NaiveDate,
    related_group: Option<String>,
    officer_id: Option<UserId>,
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
    input: NewCooperative,
    fund: &FundSettings,
    today: NaiveDate,
) -> AppResult<Valid> {
    let kind = match input.kind.parse::<CooperativeKind>() {
        Ok(kind) => kind,
        Err(KindRefusal::Enterprise) => return Err(not_eligible()),
        Err(KindRefusal::Unknown(_)) => {
            let allowed = CooperativeKind::ALL.map(CooperativeKind::as_str);
            return Err(AppError::invalid(
                "kind",
                Reason::UnknownValue {
                    allowed: allowed.join(", "),
                },
            ));
        }
    };
    let district = validate::text("district", &input.location.district, 100)?;
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
    let related_group = match input.related_group.as_deref().map(str::trim) {
        Some(group) if !group.is_empty() => Some(validate::text("related_group", group, 100)?),
        _ => None,
    };
    Ok(Valid {
        registration_code: validate::text("registration_code", &input.registration_code, 50)?,
        name: validate::text("name", &input.name, 200)?,
        kind,
        location: Location {
            district,
            commune: validate::text("commune", &input.location.commune, 100)?,
            address: validate::text("address", &input.location.address, 300)?,
        },
        contact: Contact {
            legal_representative: validate::text(
                "legal_representative",
                &input.contact.legal_representative,
                200,
            )?,
            phone: validate::phone("phone", &input.contact.phone)?,
            email: validate::email("email", &input.contact.email)?,
            language: input.contact.language,
        },
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
    officer_id: Option<UserId>,
) -> AppResult<()> {
    let Some(id) = officer_id else { return Ok(()) };
    let officer = user::Entity::find_by_id(id.get()).one(conn).await?;
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
#[tracing::instrument(name = "cooperatives.create", skip_all)]
pub async fn create(
    ctx: &AppCtx,
    caller: &Caller,
    input: NewCooperative,
) -> AppResult<Cooperative> {
    caller.require(&[Role::Admin, Role::Officer])?;
    let valid = validate_input(input, &ctx.settings.fund, ctx.today())?;
    let txn = ctx.db.begin().await?;
    check_officer(&txn, valid.officer_id).await?;
    let now = ctx.now();
    let mut row = cooperative::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    };
    valid.set_on(&mut row, now);
    let created = row.insert(&txn).await.map_err(unique_code_conflict)?;
    let created = Cooperative::try_from(created)?;
    audit::created(&txn, ctx, caller, "cooperative.create", &created).await?;
    txn.commit().await?;
    Ok(created)
}

impl Valid {
    /// Sets the validated fields on `row`, touched at `now`.
    fn set_on(self, row: &mut cooperative::ActiveModel, now: DateTime<Utc>) {
        row.registration_code = Set(self.registration_code);
        row.name = Set(self.name);
        row.kind = Set(self.kind.as_str().to_string());
        row.district = Set(self.location.district);
        row.commune = Set(self.location.commune);
        row.address = Set(self.location.address);
        row.legal_representative = Set(self.contact.legal_representative);
        row.phone = Set(self.contact.phone);
        row.email = Set(self.contact.email);
        row.language = Set(self.contact.language.code().to_string());
        row.member_count = Set(self.member_count);
        row.charter_capital_vnd = Set(self.charter_capital_vnd);
        row.founded_on = Set(self.founded_on);
        row.related_group = Set(self.related_group);
        row.officer_id = Set(self.officer_id.map(UserId::get));
        row.updated_at = Set(now);
    }
}

/// One cooperative; 404 for a cooperative user asking for another's.
#[tracing::instrument(name = "cooperatives.get", skip_all, fields(cooperative_id = %id))]
pub async fn get(ctx: &AppCtx, caller: &Caller, id: CooperativeId) -> AppResult<Cooperative> {
    caller.require(&Role::ALL)?;
    if !caller.may_see_cooperative(id.get()) {
        return Err(AppError::not_found("hợp tác xã", "Cooperative"));
    }
    let found = cooperative::Entity::find_by_id(id.get())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    Cooperative::try_from(found)
}

/// Updates some fields of a cooperative if `version` is still current. Admins and officers.
#[tracing::instrument(name = "cooperatives.update", skip_all, fields(cooperative_id = %id))]
pub async fn update(
    ctx: &AppCtx,
    caller: &Caller,
    id: CooperativeId,
    patch: CooperativeChange,
) -> AppResult<Cooperative> {
    caller.require(&[Role::Admin, Role::Officer])?;
    let txn = ctx.db.begin().await?;
    let current = cooperative::Entity::find_by_id(id.get())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    if current.version != patch.version {
        return Err(AppError::stale_version());
    }
    let before = Cooperative::try_from(current.clone())?;
    let merged = NewCooperative {
        registration_code: patch
            .registration_code
            .unwrap_or_else(|| before.registration_code.clone()),
        name: patch.name.unwrap_or_else(|| before.name.clone()),
        kind: patch
            .kind
            .unwrap_or_else(|| before.kind.as_str().to_string()),
        location: patch.location.over(&before.location),
        contact: patch.contact.over(&before.contact),
        member_count: patch.member_count.unwrap_or(i64::from(before.member_count)),
        charter_capital_vnd: patch
            .charter_capital_vnd
            .unwrap_or(before.charter_capital_vnd),
        founded_on: patch.founded_on.unwrap_or(before.founded_on),
        related_group: patch.related_group.or_else(|| before.related_group.clone()),
        officer_id: patch.officer_id.or(before.officer_id),
    };
    let valid = validate_input(merged, &ctx.settings.fund, ctx.today())?;
    check_officer(&txn, valid.officer_id).await?;
    let mut active = current.clone().into_active_model();
    valid.set_on(&mut active, ctx.now());
    active.version = Set(current.version + 1);
    // The version in the WHERE clause makes a concurrent update lose cleanly instead of
    // overwriting: zero rows updated means someone else got there first.
    let result = cooperative::Entity::update_many()
        .set(active)
        .filter(cooperative::Column::Id.eq(id.get()))
        .filter(cooperative::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(unique_code_conflict)?;
    if result.rows_affected != 1 {
        return Err(AppError::stale_version());
    }
    let after = cooperative::Entity::find_by_id(id.get())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    let after = Cooperative::try_from(after)?;
    audit::changed(&txn, ctx, caller, "cooperative.update", &before, &after).await?;
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
#[tracing::instrument(name = "cooperatives.list", skip_all)]
pub async fn list(
    ctx: &AppCtx,
    caller: &Caller,
    filter: CooperativeFilter,
) -> AppResult<Page<Cooperative>> {
    caller.require(&Role::ALL)?;
    let mut select = filter
        .page
        .apply(cooperative::Entity::find(), cooperative::Column::Id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(cooperative::Column::Id.eq(own));
    }
    if let Some(district) = filter.district.as_deref().filter(|d| !d.trim().is_empty()) {
        select = select.filter(cooperative::Column::District.eq(district.trim()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
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
    let rows = select.all(&ctx.db).await?;
    paginate(rows, &filter.page, |row| row.id).try_map(Cooperative::try_from)
}
