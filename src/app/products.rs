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
use coopfund_domain::{ids::ProductId, AllocationOrder, DayCount, Method, PrepaymentRule};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    /// Percent per year.
    pub rate_percent: Decimal,
    /// Allowed methods (at least one, each once).
    pub methods: Vec<Method>,
    /// Allowed period lengths: a subset of 1, 3, 6, 12.
    pub period_months: Vec<i64>,
    pub min_amount_vnd: i64,
    pub max_amount_vnd: i64,
    pub min_installments: i64,
    pub max_installments: i64,
    /// The settings with a default.
    pub options: ProductOptions,
}

/// A product's settings that have a default (DOMAIN.md), each given or absent: absent from a
/// [`ProductDraft`], a setting takes its default; absent from [`ProductChanges`], it stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductOptions {
    /// Most installments of principal grace (default 0).
    pub max_principal_grace: Option<i64>,
    /// Default actual/365.
    pub day_count: Option<DayCount>,
    /// Annuity installments are rounded to this multiple (default 1 đồng).
    pub installment_unit_vnd: Option<i64>,
    /// At most 1.5 (default 1.5).
    pub overdue_multiplier: Option<Decimal>,
    /// At most 10 (default 10).
    pub late_rate_percent: Option<Decimal>,
    /// A permutation of the six components (default DOMAIN.md §5).
    pub allocation_order: Option<AllocationOrder>,
    /// `shorten_term` (default) or `reamortize`.
    pub prepayment_rule: Option<PrepaymentRule>,
    /// Loans up to this amount need no collateral (default 0).
    pub collateral_free_limit_vnd: Option<i64>,
    /// Whether new applications may use it (default true).
    pub active: Option<bool>,
}

/// A partial update; `version` must be the one last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductChanges {
    pub version: i32,
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub rate_percent: Option<Decimal>,
    pub methods: Option<Vec<Method>>,
    pub period_months: Option<Vec<i64>>,
    pub min_amount_vnd: Option<i64>,
    pub max_amount_vnd: Option<i64>,
    pub min_installments: Option<i64>,
    pub max_installments: Option<i64>,
    pub options: ProductOptions,
}

