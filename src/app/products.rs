//! Loan products: the fund's lending rules per product (rate, methods, periods, amount and term
//! ranges, grace, day count, installment unit, overdue multiplier, late rate, allocation order,
//! prepayment rule, collateral-free limit). Admins write them; every logged-in user reads them.
//!
//! Legal caps (DOMAIN.md §6) are refused with 422 naming the rule:
//! - Civil Code 2015 Art 468, Circular 39/2016 Art 13: the in-term rate is at most 20%/year
//!   (`rate_above_legal_cap`);
//! - Civil Code 2015 Art 466, Circular 39/2016 Art 13(4): overdue principal bears at most 150%
//!   of the in-term rate (`overdue_multiplier_above_legal_cap`) and unpaid interest at most
//!   10%/year (`late_rate_above_legal_cap`).
//!
//! The overdue rate itself (rate × multiplier) may exceed 20%: Art 466 sets it relative to the
//! agreed rate, which is the one Art 468 caps. Bad shapes (unknown method, a period that is not
//! 1/3/6/12, min above max …) are 400s naming the field.
//!
//! Storage: rates are exact decimal strings, normalised (`"7.250"` is kept as `"7.25"`); the
//! arrays (`methods`, `period_months`, `allocation_order`) are comma-separated TEXT.

use chrono::{DateTime, Utc};
use coopfund_domain::limits::{
    self, Cap, CapBreach, Rates, LATE_RATE_PERCENT_MAX, OVERDUE_MULTIPLIER_MAX,
};
use coopfund_domain::DayCount;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    audit::{self, Change},
    cooperatives::paging,
    validate, Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::{self, entities::product},
};

/// The repayment methods a product may allow (DOMAIN.md §3).
pub const METHODS: [&str; 3] = ["annuity", "equal_principal", "bullet"];
/// The period lengths a product may allow, in months.
pub const PERIOD_MONTHS: [i64; 4] = [1, 3, 6, 12];
/// Day counts (DOMAIN.md §3).
pub const DAY_COUNTS: [&str; 2] = ["actual_365", "per_period"];
/// What a prepayment's excess does (DOMAIN.md §5).
pub const PREPAYMENT_RULES: [&str; 2] = ["shorten_term", "reamortize"];
/// The default allocation order (DOMAIN.md §5; Circular 39/2016 Art 18(4): on an overdue loan,
/// principal first). A product's order must be a permutation of these.
pub const DEFAULT_ALLOCATION_ORDER: [&str; 6] = [
    "overdue_principal",
    "unpaid_interest",
    "overdue_interest",
    "late_interest",
    "interest",
    "principal",
];
/// The engine's supported ceiling for amounts (10^15 đồng).
const MAX_AMOUNT_VND: i64 = coopfund_domain::Vnd::MAX_INPUT;
/// The engine's most installments.
const MAX_INSTALLMENTS: i64 = coopfund_domain::schedule::MAX_INSTALLMENTS as i64;

/// A product to create. Optional fields take the defaults of DOMAIN.md.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Percent per year, a decimal string (`"7.2"`).
    #[schema(value_type = String, example = "7.2")]
    pub rate_percent: Decimal,
    /// Allowed methods: `annuity`, `equal_principal`, `bullet`.
    pub methods: Vec<String>,
    /// Allowed period lengths: a subset of 1, 3, 6, 12.
    pub period_months: Vec<i64>,
    pub min_amount_vnd: i64,
    pub max_amount_vnd: i64,
    pub min_installments: i64,
    pub max_installments: i64,
    /// Most installments of principal grace (default 0).
    #[serde(default)]
    pub max_principal_grace: Option<i64>,
    /// `actual_365` (default) or `per_period`.
    #[serde(default)]
    pub day_count: Option<String>,
    /// Annuity installments are rounded to this multiple (default 1 đồng).
    #[serde(default)]
    pub installment_unit_vnd: Option<i64>,
    /// Overdue rate as a multiple of the in-term rate, at most 1.5 (default `"1.5"`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1.5")]
    pub overdue_multiplier: Option<Decimal>,
    /// Late interest on unpaid interest, percent per year, at most 10 (default `"10"`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "10")]
    pub late_rate_percent: Option<Decimal>,
    /// A permutation of the six components (default DOMAIN.md §5).
    #[serde(default)]
    pub allocation_order: Option<Vec<String>>,
    /// `shorten_term` (default) or `reamortize`.
    #[serde(default)]
    pub prepayment_rule: Option<String>,
    /// Loans up to this amount need no collateral (default 0).
    #[serde(default)]
    pub collateral_free_limit_vnd: Option<i64>,
    /// Whether new applications may use it (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A partial update; `version` must be the one last read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub version: i32,
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<String>)]
    pub rate_percent: Option<Decimal>,
    pub methods: Option<Vec<String>>,
    pub period_months: Option<Vec<i64>>,
    pub min_amount_vnd: Option<i64>,
    pub max_amount_vnd: Option<i64>,
    pub min_installments: Option<i64>,
    pub max_installments: Option<i64>,
    pub max_principal_grace: Option<i64>,
    pub day_count: Option<String>,
    pub installment_unit_vnd: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub overdue_multiplier: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub late_rate_percent: Option<Decimal>,
    pub allocation_order: Option<Vec<String>>,
    pub prepayment_rule: Option<String>,
    pub collateral_free_limit_vnd: Option<i64>,
    pub active: Option<bool>,
}

/// A product as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub rate_percent: String,
    pub methods: Vec<String>,
    pub period_months: Vec<i64>,
    pub min_amount_vnd: i64,
    pub max_amount_vnd: i64,
    pub min_installments: i32,
    pub max_installments: i32,
    pub max_principal_grace: i32,
    pub day_count: String,
    pub installment_unit_vnd: i64,
    pub overdue_multiplier: String,
    pub late_rate_percent: String,
    pub allocation_order: Vec<String>,
    pub prepayment_rule: String,
    pub collateral_free_limit_vnd: i64,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Splits a comma-separated TEXT column.
pub fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl From<product::Model> for ProductView {
    fn from(m: product::Model) -> Self {
        ProductView {
            id: m.id,
            methods: split_list(&m.methods),
            period_months: split_list(&m.period_months)
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            allocation_order: split_list(&m.allocation_order),
            code: m.code,
            name: m.name,
            description: m.description,
            rate_percent: m.rate_percent,
            min_amount_vnd: m.min_amount_vnd,
            max_amount_vnd: m.max_amount_vnd,
            min_installments: m.min_installments,
            max_installments: m.max_installments,
            max_principal_grace: m.max_principal_grace,
            day_count: m.day_count,
            installment_unit_vnd: m.installment_unit_vnd,
            overdue_multiplier: m.overdue_multiplier,
            late_rate_percent: m.late_rate_percent,
            prepayment_rule: m.prepayment_rule,
            collateral_free_limit_vnd: m.collateral_free_limit_vnd,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Paging and filter of the list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Only active (true) or inactive (false) products.
    pub active: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    pub next_cursor: Option<String>,
}

/// The fields after validation, as stored.
struct Valid {
    code: String,
    name: String,
    description: String,
    rate_percent: String,
    methods: String,
    period_months: String,
    min_amount_vnd: i64,
    max_amount_vnd: i64,
    min_installments: i32,
    max_installments: i32,
    max_principal_grace: i32,
    day_count: String,
    installment_unit_vnd: i64,
    overdue_multiplier: String,
    late_rate_percent: String,
    allocation_order: String,
    prepayment_rule: String,
    collateral_free_limit_vnd: i64,
    active: bool,
}

/// The 422 naming a legal cap (Civil Code 2015 Art 466, 468; Circular 39/2016 Art 13), at product
/// writes and again at approval.
pub fn cap_error(breach: CapBreach) -> AppError {
    let (vi_rule, en_rule) = match breach.cap {
        Cap::Rate => (
            "Lãi suất cho vay tối đa 20%/năm (Bộ luật Dân sự 2015 Điều 468)",
            "The lending rate is at most 20% per year (Civil Code 2015 Art 468)",
        ),
        Cap::OverdueMultiplier => (
            "Lãi quá hạn tối đa 150% lãi suất trong hạn (Bộ luật Dân sự 2015 Điều 466, Thông tư 39/2016 Điều 13)",
            "Overdue interest is at most 150% of the in-term rate (Civil Code 2015 Art 466, Circular 39/2016 Art 13)",
        ),
        Cap::LateRate => (
            "Lãi chậm trả trên lãi chưa trả tối đa 10%/năm (Bộ luật Dân sự 2015 Điều 466, 468)",
            "Late interest on unpaid interest is at most 10% per year (Civil Code 2015 Art 466, 468)",
        ),
    };
    let (value, cap) = (breach.value, breach.cap.max());
    AppError::new(
        ErrorKind::Rule,
        breach.cap.code(),
        Localized::new(
            format!("{vi_rule}: giá trị {value} vượt mức tối đa {cap}."),
            format!("{en_rule}: {value} is above the maximum of {cap}."),
        ),
    )
    .with_field(breach.cap.field())
}

/// The product's stored day count; one that cannot be read is an error naming the product.
pub fn day_count_of(product: &product::Model) -> AppResult<DayCount> {
    product.day_count.parse().map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "stored product {} has day_count {:?}",
            product.id,
            product.day_count
        ))
    })
}