/// A product as the fund keeps it. Its JSON (audit records) is the API's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub rate_percent: Decimal,
    pub methods: Vec<Method>,
    pub period_months: Vec<i64>,
    pub min_amount_vnd: i64,
    pub max_amount_vnd: i64,
    pub min_installments: i32,
    pub max_installments: i32,
    pub max_principal_grace: i32,
    pub day_count: DayCount,
    pub installment_unit_vnd: i64,
    pub overdue_multiplier: Decimal,
    pub late_rate_percent: Decimal,
    pub allocation_order: AllocationOrder,
    pub prepayment_rule: PrepaymentRule,
    pub collateral_free_limit_vnd: i64,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Audited for Product {
    const ENTITY_TYPE: &'static str = "product";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
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

impl TryFrom<product::Model> for Product {
    type Error = AppError;

    /// Every stored value parsed once; one that cannot be read is an error naming the product.
    fn try_from(m: product::Model) -> AppResult<Product> {
        let rates = rates_of(&m);
        let methods = split_list(&m.methods)
            .iter()
            .map(|t| {
                t.parse()
                    .map_err(|_| AppError::unreadable("product", m.id, "methods", &m.methods))
            })
            .collect::<AppResult<Vec<Method>>>()?;
        let period_months = split_list(&m.period_months)
            .iter()
            .map(|t| {
                t.parse().map_err(|_| {
                    AppError::unreadable("product", m.id, "period_months", &m.period_months)
                })
            })
            .collect::<AppResult<Vec<i64>>>()?;
        Ok(Product {
            day_count: day_count_of(&m)?,
            rate_percent: rates.rate_percent,
            overdue_multiplier: rates.overdue_multiplier,
            late_rate_percent: rates.late_rate_percent,
            methods,
            period_months,
            allocation_order: m.allocation_order.parse().map_err(|_| {
                AppError::unreadable("product", m.id, "allocation_order", &m.allocation_order)
            })?,
            prepayment_rule: m.prepayment_rule.parse().map_err(|_| {
                AppError::unreadable("product", m.id, "prepayment_rule", &m.prepayment_rule)
            })?,
            id: m.id,
            code: m.code,
            name: m.name,
            description: m.description,
            min_amount_vnd: m.min_amount_vnd,
            max_amount_vnd: m.max_amount_vnd,
            min_installments: m.min_installments,
            max_installments: m.max_installments,
            max_principal_grace: m.max_principal_grace,
            installment_unit_vnd: m.installment_unit_vnd,
            collateral_free_limit_vnd: m.collateral_free_limit_vnd,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// Paging and filter of the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only active (true) or inactive (false) products.
    pub active: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page, newest first.
pub type ProductPage = Page<Product>;

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
    product
        .day_count
        .parse()
        .map_err(|_| AppError::unreadable("product", product.id, "day_count", &product.day_count))
}

/// The product's stored rates (read once with the row: `store::DbDecimal`, whose error names the
/// product's row).
pub fn rates_of(product: &product::Model) -> Rates {
    Rates {
        rate_percent: product.rate_percent.get(),
        overdue_multiplier: product.overdue_multiplier.get(),
        late_rate_percent: product.late_rate_percent.get(),
    }
}

fn non_negative_decimal(field: &str, value: Decimal) -> AppResult<Decimal> {
    if value < Decimal::ZERO {
        return Err(AppError::invalid(field, Reason::MustNotBeNegative));
    }
    Ok(value.normalize())
}

fn amount(field: &str, value: i64, min: i64) -> AppResult<i64> {
    validate::in_range(field, value, min, MAX_AMOUNT_VND)
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

/// An allocation order from its component names (a request's `allocation_order`): each of the six
/// exactly once, else a 400 naming the field.
pub fn allocation_order_of(values: &[String]) -> AppResult<AllocationOrder> {
    let order = distinct_subset("allocation_order", values, &DEFAULT_ALLOCATION_ORDER)?;
    let wrong = || {
        AppError::invalid(
            "allocation_order",
            Reason::InvalidFormat {
                expected: "each of the six components exactly once",
            },
        )
    };
    if values.len() != DEFAULT_ALLOCATION_ORDER.len() {
        return Err(wrong());
    }
    order.parse().map_err(|_| wrong())
}

/// The product's stored columns from a draft, each checked (400/422 naming the field): every column a
/// product's owner sets is `Set`, the id, version and timestamps are left to the caller.
fn validate_input(input: ProductDraft) -> AppResult<product::ActiveModel> {
    let options = input.options;
    let rate = non_negative_decimal("rate_percent", input.rate_percent)?;
    let multiplier = non_negative_decimal(
        "overdue_multiplier",
        options.overdue_multiplier.unwrap_or(OVERDUE_MULTIPLIER_MAX),
    )?;
    let late = non_negative_decimal(
        "late_rate_percent",
        options.late_rate_percent.unwrap_or(LATE_RATE_PERCENT_MAX),
    )?;
    let methods: Vec<String> = input
        .methods
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    let methods = distinct_subset("methods", &methods, &METHODS)?;
    let period_months = periods(&input.period_months)?;
    let min_amount_vnd = amount("min_amount_vnd", input.min_amount_vnd, 1)?;
    let max_amount_vnd = amount("max_amount_vnd", input.max_amount_vnd, min_amount_vnd)?;
    let min_installments = validate::small_in_range(
        "min_installments",
        input.min_installments,
        1,
        MAX_INSTALLMENTS,
    )?;
    let max_installments = validate::small_in_range(
        "max_installments",
        input.max_installments,
        i64::from(min_installments),
        MAX_INSTALLMENTS,
    )?;
    // The engine needs at least one amortizing installment: grace < installments.
    let max_principal_grace = validate::small_in_range(
        "max_principal_grace",
        options.max_principal_grace.unwrap_or(0),
        0,
        i64::from(max_installments) - 1,
    )?;
    let day_count = options.day_count.unwrap_or_default().as_str();
    let installment_unit_vnd = amount(
        "installment_unit_vnd",
        options.installment_unit_vnd.unwrap_or(1),
        1,
    )?;
    let collateral_free_limit_vnd = amount(
        "collateral_free_limit_vnd",
        options.collateral_free_limit_vnd.unwrap_or(0),
        0,
    )?;
    let valid = product::ActiveModel {
        code: Set(validate::text("code", &input.code, 30)?),
        name: Set(validate::text("name", &input.name, 200)?),
        description: Set(validate::optional_text(
            "description",
            input.description.as_deref().unwrap_or(""),
            5000,
        )?),
        rate_percent: Set(rate.into()),
        methods: Set(methods),
        period_months: Set(period_months),
        min_amount_vnd: Set(min_amount_vnd),
        max_amount_vnd: Set(max_amount_vnd),
        min_installments: Set(min_installments),
        max_installments: Set(max_installments),
        max_principal_grace: Set(max_principal_grace),
        day_count: Set(day_count.to_string()),
        installment_unit_vnd: Set(installment_unit_vnd),
        overdue_multiplier: Set(multiplier.into()),
        late_rate_percent: Set(late.into()),
        allocation_order: Set(options.allocation_order.unwrap_or_default().to_string()),
        prepayment_rule: Set(options.prepayment_rule.unwrap_or_default().as_str().into()),
        collateral_free_limit_vnd: Set(collateral_free_limit_vnd),
        active: Set(options.active.unwrap_or(true)),
        ..Default::default()
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
#[tracing::instrument(name = "create a product", skip_all)]
pub async fn create(ctx: &AppCtx, caller: &Caller, input: ProductDraft) -> AppResult<Product> {
    caller.require(&[Role::Admin])?;
    let mut active = validate_input(input)?;
    let txn = ctx.db.begin().await?;
    let now = ctx.now();
    active.version = Set(1);
    active.created_at = Set(now);
    active.updated_at = Set(now);
    let created = Product::try_from(active.insert(&txn).await.map_err(unique_code_conflict)?)?;
    audit::created(&txn, ctx, caller, "product.create", &created).await?;
    txn.commit().await?;
    Ok(created)
}

/// Loads one product on `conn` (404 when absent).
pub async fn load<C: ConnectionTrait>(conn: &C, id: ProductId) -> AppResult<product::Model> {
    product::Entity::find_by_id(id.get())
        .one(conn)
        .await?
        .ok_or_else(not_found)
}

/// One product. Any logged-in user.
#[tracing::instrument(name = "read a product", skip_all, fields(product_id = id.get()))]
pub async fn get(ctx: &AppCtx, caller: &Caller, id: ProductId) -> AppResult<Product> {
    caller.require(&Role::ALL)?;
    Product::try_from(load(&ctx.db, id).await?)
}

/// Products newest first. Any logged-in user.
#[tracing::instrument(name = "list products", skip_all)]
pub async fn list(ctx: &AppCtx, caller: &Caller, filter: ProductFilter) -> AppResult<ProductPage> {
    caller.require(&Role::ALL)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut select = page.apply(product::Entity::find(), product::Column::Id);
    if let Some(active) = filter.active {
        select = select.filter(product::Column::Active.eq(active));
    }
    paginate(select.all(&ctx.db).await?, &page, |row| row.id).try_map(Product::try_from)
}

impl ProductOptions {
    /// Every setting: as given here, else as `current` has it.
    fn over(self, current: &Product) -> ProductOptions {
        ProductOptions {
            max_principal_grace: Some(
                self.max_principal_grace
                    .unwrap_or(i64::from(current.max_principal_grace)),
            ),
            day_count: Some(self.day_count.unwrap_or(current.day_count)),
            installment_unit_vnd: Some(
                self.installment_unit_vnd
                    .unwrap_or(current.installment_unit_vnd),
            ),
            overdue_multiplier: Some(
                self.overdue_multiplier
                    .unwrap_or(current.overdue_multiplier),
            ),
            late_rate_percent: Some(self.late_rate_percent.unwrap_or(current.late_rate_percent)),
            allocation_order: Some(
                self.allocation_order
                    .unwrap_or_else(|| current.allocation_order.clone()),
            ),
            prepayment_rule: Some(self.prepayment_rule.unwrap_or(current.prepayment_rule)),
            collateral_free_limit_vnd: Some(
                self.collateral_free_limit_vnd
                    .unwrap_or(current.collateral_free_limit_vnd),
            ),
            active: Some(self.active.unwrap_or(current.active)),
        }
    }
}

/// The product `changes` would leave: each field changed or as it is.
fn merge(current: &Product, changes: ProductChanges) -> ProductDraft {
    let options = changes.options.over(current);
    let current = current.clone();
    ProductDraft {
        code: changes.code.unwrap_or(current.code),
        name: changes.name.unwrap_or(current.name),
        description: Some(changes.description.unwrap_or(current.description)),
        rate_percent: changes.rate_percent.unwrap_or(current.rate_percent),
        methods: changes.methods.unwrap_or(current.methods),
        period_months: changes.period_months.unwrap_or(current.period_months),
        min_amount_vnd: changes.min_amount_vnd.unwrap_or(current.min_amount_vnd),
        max_amount_vnd: changes.max_amount_vnd.unwrap_or(current.max_amount_vnd),
        min_installments: changes
            .min_installments
            .unwrap_or(i64::from(current.min_installments)),
        max_installments: changes
            .max_installments
            .unwrap_or(i64::from(current.max_installments)),
        options,
    }
}

/// Updates some fields if `version` is still current. Admins. Loans already approved keep the
/// terms they were approved with (a snapshot on the loan), so a change affects only later
/// approvals.
#[tracing::instrument(name = "update a product", skip_all, fields(product_id = id.get()))]
pub async fn update(
    ctx: &AppCtx,
    caller: &Caller,
    id: ProductId,
    changes: ProductChanges,
) -> AppResult<Product> {
    caller.require(&[Role::Admin])?;
    let txn = ctx.db.begin().await?;
    let current = load(&txn, id).await?;
    if current.version != changes.version {
        return Err(AppError::stale_version());
    }
    let before = Product::try_from(current.clone())?;
    // Every column the owner sets is written; id and created_at stay as they are.
    let mut active = validate_input(merge(&before, changes))?;
    active.version = Set(current.version + 1);
    active.updated_at = Set(ctx.now());
    // The version in the WHERE clause makes a concurrent update lose cleanly.
    let result = product::Entity::update_many()
        .set(active)
        .filter(product::Column::Id.eq(id.get()))
        .filter(product::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(unique_code_conflict)?;
    if result.rows_affected != 1 {
        return Err(AppError::stale_version());
    }
    let after = Product::try_from(load(&txn, id).await?)?;
    audit::changed(&txn, ctx, caller, "product.update", &before, &after).await?;
    txn.commit().await?;
    Ok(after)
}