/// The product's stored rates; a rate that cannot be read is an error naming the product.
pub fn rates_of(product: &product::Model) -> AppResult<Rates> {
    let read = |field: &str, text: &str| -> AppResult<Decimal> {
        text.parse().map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "stored product {} has {field} {text:?}: {e}",
                product.id
            ))
        })
    };
    Ok(Rates {
        rate_percent: read("rate_percent", &product.rate_percent)?,
        overdue_multiplier: read("overdue_multiplier", &product.overdue_multiplier)?,
        late_rate_percent: read("late_rate_percent", &product.late_rate_percent)?,
    })
}

fn non_negative_decimal(field: &str, value: Decimal) -> AppResult<Decimal> {
    if value < Decimal::ZERO {
        return Err(AppError::invalid(field, Reason::MustNotBeNegative));
    }
    Ok(value.normalize())
}

fn amount(field: &str, value: i64, min: i64) -> AppResult<i64> {
    if value < min || value > MAX_AMOUNT_VND {
        return Err(AppError::invalid(
            field,
            Reason::OutOfRange {
                min: min.to_string(),
                max: MAX_AMOUNT_VND.to_string(),
            },
        ));
    }
    Ok(value)
}

fn count(field: &str, value: i64, min: i64, max: i64) -> AppResult<i32> {
    if value < min || value > max {
        return Err(AppError::invalid(
            field,
            Reason::OutOfRange {
                min: min.to_string(),
                max: max.to_string(),
            },
        ));
    }
    i32::try_from(value).map_err(|_| {
        AppError::invalid(
            field,
            Reason::OutOfRange {
                min: min.to_string(),
                max: max.to_string(),
            },
        )
    })
}

/// A non-empty list of distinct values of `allowed`, kept in the order given.
fn distinct_subset(field: &str, values: &[String], allowed: &[&str]) -> AppResult<String> {
    if values.is_empty() {
        return Err(AppError::invalid(field, Reason::Required));
    }
    let mut seen: Vec<&str> = Vec::new();
    for value in values {
        let known = validate::one_of(field, value, allowed)?;
        if seen.contains(&known) {
            return Err(AppError::invalid(
                field,
                Reason::InvalidFormat {
                    expected: "distinct values",
                },
            ));
        }
        seen.push(known);
    }
    Ok(seen.join(","))
}

fn periods(values: &[i64]) -> AppResult<String> {
    let as_text: Vec<String> = values.iter().map(i64::to_string).collect();
    let allowed: Vec<String> = PERIOD_MONTHS.iter().map(i64::to_string).collect();
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    distinct_subset("period_months", &as_text, &allowed)
}

fn allocation_order(values: Option<&[String]>) -> AppResult<String> {
    let Some(values) = values else {
        return Ok(DEFAULT_ALLOCATION_ORDER.join(","));
    };
    let order = distinct_subset("allocation_order", values, &DEFAULT_ALLOCATION_ORDER)?;
    if values.len() != DEFAULT_ALLOCATION_ORDER.len() {
        return Err(AppError::invalid(
            "allocation_order",
            Reason::InvalidFormat {
                expected: "each of the six components exactly once",
            },
        ));
    }
    Ok(order)
}

fn validate_input(input: ProductInput) -> AppResult<Valid> {
    let rate = non_negative_decimal("rate_percent", input.rate_percent)?;
    let multiplier = non_negative_decimal(
        "overdue_multiplier",
        input.overdue_multiplier.unwrap_or(OVERDUE_MULTIPLIER_MAX),
    )?;
    let late = non_negative_decimal(
        "late_rate_percent",
        input.late_rate_percent.unwrap_or(LATE_RATE_PERCENT_MAX),
    )?;
    let methods = distinct_subset("methods", &input.methods, &METHODS)?;
    let period_months = periods(&input.period_months)?;
    let min_amount_vnd = amount("min_amount_vnd", input.min_amount_vnd, 1)?;
    let max_amount_vnd = amount("max_amount_vnd", input.max_amount_vnd, min_amount_vnd)?;
    let min_installments = count(
        "min_installments",
        input.min_installments,
        1,
        MAX_INSTALLMENTS,
    )?;
    let max_installments = count(
        "max_installments",
        input.max_installments,
        i64::from(min_installments),
        MAX_INSTALLMENTS,
    )?;
    // The engine needs at least one amortizing installment: grace < installments.
    let max_principal_grace = count(
        "max_principal_grace",
        input.max_principal_grace.unwrap_or(0),
        0,
        i64::from(max_installments) - 1,
    )?;
    let day_count = validate::one_of(
        "day_count",
        input.day_count.as_deref().unwrap_or("actual_365"),
        &DAY_COUNTS,
    )?;
    let installment_unit_vnd = amount(
        "installment_unit_vnd",
        input.installment_unit_vnd.unwrap_or(1),
        1,
    )?;
    let prepayment_rule = validate::one_of(
        "prepayment_rule",
        input.prepayment_rule.as_deref().unwrap_or("shorten_term"),
        &PREPAYMENT_RULES,
    )?;
    let collateral_free_limit_vnd = amount(
        "collateral_free_limit_vnd",
        input.collateral_free_limit_vnd.unwrap_or(0),
        0,
    )?;
    let valid = Valid {
        code: validate::text("code", &input.code, 30)?,
        name: validate::text("name", &input.name, 200)?,
        description: validate::optional_text(
            "description",
            input.description.as_deref().unwrap_or(""),
            5000,
        )?,
        rate_percent: rate.to_string(),
        methods,
        period_months,
        min_amount_vnd,
        max_amount_vnd,
        min_installments,
        max_installments,
        max_principal_grace,
        day_count: day_count.to_string(),
        installment_unit_vnd,
        overdue_multiplier: multiplier.to_string(),
        late_rate_percent: late.to_string(),
        allocation_order: allocation_order(input.allocation_order.as_deref())?,
        prepayment_rule: prepayment_rule.to_string(),
        collateral_free_limit_vnd,
        active: input.active.unwrap_or(true),
    };
    limits::check_rate_caps(Rates {
        rate_percent: rate,
        overdue_multiplier: multiplier,
        late_rate_percent: late,
    })
    .map_err(cap_error)?;
    Ok(valid)
}

fn unique_code_conflict(err: sea_orm::DbErr) -> AppError {
    if store::is_unique_violation(&err) {
        AppError::duplicate("code")
    } else {
        err.into()
    }
}

fn not_found() -> AppError {
    AppError::not_found("sản phẩm cho vay", "Loan product")
}

/// Creates a product. Admins.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    input: ProductInput,
) -> AppResult<ProductView> {
    caller.require(&[Role::Admin])?;
    let valid = validate_input(input)?;
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut active = product::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    };
    apply(&mut active, valid, now);
    let created = active.insert(&txn).await.map_err(unique_code_conflict)?;
    let view = ProductView::from(created);
    audit::record(
        &txn,
        caller,
        Change::<(), _> {
            action: "product.create",
            entity_type: "product",
            entity_id: view.id.to_string(),
            before: None,
            after: Some(&view),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

fn apply(active: &mut product::ActiveModel, valid: Valid, now: DateTime<Utc>) {
    active.code = Set(valid.code);
    active.name = Set(valid.name);
    active.description = Set(valid.description);
    active.rate_percent = Set(valid.rate_percent);
    active.methods = Set(valid.methods);
    active.period_months = Set(valid.period_months);
    active.min_amount_vnd = Set(valid.min_amount_vnd);
    active.max_amount_vnd = Set(valid.max_amount_vnd);
    active.min_installments = Set(valid.min_installments);
    active.max_installments = Set(valid.max_installments);
    active.max_principal_grace = Set(valid.max_principal_grace);
    active.day_count = Set(valid.day_count);
    active.installment_unit_vnd = Set(valid.installment_unit_vnd);
    active.overdue_multiplier = Set(valid.overdue_multiplier);
    active.late_rate_percent = Set(valid.late_rate_percent);
    active.allocation_order = Set(valid.allocation_order);
    active.prepayment_rule = Set(valid.prepayment_rule);
    active.collateral_free_limit_vnd = Set(valid.collateral_free_limit_vnd);
    active.active = Set(valid.active);
    active.updated_at = Set(now);
}

/// Loads one product on `conn` (404 when absent).
pub async fn load<C: ConnectionTrait>(conn: &C, id: i64) -> AppResult<product::Model> {
    product::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(not_found)
}

/// One product. Any logged-in user.
pub async fn get(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<ProductView> {
    caller.require(&Role::ALL)?;
    load(db, id).await.map(ProductView::from)
}

/// Products newest first. Any logged-in user.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    query: ProductQuery,
) -> AppResult<ProductPage> {
    caller.require(&Role::ALL)?;
    let (limit, cursor) = paging(query.limit, query.cursor.as_deref())?;
    let mut select = product::Entity::find().order_by_desc(product::Column::Id);
    if let Some(cursor) = cursor {
        select = select.filter(product::Column::Id.lt(cursor));
    }
    if let Some(active) = query.active {
        select = select.filter(product::Column::Active.eq(active));
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let items: Vec<ProductView> = rows
        .into_iter()
        .take(limit as usize)
        .map(ProductView::from)
        .collect();
    let next_cursor = has_more
        .then(|| items.last().map(|p| p.id.to_string()))
        .flatten();
    Ok(ProductPage { items, next_cursor })
}

fn parse_stored_decimal(text: &str) -> AppResult<Decimal> {
    text.parse()
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored decimal {text:?}: {e}")))
}

fn merge(current: &product::Model, patch: ProductPatch) -> AppResult<ProductInput> {
    let view = ProductView::from(current.clone());
    Ok(ProductInput {
        code: patch.code.unwrap_or(view.code),
        name: patch.name.unwrap_or(view.name),
        description: Some(patch.description.unwrap_or(view.description)),
        rate_percent: match patch.rate_percent {
            Some(rate) => rate,
            None => parse_stored_decimal(&current.rate_percent)?,
        },
        methods: patch.methods.unwrap_or(view.methods),
        period_months: patch.period_months.unwrap_or(view.period_months),
        min_amount_vnd: patch.min_amount_vnd.unwrap_or(view.min_amount_vnd),
        max_amount_vnd: patch.max_amount_vnd.unwrap_or(view.max_amount_vnd),
        min_installments: patch
            .min_installments
            .unwrap_or(i64::from(view.min_installments)),
        max_installments: patch
            .max_installments
            .unwrap_or(i64::from(view.max_installments)),
        max_principal_grace: Some(
            patch
                .max_principal_grace
                .unwrap_or(i64::from(view.max_principal_grace)),
        ),
        day_count: Some(patch.day_count.unwrap_or(view.day_count)),
        installment_unit_vnd: Some(
            patch
                .installment_unit_vnd
                .unwrap_or(view.installment_unit_vnd),
        ),
        overdue_multiplier: Some(match patch.overdue_multiplier {
            Some(m) => m,
            None => parse_stored_decimal(&current.overdue_multiplier)?,
        }),
        late_rate_percent: Some(match patch.late_rate_percent {
            Some(r) => r,
            None => parse_stored_decimal(&current.late_rate_percent)?,
        }),
        allocation_order: Some(patch.allocation_order.unwrap_or(view.allocation_order)),
        prepayment_rule: Some(patch.prepayment_rule.unwrap_or(view.prepayment_rule)),
        collateral_free_limit_vnd: Some(
            patch
                .collateral_free_limit_vnd
                .unwrap_or(view.collateral_free_limit_vnd),
        ),
        active: Some(patch.active.unwrap_or(view.active)),
    })
}

/// Updates some fields if `version` is still current. Admins. Loans already approved keep the
/// terms they were approved with (a snapshot on the loan), so a change affects only later
/// approvals.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    patch: ProductPatch,
) -> AppResult<ProductView> {
    caller.require(&[Role::Admin])?;
    let txn = db.begin().await?;
    let current = load(&txn, id).await?;
    if current.version != patch.version {
        return Err(AppError::stale_version());
    }
    let valid = validate_input(merge(&current, patch)?)?;
    let mut active = current.clone().into_active_model();
    apply(&mut active, valid, Utc::now());
    active.version = Set(current.version + 1);
    // The version in the WHERE clause makes a concurrent update lose cleanly.
    let result = product::Entity::update_many()
        .set(active)
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(unique_code_conflict)?;
    if result.rows_affected != 1 {
        return Err(AppError::stale_version());
    }
    let after = ProductView::from(load(&txn, id).await?);
    let before = ProductView::from(current);
    audit::record(
        &txn,
        caller,
        Change {
            action: "product.update",
            entity_type: "product",
            entity_id: id.to_string(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
